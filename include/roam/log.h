/*
 * log: messages to stderr (foreground) or syslog (daemon), and to a log
 * file when one is open.
 *
 * Errors and warnings are meant for users and admins: one line that says
 * what happened and what to do.  Debug messages carry the function name.
 * A message is never cut short, however long its arguments (a path of
 * 4,000 bytes keeps the reason that follows it).
 */
#ifndef ROAM_LOG_H
#define ROAM_LOG_H

#include <sys/types.h>
#include <time.h>
#include <syslog.h>

/* Set the program name, the destination and whether debug lines show. */
void log_init(const char *ident, int to_syslog, int debug);
/* Switch to syslog (after daemonising) or back to stderr. */
void log_use_syslog(int on);
/* Whether debug messages are shown. */
int log_debug_enabled(void);
/*
 * Also append every message but debug ones to the file at path (created
 * 0600, never through a symbolic link), one line each:
 * "2026-03-01T08:15:02.118+01:00 roamfs[1234] warning: text".  Before a
 * line would take it past max bytes, the file is renamed to path.1
 * (replacing the one before) and a new one started: at most about twice
 * max bytes are kept.  Returns 0 or -errno; the file stays open across
 * fork().  log_close_file() stops it.
 */
int log_open_file(const char *path, off_t max);
void log_close_file(void);

void log_msg(int prio, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A copy of the last warning or error (malloc'd) and its time, or NULL
 * (and 0) when there was none or memory ran out. */
char *log_last(time_t *when);
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
