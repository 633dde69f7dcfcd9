/*
 * log: one place that decides where messages go and how they look.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"

static const char *log_ident = "roam";
static int log_syslog;
static int log_debug_on;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The log file (log_open_file), under log_lock. */
static int log_fd = -1;
static char *log_path;
static off_t log_size, log_max;
/* The last warning or error, for log_last(); under log_lock. */
static char *log_last_msg;
static time_t log_last_when;

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

/* Open the log file at log_path for appending; called with log_lock held or alone. */
static int
log_reopen(void)
{
	struct stat st;
	int fd;

	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
	    0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	log_size = st.st_size;
	return 0;
}

int
log_open_file(const char *path, off_t max)
{
	char *p = strdup(path);
	int r;

	if (p == NULL)
		return -ENOMEM;
	tzset();
	pthread_mutex_lock(&log_lock);
	free(log_path);
	log_path = p;
	log_max = max;
	if ((r = log_reopen()) < 0) {
		free(log_path);
		log_path = NULL;
	}
	pthread_mutex_unlock(&log_lock);
	return r;
}

void
log_close_file(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
	free(log_last_msg);
	log_last_msg = NULL;
	pthread_mutex_unlock(&log_lock);
}

/*
 * Move the full log file to PATH.1 (replacing the one before) and start
 * a new one; called with log_lock held.  When no new one can be made (a
 * full disk), the lines go on into the old one rather than being lost.
 */
static void
log_rotate(void)
{
	char *old;

	if (asprintf(&old, "%s.1", log_path) < 0)
		return;
	if (rename(log_path, old) == 0)
		log_reopen();
	free(old);
}

static const char *
log_level(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* Local time as ISO 8601 with milliseconds and offset: 2026-03-01T08:15:02.118+01:00. */
static void
log_time(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char date[24], zone[8];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof zone, "%z", &tm) != 5) {
		snprintf(out, n, "%lld", (long long)ts.tv_sec);
		return;
	}
	snprintf(out, n, "%s.%03ld%.3s:%s", date, ts.tv_nsec / 1000000, zone, zone + 3);
}

/* Append one line to the log file, rotating first when it would pass its size. */
static void
log_file_write(int prio, const char *msg)
{
	char when[64], *line;
	int n;
	ssize_t w;

	log_time(when, sizeof when);
	n = asprintf(&line, "%s %s[%ld] %s: %s\n", when, log_ident, (long)getpid(),
	    log_level(prio), msg);
	if (n < 0)
		return;
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0) {
		if (log_size > 0 && log_size + n > log_max)
			log_rotate();
		/* One write: O_APPEND keeps a line whole even beside another writer. */
		if ((w = write(log_fd, line, (size_t)n)) > 0)
			log_size += w;
	}
	pthread_mutex_unlock(&log_lock);
	free(line);
}

/*
 * Format the message at its full length: a message that carries a long
 * path must keep its end, where the reason and what to do are.  Only when
 * memory runs out is a shortened copy (in small) used, and marked so.
 */
static const char *
log_format(char *small, size_t n, char **big, const char *fmt, va_list ap)
{
	va_list aq;
	int len;

	*big = NULL;
	va_copy(aq, ap);
	len = vsnprintf(small, n, fmt, aq);
	va_end(aq);
	if (len < 0)
		return fmt;
	if ((size_t)len < n)
		return small;
	if ((*big = malloc((size_t)len + 1)) == NULL) {
		snprintf(small + n - 32, 32, " [cut short: out of memory]");
		return small;
	}
	vsnprintf(*big, (size_t)len + 1, fmt, ap);
	return *big;
}

static void
log_vmsg(int prio, const char *func, const char *fmt, va_list ap)
{
	char small[512], *big;
	const char *line = log_format(small, sizeof small, &big, fmt, ap);
	int to_file;

	pthread_mutex_lock(&log_lock);
	to_file = log_fd >= 0 && prio != LOG_DEBUG;
	if (prio <= LOG_WARNING) {
		char *keep = strdup(line);

		if (keep) {
			free(log_last_msg);
			log_last_msg = keep;
			log_last_when = time(NULL);
		}
	}
	pthread_mutex_unlock(&log_lock);
	if (to_file)
		log_file_write(prio, line);
	if (log_syslog) {
		if (prio == LOG_DEBUG)
			syslog(prio, "%s: %s", func, line);
		else
			syslog(prio, "%s", line);
	} else {
		pthread_mutex_lock(&log_lock);
		if (prio == LOG_DEBUG)
			fprintf(stderr, "%s: debug: %s: %s\n", log_ident, func, line);
		else
			fprintf(stderr, "%s: %s\n", log_ident, line);
		pthread_mutex_unlock(&log_lock);
	}
	free(big);
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

char *
log_last(time_t *when)
{
	char *m;

	pthread_mutex_lock(&log_lock);
	m = log_last_msg ? strdup(log_last_msg) : NULL;
	*when = log_last_msg ? log_last_when : 0;
	pthread_mutex_unlock(&log_lock);
	return m;
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
