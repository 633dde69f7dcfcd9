/*
 * conf: parse and check aclwatch.conf (see aclwatch.conf(5)).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "conf.h"
#include "walk.h"

#define CONF_MAX_SIZE (1 << 20)
#define CONF_MAX_SHARES 4096
#define CONF_MAX_GROUPS 256

/* Parser state: where we are and what we have built. */
struct parser {
	const char *fname;
	int line;
	struct conf *c;
	struct conf_share *sh;	/* current share section, or NULL */
	int in_global;
	char **err;
};

/* Set *err to "FILE:LINE: reason" and return -EINVAL. */
static int __attribute__((format(printf, 2, 3)))
perr(struct parser *p, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (p->err && asprintf(p->err, "%s:%d: %s", p->fname, p->line, reason) < 0)
		fatal("out of memory");
	return -EINVAL;
}

/* Allocate or die: the configuration is small and failure means no memory. */
static void *
xrealloc(void *ptr, size_t n)
{
	void *q = realloc(ptr, n ? n : 1);

	if (!q)
		fatal("out of memory");
	return q;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		fatal("out of memory");
	return d;
}

/* Trim spaces at both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* Whether a section or group name uses only safe characters. */
static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

/* Compare an option key the smb.conf way: case and spaces do not matter. */
static int
key_is(const char *k, size_t n, const char *want)
{
	size_t i = 0;

	for (; *want; want++) {
		if (*want == ' ')
			continue;
		while (i < n && k[i] == ' ')
			i++;
		if (i >= n || tolower((unsigned char)k[i]) != *want)
			return 0;
		i++;
	}
	while (i < n && k[i] == ' ')
		i++;
	return i == n;
}

/* Parse a yes/no value; returns 0/1, or -1 if it is neither. */
static int
parse_bool(const char *v, size_t n)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strlen(yes[i]) == n && strncasecmp(v, yes[i], n) == 0)
			return 1;
		if (strlen(no[i]) == n && strncasecmp(v, no[i], n) == 0)
			return 0;
	}
	return -1;
}

static int
word_is(const char *v, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(v, w, n) == 0;
}

/* Open a new [section]. */
static int
section(struct parser *p, const char *s, size_t n)
{
	struct conf *c = p->c;

	p->sh = NULL;
	p->in_global = 0;
	if (word_is(s, n, "global")) {
		p->in_global = 1;
		return 0;
	}
	if (!name_ok(s, n))
		return perr(p, "bad section name '%.*s': use letters, digits, '_', '.' or '-'",
		    (int)(n > 64 ? 64 : n), s);
	for (size_t i = 0; i < c->nshares; i++)
		if (strlen(c->shares[i].name) == n && strncmp(c->shares[i].name, s, n) == 0)
			return perr(p, "share [%.*s] is defined twice (first at line %d)",
			    (int)n, s, c->shares[i].line);
	if (c->nshares >= CONF_MAX_SHARES)
		return perr(p, "too many shares (at most %d)", CONF_MAX_SHARES);
	c->shares = xrealloc(c->shares, (c->nshares + 1) * sizeof *c->shares);
	p->sh = &c->shares[c->nshares++];
	memset(p->sh, 0, sizeof *p->sh);
	p->sh->name = xstrndup(s, n);
	p->sh->line = p->line;
	p->sh->default_acl = 1;
	return 0;
}

/* Add the groups of a comma- or space-separated list with one access level. */
static int
group_list(struct parser *p, const char *v, size_t n, int access)
{
	struct conf_share *sh = p->sh;
	size_t i = 0;

	while (i < n) {
		size_t j;

		while (i < n && (v[i] == ',' || isspace((unsigned char)v[i])))
			i++;
		for (j = i; j < n && v[j] != ',' && !isspace((unsigned char)v[j]); j++)
			;
		if (j == i)
			break;
		if (!name_ok(v + i, j - i))
			return perr(p, "bad group name '%.*s'", (int)(j - i > 64 ? 64 : j - i), v + i);
		for (size_t k = 0; k < sh->ngroups; k++)
			if (strlen(sh->groups[k].name) == j - i &&
			    strncmp(sh->groups[k].name, v + i, j - i) == 0)
				return perr(p, "group '%s' is listed twice in [%s] (first at line %d)",
				    sh->groups[k].name, sh->name, sh->groups[k].line);
		if (sh->ngroups >= CONF_MAX_GROUPS)
			return perr(p, "too many groups in [%s] (at most %d)", sh->name, CONF_MAX_GROUPS);
		sh->groups = xrealloc(sh->groups, (sh->ngroups + 1) * sizeof *sh->groups);
		sh->groups[sh->ngroups++] = (struct conf_group){
			.name = xstrndup(v + i, j - i), .access = access, .line = p->line,
		};
		i = j;
	}
	return 0;
}

