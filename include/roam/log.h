/*
 * log: messages to stderr (foreground) or syslog (daemon).
 *
 * Errors and warnings are meant for users and admins: one line that says
 * what happened and what to do.  Debug messages carry the function name.
 */
#ifndef ROAM_LOG_H
#define ROAM_LOG_H

#include <syslog.h>

/* Set the program name, the destination and whether debug lines show. */
void log_init(const char *ident, int to_syslog, int debug);
/* Switch to syslog (after daemonising) or back to stderr. */
void log_use_syslog(int on);
/* Whether debug messages are shown. */
int log_debug_enabled(void);

void log_msg(int prio, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print a message and exit(1): for start-up failures and broken invariants. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...)	log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __func__, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __func__, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) do { \
	if (log_debug_enabled()) \
		log_msg(LOG_DEBUG, __func__, __VA_ARGS__); \
} while (0)

#endif
