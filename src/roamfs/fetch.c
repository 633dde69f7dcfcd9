/*
 * fetch: bring a file's contents and a link's target into the cache on
 * first access (listings are listing.c's).
 *
 * A file's contents are downloaded on first open into a temporary file,
 * then moved into place, so a half-downloaded file is never left as the
 * cached copy.
 *
 * One download per file at a time: a registry of downloads in progress
 * lets a second thread that needs the same file join the first.  A large
 * file opened read-only is streamed: the open returns at once, the download
 * runs in a thread of its own, and each read waits only until its range
 * has arrived (fetch_wait).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "evict.h"
#include "fetch.h"
#include "listing.h"
#include "notify.h"
#include "prefetch.h"
#include "roamfs.h"
#include "version.h"

/* Files at least this large are streamed when opened read-only. */
#define STREAM_MIN	(1 << 20)

/* A download in progress. */
struct fetching {
	struct roamfs *fs;
	uint64_t ino;
	char tmp[64];		/* its temporary cache file */
	int fd;			/* open on tmp while the download runs */
	uint64_t have;		/* bytes [0, have) are in tmp */
	int state;		/* 0 running, 1 done, -errno failed */
	unsigned refs;		/* the downloader and every reader */
	char *rel;		/* path in the home, for the downloader */
	struct remote *via;	/* the connection: fs->fg, or fs->pf for prefetches */
	struct fetching *next;
};

struct fetches {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* progress, end of a download or of a thread */
	struct fetching *head;
	unsigned threads;	/* streaming download threads running */
	int stop;		/* unmounting: cancel downloads */
};

/*
 * Record a finished download (fd, of version a) in the inode, unless it was
 * cached meanwhile (an open with O_TRUNC): 1 when recorded, 0 when not, or
 * -errno.
 */
static int
fetch_commit(struct roamfs *fs, uint64_t ino, const char *tmp, int fd, const struct sftp_attr *a)
{
	struct db_txn t;
	struct inode in;
	struct node *n;
	int r, done = 0, resized = 0;

	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) < 0) {
		db_abort(&t);
		return r;
	}
	if (!(in.flags & I_CACHED)) {
		if ((r = cache_tmp_commit(fs->cache, tmp, ino)) < 0)
			db_fail(&t, r);
		in.flags |= I_CACHED;
		resized = in.size != a->size;
		in.size = a->size;
		in.mtime_s = a->mtime;
		in.mtime_ns = 0;
		base_from_attr(&in.base, a);
		if (version_is_racy(a->mtime)) {
			in.base.racy = version_hash(fd, a->size);
			in.base.refetch = 1;
		}
		nodes_lock(fs->nodes);
		if ((n = nodes_find(fs->nodes, ino)) != NULL)
			n->racy = in.base.refetch;
		nodes_unlock(fs->nodes);
		meta_inode_put(&t, &in);
		done = 1;
		/* The server's file changed since its listing: the kernel
		 * keeps the size it was told (writeback cache), so it takes a
		 * new inode (at the last close, as the file is open now). */
		if (resized)
			notify_renew(fs, &t, ino);
	}
	inode_free(&in);
	if ((r = db_commit(&t)) < 0)
		return r;
	if (done)
		evict_grew(fs, a->size);
	return done;
}

/* Whether ino needs a download; *rel gets its path. */
static int
file_needs_fetch(struct roamfs *fs, uint64_t ino, char **rel, uint64_t *size)
{
	struct db_txn t;
	struct inode in;
	int r;

	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) == 0) {
		if (S_ISDIR(in.mode))
			r = -EISDIR;
		else if (!S_ISREG(in.mode) || (in.flags & (I_CACHED | I_LOCALNEW | I_EXCLUDED)))
			r = 0;
		else
			r = meta_path(&t, ino, rel) < 0 ? t.ret : 1;
		*size = in.size;
		inode_free(&in);
	}
	db_abort(&t);
	return r;
}

int
fetch_init(struct roamfs *fs)
{
	struct fetches *q = calloc(1, sizeof *q);

	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	fs->fetches = q;
	return 0;
}

