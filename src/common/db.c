/*
 * db: LMDB environment, tables and transactions with a sticky error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/buf.h"
#include "roam/db.h"

/*
 * LMDB's lock file, DIR/lock.mdb, is a header and one slot per reader
 * (MDB_txninfo and MDB_reader in mdb.c: 192 and 64 bytes in 0.9.x on
 * 64-bit systems).  LMDB sets its size with ftruncate() and writes to it
 * through a shared mapping: a page of it that the disk has no room for
 * kills the process with SIGBUS instead of failing a call.  On a full
 * disk that happens at once (the header); the slots' pages are touched
 * only once that many readers run at the same time, perhaps hours later.
 * So db_open() gives the file all its blocks first, and checks after the
 * open that LMDB kept to that size.
 */
#define DB_MAXREADERS	256
#define DB_LOCK_BYTES	((off_t)(DB_MAXREADERS - 1) * 64 + 192)

struct db {
	MDB_env *env;
	MDB_dbi dbi[DB_NTABLES];
	int readonly;
};

static const char *const db_names[DB_NTABLES] = {
	"meta", "inode", "dirent", "journal", "jino", "tomb", "aside", "orphan",
	"conflict",
};

int
db_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_DBS_FULL:
	case MDB_READERS_FULL:
		return -ENOSPC;
	case MDB_BAD_VALSIZE:
		return -ENAMETOOLONG;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
		return -EUCLEAN;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

static int
db_cause(char **cause, const char *dir, int rc)
{
	int r = db_errno(rc);

	if (cause == NULL)
		return r;
	if (r == -EUCLEAN) {
		if (asprintf(cause, "the metadata database in %s is damaged (%s): move the cache "
		    "directory aside and mount again (changes not yet on the server stay in "
		    "its data/ files)",
		    dir, mdb_strerror(rc)) < 0)
			*cause = NULL;
	} else if (r == -ENOSPC || r == -EDQUOT) {
		if (asprintf(cause, "cannot open the metadata database in %s: its disk is full "
		    "(%s); free space there, or use a cache on another disk with -o cache=DIR",
		    dir, mdb_strerror(rc)) < 0)
			*cause = NULL;
	} else if (asprintf(cause, "cannot open the metadata database in %s: %s; check that "
	    "its disk has room and that it belongs to you", dir, mdb_strerror(rc)) < 0)
		*cause = NULL;
	return r;
}

/*
 * Give the lock file at least len bytes, all of them with their blocks
 * (see DB_LOCK_BYTES); a larger file keeps its size, as LMDB would.
 * Returns 0 or an errno (positive, as LMDB's codes).
 */
static int
db_lock_alloc(const char *dir, off_t len)
{
	struct stat st;
	char *path;
	int fd, rc = 0;

	if (asprintf(&path, "%s/lock.mdb", dir) < 0)
		return ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0)
		rc = errno;
	else if ((rc = posix_fallocate(fd, 0, st.st_size > len ? st.st_size : len)) == EINVAL ||
	    rc == EOPNOTSUPP)
		rc = 0;		/* a file system that cannot tell: as before */
	close(fd);
	return rc;
}

int
db_open(const char *dir, size_t mapsize, struct db **out, char **cause)
{
	struct db *db;
	MDB_txn *txn;
	int rc, i;

	if ((db = calloc(1, sizeof *db)) == NULL)
		return -ENOMEM;
	if ((rc = mdb_env_create(&db->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(db->env, DB_NTABLES);
	mdb_env_set_mapsize(db->env, mapsize);
	mdb_env_set_maxreaders(db->env, DB_MAXREADERS);
	if ((rc = db_lock_alloc(dir, DB_LOCK_BYTES)) != 0)
		goto fail;
	/* Commits are made durable by db_sync(): at fsync and every few seconds. */
	rc = mdb_env_open(db->env, dir, MDB_NOSYNC | MDB_NOTLS, 0600);
	if (rc == 0)
		rc = db_lock_alloc(dir, 0);	/* in case LMDB made it larger */
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < DB_NTABLES; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &db->dbi[i])) != 0)
			break;
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	if (db->env)
		mdb_env_close(db->env);
	free(db);
	return db_cause(cause, dir, rc);
}

