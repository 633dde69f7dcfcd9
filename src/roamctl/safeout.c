/*
 * safeout: see safeout.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "safeout.h"

size_t
safeout_filter(const unsigned char *in, size_t n, unsigned char *out, unsigned char *held)
{
	size_t i, k = 0;
	unsigned char c;

	/* *held: 0xC2 waiting for its next byte, or 1..3 continuation
	 * bytes expected of a multi-byte character under way. */
	for (i = 0; i < n; i++) {
		c = in[i];
		if (*held == 0xc2) {
			*held = 0;
			if (c >= 0x80 && c <= 0x9f) {	/* C1 in UTF-8: C2 80..C2 9F */
				out[k++] = '?';
				continue;
			}
			out[k++] = 0xc2;
			if (c >= 0xa0 && c <= 0xbf) {
				out[k++] = c;
				continue;
			}
		}
		if (*held >= 1 && *held <= 3) {
			if (c >= 0x80 && c <= 0xbf) {
				out[k++] = c;
				(*held)--;
				continue;
			}
			*held = 0;	/* cut short: c starts afresh */
		}
		if (c == 0xc2) {
			*held = c;
			continue;
		}
		if (c >= 0xc3 && c <= 0xdf)
			*held = 1;
		else if (c >= 0xe0 && c <= 0xef)
			*held = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			*held = 3;
		else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (c >= 0x80 && c <= 0x9f))
			c = '?';	/* C0, DEL, and a raw C1 byte outside a character */
		out[k++] = c;
	}
	return k;
}

struct sink {
	int fd;
	unsigned char held;
};

static int
write_all(int fd, const unsigned char *b, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t
sink_write(void *cookie, const char *buf, size_t n)
{
	struct sink *s = cookie;
	unsigned char out[4096 + 1];
	size_t done = 0, chunk, k;

	while (done < n) {
		chunk = n - done < 4096 ? n - done : 4096;
		k = safeout_filter((const unsigned char *)buf + done, chunk, out, &s->held);
		if (write_all(s->fd, out, k) < 0)
			return done ? (ssize_t)done : -1;
		done += chunk;
	}
	return (ssize_t)n;
}

static int
sink_close(void *cookie)
{
	struct sink *s = cookie;

	if (s->held == 0xc2)
		(void)write_all(s->fd, &s->held, 1);
	s->held = 0;
	return 0;
}

/* One for standard output, one for standard error: they live as long as roamctl. */
static struct sink sinks[2];

static FILE *
filtered(int fd, int mode)
{
	cookie_io_functions_t io = { NULL, sink_write, NULL, sink_close };
	struct sink *s = &sinks[fd == STDERR_FILENO];
	FILE *f;

	s->fd = fd;
	s->held = 0;
	if ((f = fopencookie(s, "w", io)) == NULL)
		return NULL;
	setvbuf(f, NULL, mode, 0);
	return f;
}

int
safeout_install(void)
{
	FILE *out, *err;

	fflush(stdout);
	fflush(stderr);
	if ((out = filtered(STDOUT_FILENO, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF)) == NULL)
		return -1;
	if ((err = filtered(STDERR_FILENO, _IONBF)) == NULL) {
		fclose(out);
		return -1;
	}
	stdout = out;
	stderr = err;
	return 0;
}
