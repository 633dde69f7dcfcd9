/*
 * secret: see secret.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secret.h"

#define PAGE	(SECRET_MAX + 1)

char *
secret_read_line(int fd, char **cause, char **warn)
{
	size_t n = 0;
	ssize_t r;
	char *s, c;

	*cause = *warn = NULL;
	s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		if (asprintf(cause, "cannot keep the password in memory: %s", strerror(errno)) < 0)
			*cause = NULL;
		return NULL;
	}
	(void)madvise(s, PAGE, MADV_DONTDUMP);
	if (mlock(s, PAGE) < 0 && asprintf(warn, "cannot lock the password in memory (%s): it "
	    "may reach the swap; raise the memlock limit (ulimit -l) of the session",
	    strerror(errno)) < 0)
		*warn = NULL;
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n == SECRET_MAX) {
			secret_free(s);
			if (asprintf(cause, "the password on standard input is longer than %d bytes",
			    SECRET_MAX) < 0)
				*cause = NULL;
			return NULL;
		}
		s[n++] = c;
	}
	c = 0;
	if (r < 0 || (r == 0 && n == 0)) {
		secret_free(s);
		if (asprintf(cause, "no password could be read from standard input%s%s",
		    r < 0 ? ": " : " (it was empty)", r < 0 ? strerror(errno) : "") < 0)
			*cause = NULL;
		return NULL;
	}
	while (n > 0 && s[n - 1] == '\r')
		n--;
	s[n] = '\0';
	return s;
}

int
secret_relock(char *s)
{
	return s && mlock(s, PAGE) < 0 ? -errno : 0;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, PAGE);
	munlock(s, PAGE);
	munmap(s, PAGE);
}
