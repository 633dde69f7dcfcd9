/*
 * meta: the metadata of the cached home in LMDB.
 *
 * Inodes have stable numbers allocated here (1 is the root).  Directory
 * entries are keyed by (parent, name) so that a prefix scan lists one
 * directory in name order.  Each inode remembers the server version it was
 * last seen at (its base), and its state flags.  Tombstones mark names
 * removed locally whose removal has not reached the server yet, so that a
 * listing of the server does not bring them back.
 */
#ifndef ROAMFS_META_H
#define ROAMFS_META_H

#include <stdint.h>
#include <sys/types.h>

#include "roam/buf.h"
#include "roam/db.h"

#define META_SCHEMA	1	/* bump when the record formats change */
#define INO_ROOT	1

enum inode_flag {
	I_LISTED	= 1 << 0,	/* directory listed from the server at least once */
	I_CACHED	= 1 << 1,	/* file contents complete in the cache */
	I_REMOTE	= 1 << 2,	/* exists on the server as of base */
	I_LOCALNEW	= 1 << 3,	/* created here, nothing of it has reached the server */
	I_EXCLUDED	= 1 << 4,	/* matched by the exclusion list: local only */
	I_PINNED	= 1 << 5,	/* keep contents cached (roamctl pin) */
	I_ASIDE		= 1 << 6,	/* an upload was set aside: never replaced by the server's */
	I_LINKED	= 1 << 7,	/* file: the server's listing showed other names (hard links) */
	I_SQLITE	= 1 << 8,	/* file: found to start as a SQLite database (unit.h) */
};

/* The server version an object was last seen at. */
struct base {
	uint64_t size;
	int64_t mtime;		/* seconds: SFTP v3 has no finer times */
	uint32_t mode;
	uint8_t valid;
	/* Nonzero: the version was seen within a second of its mtime, when
	 * another of the same size could still follow with the same mtime;
	 * then a hash of its contents (version_hash), to tell them apart. */
	uint64_t racy;
	uint8_t refetch;	/* with racy: fetched, not sent from here */
};

struct inode {
	uint64_t ino;
	uint32_t mode;		/* type and permissions */
	uint32_t nlink;
	uint64_t size;
	int64_t mtime_s, ctime_s, atime_s;
	uint32_t mtime_ns, ctime_ns, atime_ns;
	uint32_t flags;		/* enum inode_flag */
	uint64_t parent;	/* parent directory of one of its names (0: none left) */
	char *name;		/* that name (malloc'd) */
	char *target;		/* symbolic link target (malloc'd) or NULL */
	uint64_t pending_store;	/* journal seq of a STORE not yet started, or 0 */
	struct base base;
};

/* Check or write the schema version and the source; *cause on mismatch. */
int meta_init(struct db *db, const char *source, uint32_t root_mode, char **cause);
/* A random number made once per cache (for names that must differ from
 * those of other caches on the same server home); 0 when it cannot be had. */
uint64_t meta_cache_salt(struct db *db);
/* Whether the root was ever listed (an empty cache has not). */
int meta_root_listed(struct db *db);

void inode_free(struct inode *in);
int meta_inode_get(struct db_txn *t, uint64_t ino, struct inode *out);
/* meta_inode_get in a read transaction of its own. */
int meta_inode_read(struct db *db, uint64_t ino, struct inode *out);
int meta_inode_put(struct db_txn *t, const struct inode *in);
int meta_inode_del(struct db_txn *t, uint64_t ino);
/* Whether an object that never goes to the server (excluded, local-only:
 * the trash, say) is in the cache: 1, 0, or -errno. */
int meta_local_only(struct db_txn *t);
/* Append to list (8-byte big-endian numbers) the inodes with no name left. */
int meta_orphans(struct db_txn *t, struct buf *list);
/* Encode and decode an inode record (decode is safe on any input). */
int inode_encode(const struct inode *in, struct buf *b);
int inode_decode(const void *p, size_t n, struct inode *out);
/* Allocate a new inode number. */
int meta_alloc_ino(struct db_txn *t, uint64_t *ino);

int meta_dirent_get(struct db_txn *t, uint64_t parent, const char *name, uint64_t *ino);
int meta_dirent_put(struct db_txn *t, uint64_t parent, const char *name, uint64_t ino);
int meta_dirent_del(struct db_txn *t, uint64_t parent, const char *name);
typedef int (*meta_dirent_fn)(void *arg, const char *name, size_t len, uint64_t ino);
int meta_dir_scan(struct db_txn *t, uint64_t parent, meta_dirent_fn fn, void *arg);
/* 1 if the directory has no entries, 0 if it has. */
int meta_dir_empty(struct db_txn *t, uint64_t parent);
/* Call fn(arg, name, len, parent) for every name of ino (a full scan). */
int meta_names(struct db_txn *t, uint64_t ino, meta_dirent_fn fn, void *arg);
/* Any one name of ino, for when its remembered name is removed. */
int meta_find_name(struct db_txn *t, uint64_t ino, uint64_t *parent, char **name);

/* Path of ino relative to the root ("" for the root), malloc'd. */
int meta_path(struct db_txn *t, uint64_t ino, char **out);
/* The inode at a path relative to the root ("" is the root); -ENOENT when a
 * component is not in the cache. */
int meta_lookup(struct db_txn *t, const char *rel, uint64_t *ino);
/* Path of name in directory parent, relative to the root. */
int meta_child_path(struct db_txn *t, uint64_t parent, const char *name, char **out);

int meta_tomb_put(struct db_txn *t, uint64_t parent, const char *name, uint64_t seq);
/* The journal seq a tombstone waits for, or -ENOENT. */
int meta_tomb_get(struct db_txn *t, uint64_t parent, const char *name, uint64_t *seq);
int meta_tomb_del(struct db_txn *t, uint64_t parent, const char *name);

#endif