void
fetch_stop(struct roamfs *fs)
{
	struct fetches *q = fs->fetches;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	while (q->threads > 0)
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
	fs->fetches = NULL;
}

void
fetch_cancel(struct roamfs *fs)
{
	struct fetches *q = fs->fetches;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static void make_room_for(struct roamfs *fs, uint64_t ino);

/* Drop a reference (lock held). */
static void
fetching_put(struct fetching *f)
{
	if (--f->refs == 0) {
		free(f->rel);
		free(f);
	}
}

/*
 * Find the download of ino in progress, or start one (lock held).  Returns
 * 0 and *out NULL when the file needs none, 0 and a referenced *out to
 * join, 1 and a referenced *out whose download the caller must run
 * (download_run), or -errno.
 */
static int
fetching_get(struct roamfs *fs, uint64_t ino, struct remote *via, struct fetching **out)
{
	struct fetches *q = fs->fetches;
	struct fetching *f;
	uint64_t size = 0;
	int64_t avail;
	char *rel = NULL;
	int r;

	*out = NULL;
	for (f = q->head; f; f = f->next)
		if (f->ino == ino) {
			f->refs++;
			*out = f;
			return 0;
		}
	if ((r = file_needs_fetch(fs, ino, &rel, &size)) <= 0)
		return r;
	avail = cache_free_bytes(fs->cache);
	if (avail >= 0 && (uint64_t)avail < size) {
		log_err("%s: not enough room in the cache %s for %llu bytes: free some space "
		    "or choose a larger cache", rel, cache_dir(fs->cache), (unsigned long long)size);
		free(rel);
		return -ENOSPC;
	}
	if ((f = calloc(1, sizeof *f)) == NULL) {
		free(rel);
		return -ENOMEM;
	}
	if ((f->fd = cache_tmp_open(fs->cache, ino, f->tmp)) < 0) {
		r = f->fd;
		free(rel);
		free(f);
		return r;
	}
	f->fs = fs;
	f->ino = ino;
	f->rel = rel;
	f->via = via;
	f->refs = 2;	/* the downloader and the caller */
	f->next = q->head;
	q->head = f;
	*out = f;
	return 1;
}

static int
download_progress(void *arg, uint64_t done)
{
	struct fetching *f = arg;
	struct fetches *q = f->fs->fetches;
	int stop;

	pthread_mutex_lock(&q->lock);
	f->have = done;
	stop = q->stop;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return stop ? -ECANCELED : 0;
}

/* Run the download of f, record it, and drop the downloader's reference. */
static int
download_run(struct fetching *f)
{
	struct roamfs *fs = f->fs;
	struct fetches *q = fs->fetches;
	struct fetching **pp;
	struct sftp_attr a;
	struct sftp *s;
	char *path;
	int r;

	if ((r = remote_acquire(f->via, &s)) == 0) {
		if ((path = remote_path(f->via, f->rel)) == NULL)
			r = -ENOMEM;
		else
			r = sftp_download(s, path, f->fd, &a, download_progress, f);
		remote_release(f->via, r);
		/* A connection that died while idle: once more on a new one. */
		if (path && remote_is_transport_error(r) && f->have == 0 &&
		    (r = remote_acquire(f->via, &s)) == 0) {
			r = sftp_download(s, path, f->fd, &a, download_progress, f);
			remote_release(f->via, r);
		}
		free(path);
	}
	if (r == -EOFFLINE && f->via == fs->fg) {
		log_warn("%s: not in the cache and %s", f->rel, remote_offline_reason(fs->fg));
		prefetch_offline_miss(fs, f->rel);
	}
	else if (r < 0 && r != -ECANCELED)
		log_warn("%s: download failed: %s", f->rel, strerror(-r));
	pthread_mutex_lock(&q->lock);
	/* Under the lock: a thread that finds f in the registry can still dup
	 * its descriptor.  No fsync: a copy cut short by a crash is caught at
	 * its next open (fetch_verify) and fetched again. */
	if (r == 0)
		r = fetch_commit(fs, f->ino, f->tmp, f->fd, &a);
	if (r <= 0)
		cache_tmp_discard(fs->cache, f->tmp);	/* failed, or cached meanwhile */
	close(f->fd);
	f->fd = -1;
	f->state = r < 0 ? r : 1;
	for (pp = &q->head; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	pthread_cond_broadcast(&q->cond);
	fetching_put(f);
	pthread_mutex_unlock(&q->lock);
	return r < 0 ? r : 0;
}

/* Wait for a download to end (lock held); its result. */
static int
fetching_wait_end(struct fetches *q, struct fetching *f)
{
	while (f->state == 0)
		pthread_cond_wait(&q->cond, &q->lock);
	return f->state < 0 ? f->state : 0;
}

static void *
stream_thread(void *arg)
{
	struct fetching *f = arg;
	struct fetches *q = f->fs->fetches;

	download_run(f);
	pthread_mutex_lock(&q->lock);
	q->threads--;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int
fetch_stream(struct roamfs *fs, uint64_t ino, uint64_t size, int *fd, struct fetching **out)
{
	struct fetches *q = fs->fetches;
	struct fetching *f;
	pthread_attr_t at;
	pthread_t th;
	int r, e, start, threaded = 0;

	*out = NULL;
	/* Without a connection at hand the open connects itself, so that
	 * an unreachable server fails the open (EHOSTUNREACH), not a read. */
	if (size < STREAM_MIN || !remote_up(fs->fg))
		return fetch_file(fs, ino);
	make_room_for(fs, ino);
	pthread_mutex_lock(&q->lock);
	if ((r = fetching_get(fs, ino, fs->fg, &f)) < 0 || f == NULL) {
		pthread_mutex_unlock(&q->lock);
		return r;
	}
	start = r == 1;
	r = 0;
	if ((*fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0)) < 0)
		r = -errno;
	if (start) {
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, stream_thread, f) == 0) {
			q->threads++;
			threaded = 1;
		}
		pthread_attr_destroy(&at);
	}
	if (r < 0)
		fetching_put(f);
	else
		*out = f;
	pthread_mutex_unlock(&q->lock);
	if (start && !threaded && (e = download_run(f)) < 0 && r == 0) {
		/* No thread for it: downloaded here, and that failed. */
		fetch_release(fs, f);
		close(*fd);
		*out = NULL;
		r = e;
	}
	return r;
}

