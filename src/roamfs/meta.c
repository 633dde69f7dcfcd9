/*
 * meta: inode records, directory entries and tombstones in LMDB.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "roam/buf.h"
#include "roam/db.h"
#include "meta.h"

#define INODE_VERSION	1
#define DIRENT_KEY_MAX	(8 + 256)

static int
meta_source_check(struct db_txn *t, const char *source, char **cause)
{
	MDB_val v, home;
	int r;

	r = db_get(t, DB_META, "source", 6, &v);
	if (r == -ENOENT)
		return db_put(t, DB_META, "source", 6, source, strlen(source));
	if (r < 0)
		return r;
	if (v.mv_size != strlen(source) || memcmp(v.mv_data, source, v.mv_size) != 0) {
		/* A cache that never reached its server (a wrong host name or
		 * port on the first mount) holds nothing of it: take it over. */
		if (db_get(t, DB_META, "root", 4, &home) == -ENOENT)
			return db_put(t, DB_META, "source", 6, source, strlen(source));
		if (asprintf(cause, "this cache belongs to %.*s, not %s: "
		    "use another cache= directory for this server",
		    (int)v.mv_size, (char *)v.mv_data, source) < 0)
			*cause = NULL;
		return db_fail(t, -EEXIST);
	}
	return 0;
}

static int
meta_root_create(struct db_txn *t, uint32_t root_mode)
{
	struct inode root;
	struct timespec now;

	memset(&root, 0, sizeof root);
	clock_gettime(CLOCK_REALTIME, &now);
	root.ino = INO_ROOT;
	root.mode = S_IFDIR | (root_mode & 07777);
	root.nlink = 2;
	root.mtime_s = root.ctime_s = root.atime_s = now.tv_sec;
	root.flags = I_REMOTE;
	db_meta_put_u64(t, "next_ino", INO_ROOT + 1);
	db_meta_put_u64(t, "next_seq", 1);
	return meta_inode_put(t, &root);
}

int
meta_init(struct db *db, const char *source, uint32_t root_mode, char **cause)
{
	struct db_txn t;
	unsigned long long v;
	int r;

	*cause = NULL;
	if ((r = db_begin(db, &t, 1)) < 0)
		return r;
	r = db_meta_get_u64(&t, "schema", &v);
	if (r == -ENOENT) {
		db_meta_put_u64(&t, "schema", META_SCHEMA);
		db_meta_put_u64(&t, "orphan_table", 1);
		meta_root_create(&t, root_mode);
	} else if (r == 0 && v != META_SCHEMA) {
		if (asprintf(cause, "this cache was written by another version of "
		    "roamfs (format %llu, this one reads %d): flush it with the "
		    "version that wrote it, or use a new cache= directory",
		    v, META_SCHEMA) < 0)
			*cause = NULL;
		db_fail(&t, -EPROTO);
	}
	meta_source_check(&t, source, cause);
	return db_commit(&t);
}

uint64_t
meta_cache_salt(struct db *db)
{
	unsigned long long salt = 0;
	struct db_txn t;

	if (db_begin(db, &t, 1) < 0)
		return 0;
	if (db_meta_get_u64(&t, "cache_salt", &salt) < 0 || salt == 0) {
		t.ret = 0;
		if (getrandom(&salt, sizeof salt, 0) != (ssize_t)sizeof salt)
			salt = (unsigned long long)time(NULL) * 2654435761ULL ^ (unsigned long long)getpid();
		db_meta_put_u64(&t, "cache_salt", salt);
	}
	if (db_commit(&t) < 0)
		return 0;
	return salt;
}

int
meta_root_listed(struct db *db)
{
	struct db_txn t;
	struct inode root;
	int listed = 0;

	if (db_begin(db, &t, 0) < 0)
		return 0;
	if (meta_inode_get(&t, INO_ROOT, &root) == 0) {
		listed = (root.flags & I_LISTED) != 0;
		inode_free(&root);
	}
	db_abort(&t);
	return listed;
}

void
inode_free(struct inode *in)
{
	free(in->name);
	free(in->target);
	in->name = in->target = NULL;
}

static int
put_opt_str(struct buf *b, const char *s)
{
	return buf_put_cstr(b, s ? s : "");
}

