/*
 * journal: encoding, appending, cancelling and setting aside records.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "journal.h"

#define JREC_VERSION	2	/* 2 added victim_base; 1 is still read */

void
jrec_free(struct jrec *r)
{
	free(r->path);
	free(r->path2);
	r->path = r->path2 = NULL;
}

const char *
jtype_name(uint8_t type)
{
	static const char *const names[] = {
		"?", "store", "mkdir", "symlink", "link", "unlink", "rmdir",
		"rename", "setattr",
	};

	return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

int
jrec_encode(const struct jrec *r, struct buf *b)
{
	int e = 0;

	e |= buf_put_u8(b, JREC_VERSION);
	e |= buf_put_u8(b, r->type);
	e |= buf_put_u64(b, r->ino);
	e |= buf_put_u32(b, r->attrs);
	e |= buf_put_u32(b, r->mode);
	e |= buf_put_u64(b, (uint64_t)r->mtime);
	e |= buf_put_cstr(b, r->path ? r->path : "");
	e |= buf_put_u8(b, r->path2 != NULL);
	e |= buf_put_cstr(b, r->path2 ? r->path2 : "");
	e |= buf_put_u64(b, r->victim);
	e |= buf_put_u8(b, r->victim_remote);
	e |= buf_put_u64(b, r->base.size);
	e |= buf_put_u64(b, (uint64_t)r->base.mtime);
	e |= buf_put_u32(b, r->base.mode);
	e |= buf_put_u8(b, r->base.valid);
	e |= buf_put_u64(b, (uint64_t)r->when);
	e |= buf_put_u32(b, (uint32_t)r->err);
	e |= buf_put_u64(b, r->victim_base.size);
	e |= buf_put_u64(b, (uint64_t)r->victim_base.mtime);
	e |= buf_put_u32(b, r->victim_base.mode);
	e |= buf_put_u8(b, r->victim_base.valid);
	return e ? -ENOMEM : 0;
}

int
jrec_decode(const void *p, size_t n, struct jrec *r)
{
	struct buf b;
	uint8_t ver, has2;
	uint64_t mt, bm, when, vm = 0;
	uint32_t err;
	char *p2 = NULL;
	int e = 0;

	memset(r, 0, sizeof *r);
	buf_wrap(&b, p, n);
	if (buf_get_u8(&b, &ver) < 0)
		return -EBADMSG;
	if (ver != 1 && ver != JREC_VERSION)
		return -EPROTO;
	e |= buf_get_u8(&b, &r->type);
	e |= buf_get_u64(&b, &r->ino);
	e |= buf_get_u32(&b, &r->attrs);
	e |= buf_get_u32(&b, &r->mode);
	e |= buf_get_u64(&b, &mt);
	if (e == 0)
		e |= buf_get_cstr(&b, &r->path);
	e |= buf_get_u8(&b, &has2);
	if (e == 0)
		e |= buf_get_cstr(&b, &p2);
	e |= buf_get_u64(&b, &r->victim);
	e |= buf_get_u8(&b, &r->victim_remote);
	e |= buf_get_u64(&b, &r->base.size);
	e |= buf_get_u64(&b, &bm);
	e |= buf_get_u32(&b, &r->base.mode);
	e |= buf_get_u8(&b, &r->base.valid);
	e |= buf_get_u64(&b, &when);
	e |= buf_get_u32(&b, &err);
	if (ver >= 2) {
		e |= buf_get_u64(&b, &r->victim_base.size);
		e |= buf_get_u64(&b, &vm);
		e |= buf_get_u32(&b, &r->victim_base.mode);
		e |= buf_get_u8(&b, &r->victim_base.valid);
	}
	if (e != 0 || r->type < J_STORE || r->type > J_SETATTR) {
		free(p2);
		jrec_free(r);
		return -EBADMSG;
	}
	if (has2)
		r->path2 = p2;
	else
		free(p2);
	r->mtime = (int64_t)mt;
	r->base.mtime = (int64_t)bm;
	r->victim_base.mtime = (int64_t)vm;
	r->when = (int64_t)when;
	r->err = (int32_t)err;
	return 0;
}

static void
jino_key(uint8_t *k, uint64_t ino, uint64_t seq)
{
	be_put_u64(k, ino);
	be_put_u64(k + 8, seq);
}

static int
journal_put(struct db_txn *t, enum db_table tb, const struct jrec *r)
{
	uint8_t k[8];
	struct buf b;
	int e;

	if (t->ret)
		return t->ret;
	be_put_u64(k, r->seq);
	buf_init(&b, 0);
	if ((e = jrec_encode(r, &b)) < 0)
		db_fail(t, e);
	e = db_put(t, tb, k, 8, b.data, b.len);
	buf_free(&b);
	return e;
}

int
journal_next_seq(struct db_txn *t, uint64_t *seq)
{
	unsigned long long next;
	int r;

	if ((r = db_meta_get_u64(t, "next_seq", &next)) < 0)
		return db_fail(t, r);
	*seq = next;
	return 0;
}

void
jrec_init(struct jrec *r, uint8_t type, const struct inode *in, const char *path,
    const char *path2)
{
	memset(r, 0, sizeof *r);
	r->type = type;
	r->ino = in->ino;
	r->mode = in->mode & 07777;
	r->mtime = in->mtime_s;
	r->path = (char *)path;
	r->path2 = (char *)path2;
	r->base = in->base;
	r->when = time(NULL);
}

int
journal_append(struct db_txn *t, struct jrec *r)
{
	uint8_t k[16];

	if (journal_next_seq(t, &r->seq) < 0)
		return t->ret;
	db_meta_put_u64(t, "next_seq", r->seq + 1);
	journal_put(t, DB_JOURNAL, r);
	jino_key(k, r->ino, r->seq);
	return db_put(t, DB_JINO, k, 16, "", 0);
}

int
journal_replace(struct db_txn *t, const struct jrec *r)
{
	return journal_put(t, DB_JOURNAL, r);
}

void
journal_store(struct db_txn *t, struct inode *in)
{
	struct jrec r;
	char *path;

	if ((in->flags & I_EXCLUDED) || in->pending_store || !S_ISREG(in->mode))
		return;
	if (meta_path(t, in->ino, &path) < 0)
		return;
	jrec_init(&r, J_STORE, in, path, NULL);
	if (journal_append(t, &r) == 0)
		in->pending_store = r.seq;
	free(path);
}

static int
journal_load(struct db_txn *t, const MDB_val *k, const MDB_val *v, struct jrec *r)
{
	int e;

	if (k->mv_size != 8)
		return db_fail(t, -EUCLEAN);
	if ((e = jrec_decode(v->mv_data, v->mv_size, r)) < 0)
		return db_fail(t, e);
	r->seq = be_get_u64(k->mv_data);
	return 0;
}

int
journal_first(struct db_txn *t, struct jrec *r)
{
	MDB_val k, v;
	int e;

	if ((e = db_seek(t, DB_JOURNAL, NULL, 0, &k, &v)) < 0)
		return e;
	return journal_load(t, &k, &v, r);
}

int
journal_get(struct db_txn *t, uint64_t seq, struct jrec *r)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	int e;

	be_put_u64(key, seq);
	if ((e = db_get(t, DB_JOURNAL, key, 8, &v)) < 0)
		return e;
	return journal_load(t, &k, &v, r);
}