/* An option of the [global] section. */
static int
global_opt(struct parser *p, const char *k, size_t kn, const char *v, size_t vn)
{
	if (key_is(k, kn, "backend")) {
		if (word_is(v, vn, "auto"))
			p->c->backend = CONF_BACKEND_AUTO;
		else if (word_is(v, vn, "fanotify"))
			p->c->backend = CONF_BACKEND_FANOTIFY;
		else if (word_is(v, vn, "inotify"))
			p->c->backend = CONF_BACKEND_INOTIFY;
		else
			return perr(p, "backend must be auto, fanotify or inotify");
		return 0;
	}
	if (key_is(k, kn, "log level")) {
		if (word_is(v, vn, "debug"))
			p->c->debug = 1;
		else if (word_is(v, vn, "info"))
			p->c->debug = 0;
		else
			return perr(p, "log level must be info or debug");
		return 0;
	}
	if (key_is(k, kn, "rescan interval")) {
		char num[16];
		char *end;
		long n;

		if (vn == 0 || vn >= sizeof num)
			return perr(p, "rescan interval must be a number of seconds (1 to 86400)");
		memcpy(num, v, vn);
		num[vn] = '\0';
		n = strtol(num, &end, 10);
		if (*end || n < 1 || n > 86400)
			return perr(p, "rescan interval must be a number of seconds (1 to 86400)");
		p->c->rescan_interval = (int)n;
		return 0;
	}
	return perr(p, "unknown option '%.*s' in [global]", (int)(kn > 64 ? 64 : kn), k);
}

/* The path option of a share: absolute, normalised, no "..". */
static int
share_path(struct parser *p, const char *v, size_t vn)
{
	char raw[4096], norm[4096];

	if (p->sh->path)
		return perr(p, "path is given twice in [%s]", p->sh->name);
	if (vn == 0 || v[0] != '/')
		return perr(p, "path must be absolute (start with '/')");
	if (vn >= sizeof raw)
		return perr(p, "path is too long");
	memcpy(raw, v, vn);
	raw[vn] = '\0';
	if (strlen(raw) != vn)
		return perr(p, "path contains a NUL byte");
	if (conf_normalise(raw, norm, sizeof norm) < 0)
		return perr(p, "path must not contain '..'");
	if (strcmp(norm, "/") == 0)
		return perr(p, "path cannot be the root directory '/'");
	p->sh->path = xstrndup(norm, strlen(norm));
	p->sh->path_line = p->line;
	return 0;
}

/* An option of a share section. */
static int
share_opt(struct parser *p, const char *k, size_t kn, const char *v, size_t vn)
{
	int b;

	if (key_is(k, kn, "path"))
		return share_path(p, v, vn);
	if (key_is(k, kn, "write groups") || key_is(k, kn, "write group"))
		return group_list(p, v, vn, CONF_WRITE);
	if (key_is(k, kn, "read groups") || key_is(k, kn, "read group"))
		return group_list(p, v, vn, CONF_READ);
	if (key_is(k, kn, "others")) {
		if (word_is(v, vn, "none"))
			p->sh->others = CONF_NONE;
		else if (word_is(v, vn, "read"))
			p->sh->others = CONF_READ;
		else
			return perr(p, "others must be none or read");
		return 0;
	}
	if (key_is(k, kn, "default acl")) {
		if ((b = parse_bool(v, vn)) < 0)
			return perr(p, "default acl must be yes or no");
		p->sh->default_acl = b;
		return 0;
	}
	return perr(p, "unknown option '%.*s' in [%s]", (int)(kn > 64 ? 64 : kn), k, p->sh->name);
}

/* One line, without its newline. */
static int
parse_line(struct parser *p, const char *s, const char *e)
{
	const char *eq;

	/* A comment starts with '#' or ';' at the start or after a space. */
	for (const char *q = s; q < e; q++)
		if ((*q == '#' || *q == ';') && (q == s || isspace((unsigned char)q[-1]))) {
			e = q;
			break;
		}
	trim(&s, &e);
	if (s == e)
		return 0;
	if (*s == '[') {
		if (e[-1] != ']')
			return perr(p, "section header must end with ']'");
		s++, e--;
		trim(&s, &e);
		return section(p, s, (size_t)(e - s));
	}
	if (!(eq = memchr(s, '=', (size_t)(e - s))))
		return perr(p, "expected 'option = value' or '[section]'");
	const char *ke = eq, *vs = eq + 1;
	trim(&s, &ke);
	trim(&vs, &e);
	if (s == ke)
		return perr(p, "missing option name before '='");
	if (p->in_global)
		return global_opt(p, s, (size_t)(ke - s), vs, (size_t)(e - vs));
	if (!p->sh)
		return perr(p, "option outside a section: start with [global] or [sharename]");
	return share_opt(p, s, (size_t)(ke - s), vs, (size_t)(e - vs));
}

