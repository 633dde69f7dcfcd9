/*
 * flush: the flusher thread.
 *
 * Writes to a file only touch the cache file and the in-memory node; the
 * flusher turns them into an inode update and a STORE journal record at
 * close, at fsync, and at least every sync_interval seconds, then makes
 * LMDB durable.  That bounds what a crash of the machine can lose to
 * sync_interval seconds of unsynced work (fsync'ed data is never lost).
 * A file whose STORE is in the journal already (a new file, or one opened
 * with O_TRUNC) keeps its size and mtime in memory at close; within 0.3 s
 * they are saved in one transaction with those of the files closed
 * meanwhile.  At mount, flush_recover gives back the sizes a crash of
 * roamfs lost.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "flush.h"
#include "replay.h"
#include "roamfs.h"

struct flusher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;		/* under lock */
	int soon;		/* under lock: files closed with unsaved state */
	struct timespec soon_at; /* under lock: when to save them */
	int started;
};

/* Closed files keep their size and mtime in memory at most this long. */
#define FLUSH_SOON_NS 300000000L

/* Save one written file's size and mtime in the inode, with a STORE record when none is pending. */
static int
flush_apply(struct roamfs *fs, struct db_txn *t, uint64_t ino, const struct timespec *mtime)
{
	struct inode in;
	int64_t size;
	int r;

	if ((size = cache_file_size(fs->cache, ino)) < 0)
		return size == -ENOENT ? 0 : (int)size;	/* removed meanwhile */
	if ((r = meta_inode_get(t, ino, &in)) < 0)
		return r == -ENOENT ? 0 : r;
	if (in.nlink > 0) {
		in.size = (uint64_t)size;
		in.mtime_s = in.ctime_s = mtime->tv_sec;
		in.mtime_ns = in.ctime_ns = (uint32_t)mtime->tv_nsec;
		in.flags |= I_CACHED;
		journal_store(t, &in);
		meta_inode_put(t, &in);
	}
	inode_free(&in);
	return t->ret;
}

/* A written file whose unsaved state flush_commit_many takes over. */
struct taken {
	uint64_t ino;
	struct timespec mtime;
};

/*
 * Take the unsaved state of the dirty nodes among inos; returns how many.
 * Each counts a save under way (n->saving) until its transaction is
 * committed: meanwhile a lookup that reads the inode still takes the size
 * from the node.  The dirty mark goes now, as the replay expects: a file
 * written again meanwhile is dirty again, for the next save.
 */
static size_t
take_dirty(struct roamfs *fs, const uint64_t *inos, size_t n, struct taken *out)
{
	struct node *nd;
	size_t i, k = 0;

	nodes_lock(fs->nodes);
	for (i = 0; i < n; i++)
		if ((nd = nodes_find(fs->nodes, inos[i])) != NULL && nd->dirty) {
			out[k].ino = inos[i];
			out[k].mtime = nd->mtime;
			nd->dirty = 0;
			nd->saving++;
			k++;
		}
	nodes_unlock(fs->nodes);
	return k;
}

/*
 * Save the written files inos[0..n) in one transaction.  On failure their
 * state goes back to memory (unless written again meanwhile) and is retried.
 */
static int
flush_commit_many(struct roamfs *fs, const uint64_t *inos, size_t n)
{
	struct taken *tk;
	struct db_txn t;
	struct node *nd;
	size_t i, k;
	int r;

	if (n == 0)
		return 0;
	if ((tk = calloc(n, sizeof *tk)) == NULL)
		return -ENOMEM;
	if ((k = take_dirty(fs, inos, n, tk)) == 0) {
		free(tk);
		return 0;
	}
	if ((r = db_begin(fs->db, &t, 1)) == 0) {
		for (i = 0; i < k && r == 0; i++)
			r = flush_apply(fs, &t, tk[i].ino, &tk[i].mtime);
		if (r < 0)
			db_fail(&t, r);
		r = db_commit(&t);
	}
	nodes_lock(fs->nodes);
	for (i = 0; i < k; i++) {
		if ((nd = nodes_find(fs->nodes, tk[i].ino)) == NULL)
			continue;
		if (r < 0 && !nd->dirty) {
			nd->dirty = 1;
			nd->mtime = tk[i].mtime;
		}
		nodes_saved(fs->nodes, nd);
		nodes_drop_if_unused(fs->nodes, nd);
	}
	nodes_unlock(fs->nodes);
	if (r < 0)
		log_err("cannot record the changes of %zu written file%s: %s; they stay in the "
		    "cache and are retried", k, k == 1 ? "" : "s", strerror(-r));
	else
		replay_wake(fs);
	free(tk);
	return r;
}

int
flush_node(struct roamfs *fs, uint64_t ino)
{
	struct node *nd;
	int r = flush_commit_many(fs, &ino, 1), saving, waited;

	/* Another thread may have taken the file's state just before: its
	 * save is this one too (fsync makes it durable next), so wait for
	 * it to be committed (milliseconds; at most 10 s). */
	for (waited = 0; waited < 10000; waited++) {
		nodes_lock(fs->nodes);
		saving = (nd = nodes_find(fs->nodes, ino)) != NULL && nd->saving;
		nodes_unlock(fs->nodes);
		if (!saving)
			break;
		usleep(1000);
	}
	return r;
}