int
fetch_wait(struct roamfs *fs, struct fetching *f, uint64_t end, fuse_req_t req)
{
	struct fetches *q = fs->fetches;
	int r;

	pthread_mutex_lock(&q->lock);
	while (f->state == 0 && f->have < end && !(req && fuse_req_interrupted(req)))
		pthread_cond_wait(&q->cond, &q->lock);
	if (f->have >= end || f->state > 0)
		r = 0;
	else
		r = f->state < 0 ? -EIO : -EINTR;
	pthread_mutex_unlock(&q->lock);
	return r;
}

void
fetch_wake(struct roamfs *fs)
{
	struct fetches *q = fs->fetches;

	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void
fetch_release(struct roamfs *fs, struct fetching *f)
{
	struct fetches *q = fs->fetches;

	pthread_mutex_lock(&q->lock);
	fetching_put(f);
	pthread_mutex_unlock(&q->lock);
}

/* Whether the cached copy of ino has another size than its inode says
 * while nothing local explains it; *size gets the copy's size. */
static int
copy_cut_short(struct roamfs *fs, struct db_txn *t, const struct inode *in, int64_t *size)
{
	return S_ISREG(in->mode) && (in->flags & I_CACHED) && (in->flags & I_REMOTE) &&
	    !(in->flags & (I_LOCALNEW | I_EXCLUDED)) && in->pending_store == 0 &&
	    journal_pending_ino(t, in->ino) == 0 &&
	    (*size = cache_file_size(fs->cache, in->ino)) >= 0 && (uint64_t)*size != in->size;
}

int
fetch_verify(struct roamfs *fs, uint64_t ino)
{
	struct db_txn t;
	struct inode in;
	struct node *n;
	int64_t size;
	int check, bad = 0;

	nodes_lock(fs->nodes);
	n = nodes_get(fs->nodes, ino);
	check = n && !n->verified && !NODE_HELD(n) && n->nopen == 0;
	if (n)
		n->verified = 1;
	nodes_unlock(fs->nodes);
	/* Looked at in a read transaction: an open does not wait for the
	 * writer unless there is a copy to drop. */
	if (!check || db_begin(fs->db, &t, 0) < 0)
		return 0;
	if (meta_inode_get(&t, ino, &in) == 0) {
		bad = copy_cut_short(fs, &t, &in, &size);
		inode_free(&in);
	}
	db_abort(&t);
	if (!bad || db_begin(fs->db, &t, 1) < 0)
		return 0;
	bad = 0;
	if (meta_inode_get(&t, ino, &in) == 0) {
		if ((bad = copy_cut_short(fs, &t, &in, &size))) {
			log_warn("the cached copy of inode %llu has %lld bytes instead of %llu "
			    "(cut short by a crash?): fetching it again", (unsigned long long)ino,
			    (long long)size, (unsigned long long)in.size);
			in.flags &= ~I_CACHED;
			meta_inode_put(&t, &in);
		}
		inode_free(&in);
	}
	if (bad && db_commit(&t) == 0)
		return 1;
	db_abort(&t);
	return 0;
}

int
fetch_file(struct roamfs *fs, uint64_t ino)
{
	return fetch_file_via(fs, ino, fs->fg);
}

int
fetch_busy(struct roamfs *fs)
{
	struct fetches *q = fs->fetches;
	struct fetching *f;
	int n = 0;

	pthread_mutex_lock(&q->lock);
	for (f = q->head; f; f = f->next)
		n += f->via == fs->fg;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/*
 * Before a download of ino (not under the registry's lock): when the
 * cache's disk has no room for it, drop clean contents to make some.
 */
static void
make_room_for(struct roamfs *fs, uint64_t ino)
{
	struct inode in;
	int64_t avail;

	if (meta_inode_read(fs->db, ino, &in) < 0)
		return;
	if (S_ISREG(in.mode) && !(in.flags & I_CACHED) &&
	    (avail = cache_free_bytes(fs->cache)) >= 0 && (uint64_t)avail < in.size)
		evict_make_room(fs, in.size);
	inode_free(&in);
}

int
fetch_file_via(struct roamfs *fs, uint64_t ino, struct remote *via)
{
	struct fetches *q = fs->fetches;
	struct fetching *f;
	int r;

	if (via == fs->fg)	/* a prefetch never drops other contents for room */
		make_room_for(fs, ino);
	pthread_mutex_lock(&q->lock);
	if ((r = fetching_get(fs, ino, via, &f)) <= 0 && f) {
		r = fetching_wait_end(q, f);	/* another thread is downloading it */
		fetching_put(f);
	}
	pthread_mutex_unlock(&q->lock);
	if (r == 1) {
		r = download_run(f);
		fetch_release(fs, f);
	}
	return r;
}

static int
link_store(struct roamfs *fs, uint64_t ino, const char *target)
{
	struct db_txn t;
	struct inode in;
	int r;

	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if (meta_inode_get(&t, ino, &in) == 0) {
		if (in.target == NULL) {
			in.target = strdup(target);
			in.size = strlen(target);
			meta_inode_put(&t, &in);
		}
		inode_free(&in);
	}
	return db_commit(&t);
}

int
fetch_link(struct roamfs *fs, uint64_t ino, char **target)
{
	struct inode in;
	struct sftp *s;
	struct db_txn t;
	char *rel = NULL, *path;
	int r;

	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) == 0) {
		if (!S_ISLNK(in.mode))
			r = -EINVAL;
		else if (in.target)
			*target = strdup(in.target);
		else
			r = meta_path(&t, ino, &rel) < 0 ? t.ret : 1;
		inode_free(&in);
	}
	db_abort(&t);
	if (r <= 0)
		return r;
	if ((r = remote_acquire(fs->fg, &s)) == 0) {
		path = remote_path(fs->fg, rel);
		r = path ? sftp_readlink(s, path, target) : -ENOMEM;
		remote_release(fs->fg, r);
		free(path);
	}
	if (r == 0)
		link_store(fs, ino, *target);
	free(rel);
	return r;
}

