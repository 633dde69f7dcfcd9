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

#define OWN_KEEP	4	/* versions noted per path: the last, and those maybe there */

/* Write the versions b[0..n) of rel. */
static void
own_write(struct db_txn *t, const char *rel, const struct base *b, int n)
{
	char k[sizeof OWN_PREFIX + OWN_PATH_MAX];
	size_t kl = own_key(k, rel);
	struct buf v;
	int e = 0, i;

	if (kl == 0)
		return;
	buf_init(&v, 0);
	e |= buf_put_u8(&v, OWN_VERSION);
	e |= buf_put_u8(&v, (uint8_t)n);
	for (i = 0; i < n; i++) {
		e |= buf_put_u64(&v, b[i].size);
		e |= buf_put_u64(&v, (uint64_t)b[i].mtime);
		e |= buf_put_u32(&v, b[i].mode);
		e |= buf_put_u64(&v, b[i].racy);
	}
	if (e)
		db_fail(t, -ENOMEM);
	else
		db_put(t, DB_META, k, kl, v.data, v.len);
	buf_free(&v);
}

void
own_put(struct db_txn *t, const char *rel, const struct base *b)
{
	if (b->valid)
		own_write(t, rel, b, 1);
	else
		own_del(t, rel);
}

void
own_maybe(struct db_txn *t, const char *rel, const struct base *b)
{
	struct base all[OWN_KEEP];
	int n;

	if (!b->valid)
		return;
	all[0] = *b;
	n = own_list(t, rel, all + 1, OWN_KEEP - 1);
	own_write(t, rel, all, n + 1);
}

int
own_list(struct db_txn *t, const char *rel, struct base *b, int max)
{
	char k[sizeof OWN_PREFIX + OWN_PATH_MAX];
	size_t kl = own_key(k, rel);
	uint64_t mtime;
	uint8_t ver, n;
	struct buf v;
	MDB_val val;
	int i, e = 0;

	if (kl == 0 || db_get(t, DB_META, k, kl, &val) < 0)
		return 0;
	buf_wrap(&v, val.mv_data, val.mv_size);
	if (buf_get_u8(&v, &ver) < 0 || ver != OWN_VERSION || buf_get_u8(&v, &n) < 0)
		return 0;
	for (i = 0; i < n && i < max && e == 0; i++) {
		memset(&b[i], 0, sizeof b[i]);
		e |= buf_get_u64(&v, &b[i].size);
		e |= buf_get_u64(&v, &mtime);
		e |= buf_get_u32(&v, &b[i].mode);
		e |= buf_get_u64(&v, &b[i].racy);
		b[i].mtime = (int64_t)mtime;
		b[i].valid = 1;
	}
	return e ? 0 : i;
}

int
own_get(struct db_txn *t, const char *rel, struct base *b)
{
	memset(b, 0, sizeof *b);
	return own_list(t, rel, b, 1) == 1 ? 0 : -ENOENT;
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