/* Whether path a is b or below b (both normalised). */
static int
path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* Checks that need the whole file: each share complete, no overlaps. */
static int
finish(struct parser *p)
{
	struct conf *c = p->c;

	if (c->nshares == 0)
		return perr(p, "no share is defined: add a section such as [cm2] with a path");
	for (size_t i = 0; i < c->nshares; i++) {
		struct conf_share *sh = &c->shares[i];

		p->line = sh->line;
		if (!sh->path)
			return perr(p, "share [%s] has no path", sh->name);
		if (sh->ngroups == 0)
			return perr(p, "share [%s] names no group: add 'write groups' or 'read groups'",
			    sh->name);
		for (size_t j = 0; j < i; j++)
			if (path_within(sh->path, c->shares[j].path) ||
			    path_within(c->shares[j].path, sh->path))
				return perr(p, "share [%s] (%s) overlaps share [%s] (%s): shares must not nest",
				    sh->name, sh->path, c->shares[j].name, c->shares[j].path);
	}
	return 0;
}

int
conf_parse(const char *buf, size_t len, const char *fname, struct conf **out, char **err)
{
	struct parser p = { .fname = fname, .line = 0, .err = err };
	const char *s = buf, *end = buf + len;
	int r = 0;

	*out = NULL;
	if (err)
		*err = NULL;
	p.c = xrealloc(NULL, sizeof *p.c);
	memset(p.c, 0, sizeof *p.c);
	p.c->rescan_interval = 300;
	if (memchr(buf, '\0', len)) {
		p.line = 1;
		r = perr(&p, "the file contains a NUL byte: it is not a text file");
	}
	while (r == 0 && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;

		p.line++;
		r = parse_line(&p, s, le);
		s = nl ? nl + 1 : end;
	}
	if (r == 0)
		r = finish(&p);
	if (r < 0) {
		conf_free(p.c);
		return r;
	}
	*out = p.c;
	return 0;
}

int
conf_resolve(struct conf *c, const char *fname, char **err)
{
	for (size_t i = 0; i < c->nshares; i++) {
		struct conf_share *sh = &c->shares[i];
		int fd;

		for (size_t g = 0; g < sh->ngroups; g++) {
			struct group *gr = getgrnam(sh->groups[g].name);

			if (!gr) {
				if (asprintf(err, "%s:%d: group '%s' does not exist: create it (groupadd) or remove it from [%s]",
				    fname, sh->groups[g].line, sh->groups[g].name, sh->name) < 0)
					fatal("out of memory");
				return -ENOENT;
			}
			sh->groups[g].gid = gr->gr_gid;
		}
		fd = walk_open_abs(sh->path);
		if (fd < 0) {
			if (asprintf(err, "%s:%d: path %s of [%s] cannot be used: %s%s", fname,
			    sh->path_line, sh->path, sh->name, strerror(-fd),
			    fd == -ELOOP ? " (give the real path, without symbolic links)" : "") < 0)
				fatal("out of memory");
			return fd;
		}
		close(fd);
	}
	return 0;
}

int
conf_load(const char *fname, struct conf **out, char **err)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	if ((fd = open(fname, O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		if (asprintf(err, "%s: cannot open: %s", fname, strerror(errno)) < 0)
			fatal("out of memory");
		return r;
	}
	buf = xrealloc(NULL, CONF_MAX_SIZE);
	while ((n = read(fd, buf + len, CONF_MAX_SIZE - len)) > 0 && len + (size_t)n < CONF_MAX_SIZE)
		len += (size_t)n;
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && n > 0) {
		if (asprintf(err, "%s: file is larger than %d bytes", fname, CONF_MAX_SIZE) < 0)
			fatal("out of memory");
		r = -EFBIG;
	} else if (r < 0 && asprintf(err, "%s: cannot read: %s", fname, strerror(-r)) < 0)
		fatal("out of memory");
	if (r == 0)
		r = conf_parse(buf, len, fname, out, err);
	free(buf);
	if (r == 0 && (r = conf_resolve(*out, fname, err)) < 0) {
		conf_free(*out);
		*out = NULL;
	}
	return r;
}

void
conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nshares; i++) {
		for (size_t g = 0; g < c->shares[i].ngroups; g++)
			free(c->shares[i].groups[g].name);
		free(c->shares[i].groups);
		free(c->shares[i].name);
		free(c->shares[i].path);
	}
	free(c->shares);
	free(c);
}

const struct conf_share *
conf_share_for(const struct conf *c, const char *abs, const char **rel)
{
	for (size_t i = 0; i < c->nshares; i++) {
		const char *p = c->shares[i].path;
		size_t n = strlen(p);

		if (path_within(abs, p)) {
			*rel = abs[n] == '/' ? abs + n + 1 : abs + n;
			return &c->shares[i];
		}
	}
	return NULL;
}

int
conf_normalise(const char *path, char *out, size_t outsz)
{
	size_t o = 0;
	const char *s = path;

	if (path[0] != '/') {
		if (!getcwd(out, outsz))
			return -ENAMETOOLONG;
		o = strlen(out);
		if (o == 1)
			o = 0;
	}
	while (*s) {
		const char *e;
		size_t n;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchrnul(s, '/');
		n = (size_t)(e - s);
		if (n == 1 && s[0] == '.') {
			s = e;
			continue;
		}
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (o + 1 + n + 1 > outsz)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
		s = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}