static int
collect_store(void *arg, struct jrec *r)
{
	if (r->type == J_STORE)
		buf_put_u64(arg, r->ino);
	jrec_free(r);
	return 0;
}

int
flush_recover(struct roamfs *fs)
{
	struct db_txn t;
	struct inode in;
	struct buf inos;
	int64_t size;
	size_t i, fixed = 0;
	int r;

	buf_init(&inos, 0);
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	r = journal_scan(&t, collect_store, &inos);
	db_abort(&t);
	if (r == 0 && inos.len && (r = db_begin(fs->db, &t, 1)) == 0) {
		for (i = 0; i + 8 <= inos.len; i += 8) {
			uint64_t ino = be_get_u64(inos.data + i);

			if ((size = cache_file_size(fs->cache, ino)) < 0 || meta_inode_get(&t, ino, &in) < 0)
				continue;
			if (in.nlink > 0 && (in.flags & I_CACHED) && in.size != (uint64_t)size) {
				in.size = (uint64_t)size;
				meta_inode_put(&t, &in);
				fixed++;
			}
			inode_free(&in);
		}
		r = db_commit(&t);
	}
	buf_free(&inos);
	if (fixed)
		log_info("%zu file%s written before a crash got %s size back from the cache",
		    fixed, fixed == 1 ? "" : "s", fixed == 1 ? "its" : "their");
	return r;
}

/* Have the flusher save the unsaved files within FLUSH_SOON_NS. */
static void
flush_soon(struct roamfs *fs)
{
	struct flusher *q = fs->flusher;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	if (!q->soon) {
		q->soon = 1;
		clock_gettime(CLOCK_REALTIME, &q->soon_at);
		q->soon_at.tv_nsec += FLUSH_SOON_NS;
		if (q->soon_at.tv_nsec >= 1000000000L) {
			q->soon_at.tv_sec++;
			q->soon_at.tv_nsec -= 1000000000L;
		}
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
}

int
flush_close(struct roamfs *fs, uint64_t ino)
{
	struct inode in;
	struct node *n;
	int dirty, pending = 0;

	nodes_lock(fs->nodes);
	dirty = (n = nodes_find(fs->nodes, ino)) != NULL && n->dirty;
	nodes_unlock(fs->nodes);
	if (!dirty)
		return 0;
	if (meta_inode_read(fs->db, ino, &in) == 0) {
		pending = in.pending_store != 0;
		inode_free(&in);
	}
	if (!pending)
		return flush_node(fs, ino);
	/* The journal holds its STORE already: size and mtime are saved soon,
	 * together with those of the files closed meanwhile. */
	flush_soon(fs);
	return 0;
}

/* Save every written file in one transaction (not made durable here). */
static int
flush_dirty(struct roamfs *fs)
{
	struct buf inos;
	uint64_t *v;
	size_t i, n;
	int r = 0;

	buf_init(&inos, 0);
	nodes_lock(fs->nodes);
	nodes_foreach_dirty(fs->nodes, nodes_put_ino, &inos);
	nodes_unlock(fs->nodes);
	n = inos.len / 8;
	if (n && (v = malloc(n * sizeof *v)) != NULL) {
		for (i = 0; i < n; i++)
			v[i] = be_get_u64(inos.data + 8 * i);
		r = flush_commit_many(fs, v, n);
		free(v);
	} else if (n)
		r = -ENOMEM;
	buf_free(&inos);
	return r;
}

int
flush_all(struct roamfs *fs)
{
	int r = flush_dirty(fs), e;

	if ((e = db_sync(fs->db)) < 0)
		r = e;
	return r;
}

/* a is not later than b. */
static int
ts_le(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static void *
flush_thread(void *arg)
{
	struct roamfs *fs = arg;
	struct flusher *q = fs->flusher;
	struct timespec until, now;
	time_t next = time(NULL) + fs->sync_interval;
	int stop, soon;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		for (;;) {
			until.tv_sec = next;
			until.tv_nsec = 0;
			if (q->soon && ts_le(&q->soon_at, &until))
				until = q->soon_at;
			clock_gettime(CLOCK_REALTIME, &now);
			if (q->stop || ts_le(&until, &now))
				break;
			pthread_cond_timedwait(&q->cond, &q->lock, &until);
		}
		stop = q->stop;
		soon = q->soon && ts_le(&q->soon_at, &now);
		if (soon || time(NULL) >= next)
			q->soon = 0;
		pthread_mutex_unlock(&q->lock);
		if (stop)
			break;
		if (time(NULL) >= next) {
			flush_all(fs);
			cache_reserve_keep(fs->cache);	/* again once space is freed */
			next = time(NULL) + fs->sync_interval;
		} else if (soon)
			flush_dirty(fs);
	}
	return NULL;
}

int
flush_start(struct roamfs *fs)
{
	struct flusher *q = calloc(1, sizeof *q);
	int r;

	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	fs->flusher = q;
	if ((r = pthread_create(&q->thread, NULL, flush_thread, fs)) != 0)
		return -r;
	q->started = 1;
	return 0;
}

void
flush_stop(struct roamfs *fs)
{
	struct flusher *q = fs->flusher;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (q->started)
		pthread_join(q->thread, NULL);
	flush_all(fs);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
	fs->flusher = NULL;
}
