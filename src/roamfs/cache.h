/*
 * cache: the persistent cache directory of one roamfs home.
 *
 * Layout: DIR/lock (held while a roamfs uses the cache), DIR/db/ (LMDB),
 * DIR/data/<ino in hex> (file contents, one per inode), DIR/tmp/ (downloads
 * in progress), DIR/reserve (space held back, see below), DIR/roamfs.log
 * and DIR/roamfs.log.1 (the log, written by log.c).  The directory
 * must belong to the user and be closed to everyone else (0700), as
 * promise 7 demands.
 */
#ifndef ROAMFS_CACHE_H
#define ROAMFS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cache;

/* The LMDB address space of a cache's database (DIR/db), for every
 * db_open of it (roamfs, roamctl gc); the file grows as needed. */
#define CACHE_MAP_SIZE	((size_t)8 << 30)

/* The default cache directory for a user: /var/cache/roamfs/USER. */
char *cache_default_dir(const char *user);
/*
 * An encrypted cache (fscrypt, fscrypt.h): DIR/db, DIR/data and DIR/tmp
 * are encrypted with a random key, kept in DIR/key wrapped with the login
 * password (cachekey.h).  The key is added to the file system while the
 * cache is open and removed when it is closed: between sessions those
 * hold ciphertext, names included, even to root.  The rest stays plain:
 * the lock, the mount point, the control socket, the log and DIR/state,
 * which says whether the cache may hold what is nowhere else ("dirty",
 * from the mount on: changes not sent, set aside, local-only files) or
 * all of it is on the server ("clean", written at the end).
 */
struct cache_opts {
	unsigned encrypt;	/* a new cache: SITECONF_ENCRYPT_NO, _IF_POSSIBLE, _REQUIRED */
	const char *password;	/* the login password, or NULL (a key login) */
	/*
	 * The server took password and it does not open DIR/key: the
	 * password was changed.  A cache whose state is clean is made anew;
	 * otherwise its encrypted parts are kept in DIR/locked-DATE-TIME
	 * (they open with the old password) and a new cache is made.
	 */
	int password_changed;
};
/*
 * Create (if needed) and check the cache directory, take its lock, and
 * add the key of an encrypted cache.  Returns 0 or -errno with *cause:
 * one line saying what is wrong and what to do (owned by another user,
 * open to others, in use by another roamfs, no room on its disk for a new
 * cache, a read-only or failing disk, encryption required and not
 * possible, an encrypted cache and no password).  -EKEYREJECTED: the
 * password does not open the cache's key (check it with the server; a
 * changed password opens again with password_changed).
 */
int cache_open(const char *dir, uid_t uid, const struct cache_opts *o, struct cache **out,
    char **cause);
/* Close, and remove the key of an encrypted cache. */
void cache_close(struct cache *c);
/* Small files of a cache directory, for roamctl too: the file dirfd/name
 * (at most 4 KiB) as a malloc'd string; written whole or not at all
 * (temporary file, fsync, rename; 0600); a tree removed (no key needed). */
int cache_read_small(int dirfd, const char *name, char **text);
int cache_write_small(int dirfd, const char *name, const char *text);
int cache_remove_tree(int pfd, const char *name, int depth);
/* Log what opening the cache did (its encryption), once the log file is open. */
void cache_log_notes(struct cache *c);
/* Whether the cache is encrypted. */
int cache_encrypted(const struct cache *c);
/* Write DIR/state: clean (1) once all of the cache is on the server, else dirty (0). */
void cache_set_state(struct cache *c, int clean);
/* Record the current pid in the lock file (again after daemonising). */
void cache_write_pid(struct cache *c);
const char *cache_dir(const struct cache *c);
/* Path of the LMDB directory inside the cache. */
const char *cache_db_dir(const struct cache *c);

/* The data and tmp directories (for walks; not to be closed). */
int cache_data_fd(const struct cache *c);
int cache_tmp_fd(const struct cache *c);
/* Open the contents file of ino with open(2) flags (O_CREAT makes it 0600). */
int cache_file_open(struct cache *c, uint64_t ino, int flags);
/* The size of ino's contents file, or -errno. */
int64_t cache_file_size(struct cache *c, uint64_t ino);
/* Remove the contents file of ino (missing is fine). */
int cache_file_unlink(struct cache *c, uint64_t ino);
/* A fresh temporary file for a download of ino; its name goes to name[64]. */
int cache_tmp_open(struct cache *c, uint64_t ino, char *name);
/* Move a finished download into place as the contents of ino. */
int cache_tmp_commit(struct cache *c, const char *name, uint64_t ino);
void cache_tmp_discard(struct cache *c, const char *name);
/* Free space on the cache's filesystem in bytes, or -errno. */
int64_t cache_free_bytes(struct cache *c);
/*
 * What to do about err from the cache's disk (a full disk, a read-only or
 * failing one), as the end of a message (": free space on its disk, ..."),
 * or "" for other errors.
 */
const char *cache_disk_hint(struct cache *c, int err);
/*
 * The reserve, DIR/reserve: space held back for a full disk.  keep makes
 * it when it is missing and the disk has room (0 or -errno).  release
 * frees it when err, the error of a commit, comes from a full disk, and
 * says so in the log; it returns 1 when it did, so that the caller tries
 * again.
 */
int cache_reserve_keep(struct cache *c);
int cache_reserve_release(struct cache *c, int err);

#endif