/* Give ino a new generation for the open that fs_open makes the kernel retry. */
static int
renew_for_open(struct roamfs *fs, uint64_t ino)
{
	struct node *n;
	int renewed = 0;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL && n->nlookup > 0 && n->nopen == 0) {
		n->gen++;
		n->renew_at = time(NULL);
		renewed = 1;
	}
	nodes_unlock(fs->nodes);
	return renewed;
}

static void
set_confirmed(struct roamfs *fs, uint64_t ino, time_t when)
{
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL)
		n->confirmed = when;
	nodes_unlock(fs->nodes);
}

/* Whether the cached copy of in was fetched within the second of its
 * mtime, which has ended since: another version of the same size and
 * mtime may have followed, so it is fetched again. */
static int
refetch_due(const struct inode *in)
{
	return in->base.racy && in->base.refetch && (in->flags & I_CACHED) &&
	    !version_is_racy(in->base.mtime);
}

/* Whether the open of ino should ask the server: *rel and *parent then,
 * and *racy when its cached copy was fetched or sent within the second of
 * its mtime, which has ended since: it is fetched again. */
static int
check_needed(struct roamfs *fs, uint64_t ino, char **rel, uint64_t *parent, int *racy)
{
	struct db_txn t;
	struct inode in;
	struct node *n;
	time_t now = time(NULL), seen = 0;
	int busy, hint = 0, need = 0;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	busy = n == NULL || n->nopen || NODE_HELD(n);
	if (n) {
		seen = n->confirmed;
		hint = n->racy;
	}
	nodes_unlock(fs->nodes);
	if (busy || (!hint && now - seen < (time_t)fs->attr_ttl) || db_begin(fs->db, &t, 0) < 0)
		return 0;
	if (meta_inode_get(&t, ino, &in) == 0) {
		*racy = refetch_due(&in);
		hint = in.base.racy && in.base.refetch;
		nodes_lock(fs->nodes);
		if ((n = nodes_find(fs->nodes, ino)) != NULL)
			n->racy = hint;	/* known since the last mount too */
		nodes_unlock(fs->nodes);
		need = (*racy || now - seen >= (time_t)fs->attr_ttl) &&
		    S_ISREG(in.mode) && (in.flags & I_REMOTE) && in.base.valid &&
		    !version_local_changes(fs, &t, &in) && !listing_moving(&t, &in) &&
		    meta_path(&t, ino, rel) == 0;
		*parent = in.parent;
		inode_free(&in);
	}
	db_abort(&t);
	if (!need)
		return 0;
	if (*racy)
		return 1;	/* whatever was confirmed: the attributes cannot tell */
	/* A listing of its directory confirmed it as well. */
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, *parent)) != NULL && n->listed > seen)
		seen = n->listed;
	nodes_unlock(fs->nodes);
	if (now - seen < (time_t)fs->attr_ttl) {
		set_confirmed(fs, ino, seen);
		free(*rel);
		*rel = NULL;
		return 0;
	}
	return 1;
}