struct scan_ctx {
	struct db_txn *t;
	int (*fn)(void *arg, struct jrec *r);
	void *arg;
};

static int
scan_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct scan_ctx *c = arg;
	struct jrec r;
	int e;

	if ((e = journal_load(c->t, k, v, &r)) < 0)
		return e;
	return c->fn(c->arg, &r);
}

int
journal_scan(struct db_txn *t, int (*fn)(void *arg, struct jrec *r), void *arg)
{
	struct scan_ctx c = { t, fn, arg };

	return db_scan(t, DB_JOURNAL, NULL, 0, scan_one, &c);
}

uint64_t
journal_head(struct db_txn *t)
{
	MDB_val k, v;

	if (db_seek(t, DB_JOURNAL, NULL, 0, &k, &v) < 0 || k.mv_size != 8)
		return UINT64_MAX;
	return be_get_u64(k.mv_data);
}

int
journal_empty(struct db_txn *t)
{
	size_t n = 1;

	return db_count(t, DB_JOURNAL, &n) == 0 && n == 0;
}

int
journal_remove(struct db_txn *t, const struct jrec *r)
{
	uint8_t k[16];

	be_put_u64(k, r->seq);
	db_del(t, DB_JOURNAL, k, 8);
	jino_key(k, r->ino, r->seq);
	return db_del(t, DB_JINO, k, 16);
}

