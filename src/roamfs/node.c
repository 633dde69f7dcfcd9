/*
 * node: hash table of in-memory inodes with lookup and open counts.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "roam/buf.h"
#include "roam/log.h"
#include "node.h"

struct nodes {
	pthread_mutex_t lock;
	struct node **buckets;
	size_t nbuckets;
	size_t count;
	size_t nstale;		/* nodes with stale set */
	uint64_t saves;		/* saves of nodes ended (nodes_saved; atomic reads) */
};

struct nodes *
nodes_new(void)
{
	struct nodes *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	t->nbuckets = 1024;
	if ((t->buckets = calloc(t->nbuckets, sizeof *t->buckets)) == NULL) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
nodes_free(struct nodes *t)
{
	struct node *n, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (n = t->buckets[i]; n; n = next) {
			next = n->hnext;
			free(n);
		}
	free(t->buckets);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void
nodes_lock(struct nodes *t)
{
	pthread_mutex_lock(&t->lock);
}

void
nodes_unlock(struct nodes *t)
{
	pthread_mutex_unlock(&t->lock);
}

static size_t
nodes_hash(const struct nodes *t, uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) >> 20) & (t->nbuckets - 1);
}

struct node *
nodes_find(struct nodes *t, uint64_t ino)
{
	struct node *n;

	for (n = t->buckets[nodes_hash(t, ino)]; n; n = n->hnext)
		if (n->ino == ino)
			return n;
	return NULL;
}

/* Double the bucket array when the table gets crowded. */
static void
nodes_grow(struct nodes *t)
{
	struct node **old = t->buckets, *n, *next;
	size_t oldn = t->nbuckets, i, h;
	struct node **nb = calloc(oldn * 2, sizeof *nb);

	if (nb == NULL)
		return;
	t->buckets = nb;
	t->nbuckets = oldn * 2;
	for (i = 0; i < oldn; i++)
		for (n = old[i]; n; n = next) {
			next = n->hnext;
			h = nodes_hash(t, n->ino);
			n->hnext = nb[h];
			nb[h] = n;
		}
	free(old);
}

struct node *
nodes_get(struct nodes *t, uint64_t ino)
{
	struct node *n = nodes_find(t, ino);
	size_t h;

	if (n)
		return n;
	if ((n = calloc(1, sizeof *n)) == NULL)
		return NULL;
	n->ino = ino;
	n->gen = 1;
	if (t->count >= t->nbuckets * 2)
		nodes_grow(t);
	h = nodes_hash(t, ino);
	n->hnext = t->buckets[h];
	t->buckets[h] = n;
	t->count++;
	return n;
}

void
nodes_drop_if_unused(struct nodes *t, struct node *n)
{
	struct node **pp;

	if (n->nlookup || n->nopen || n->dirty || n->saving || n->werr || n->writing)
		return;
	for (pp = &t->buckets[nodes_hash(t, n->ino)]; *pp; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			t->count--;
			if (n->stale)
				t->nstale--;
			free(n);
			return;
		}
}

/* Call fn for every node with open handles (open) or unsaved writes. */
static void
foreach_where(struct nodes *t, int open, void (*fn)(void *arg, struct node *n), void *arg)
{
	struct node *n, *next;
	size_t i;

	for (i = 0; i < t->nbuckets; i++)
		for (n = t->buckets[i]; n; n = next) {
			next = n->hnext;
			if (open ? n->nopen != 0 : n->dirty != 0)
				fn(arg, n);
		}
}

void
nodes_foreach_dirty(struct nodes *t, void (*fn)(void *arg, struct node *n), void *arg)
{
	foreach_where(t, 0, fn, arg);
}

void
nodes_foreach_open(struct nodes *t, void (*fn)(void *arg, struct node *n), void *arg)
{
	foreach_where(t, 1, fn, arg);
}

void
nodes_saved(struct nodes *t, struct node *n)
{
	if (n->saving)
		n->saving--;
	__atomic_add_fetch(&t->saves, 1, __ATOMIC_RELEASE);
}

uint64_t
nodes_saves(struct nodes *t)
{
	return __atomic_load_n(&t->saves, __ATOMIC_ACQUIRE);
}

int
nodes_busy(struct nodes *t, uint64_t ino)
{
	struct node *n;
	int b;

	nodes_lock(t);
	b = (n = nodes_find(t, ino)) != NULL && (NODE_HELD(n) || n->nopen);
	nodes_unlock(t);
	return b;
}

void
nodes_put_ino(void *buf, struct node *n)
{
	buf_put_u64(buf, n->ino);
}

void
nodes_set_stale(struct nodes *t, struct node *n)
{
	if (!n->stale)
		t->nstale++;
	n->stale = 1;
}

void
nodes_take_stale(struct nodes *t, void (*fn)(void *arg, struct node *n), void *arg)
{
	struct node *n, *next;
	size_t i;

	for (i = 0; i < t->nbuckets && t->nstale; i++)
		for (n = t->buckets[i]; n; n = next) {
			next = n->hnext;
			if (n->stale) {
				n->stale = 0;
				t->nstale--;
				fn(arg, n);
			}
		}
}

/* Numbers the writes of every file, so that a node made again never
 * repeats a number an earlier node of the same file gave. */
static uint64_t write_count;

void
nodes_write_begin(struct nodes *t, uint64_t ino)
{
	struct node *n;

	nodes_lock(t);
	if ((n = nodes_get(t, ino)) != NULL) {
		n->wlast = ++write_count;
		n->writing++;
	}
	nodes_unlock(t);
}

void
nodes_write_end(struct nodes *t, uint64_t ino)
{
	struct node *n;

	nodes_lock(t);
	if ((n = nodes_find(t, ino)) != NULL && n->writing > 0)
		n->writing--;
	nodes_unlock(t);
}

uint64_t
nodes_write_mark(struct nodes *t, uint64_t ino)
{
	struct node *n;
	uint64_t m = 0;

	nodes_lock(t);
	if ((n = nodes_find(t, ino)) != NULL)
		m = n->writing ? UINT64_MAX : n->wlast;
	nodes_unlock(t);
	return m;
}
