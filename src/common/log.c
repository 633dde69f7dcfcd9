/*
 * log: one place that decides where messages go and how they look.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"

static const char *log_ident = "roam";
static int log_syslog;
static int log_debug_on;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, int to_syslog, int debug)
{
	log_ident = ident;
	log_debug_on = debug;
	log_use_syslog(to_syslog);
}

void
log_use_syslog(int on)
{
	if (on && !log_syslog)
		openlog(log_ident, LOG_PID, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
}

int
log_debug_enabled(void)
{
	return log_debug_on;
}

static void
log_vmsg(int prio, const char *func, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	if (log_syslog) {
		if (prio == LOG_DEBUG)
			syslog(prio, "%s: %s", func, line);
		else
			syslog(prio, "%s", line);
		return;
	}
	pthread_mutex_lock(&log_lock);
	if (prio == LOG_DEBUG)
		fprintf(stderr, "%s: debug: %s: %s\n", log_ident, func, line);
	else
		fprintf(stderr, "%s: %s\n", log_ident, line);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(int prio, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	log_vmsg(prio, func, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
