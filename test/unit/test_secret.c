/*
 * test_secret: the password read from standard input (secret.c): one
 * line, without its newline or carriage return, nothing read past it,
 * the page locked and left out of core dumps, and the clear refusals.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"
#include "test/tap.h"

/* A pipe whose read end holds data; returns the read end. */
static int
fed(const char *data, size_t len)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	if (len && write(p[1], data, len) != (ssize_t)len)
		return -1;
	close(p[1]);
	return p[0];
}

/* Whether the page of s is locked and marked "dd" in /proc/self/smaps. */
static void
page_flags(const char *s, int *locked, int *dontdump)
{
	char line[512];
	unsigned long lo, hi, at = (unsigned long)s;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	*locked = *dontdump = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = at >= lo && at < hi;
		else if (in && strncmp(line, "Locked:", 7) == 0)
			*locked = strtoul(line + 7, NULL, 10) > 0;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			*dontdump = strstr(line, " dd") != NULL;
	}
	fclose(f);
}

int
main(void)
{
	char *cause, *warn, *s, rest[16], big[SECRET_MAX + 3];
	int fd, locked, dontdump;
	ssize_t n;

	fd = fed("S3cret with spaces\r\nnext line\n", 30);
	s = secret_read_line(fd, &cause, &warn);
	is_str(s, "S3cret with spaces", "one line, without CR LF");
	ok(cause == NULL, "no cause on success");
	n = read(fd, rest, sizeof rest);
	ok(n == 10 && memcmp(rest, "next line\n", 10) == 0, "nothing read past the line");
	page_flags(s, &locked, &dontdump);
	ok(dontdump, "the page is left out of core dumps (dd)");
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer's mlock does nothing (and says 0). */
	(void)locked;
	ok(1, "the page is locked (not checked under AddressSanitizer, whose mlock is a no-op)");
#else
	ok(locked || warn != NULL, "the page is locked, or a warning says why not");
#endif
	if (warn)
		printf("# %s\n", warn);
	free(warn);
	secret_free(s);
	close(fd);

	fd = fed("no newline", 10);
	s = secret_read_line(fd, &cause, &warn);
	is_str(s, "no newline", "a last line without newline");
	secret_free(s);
	free(warn);
	close(fd);

	fd = fed("\n", 1);
	s = secret_read_line(fd, &cause, &warn);
	is_str(s, "", "an empty line is an empty password");
	secret_free(s);
	free(warn);
	close(fd);

	fd = fed("", 0);
	s = secret_read_line(fd, &cause, &warn);
	ok(s == NULL && cause && strstr(cause, "no password could be read from standard input"),
	    "empty input: %s", cause ? cause : "(none)");
	free(cause);
	free(warn);
	close(fd);

	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\n';
	fd = fed(big, sizeof big);
	s = secret_read_line(fd, &cause, &warn);
	ok(s == NULL && cause && strstr(cause, "longer than 4095 bytes"), "too long: %s",
	    cause ? cause : "(none)");
	free(cause);
	free(warn);
	close(fd);

	s = secret_read_line(-1, &cause, &warn);
	ok(s == NULL && cause && strstr(cause, "Bad file descriptor"), "unreadable: %s",
	    cause ? cause : "(none)");
	free(cause);
	free(warn);

	secret_free(NULL);
	ok(secret_relock(NULL) == 0, "NULL: nothing to lock or free");
	return tap_done();
}