int
db_open_readonly(const char *dir, struct db **out, char **cause)
{
	struct db *db;
	MDB_txn *txn;
	int rc, i;

	if ((db = calloc(1, sizeof *db)) == NULL)
		return -ENOMEM;
	db->readonly = 1;
	if ((rc = mdb_env_create(&db->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(db->env, DB_NTABLES);
	mdb_env_set_maxreaders(db->env, DB_MAXREADERS);
	if ((rc = mdb_env_open(db->env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	for (i = 0; i < DB_NTABLES; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], 0, &db->dbi[i])) != 0)
			break;
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	if (db->env)
		mdb_env_close(db->env);
	free(db);
	return db_cause(cause, dir, rc);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (!db->readonly)
		mdb_env_sync(db->env, 1);
	mdb_env_close(db->env);
	free(db);
}

int
db_sync(struct db *db)
{
	return db_errno(mdb_env_sync(db->env, 1));
}

int
db_begin(struct db *db, struct db_txn *t, int write)
{
	int rc;

	t->db = db;
	t->write = write;
	t->txn = NULL;
	rc = mdb_txn_begin(db->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	t->ret = db_errno(rc);
	return t->ret;
}

int
db_commit(struct db_txn *t)
{
	int r;

	if (t->txn == NULL)
		return t->ret;
	if (t->ret != 0) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		return t->ret;
	}
	r = db_errno(mdb_txn_commit(t->txn));
	t->txn = NULL;
	return r;
}

void
db_abort(struct db_txn *t)
{
	if (t->txn)
		mdb_txn_abort(t->txn);
	t->txn = NULL;
}

int
db_fail(struct db_txn *t, int err)
{
	if (t->ret == 0)
		t->ret = err;
	return t->ret;
}

int
db_get(struct db_txn *t, enum db_table tb, const void *k, size_t kl, MDB_val *v)
{
	MDB_val key = { kl, (void *)k };
	int rc;

	if (t->ret)
		return t->ret;
	rc = mdb_get(t->txn, t->db->dbi[tb], &key, v);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	return db_fail(t, db_errno(rc));
}

int
db_put(struct db_txn *t, enum db_table tb, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };

	if (t->ret)
		return t->ret;
	return db_fail(t, db_errno(mdb_put(t->txn, t->db->dbi[tb], &key, &val, 0)));
}

int
db_del(struct db_txn *t, enum db_table tb, const void *k, size_t kl)
{
	MDB_val key = { kl, (void *)k };
	int rc;

	if (t->ret)
		return t->ret;
	rc = mdb_del(t->txn, t->db->dbi[tb], &key, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	return db_fail(t, db_errno(rc));
}

int
db_scan(struct db_txn *t, enum db_table tb, const void *prefix, size_t plen,
    db_scan_fn fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc, r = 0;

	if (t->ret)
		return t->ret;
	if ((rc = mdb_cursor_open(t->txn, t->db->dbi[tb], &c)) != 0)
		return db_fail(t, db_errno(rc));
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((r = fn(arg, &k, &v)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return db_fail(t, db_errno(rc));
	return r;
}

int
db_seek(struct db_txn *t, enum db_table tb, const void *k, size_t kl, MDB_val *key, MDB_val *val)
{
	MDB_cursor *c;
	int rc;

	if (t->ret)
		return t->ret;
	if ((rc = mdb_cursor_open(t->txn, t->db->dbi[tb], &c)) != 0)
		return db_fail(t, db_errno(rc));
	key->mv_size = kl;
	key->mv_data = (void *)k;
	rc = mdb_cursor_get(c, key, val, k ? MDB_SET_RANGE : MDB_FIRST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	return db_fail(t, db_errno(rc));
}

int
db_count(struct db_txn *t, enum db_table tb, size_t *n)
{
	MDB_stat st;
	int rc;

	if (t->ret)
		return t->ret;
	if ((rc = mdb_stat(t->txn, t->db->dbi[tb], &st)) != 0)
		return db_fail(t, db_errno(rc));
	*n = st.ms_entries;
	return 0;
}

int
db_meta_get_u64(struct db_txn *t, const char *name, unsigned long long *v)
{
	MDB_val val;
	int r;

	if ((r = db_get(t, DB_META, name, strlen(name), &val)) < 0)
		return r;
	if (val.mv_size != 8)
		return db_fail(t, -EUCLEAN);
	*v = be_get_u64(val.mv_data);
	return 0;
}

int
db_meta_put_u64(struct db_txn *t, const char *name, unsigned long long v)
{
	uint8_t b[8];

	be_put_u64(b, v);
	return db_put(t, DB_META, name, strlen(name), b, 8);
}