/* LSTAT rel over the foreground connection: 0 (*a), -errno, or -EAGAIN
 * when it is offline or busy (the cache serves then). */
static int
ask_server(struct roamfs *fs, const char *rel, struct sftp_attr *a)
{
	struct sftp *s;
	char *path;
	int r;

	if (remote_try_acquire(fs->fg, &s) < 0)
		return -EAGAIN;
	path = remote_path(fs->fg, rel);
	r = path ? sftp_lstat(s, path, a) : -ENOMEM;
	remote_release(fs->fg, r == -ENOENT ? 0 : r);
	free(path);
	return r;
}

/* The server removed ino: its directory's listing removes it here.
 * Whether ino has no name left then. */
static int
relisted_away(struct roamfs *fs, uint64_t parent, uint64_t ino)
{
	struct inode in;
	int r;

	listing_expire(fs, parent);
	listing_update(fs, parent, 1);
	if ((r = meta_inode_read(fs->db, ino, &in)) == 0) {
		r = in.nlink == 0 ? -ENOENT : 0;
		inode_free(&in);
	}
	return r == -ENOENT;
}

int
fetch_gone(struct roamfs *fs, uint64_t ino)
{
	struct sftp_attr a;
	struct db_txn t;
	struct inode in;
	struct node *n;
	uint64_t parent = 0, gen = listing_gen();
	time_t now = time(NULL), seen = 0;
	char *rel = NULL;
	int r, busy, need = 0;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	busy = n == NULL || n->nopen || NODE_HELD(n);
	if (n)
		seen = n->confirmed > n->listed ? n->confirmed : n->listed;
	nodes_unlock(fs->nodes);
	if (busy || now - seen < (time_t)fs->attr_ttl || db_begin(fs->db, &t, 0) < 0)
		return 0;
	if (meta_inode_get(&t, ino, &in) == 0) {
		need = (in.flags & I_REMOTE) && !(in.flags & (I_LOCALNEW | I_EXCLUDED)) &&
		    !version_local_changes(fs, &t, &in) && !listing_moving(&t, &in) &&
		    meta_path(&t, ino, &rel) == 0;
		parent = in.parent;
		inode_free(&in);
	}
	db_abort(&t);
	/* Its directory's listing confirmed it as well. */
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, parent)) != NULL && n->listed > seen)
		seen = n->listed;
	nodes_unlock(fs->nodes);
	if (!need || now - seen < (time_t)fs->attr_ttl) {
		free(rel);
		return 0;
	}
	r = ask_server(fs, rel, &a);
	if (r == 0)
		set_confirmed(fs, ino, now);
	r = r == -ENOENT && !listing_replayed_since(gen, rel);
	free(rel);
	return r && relisted_away(fs, parent, ino);
}