int
journal_set_aside(struct db_txn *t, struct jrec *r, int err)
{
	r->err = err;
	journal_put(t, DB_ASIDE, r);
	return journal_remove(t, r);
}

static int
seq_collect(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct buf *seqs = arg;

	if (k->mv_size != 16)
		return -EUCLEAN;
	return buf_put(seqs, (const uint8_t *)k->mv_data + 8, 8);
}

/* 1 if a record of ino with a seq from seq on is pending, else 0. */
static int
jino_from(struct db_txn *t, uint64_t ino, uint64_t seq)
{
	uint8_t k[16];
	MDB_val key, val;
	int e;

	jino_key(k, ino, seq);
	e = db_seek(t, DB_JINO, k, 16, &key, &val);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return e;
	return key.mv_size == 16 && be_get_u64(key.mv_data) == ino;
}

int
journal_pending_ino(struct db_txn *t, uint64_t ino)
{
	return jino_from(t, ino, 0);
}

int
journal_later_ino(struct db_txn *t, uint64_t ino, uint64_t seq)
{
	return jino_from(t, ino, seq + 1);
}

int
journal_ino_has(struct db_txn *t, uint64_t ino, uint8_t type)
{
	struct buf seqs;
	struct jrec r;
	uint8_t k[8];
	size_t i;
	int e, found = 0;

	if (jino_from(t, ino, 0) <= 0)
		return 0;	/* the common case: nothing pending for ino */
	buf_init(&seqs, 0);
	be_put_u64(k, ino);
	if ((e = db_scan(t, DB_JINO, k, 8, seq_collect, &seqs)) < 0) {
		buf_free(&seqs);
		return e;
	}
	for (i = 0; i + 8 <= seqs.len && !found; i += 8) {
		if (journal_get(t, be_get_u64(seqs.data + i), &r) < 0)
			continue;
		found = r.type == type;
		jrec_free(&r);
	}
	buf_free(&seqs);
	return found;
}

/*
 * Whether what a rename replaced is on the server when the rename comes to
 * be replayed: it was there at the time, or it is not new, or records
 * still to be sent create it.  A victim already gone cannot tell: yes (its
 * removal is harmless).
 */
static int
victim_on_server(struct db_txn *t, const struct jrec *r)
{
	struct inode in;
	int on;

	if (r->victim_remote || meta_inode_get(t, r->victim, &in) < 0)
		return 1;
	on = !(in.flags & I_LOCALNEW) || journal_pending_ino(t, r->victim) != 0;
	inode_free(&in);
	return on;
}

static int
cancel_one(struct db_txn *t, uint64_t seq, const char *path, uint64_t *tomb)
{
	struct jrec r;
	uint8_t k[16];

	if (journal_get(t, seq, &r) < 0)
		return t->ret;
	journal_remove(t, &r);
	if (r.type == J_RENAME && r.victim && victim_on_server(t, &r)) {
		/* Keep the removal of what the rename replaced on the server. */
		r.type = J_UNLINK;
		free(r.path);
		r.path = r.path2;
		r.path2 = NULL;
		r.ino = r.victim;
		r.victim = 0;
		r.base = r.victim_base;	/* the version the removal expects */
		memset(&r.victim_base, 0, sizeof r.victim_base);
		journal_put(t, DB_JOURNAL, &r);
		jino_key(k, r.ino, r.seq);
		db_put(t, DB_JINO, k, 16, "", 0);
		if (path && strcmp(r.path, path) == 0)
			*tomb = r.seq;
	}
	jrec_free(&r);
	return t->ret;
}

int
journal_cancel_ino(struct db_txn *t, uint64_t ino, const char *path, uint64_t *tomb)
{
	struct buf seqs;
	uint8_t k[8];
	uint64_t unused;
	size_t i;
	int e;

	if (tomb == NULL)
		tomb = &unused;
	*tomb = 0;
	buf_init(&seqs, 0);
	be_put_u64(k, ino);
	e = db_scan(t, DB_JINO, k, 8, seq_collect, &seqs);
	if (e < 0)
		db_fail(t, e);
	for (i = 0; i + 8 <= seqs.len && t->ret == 0; i += 8)
		cancel_one(t, be_get_u64(seqs.data + i), path, tomb);
	buf_free(&seqs);
	return t->ret;
}

