/*
 * siteconf: the site configuration, SYSCONFDIR/roamfs/roamfs.conf
 * (roamfs.conf(5)): what an admin sets once per workstation, for roamfs
 * and roamctl alike.  Command-line options of roamfs override it.
 *
 * The file holds "key = value" lines, blank lines and '#' comments (a
 * whole line, or from a '#' after a value to the end of its line).  Keys
 * are lowercase with '_'; spaces around the key, the '=' and the value do
 * not count.  An unknown key, a line without '=', a bad value and a key
 * set twice are refused with "FILE:LINE: reason and what to do".
 *
 * Only libc is used (no logging, no fatal()): the fuzzer and the unit
 * test link this file alone.
 */
#ifndef ROAMFS_SITECONF_H
#define ROAMFS_SITECONF_H

#include <stddef.h>
#include <stdint.h>

/* Defaults and ranges, shared with the -o options of the same names (opts.c). */
#define SITECONF_CACHE_EXPIRE		180		/* days; 0: never */
/* cache_encrypt: whether a new cache is encrypted (cache.h). */
#define SITECONF_ENCRYPT_NO		0
#define SITECONF_ENCRYPT_IF_POSSIBLE	1
#define SITECONF_ENCRYPT_REQUIRED	2
#define SITECONF_CACHE_ENCRYPT		SITECONF_ENCRYPT_IF_POSSIBLE
#define SITECONF_CACHE_EXPIRE_MAX	36500
#define SITECONF_DIR_TTL		5
#define SITECONF_DIR_TTL_MAX		(86400 * 365)
#define SITECONF_ATTR_TTL		3
#define SITECONF_ATTR_TTL_MAX		86400
#define SITECONF_SYNC_INTERVAL		2
#define SITECONF_SYNC_INTERVAL_MIN	1
#define SITECONF_SYNC_INTERVAL_MAX	60
#define SITECONF_FLUSH_TIMEOUT		30
#define SITECONF_FLUSH_TIMEOUT_MAX	86400
#define SITECONF_CONNECT_TIMEOUT	10
#define SITECONF_CONNECT_TIMEOUT_MIN	1
#define SITECONF_CONNECT_TIMEOUT_MAX	600
#define SITECONF_WORKINGSET_FILES	500		/* 0: no working set */
#define SITECONF_WORKINGSET_FILES_MAX	10000000
#define SITECONF_WORKINGSET_BYTES	((uint64_t)256 << 20)

/*
 * A size: bytes, or a percentage of the file system holding the cache.
 * At most one of the two is set; both 0 means no limit.
 */
struct size_opt {
	uint64_t bytes;
	unsigned percent;	/* 1..100, or 0 */
};

/*
 * Parse a size: a whole number of bytes with an optional suffix K, M, G,
 * T or KiB, MiB, GiB, TiB (powers of 1024, any case, spaces allowed
 * before it), "0" or "none" (no limit), or, when allow_percent, N% with
 * N from 1 to 100.  Returns 0 and fills *out, or -EINVAL (*out untouched).
 */
int size_opt_parse(const char *s, int allow_percent, struct size_opt *out);
/* Why size_opt_parse refuses s, as a clause for a message ("expected a
 * size such as ..."), or NULL when it takes it.  A static string. */
const char *size_opt_why(const char *s, int allow_percent);
/*
 * The limit in bytes: the bytes, or the percentage of the total size of
 * the file system holding dir (or its nearest existing parent), at least
 * 1.  0: no limit, also when no file system can be asked.
 */
uint64_t size_opt_resolve(const struct size_opt *s, const char *dir);

struct siteconf {
	char *cache_root;		/* absolute, no trailing '/'; see siteconf_defaults */
	struct size_opt cache_max;	/* per cache (per mount) */
	struct size_opt cache_total;	/* all caches under cache_root together */
	unsigned cache_expire;		/* days after which roamctl gc removes a cache */
	unsigned cache_encrypt;		/* SITECONF_ENCRYPT_* */
	unsigned dir_ttl, attr_ttl, sync_interval, flush_timeout, connect_timeout;
	unsigned workingset_files;	/* 0: no working set */
	uint64_t workingset_bytes;	/* 0: no bound on bytes */
};

/*
 * Fill c with the defaults.  cache_root is left NULL, which stands for
 * the default, siteconf_default_cache_root(); siteconf_parse and
 * siteconf_load always set it on success.  Allocates nothing.
 */
void siteconf_defaults(struct siteconf *c);
/*
 * Parse text (len bytes, need not end in '\n' or NUL) into c, which
 * starts from the defaults; name is the file name for messages.  Returns
 * 0, -EINVAL with *cause (malloc'd, when cause is not NULL) set to
 * "NAME:LINE: reason and what to do" for the first bad line, or -ENOMEM.
 * On failure c holds the defaults and nothing to free.
 */
int siteconf_parse(const char *text, size_t len, const char *name, struct siteconf *c,
    char **cause);
/*
 * Read and parse the file at path.  A missing file gives the defaults
 * (0) unless must_exist.  A file others may write to is refused: whoever
 * could change it could point every user's cache elsewhere.  Returns 0,
 * or a negative errno with *cause (malloc'd, one line naming the file
 * and what to do); c is as after siteconf_parse.
 */
int siteconf_load(const char *path, int must_exist, struct siteconf *c, char **cause);
/* Free what c holds and set it to the defaults again. */
void siteconf_free(struct siteconf *c);
/* SYSCONFDIR "/roamfs/roamfs.conf". */
const char *siteconf_default_path(void);
/* LOCALSTATEDIR "/cache/roamfs": the parent of the per-user caches. */
const char *siteconf_default_cache_root(void);

#endif
