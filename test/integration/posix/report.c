/*
 * report: the transcript; one line per step, "case.step: result".
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"
#include "posix.h"

static char rep_prefix[64];
static char **rep_seen;
static size_t rep_nseen;

/* Abort when a step name repeats: the ignore list relies on unique names. */
static void
rep_check_unique(const char *step)
{
	char full[160];
	size_t i;

	snprintf(full, sizeof full, "%s.%s", rep_prefix, step);
	for (i = 0; i < rep_nseen; i++)
		if (strcmp(rep_seen[i], full) == 0)
			fatal("posixsuite: step name %s used twice; fix the case", full);
	rep_seen = realloc(rep_seen, (rep_nseen + 1) * sizeof *rep_seen);
	if (rep_seen == NULL || (rep_seen[rep_nseen] = strdup(full)) == NULL)
		fatal("posixsuite: out of memory");
	rep_nseen++;
}

void
rep_case(int num, const char *name)
{
	snprintf(rep_prefix, sizeof rep_prefix, "%s", name);
	printf("== %02d %s\n", num, name);
}

void
rep(const char *step, const char *fmt, ...)
{
	va_list ap;

	rep_check_unique(step);
	printf("%s.%s: ", rep_prefix, step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

long
rep_call(const char *step, const char *text, long ret)
{
	int err = errno;

	if (ret < 0)
		rep(step, "%s = -1 %s", text, errname(err));
	else
		rep(step, "%s = %ld", text, ret);
	errno = err;
	return ret;
}

int
rep_fd(const char *step, const char *text, int fd)
{
	int err = errno;

	if (fd < 0)
		rep(step, "%s = -1 %s", text, errname(err));
	else
		rep(step, "%s = fd", text);
	errno = err;
	return fd;
}

void
rep_yes(const char *step, int cond)
{
	rep(step, "%s", cond ? "yes" : "no");
}

void
rep_setup(const char *what, int err)
{
	printf("%s.setup: %s failed: %s\n", rep_prefix, what, errname(err));
	fflush(stdout);
}
