/*
 * pathlist: parse and write the pin list and the working set (pathlist.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pathlist.h"

#define PATH_BYTES_MAX	4095

void
pathlist_free(struct pathlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Whether the component c of n bytes may stand in a path. */
static int
good_component(const char *c, size_t n)
{
	return n > 0 && !(n == 1 && c[0] == '.') && !(n == 2 && c[0] == '.' && c[1] == '.') &&
	    memchr(c, '\0', n) == NULL;
}

int
pathlist_norm(const char *p, size_t len, char **out)
{
	char *o;
	size_t i = 0, olen = 0, n;

	*out = NULL;
	if ((o = malloc(len + 1)) == NULL)
		return -ENOMEM;
	while (i < len) {
		while (i < len && p[i] == '/')
			i++;
		if (i == len)
			break;
		for (n = 0; i + n < len && p[i + n] != '/'; n++)
			;
		if (n == 1 && p[i] == '.') {	/* "./": nothing */
			i += n;
			continue;
		}
		if (!good_component(p + i, n)) {
			free(o);
			return -EINVAL;
		}
		if (olen)
			o[olen++] = '/';
		memcpy(o + olen, p + i, n);
		olen += n;
		i += n;
	}
	if (olen == 0 || olen > PATH_BYTES_MAX) {
		free(o);
		return -EINVAL;
	}
	o[olen] = '\0';
	*out = o;
	return 0;
}

/* Append a path (owned now) unless it is there: 1, 0 (freed) or -ENOMEM. */
static int
append(struct pathlist *l, char *p)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], p) == 0) {
			free(p);
			return 0;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof *v);

		if (v == NULL) {
			free(p);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = p;
	return 1;
}

/* Undo the escapes of one line into buf (len + 1 bytes): its length, or -1. */
static long
unescape(const char *s, size_t len, char *buf)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			buf[o++] = s[i];
			continue;
		}
		if (++i == len)
			return -1;
		if (s[i] == 'n')
			buf[o++] = '\n';
		else if (s[i] == 'r')
			buf[o++] = '\r';
		else if (s[i] == '\\')
			buf[o++] = '\\';
		else
			return -1;
	}
	return (long)o;
}

/* One line; 0, or -ENOMEM. */
static int
parse_line(struct pathlist *l, const char *s, size_t len, unsigned lineno, char *buf)
{
	char *p;
	long n;
	int r;

	if (len && s[len - 1] == '\r')
		len--;
	if (len == 0 || s[0] == '#')
		return 0;
	if ((n = unescape(s, len, buf)) < 0 || pathlist_norm(buf, (size_t)n, &p) < 0 ||
	    l->n >= PATHLIST_MAX_PATHS) {
		if (l->bad++ == 0)
			l->first_bad = lineno;
		return 0;
	}
	r = append(l, p);
	return r < 0 ? r : 0;
}

int
pathlist_parse(const char *text, size_t len, struct pathlist *l)
{
	const char *s = text, *end = text + (len > PATHLIST_MAX_BYTES ? PATHLIST_MAX_BYTES : len),
	    *nl;
	unsigned lineno = 0;
	char *buf;
	int r = 0;

	pathlist_free(l);
	if ((buf = malloc((size_t)(end - s) + 1)) == NULL)
		return -ENOMEM;
	while (s < end && r == 0) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		r = parse_line(l, s, (size_t)(nl - s), ++lineno, buf);
		s = nl + 1;
	}
	free(buf);
	if (r < 0)
		pathlist_free(l);
	return r;
}

int
pathlist_read_fd(int fd, struct pathlist *l)
{
	size_t len = 0;
	ssize_t n = 1;
	char *text;
	int r;

	if ((text = malloc(PATHLIST_MAX_BYTES)) == NULL)
		return -ENOMEM;
	/* A read through a mount may return less than asked: up to EOF. */
	while (len < PATHLIST_MAX_BYTES &&
	    ((n = read(fd, text + len, PATHLIST_MAX_BYTES - len)) > 0 || (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	r = n < 0 ? -errno : pathlist_parse(text, len, l);
	free(text);
	return r;
}

int
pathlist_add(struct pathlist *l, const char *path)
{
	char *p;
	int r;

	if ((r = pathlist_norm(path, strlen(path), &p)) < 0)
		return r;
	return append(l, p);
}

int
pathlist_remove(struct pathlist *l, const char *path)
{
	char *p;
	size_t i;
	int r;

	if ((r = pathlist_norm(path, strlen(path), &p)) < 0)
		return r;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], p) == 0) {
			free(l->v[i]);
			memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof *l->v);
			l->n--;
			free(p);
			return 1;
		}
	free(p);
	return 0;
}

const char *
pathlist_covers(const struct pathlist *l, const char *path)
{
	size_t i, n;

	for (i = 0; i < l->n; i++) {
		n = strlen(l->v[i]);
		if (strncmp(path, l->v[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return l->v[i];
	}
	return NULL;
}

int
pathlist_format(const struct pathlist *l, const char *header, struct buf *out)
{
	const char *c;
	size_t i;
	int e = 0;

	if (header)
		e |= buf_put(out, header, strlen(header));
	for (i = 0; i < l->n; i++) {
		/* A path starting with "#" must not read as a comment. */
		if (l->v[i][0] == '#')
			e |= buf_put(out, "./", 2);
		for (c = l->v[i]; *c; c++) {
			if (*c == '\n')
				e |= buf_put(out, "\\n", 2);
			else if (*c == '\r')
				e |= buf_put(out, "\\r", 2);
			else if (*c == '\\')
				e |= buf_put(out, "\\\\", 2);
			else
				e |= buf_put_u8(out, (uint8_t)*c);
		}
		e |= buf_put_u8(out, '\n');
	}
	return e ? -ENOMEM : 0;
}