int
inode_encode(const struct inode *in, struct buf *b)
{
	int r = 0;

	r |= buf_put_u8(b, INODE_VERSION);
	r |= buf_put_u32(b, in->mode);
	r |= buf_put_u32(b, in->nlink);
	r |= buf_put_u64(b, in->size);
	r |= buf_put_u64(b, (uint64_t)in->mtime_s);
	r |= buf_put_u32(b, in->mtime_ns);
	r |= buf_put_u64(b, (uint64_t)in->ctime_s);
	r |= buf_put_u32(b, in->ctime_ns);
	r |= buf_put_u64(b, (uint64_t)in->atime_s);
	r |= buf_put_u32(b, in->atime_ns);
	r |= buf_put_u32(b, in->flags);
	r |= buf_put_u64(b, in->parent);
	r |= put_opt_str(b, in->name);
	r |= buf_put_u8(b, in->target != NULL);
	r |= put_opt_str(b, in->target);
	r |= buf_put_u64(b, in->pending_store);
	r |= buf_put_u64(b, in->base.size);
	r |= buf_put_u64(b, (uint64_t)in->base.mtime);
	r |= buf_put_u32(b, in->base.mode);
	r |= buf_put_u8(b, in->base.valid);
	if (in->base.racy) {	/* optional, last: older records have none */
		r |= buf_put_u64(b, in->base.racy);
		r |= buf_put_u8(b, in->base.refetch);
	}
	return r ? -ENOMEM : 0;
}

int
inode_decode(const void *p, size_t n, struct inode *in)
{
	struct buf b;
	uint8_t ver, has_target;
	uint64_t ms, cs, as, bm;
	char *target = NULL;
	int r = 0;

	memset(in, 0, sizeof *in);
	buf_wrap(&b, p, n);
	if (buf_get_u8(&b, &ver) < 0 || ver != INODE_VERSION)
		return -EPROTO;
	r |= buf_get_u32(&b, &in->mode);
	r |= buf_get_u32(&b, &in->nlink);
	r |= buf_get_u64(&b, &in->size);
	r |= buf_get_u64(&b, &ms);
	r |= buf_get_u32(&b, &in->mtime_ns);
	r |= buf_get_u64(&b, &cs);
	r |= buf_get_u32(&b, &in->ctime_ns);
	r |= buf_get_u64(&b, &as);
	r |= buf_get_u32(&b, &in->atime_ns);
	r |= buf_get_u32(&b, &in->flags);
	r |= buf_get_u64(&b, &in->parent);
	if (r == 0)
		r |= buf_get_cstr(&b, &in->name);
	r |= buf_get_u8(&b, &has_target);
	if (r == 0)
		r |= buf_get_cstr(&b, &target);
	r |= buf_get_u64(&b, &in->pending_store);
	r |= buf_get_u64(&b, &in->base.size);
	r |= buf_get_u64(&b, &bm);
	r |= buf_get_u32(&b, &in->base.mode);
	r |= buf_get_u8(&b, &in->base.valid);
	if (r == 0 && b.off < b.len) {
		r |= buf_get_u64(&b, &in->base.racy);
		r |= buf_get_u8(&b, &in->base.refetch);
	}
	if (r != 0) {
		free(target);
		inode_free(in);
		return -EBADMSG;
	}
	in->mtime_s = (int64_t)ms;
	in->ctime_s = (int64_t)cs;
	in->atime_s = (int64_t)as;
	in->base.mtime = (int64_t)bm;
	if (has_target)
		in->target = target;
	else
		free(target);
	return 0;
}

int
meta_inode_get(struct db_txn *t, uint64_t ino, struct inode *out)
{
	uint8_t k[8];
	MDB_val v;
	int r;

	be_put_u64(k, ino);
	if ((r = db_get(t, DB_INODE, k, 8, &v)) < 0)
		return r;
	if ((r = inode_decode(v.mv_data, v.mv_size, out)) < 0)
		return db_fail(t, r);
	out->ino = ino;
	return 0;
}

int
meta_inode_read(struct db *db, uint64_t ino, struct inode *out)
{
	struct db_txn t;
	int r;

	if ((r = db_begin(db, &t, 0)) < 0)
		return r;
	r = meta_inode_get(&t, ino, out);
	db_abort(&t);
	return r;
}

int
meta_inode_put(struct db_txn *t, const struct inode *in)
{
	uint8_t k[8];
	struct buf b;
	int r;

	if (t->ret)
		return t->ret;
	be_put_u64(k, in->ino);
	buf_init(&b, 0);
	if ((r = inode_encode(in, &b)) < 0)
		db_fail(t, r);
	r = db_put(t, DB_INODE, k, 8, b.data, b.len);
	buf_free(&b);
	if (in->nlink == 0)
		r = db_put(t, DB_ORPHAN, k, 8, "", 0);
	return r;
}

int
meta_inode_del(struct db_txn *t, uint64_t ino)
{
	uint8_t k[8];

	be_put_u64(k, ino);
	db_del(t, DB_ORPHAN, k, 8);
	return db_del(t, DB_INODE, k, 8);
}

/* Add the number of an inode record without a name left to a list. */
static int
orphan_of_inode(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct inode in;

	if (k->mv_size != 8 || inode_decode(v->mv_data, v->mv_size, &in) < 0)
		return 0;
	if (in.nlink == 0)
		buf_put(arg, k->mv_data, 8);
	inode_free(&in);
	return 0;
}