int
fetch_check(struct roamfs *fs, uint64_t ino)
{
	struct sftp_attr a;
	struct db_txn t;
	struct inode in;
	uint64_t parent = 0, gen = listing_gen();
	char *rel = NULL;
	int r, took = 0, racy = 0, stale;

	if (!check_needed(fs, ino, &rel, &parent, &racy))
		return 0;
	/* Offline, or the connection busy (-EAGAIN): the cache serves it now. */
	r = ask_server(fs, rel, &a);
	if (r == -ENOENT && !listing_replayed_since(gen, rel)) {
		free(rel);
		/* Looked up again by the kernel: created anew by an open
		 * with O_CREAT (the user's "echo x > f"), else ENOENT. */
		return relisted_away(fs, parent, ino);
	}
	if (r < 0 || db_begin(fs->db, &t, 1) < 0) {
		free(rel);
		return 0;
	}
	/* A change of ours at that path ended while the server was asked
	 * (checked in the transaction the replay's end would come before):
	 * its answer may be older than what the cache has. */
	stale = listing_replayed_since(gen, rel);
	free(rel);
	if (stale) {
		db_abort(&t);
		return 0;
	}
	set_confirmed(fs, ino, time(NULL));
	if (meta_inode_get(&t, ino, &in) == 0) {
		if (version_local_changes(fs, &t, &in) || (in.mode & S_IFMT) != (attr_mode(&a) & S_IFMT)) {
			;	/* ours, or its directory's listing decides */
		} else if ((took = version_take(fs, &in, &a)) > 0) {
			meta_inode_put(&t, &in);
		} else if (racy && refetch_due(&in)) {
			/* Another version of the same size and second may
			 * have followed the one cached: fetch it again.  Until
			 * then (an open that truncates it) its hash stays the
			 * base that an upload compares. */
			in.base.refetch = 0;
			in.flags &= ~I_CACHED;
			cache_file_unlink(fs->cache, in.ino);
			meta_inode_put(&t, &in);
			took = 2;
		}
		inode_free(&in);
	}
	if (db_commit(&t) < 0)
		return 0;
	if (took == 1)
		notify_inode(fs, ino);
	/* A new size: the kernel must drop its inode, which the open holds. */
	return took == 2 && renew_for_open(fs, ino) ? 1 : 0;
}