/* Call fn on every record of ino after seq, and store it again when fn says it changed. */
static int
later_each(struct db_txn *t, uint64_t ino, uint64_t seq, int (*fn)(void *arg, struct jrec *r),
    void *arg)
{
	struct buf seqs;
	struct jrec r;
	uint8_t k[8];
	size_t i;
	int e;

	buf_init(&seqs, 0);
	be_put_u64(k, ino);
	if ((e = db_scan(t, DB_JINO, k, 8, seq_collect, &seqs)) < 0)
		db_fail(t, e);
	for (i = 0; i + 8 <= seqs.len && t->ret == 0; i += 8) {
		if (be_get_u64(seqs.data + i) <= seq || journal_get(t, be_get_u64(seqs.data + i), &r) < 0)
			continue;
		if (fn(arg, &r))
			journal_put(t, DB_JOURNAL, &r);
		jrec_free(&r);
	}
	buf_free(&seqs);
	return t->ret;
}

static int
rebase_one(void *arg, struct jrec *r)
{
	r->base = *(const struct base *)arg;
	return 1;
}

int
journal_rebase_ino(struct db_txn *t, uint64_t ino, uint64_t seq, const struct base *b)
{
	return later_each(t, ino, seq, rebase_one, (void *)b);
}

struct repath {
	const char *path, *to;
};

static int
repath_one(void *arg, struct jrec *r)
{
	const struct repath *rp = arg;
	char *p;

	if (strcmp(r->path, rp->path) != 0 || (p = strdup(rp->to)) == NULL)
		return 0;
	free(r->path);
	r->path = p;
	return 1;
}

int
journal_repath_ino(struct db_txn *t, uint64_t ino, uint64_t seq, const char *path,
    const char *to)
{
	struct repath rp = { path, to };

	return later_each(t, ino, seq, repath_one, &rp);
}

struct under {
	uint64_t seq;
	const char *dir;
	size_t len;
	struct buf seqs;
};

/* Whether p is dir or below it. */
static int
is_under(const char *p, const char *dir, size_t len)
{
	return p && strncmp(p, dir, len) == 0 && (p[len] == '\0' || p[len] == '/');
}

static int
under_collect(void *arg, struct jrec *r)
{
	struct under *u = arg;
	uint8_t k[8];

	if (r->seq > u->seq && (is_under(r->path, u->dir, u->len) || is_under(r->path2, u->dir, u->len))) {
		be_put_u64(k, r->seq);
		if (buf_put(&u->seqs, k, 8) < 0) {
			jrec_free(r);
			return -ENOMEM;
		}
	}
	jrec_free(r);
	return 0;
}

/* p, which is dir or below it, moved to the same place below to (malloc'd in *p). */
static int
move_under(char **p, size_t len, const char *to)
{
	char *n;

	if (*p == NULL || asprintf(&n, "%s%s", to, *p + len) < 0)
		return *p == NULL ? 0 : -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

int
journal_repath_under(struct db_txn *t, uint64_t seq, const char *dir, const char *to)
{
	struct under u = { seq, dir, strlen(dir), { 0 } };
	struct jrec r;
	size_t i;
	int e;

	buf_init(&u.seqs, 0);
	if ((e = journal_scan(t, under_collect, &u)) < 0)
		db_fail(t, e);
	for (i = 0; i + 8 <= u.seqs.len && t->ret == 0; i += 8) {
		if (journal_get(t, be_get_u64(u.seqs.data + i), &r) < 0)
			continue;
		if ((is_under(r.path, dir, u.len) && move_under(&r.path, u.len, to) < 0) ||
		    (is_under(r.path2, dir, u.len) && move_under(&r.path2, u.len, to) < 0))
			db_fail(t, -ENOMEM);
		else
			journal_put(t, DB_JOURNAL, &r);
		jrec_free(&r);
	}
	buf_free(&u.seqs);
	return t->ret;
}