/* 1 (which stops the scan) for a file that exists only in this cache. */
static int
local_only_inode(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct inode in;
	int only;

	(void)arg;
	if (k->mv_size != 8 || inode_decode(v->mv_data, v->mv_size, &in) < 0)
		return 0;
	only = in.nlink > 0 && (in.flags & I_EXCLUDED) && !S_ISDIR(in.mode);
	inode_free(&in);
	return only;
}

int
meta_local_only(struct db_txn *t)
{
	int r = db_scan(t, DB_INODE, NULL, 0, local_only_inode, NULL);

	return r < 0 ? r : r != 0;
}

static int
orphan_key(void *arg, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	if (k->mv_size == 8)
		buf_put(arg, k->mv_data, 8);
	return 0;
}

/*
 * The orphan table keeps a key for every inode whose nlink is 0, so that a
 * mount finds them without reading every inode.  A cache made before the
 * table existed has no "orphan_table" mark: its inodes are read once.
 */
int
meta_orphans(struct db_txn *t, struct buf *list)
{
	unsigned long long marked;
	struct inode in;
	struct buf keys;
	size_t i;

	if (db_meta_get_u64(t, "orphan_table", &marked) == -ENOENT) {
		db_scan(t, DB_INODE, NULL, 0, orphan_of_inode, list);
		for (i = 0; i + 8 <= list->len; i += 8)
			db_put(t, DB_ORPHAN, list->data + i, 8, "", 0);
		return db_meta_put_u64(t, "orphan_table", 1);
	}
	buf_init(&keys, 0);
	db_scan(t, DB_ORPHAN, NULL, 0, orphan_key, &keys);
	for (i = 0; t->ret == 0 && i + 8 <= keys.len; i += 8) {
		int found = meta_inode_get(t, be_get_u64(keys.data + i), &in) == 0;

		if (found && in.nlink == 0)
			buf_put(list, keys.data + i, 8);
		else
			db_del(t, DB_ORPHAN, keys.data + i, 8);
		if (found)
			inode_free(&in);
	}
	buf_free(&keys);
	return t->ret;
}

int
meta_alloc_ino(struct db_txn *t, uint64_t *ino)
{
	unsigned long long next;
	int r;

	if ((r = db_meta_get_u64(t, "next_ino", &next)) < 0)
		return db_fail(t, r);
	*ino = next;
	return db_meta_put_u64(t, "next_ino", next + 1);
}

static int
dirent_key(uint8_t *k, uint64_t parent, const char *name, size_t *kl)
{
	size_t n = strlen(name);

	if (n > 255)
		return -ENAMETOOLONG;
	be_put_u64(k, parent);
	memcpy(k + 8, name, n);
	*kl = 8 + n;
	return 0;
}

/* A u64 value under a (parent, name) key, in DB_DIRENT or DB_TOMB. */
static int
named_get(struct db_txn *t, enum db_table tb, uint64_t parent, const char *name, uint64_t *val)
{
	uint8_t k[DIRENT_KEY_MAX];
	size_t kl;
	MDB_val v;
	int r;

	if ((r = dirent_key(k, parent, name, &kl)) < 0)
		return r;
	if ((r = db_get(t, tb, k, kl, &v)) < 0)
		return r;
	if (v.mv_size != 8)
		return db_fail(t, -EUCLEAN);
	*val = be_get_u64(v.mv_data);
	return 0;
}

static int
named_put(struct db_txn *t, enum db_table tb, uint64_t parent, const char *name, uint64_t val)
{
	uint8_t k[DIRENT_KEY_MAX], v[8];
	size_t kl;
	int r;

	if ((r = dirent_key(k, parent, name, &kl)) < 0)
		return db_fail(t, r);
	be_put_u64(v, val);
	return db_put(t, tb, k, kl, v, 8);
}

static int
named_del(struct db_txn *t, enum db_table tb, uint64_t parent, const char *name)
{
	uint8_t k[DIRENT_KEY_MAX];
	size_t kl;
	int r;

	if ((r = dirent_key(k, parent, name, &kl)) < 0)
		return db_fail(t, r);
	return db_del(t, tb, k, kl);
}

int
meta_dirent_get(struct db_txn *t, uint64_t parent, const char *name, uint64_t *ino)
{
	return named_get(t, DB_DIRENT, parent, name, ino);
}

int
meta_dirent_put(struct db_txn *t, uint64_t parent, const char *name, uint64_t ino)
{
	return named_put(t, DB_DIRENT, parent, name, ino);
}

int
meta_dirent_del(struct db_txn *t, uint64_t parent, const char *name)
{
	return named_del(t, DB_DIRENT, parent, name);
}

