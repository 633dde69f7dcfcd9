/*
 * db: a thin LMDB wrapper with a sticky error in each transaction.
 *
 * Every step on a transaction first checks t->ret and does nothing when an
 * earlier step failed, so callers write straight-line code and end with
 * "return db_commit(&t);", which aborts and returns the first error.
 * LMDB's codes are translated to negative errno here and nowhere else.
 * Lookups that find nothing return -ENOENT without making the error sticky.
 */
#ifndef ROAM_DB_H
#define ROAM_DB_H

#include <stddef.h>
#include <lmdb.h>

enum db_table {
	DB_META,	/* string key -> value: schema version, counters, source */
	DB_INODE,	/* u64 ino -> inode record */
	DB_DIRENT,	/* u64 parent + name -> u64 ino */
	DB_JOURNAL,	/* u64 seq -> journal record */
	DB_JINO,	/* u64 ino + u64 seq -> (empty): records per inode */
	DB_TOMB,	/* u64 parent + name -> u64 seq: names removed locally, not yet on the server */
	DB_ASIDE,	/* u64 seq -> journal record set aside after a permanent error */
	DB_ORPHAN,	/* u64 ino -> (empty): inodes with no name left, to reap */
	DB_CONFLICT,	/* u64 id -> conflict or set-aside change, for roamctl (conflict.h) */
	DB_NTABLES
};

struct db;

struct db_txn {
	struct db *db;
	MDB_txn *txn;
	int ret;	/* first error, sticky */
	int write;
};

/* Open (creating) the environment in directory dir; *cause explains a failure. */
int db_open(const char *dir, size_t mapsize, struct db **out, char **cause);
/* Open an existing environment for reading only (roamctl): no table is
 * made, nothing is written but LMDB's reader slot in its lock file. */
int db_open_readonly(const char *dir, struct db **out, char **cause);
void db_close(struct db *db);
/* Flush committed transactions to disk (the durable point). */
int db_sync(struct db *db);
/* Translate an LMDB return code to 0 or a negative errno. */
int db_errno(int rc);

int db_begin(struct db *db, struct db_txn *t, int write);
/* Commit, or abort and return t->ret when a step failed. */
int db_commit(struct db_txn *t);
void db_abort(struct db_txn *t);
/* Record an error in the transaction (keeps the first); returns t->ret. */
int db_fail(struct db_txn *t, int err);

int db_get(struct db_txn *t, enum db_table tb, const void *k, size_t kl, MDB_val *v);
int db_put(struct db_txn *t, enum db_table tb, const void *k, size_t kl, const void *v, size_t vl);
/* Delete a key; a missing key is not an error. */
int db_del(struct db_txn *t, enum db_table tb, const void *k, size_t kl);

/* Called for each key with the prefix, in key order; non-zero stops and is returned. */
typedef int (*db_scan_fn)(void *arg, const MDB_val *k, const MDB_val *v);
int db_scan(struct db_txn *t, enum db_table tb, const void *prefix, size_t plen,
    db_scan_fn fn, void *arg);
/* First entry of a table at or after key (NULL: the very first); -ENOENT when none. */
int db_seek(struct db_txn *t, enum db_table tb, const void *k, size_t kl, MDB_val *key, MDB_val *val);
/* Number of entries in a table. */
int db_count(struct db_txn *t, enum db_table tb, size_t *n);

/* u64 counters and strings in DB_META. */
int db_meta_get_u64(struct db_txn *t, const char *name, unsigned long long *v);
int db_meta_put_u64(struct db_txn *t, const char *name, unsigned long long v);

#endif
