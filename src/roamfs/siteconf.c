/*
 * siteconf: parse and load the site configuration, roamfs.conf(5).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "siteconf.h"

#define SITECONF_FILE_MAX	(64 * 1024)
#define SITECONF_SHOW		64	/* bytes of a key or value quoted in a message */

/* ---- sizes ---- */

static const char size_bad[] = "expected a size such as 500M, 20G or 10% (K, M, G, T: "
    "powers of 1024), or 0 or none for no limit";
static const char size_bad_nopct[] = "expected a size such as 256M or 2G (K, M, G, T: "
    "powers of 1024), or 0 or none for no limit";
static const char size_nopct[] = "a percentage is not taken here: give a size such as 256M";
static const char size_pct_range[] = "a percentage must be from 1% to 100%";
static const char size_too_large[] = "too large: 16777215T at most";

/* The power of 1024 a suffix stands for (0 for none), or -1. */
static int
size_shift(const char *sfx)
{
	static const char units[] = "kmgt";
	const char *u;

	if (*sfx == '\0')
		return 0;
	if ((u = strchr(units, tolower((unsigned char)*sfx))) == NULL)
		return -1;
	if (sfx[1] != '\0' && strcasecmp(sfx + 1, "ib") != 0)
		return -1;
	return 10 * (int)(u - units + 1);
}

/* Scan a size into *out; NULL, or why it is refused. */
static const char *
size_scan(const char *s, int allow_percent, struct size_opt *out)
{
	uint64_t v = 0;
	int shift;

	if (strcasecmp(s, "none") == 0) {
		out->bytes = 0;
		out->percent = 0;
		return NULL;
	}
	if (!isdigit((unsigned char)*s))
		return allow_percent ? size_bad : size_bad_nopct;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return size_too_large;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (strcmp(s, "%") == 0) {
		if (!allow_percent)
			return size_nopct;
		if (v < 1 || v > 100)
			return size_pct_range;
		out->bytes = 0;
		out->percent = (unsigned)v;
		return NULL;
	}
	if ((shift = size_shift(s)) < 0)
		return allow_percent ? size_bad : size_bad_nopct;
	if (v > UINT64_MAX >> shift)
		return size_too_large;
	out->bytes = v << shift;
	out->percent = 0;
	return NULL;
}