struct scan_ctx {
	meta_dirent_fn fn;
	void *arg;
};

static int
dir_scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct scan_ctx *c = arg;

	if (v->mv_size != 8 || k->mv_size <= 8)
		return -EUCLEAN;
	return c->fn(c->arg, (const char *)k->mv_data + 8, k->mv_size - 8,
	    be_get_u64(v->mv_data));
}

int
meta_dir_scan(struct db_txn *t, uint64_t parent, meta_dirent_fn fn, void *arg)
{
	struct scan_ctx c = { fn, arg };
	uint8_t k[8];

	be_put_u64(k, parent);
	return db_scan(t, DB_DIRENT, k, 8, dir_scan_one, &c);
}

static int
stop_at_first(void *arg, const char *name, size_t len, uint64_t ino)
{
	return 1;
}

int
meta_dir_empty(struct db_txn *t, uint64_t parent)
{
	int r = meta_dir_scan(t, parent, stop_at_first, NULL);

	return r < 0 ? r : r == 0;
}

struct names_ctx {
	uint64_t ino;
	meta_dirent_fn fn;
	void *arg;
};

static int
names_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct names_ctx *c = arg;

	if (v->mv_size != 8 || k->mv_size <= 8 || be_get_u64(v->mv_data) != c->ino)
		return 0;
	/* The parent goes in the "ino" argument: the callback knows ino. */
	return c->fn(c->arg, (const char *)k->mv_data + 8, k->mv_size - 8,
	    be_get_u64(k->mv_data));
}

int
meta_names(struct db_txn *t, uint64_t ino, meta_dirent_fn fn, void *arg)
{
	struct names_ctx c = { ino, fn, arg };

	/* Rare (a file with several links): a full scan is acceptable. */
	return db_scan(t, DB_DIRENT, NULL, 0, names_one, &c);
}

struct find_ctx {
	uint64_t parent;
	char *name;
};

/* Keep the first name (meta_names) and stop. */
static int
find_first(void *arg, const char *name, size_t len, uint64_t parent)
{
	struct find_ctx *c = arg;

	c->parent = parent;
	if ((c->name = strndup(name, len)) == NULL)
		return -ENOMEM;
	return 1;
}

int
meta_find_name(struct db_txn *t, uint64_t ino, uint64_t *parent, char **name)
{
	struct find_ctx c = { 0, NULL };
	int r = meta_names(t, ino, find_first, &c);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*parent = c.parent;
	*name = c.name;
	return 0;
}

int
meta_path(struct db_txn *t, uint64_t ino, char **out)
{
	struct inode in;
	char *path = strdup(""), *p;
	int r, depth = 0;

	while (path && ino != INO_ROOT) {
		if ((r = meta_inode_get(t, ino, &in)) < 0 || in.parent == 0) {
			if (r == 0)
				inode_free(&in);
			free(path);
			return r < 0 ? r : -ENOENT;
		}
		if (asprintf(&p, "%s%s%s", in.name, *path ? "/" : "", path) < 0)
			p = NULL;
		free(path);
		path = p;
		ino = in.parent;
		inode_free(&in);
		if (++depth > 4096) {
			free(path);
			return db_fail(t, -ELOOP);
		}
	}
	if (path == NULL)
		return -ENOMEM;
	*out = path;
	return 0;
}

int
meta_lookup(struct db_txn *t, const char *rel, uint64_t *ino)
{
	const char *p = rel, *slash;
	char name[256];
	uint64_t at = INO_ROOT;
	size_t len;
	int r;

	while (*p) {
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizeof name)
			return -ENOENT;
		memcpy(name, p, len);
		name[len] = '\0';
		if ((r = meta_dirent_get(t, at, name, &at)) < 0)
			return r;
		p += len + (slash != NULL);
	}
	*ino = at;
	return 0;
}

int
meta_child_path(struct db_txn *t, uint64_t parent, const char *name, char **out)
{
	char *dir;
	int r;

	if ((r = meta_path(t, parent, &dir)) < 0)
		return r;
	r = asprintf(out, "%s%s%s", dir, *dir ? "/" : "", name);
	free(dir);
	return r < 0 ? -ENOMEM : 0;
}

int
meta_tomb_put(struct db_txn *t, uint64_t parent, const char *name, uint64_t seq)
{
	return named_put(t, DB_TOMB, parent, name, seq);
}

int
meta_tomb_get(struct db_txn *t, uint64_t parent, const char *name, uint64_t *seq)
{
	return named_get(t, DB_TOMB, parent, name, seq);
}

int
meta_tomb_del(struct db_txn *t, uint64_t parent, const char *name)
{
	return named_del(t, DB_TOMB, parent, name);
}
