/*
 * flush: the flusher thread.
 *
 * Writes to a file only touch the cache file and the in-memory node; the
 * flusher turns them into an inode update and a STORE journal record at
 * close, at fsync, and at least every sync_interval seconds, then makes
 * LMDB durable.  That bounds what a crash of the machine can lose to
 * sync_interval seconds of unsynced work (fsync'ed data is never lost).
 * It also sends the kernel invalidations that cannot be sent from inside a
 * request handler.
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
#include "roamfs.h"

struct notice {
	struct notice *next;
	uint64_t ino;		/* parent for an entry */
	char *name;		/* NULL: invalidate the inode's data */
};

struct notify {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct notice *head;	/* under lock */
	int stop;		/* under lock */
	int started;
};

/* Size of the cached contents, or -errno. */
static int64_t
cached_size(struct roamfs *fs, uint64_t ino)
{
	struct stat st;
	int fd = cache_file_open(fs->cache, ino, O_RDONLY);
	int r = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	close(fd);
	return r < 0 ? r : (int64_t)st.st_size;
}

static int
flush_commit(struct roamfs *fs, uint64_t ino, const struct timespec *mtime)
{
	struct db_txn t;
	struct inode in;
	int64_t size;
	int r;

	if ((size = cached_size(fs, ino)) < 0)
		return (int)size;
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) < 0) {
		db_abort(&t);
		return r == -ENOENT ? 0 : r;
	}
	if (in.nlink > 0) {
		in.size = (uint64_t)size;
		in.mtime_s = in.ctime_s = mtime->tv_sec;
		in.mtime_ns = in.ctime_ns = (uint32_t)mtime->tv_nsec;
		in.flags |= I_CACHED;
		fs_journal_store(&t, &in);
		meta_inode_put(&t, &in);
	}
	inode_free(&in);
	return db_commit(&t);
}

int
flush_node(struct roamfs *fs, uint64_t ino)
{
	struct timespec mtime;
	struct node *n;
	int r;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	if (n == NULL || !n->dirty) {
		nodes_unlock(fs->nodes);
		return 0;
	}
	mtime = n->mtime;
	n->dirty = 0;
	nodes_unlock(fs->nodes);
	if ((r = flush_commit(fs, ino, &mtime)) < 0) {
		log_err("cannot record the changes of inode %llu: %s; they stay in the cache "
		    "and are retried", (unsigned long long)ino, strerror(-r));
		nodes_lock(fs->nodes);
		if ((n = nodes_find(fs->nodes, ino)) != NULL && !n->dirty) {
			n->dirty = 1;
			n->mtime = mtime;
		}
		nodes_unlock(fs->nodes);
		return r;
	}
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL)
		nodes_drop_if_unused(fs->nodes, n);
	nodes_unlock(fs->nodes);
	replay_wake(fs);
	return 0;
}

static void
collect_dirty(void *arg, struct node *n)
{
	buf_put_u64(arg, n->ino);
}

int
flush_all(struct roamfs *fs)
{
	struct buf inos;
	size_t i;
	int r = 0, e;

	buf_init(&inos, 0);
	nodes_lock(fs->nodes);
	nodes_foreach_dirty(fs->nodes, collect_dirty, &inos);
	nodes_unlock(fs->nodes);
	for (i = 0; i + 8 <= inos.len; i += 8)
		if ((e = flush_node(fs, be_get_u64(inos.data + i))) < 0)
			r = e;
	buf_free(&inos);
	if ((e = db_sync(fs->db)) < 0)
		r = e;
	return r;
}

static void
notify_push(struct roamfs *fs, uint64_t ino, const char *name)
{
	struct notify *q = fs->notify;
	struct notice *n;

	if (q == NULL || fs->se == NULL || (n = calloc(1, sizeof *n)) == NULL)
		return;
	n->ino = ino;
	if (name && (n->name = strdup(name)) == NULL) {
		free(n);
		return;
	}
	pthread_mutex_lock(&q->lock);
	n->next = q->head;
	q->head = n;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void
notify_entry(struct roamfs *fs, uint64_t parent, const char *name)
{
	notify_push(fs, parent, name);
}

void
notify_inode(struct roamfs *fs, uint64_t ino)
{
	notify_push(fs, ino, NULL);
}

/* Send queued invalidations to the kernel (lock not held). */
static void
notify_send(struct roamfs *fs, struct notice *list)
{
	struct notice *n, *next;

	for (n = list; n; n = next) {
		next = n->next;
		if (n->name)
			fuse_lowlevel_notify_inval_entry(fs->se, n->ino, n->name, strlen(n->name));
		else
			fuse_lowlevel_notify_inval_inode(fs->se, n->ino, 0, 0);
		free(n->name);
		free(n);
	}
}

static void *
flush_thread(void *arg)
{
	struct roamfs *fs = arg;
	struct notify *q = fs->notify;
	struct timespec until;
	struct notice *list;
	time_t next = time(NULL) + fs->sync_interval;
	int stop;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec = next;
		while (!q->stop && q->head == NULL && time(NULL) < next)
			if (pthread_cond_timedwait(&q->cond, &q->lock, &until) == ETIMEDOUT)
				break;
		list = q->head;
		q->head = NULL;
		stop = q->stop;
		pthread_mutex_unlock(&q->lock);
		notify_send(fs, list);
		if (stop)
			break;
		if (time(NULL) >= next) {
			flush_all(fs);
			next = time(NULL) + fs->sync_interval;
		}
	}
	return NULL;
}

int
flush_start(struct roamfs *fs)
{
	struct notify *q = calloc(1, sizeof *q);
	int r;

	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	fs->notify = q;
	if ((r = pthread_create(&q->thread, NULL, flush_thread, fs)) != 0)
		return -r;
	q->started = 1;
	return 0;
}

void
flush_stop(struct roamfs *fs)
{
	struct notify *q = fs->notify;
	struct notice *n, *next;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (q->started)
		pthread_join(q->thread, NULL);
	for (n = q->head; n; n = next) {
		next = n->next;
		free(n->name);
		free(n);
	}
	flush_all(fs);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
	fs->notify = NULL;
}