int
size_opt_parse(const char *s, int allow_percent, struct size_opt *out)
{
	struct size_opt v;

	if (size_scan(s, allow_percent, &v) != NULL)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *
size_opt_why(const char *s, int allow_percent)
{
	struct size_opt v;

	return size_scan(s, allow_percent, &v);
}

/* Total bytes of the file system holding path or its nearest existing parent; 0: unknown. */
static uint64_t
fs_total(const char *path)
{
	struct statvfs st;
	char *d = strdup(path), *slash;
	uint64_t total = 0;

	if (d == NULL)
		return 0;
	while (statvfs(d, &st) < 0) {
		if (errno != ENOENT || (slash = strrchr(d, '/')) == NULL || strcmp(d, "/") == 0) {
			free(d);
			return 0;
		}
		slash[slash == d] = '\0';	/* "/a" becomes "/" */
	}
	free(d);
	if (__builtin_mul_overflow((uint64_t)st.f_blocks, (uint64_t)st.f_frsize, &total))
		total = UINT64_MAX;
	return total;
}

uint64_t
size_opt_resolve(const struct size_opt *s, const char *dir)
{
	uint64_t total, v;

	if (s->percent == 0)
		return s->bytes;
	if ((total = fs_total(dir)) == 0)
		return 0;
	v = total / 100 * s->percent + total % 100 * s->percent / 100;
	return v ? v : 1;
}

/* ---- the file ---- */

struct parser;

/* One key of the file: how its value is checked and where it goes. */
struct key {
	const char *name;
	int (*set)(struct parser *p, const struct key *k, const char *val);
	size_t off;		/* of the field in struct siteconf */
	unsigned lo, hi;	/* numbers: the range; sizes: hi = percent allowed */
	const char *unit;	/* numbers: what they count */
};

static int set_root(struct parser *, const struct key *, const char *);
static int set_size(struct parser *, const struct key *, const char *);
static int set_bytes(struct parser *, const struct key *, const char *);
static int set_uint(struct parser *, const struct key *, const char *);
static int set_encrypt(struct parser *, const struct key *, const char *);

#define F(field) offsetof(struct siteconf, field)
static const struct key keys[] = {
	{ "cache_root", set_root, F(cache_root), 0, 0, NULL },
	{ "cache_max", set_size, F(cache_max), 0, 1, NULL },
	{ "cache_total", set_size, F(cache_total), 0, 1, NULL },
	{ "cache_expire", set_uint, F(cache_expire), 0, SITECONF_CACHE_EXPIRE_MAX, "days" },
	{ "cache_encrypt", set_encrypt, F(cache_encrypt), 0, 0, NULL },
	{ "dir_ttl", set_uint, F(dir_ttl), 0, SITECONF_DIR_TTL_MAX, "seconds" },
	{ "attr_ttl", set_uint, F(attr_ttl), 0, SITECONF_ATTR_TTL_MAX, "seconds" },
	{ "sync_interval", set_uint, F(sync_interval), SITECONF_SYNC_INTERVAL_MIN,
	    SITECONF_SYNC_INTERVAL_MAX, "seconds" },
	{ "flush_timeout", set_uint, F(flush_timeout), 0, SITECONF_FLUSH_TIMEOUT_MAX, "seconds" },
	{ "connect_timeout", set_uint, F(connect_timeout), SITECONF_CONNECT_TIMEOUT_MIN,
	    SITECONF_CONNECT_TIMEOUT_MAX, "seconds" },
	{ "workingset_files", set_uint, F(workingset_files), 0, SITECONF_WORKINGSET_FILES_MAX,
	    "files" },
	{ "workingset_bytes", set_bytes, F(workingset_bytes), 0, 0, NULL },
};
#undef F
#define NKEYS (sizeof keys / sizeof keys[0])

/* Where the parse is and what it has seen. */
struct parser {
	const char *name;
	unsigned line;
	unsigned seen[NKEYS];	/* the line that set each key, 0: none yet */
	struct siteconf *c;
	char **cause;
};

/* Set *cause to "NAME:LINE: reason"; returns -EINVAL (-ENOMEM without memory). */
static int __attribute__((format(printf, 2, 3)))
perr(struct parser *p, const char *fmt, ...)
{
	char *reason;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (p->cause && asprintf(p->cause, "%s:%u: %s", p->name, p->line, reason) < 0) {
		*p->cause = NULL;
		n = -1;
	}
	free(reason);
	return n < 0 ? -ENOMEM : -EINVAL;
}

/* The field of c a key stands for. */
static void *
field(struct parser *p, const struct key *k)
{
	return (char *)p->c + k->off;
}

/* cache_root: an absolute directory other than /, kept without trailing '/'. */
static int
set_root(struct parser *p, const struct key *k, const char *val)
{
	size_t n = strlen(val);
	char **dst = field(p, k);

	if (val[0] != '/')
		return perr(p, "%s = %.*s: give an absolute path, starting with '/' (such as %s)",
		    k->name, SITECONF_SHOW, val, siteconf_default_cache_root());
	while (n > 1 && val[n - 1] == '/')
		n--;
	if (n == 1)
		return perr(p, "%s = %s: give a directory of its own for the caches (such as %s)",
		    k->name, val, siteconf_default_cache_root());
	if (n >= PATH_MAX - NAME_MAX - 2)
		return perr(p, "%s = %.*s...: the path is too long; give a shorter one", k->name,
		    SITECONF_SHOW, val);
	free(*dst);
	if ((*dst = strndup(val, n)) == NULL)
		return -ENOMEM;
	return 0;
}

/* Parse a size for key k into *out, or refuse it. */
static int
scan_size(struct parser *p, const struct key *k, const char *val, struct size_opt *out)
{
	const char *why = size_scan(val, (int)k->hi, out);

	if (why != NULL)
		return perr(p, "%s = %.*s: %s", k->name, SITECONF_SHOW, val, why);
	return 0;
}

/* A size, with a percentage where the key takes one (struct size_opt). */
static int
set_size(struct parser *p, const struct key *k, const char *val)
{
	return scan_size(p, k, val, field(p, k));
}

/* A size in bytes only (uint64_t). */
static int
set_bytes(struct parser *p, const struct key *k, const char *val)
{
	struct size_opt s = { 0, 0 };
	int r = scan_size(p, k, val, &s);

	if (r == 0)
		*(uint64_t *)field(p, k) = s.bytes;
	return r;
}

/* A whole number within the key's range. */
static int
set_uint(struct parser *p, const struct key *k, const char *val)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (!isdigit((unsigned char)*val) || *end != '\0' || errno || v < k->lo || v > k->hi)
		return perr(p, "%s = %.*s: expected a whole number of %s from %u to %u", k->name,
		    SITECONF_SHOW, val, k->unit, k->lo, k->hi);
	*(unsigned *)field(p, k) = (unsigned)v;
	return 0;
}

