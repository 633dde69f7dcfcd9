/*
 * own: see own.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/buf.h"
#include "own.h"

#define OWN_PREFIX	"own/"
#define OWN_VERSION	1

/* The key of rel in *k (OWN_PREFIX and rel, no NUL); 0 when rel is too long. */
static size_t
own_key(char *k, const char *rel)
{
	size_t n = strlen(rel);

	if (n > OWN_PATH_MAX)
		return 0;
	memcpy(k, OWN_PREFIX, sizeof OWN_PREFIX - 1);
	memcpy(k + sizeof OWN_PREFIX - 1, rel, n);
	return sizeof OWN_PREFIX - 1 + n;
}

void
own_put(struct db_txn *t, const char *rel, const struct base *b)
{
	char k[sizeof OWN_PREFIX + OWN_PATH_MAX];
	size_t kl = own_key(k, rel);
	struct buf v;
	int e = 0;

	if (kl == 0 || !b->valid)
		return;
	buf_init(&v, 0);
	e |= buf_put_u8(&v, OWN_VERSION);
	e |= buf_put_u64(&v, b->size);
	e |= buf_put_u64(&v, (uint64_t)b->mtime);
	e |= buf_put_u32(&v, b->mode);
	e |= buf_put_u64(&v, b->racy);
	if (e)
		db_fail(t, -ENOMEM);
	else
		db_put(t, DB_META, k, kl, v.data, v.len);
	buf_free(&v);
}

int
own_get(struct db_txn *t, const char *rel, struct base *b)
{
	char k[sizeof OWN_PREFIX + OWN_PATH_MAX];
	size_t kl = own_key(k, rel);
	uint64_t mtime;
	uint8_t ver;
	struct buf v;
	MDB_val val;
	int e = 0;

	memset(b, 0, sizeof *b);
	if (kl == 0 || db_get(t, DB_META, k, kl, &val) < 0)
		return -ENOENT;
	buf_wrap(&v, val.mv_data, val.mv_size);
	e |= buf_get_u8(&v, &ver);
	e |= buf_get_u64(&v, &b->size);
	e |= buf_get_u64(&v, &mtime);
	e |= buf_get_u32(&v, &b->mode);
	e |= buf_get_u64(&v, &b->racy);
	if (e || ver != OWN_VERSION) {
		memset(b, 0, sizeof *b);
		return -ENOENT;
	}
	b->mtime = (int64_t)mtime;
	b->valid = 1;
	return 0;
}

/* The keys of the notes at rel and below it (rel "": all of them). */
struct own_keys {
	struct buf keys;	/* u32 length, bytes */
	size_t plen;		/* length of the prefix scanned */
};

static int
own_collect(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct own_keys *ok = arg;
	const char *key = k->mv_data;

	(void)v;
	/* "own/a" scans "own/ab" too: only a itself and what is below it. */
	if (ok->plen > sizeof OWN_PREFIX - 1 && k->mv_size > ok->plen && key[ok->plen] != '/')
		return 0;
	return buf_put_u32(&ok->keys, (uint32_t)k->mv_size) ||
	    buf_put(&ok->keys, k->mv_data, k->mv_size) ? -ENOMEM : 0;
}

/* Collect the keys at rel and below it into ok. */
static int
own_scan(struct db_txn *t, const char *rel, struct own_keys *ok)
{
	char k[sizeof OWN_PREFIX + OWN_PATH_MAX];
	size_t kl = own_key(k, rel);
	int e;

	buf_init(&ok->keys, 0);
	ok->plen = kl;
	if (kl == 0)
		return 0;
	if ((e = db_scan(t, DB_META, k, kl, own_collect, ok)) < 0)
		db_fail(t, e);
	return t->ret;
}

/* Call fn on each key collected. */
static void
own_each(struct db_txn *t, struct own_keys *ok, void (*fn)(struct db_txn *t, const char *k,
    size_t kl, const void *arg), const void *arg)
{
	struct buf rd;
	uint32_t n;

	buf_wrap(&rd, ok->keys.data, ok->keys.len);
	while (t->ret == 0 && buf_get_u32(&rd, &n) == 0 && buf_avail(&rd) >= n) {
		fn(t, (const char *)rd.data + rd.off, n, arg);
		rd.off += n;
	}
	buf_free(&ok->keys);
}

static void
del_one(struct db_txn *t, const char *k, size_t kl, const void *arg)
{
	(void)arg;
	db_del(t, DB_META, k, kl);
}

void
own_del(struct db_txn *t, const char *rel)
{
	struct own_keys ok;

	if (own_scan(t, rel, &ok) == 0)
		own_each(t, &ok, del_one, NULL);
	else
		buf_free(&ok.keys);
}

void
own_clear(struct db_txn *t)
{
	own_del(t, "");
}

struct move {
	size_t from_len;	/* of the key of from */
	const char *to;
};

static void
move_one(struct db_txn *t, const char *k, size_t kl, const void *arg)
{
	const struct move *m = arg;
	char nk[sizeof OWN_PREFIX + OWN_PATH_MAX];
	size_t tl = strlen(m->to), rest = kl - m->from_len;
	MDB_val v;
	void *copy;

	if (db_get(t, DB_META, k, kl, &v) < 0)
		return;
	if ((copy = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
		db_fail(t, -ENOMEM);
		return;
	}
	memcpy(copy, v.mv_data, v.mv_size);
	db_del(t, DB_META, k, kl);
	/* Below a path too long to note: forgotten. */
	if (tl + rest <= OWN_PATH_MAX) {
		memcpy(nk, OWN_PREFIX, sizeof OWN_PREFIX - 1);
		memcpy(nk + sizeof OWN_PREFIX - 1, m->to, tl);
		memcpy(nk + sizeof OWN_PREFIX - 1 + tl, k + m->from_len, rest);
		db_put(t, DB_META, nk, sizeof OWN_PREFIX - 1 + tl + rest, copy, v.mv_size);
	}
	free(copy);
}

void
own_move(struct db_txn *t, const char *from, const char *to)
{
	struct own_keys ok;
	struct move m = { 0, to };

	own_del(t, to);	/* what the rename replaced */
	if (own_scan(t, from, &ok) < 0 || ok.plen == 0) {
		buf_free(&ok.keys);
		return;
	}
	m.from_len = ok.plen;
	own_each(t, &ok, move_one, &m);
}