static int
set_encrypt(struct parser *p, const struct key *k, const char *val)
{
	unsigned v;

	if (strcmp(val, "no") == 0)
		v = SITECONF_ENCRYPT_NO;
	else if (strcmp(val, "if-possible") == 0)
		v = SITECONF_ENCRYPT_IF_POSSIBLE;
	else if (strcmp(val, "required") == 0)
		v = SITECONF_ENCRYPT_REQUIRED;
	else
		return perr(p, "%s = %.*s: expected required, if-possible or no", k->name,
		    SITECONF_SHOW, val);
	*(unsigned *)field(p, k) = v;
	return 0;
}

/* Whether [s, s+n) is spelt as keys are: lowercase letters, digits and '_'. */
static int
key_spelling_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return n > 0;
}

/* Find a key by name, or refuse it; sets *out. */
static int
find_key(struct parser *p, const char *s, size_t n, size_t *out)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == n && memcmp(keys[i].name, s, n) == 0) {
			*out = i;
			return 0;
		}
	if (n == 0)
		return perr(p, "no key before '=': write KEY = VALUE (see roamfs.conf(5))");
	if (!key_spelling_ok(s, n))
		return perr(p, "bad key '%.*s': keys are lowercase, with '_' between words "
		    "(see roamfs.conf(5))", (int)(n > SITECONF_SHOW ? SITECONF_SHOW : n), s);
	return perr(p, "unknown key '%.*s': see roamfs.conf(5) for the keys, or remove the line",
	    (int)(n > SITECONF_SHOW ? SITECONF_SHOW : n), s);
}

/* Trim blanks (and a CR) at both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* Apply KEY = VALUE, [s, e) with the '=' at eq. */
static int
assign(struct parser *p, const char *s, const char *eq, const char *e)
{
	const char *ke = eq, *vs = eq + 1;
	size_t i = 0;
	char *val;
	int r;

	trim(&s, &ke);
	trim(&vs, &e);
	if ((r = find_key(p, s, (size_t)(ke - s), &i)) < 0)
		return r;
	if (p->seen[i])
		return perr(p, "%s is set again (first on line %u): keep one of the two lines",
		    keys[i].name, p->seen[i]);
	if (vs == e)
		return perr(p, "%s has no value: give one after '=', or remove the line for "
		    "the default", keys[i].name);
	if ((val = strndup(vs, (size_t)(e - vs))) == NULL)
		return -ENOMEM;
	p->seen[i] = p->line;
	r = keys[i].set(p, &keys[i], val);
	free(val);
	return r;
}

/* One line, [s, e) without its newline. */
static int
parse_line(struct parser *p, const char *s, const char *e)
{
	const char *hash, *eq;

	if (memchr(s, '\0', (size_t)(e - s)) != NULL)
		return perr(p, "the line holds a NUL byte: this is not a text file; name the "
		    "site configuration file");
	if ((hash = memchr(s, '#', (size_t)(e - s))) != NULL)
		e = hash;
	trim(&s, &e);
	if (s == e)
		return 0;
	if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL)
		return perr(p, "'%.*s' has no '=': write KEY = VALUE (see roamfs.conf(5))",
		    (int)(e - s > SITECONF_SHOW ? SITECONF_SHOW : e - s), s);
	return assign(p, s, eq, e);
}

void
siteconf_defaults(struct siteconf *c)
{
	memset(c, 0, sizeof *c);
	c->cache_expire = SITECONF_CACHE_EXPIRE;
	c->cache_encrypt = SITECONF_CACHE_ENCRYPT;
	c->dir_ttl = SITECONF_DIR_TTL;
	c->attr_ttl = SITECONF_ATTR_TTL;
	c->sync_interval = SITECONF_SYNC_INTERVAL;
	c->flush_timeout = SITECONF_FLUSH_TIMEOUT;
	c->connect_timeout = SITECONF_CONNECT_TIMEOUT;
	c->workingset_files = SITECONF_WORKINGSET_FILES;
	c->workingset_bytes = SITECONF_WORKINGSET_BYTES;
}

/* The end of a successful parse or load: the default cache root if none was set. */
static int
finish(struct siteconf *c)
{
	if (c->cache_root == NULL && (c->cache_root = strdup(siteconf_default_cache_root())) == NULL)
		return -ENOMEM;
	return 0;
}

int
siteconf_parse(const char *text, size_t len, const char *name, struct siteconf *c, char **cause)
{
	struct parser p;
	const char *s = text, *end = text + len, *nl;
	int r = 0;

	memset(&p, 0, sizeof p);
	p.name = name;
	p.c = c;
	p.cause = cause;
	if (cause)
		*cause = NULL;
	siteconf_defaults(c);
	while (s < end && r == 0) {
		p.line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		r = parse_line(&p, s, nl);
		s = nl + 1;
	}
	if (r == 0)
		r = finish(c);
	if (r < 0)
		siteconf_free(c);
	return r;
}

/* Set *cause to a message about the file as a whole; returns err. */
static int __attribute__((format(printf, 3, 4)))
load_fail(char **cause, int err, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return err;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0) {
		*cause = NULL;
		err = -ENOMEM;
	}
	va_end(ap);
	return err;
}

/* Why the file at path, open as fd, may not be used as it is; 0 if it may. */
static int
check_file(int fd, const char *path, struct stat *st, char **cause)
{
	if (fstat(fd, st) < 0)
		return load_fail(cause, -errno, "cannot read the site configuration %s: %s",
		    path, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return load_fail(cause, -EINVAL, "the site configuration %s is not a regular file: "
		    "name the file itself (roamfs.conf(5))", path);
	if (st->st_mode & S_IWOTH)
		return load_fail(cause, -EPERM, "%s: any user may change this site configuration "
		    "(mode %03o): let only root write to it (chmod o-w %s)", path,
		    (unsigned)(st->st_mode & 0777), path);
	if (st->st_size > SITECONF_FILE_MAX)
		return load_fail(cause, -EFBIG, "%s: larger than %d bytes, which no site "
		    "configuration is: name the right file", path, SITECONF_FILE_MAX);
	return 0;
}

/* Read the whole of fd (a regular file of at most SITECONF_FILE_MAX bytes). */
static int
read_all(int fd, char **data, size_t *len)
{
	char *buf = malloc(SITECONF_FILE_MAX + 1);
	size_t n = 0;
	ssize_t got;

	if (buf == NULL)
		return -ENOMEM;
	while (n <= SITECONF_FILE_MAX) {
		got = read(fd, buf + n, SITECONF_FILE_MAX + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				break;
			free(buf);
			return -errno;
		}
		n += (size_t)got;
	}
	if (n > SITECONF_FILE_MAX) {
		free(buf);
		return -EFBIG;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Open path; a missing file is -ENOENT with no message unless must_exist. */
static int
open_conf(const char *path, int must_exist, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && !must_exist)
		return -ENOENT;
	if (errno == ENOENT)
		return load_fail(cause, -ENOENT, "the site configuration %s does not exist: check "
		    "the file name (roamfs.conf(5))", path);
	if (errno == EACCES)
		return load_fail(cause, -EACCES, "cannot read the site configuration %s: %s; let "
		    "every user read it (chmod 644 %s)", path, strerror(errno), path);
	return load_fail(cause, -errno, "cannot read the site configuration %s: %s", path,
	    strerror(errno));
}

int
siteconf_load(const char *path, int must_exist, struct siteconf *c, char **cause)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	if (cause)
		*cause = NULL;
	siteconf_defaults(c);
	if ((fd = open_conf(path, must_exist, cause)) < 0)
		return fd == -ENOENT && !must_exist ? finish(c) : fd;
	if ((r = check_file(fd, path, &st, cause)) == 0 && (r = read_all(fd, &data, &len)) < 0)
		r = load_fail(cause, r, "cannot read the site configuration %s: %s", path,
		    r == -EFBIG ? "it grew too large while being read" : strerror(-r));
	close(fd);
	if (r == 0)
		r = siteconf_parse(data, len, path, c, cause);
	free(data);
	return r;
}

void
siteconf_free(struct siteconf *c)
{
	free(c->cache_root);
	siteconf_defaults(c);
}

const char *
siteconf_default_path(void)
{
	return SYSCONFDIR "/roamfs/roamfs.conf";
}

const char *
siteconf_default_cache_root(void)
{
	return LOCALSTATEDIR "/cache/roamfs";
}
