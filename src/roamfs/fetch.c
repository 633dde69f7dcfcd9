/*
 * fetch: bring server state into the cache on first access.
 *
 * A directory is listed when it was never listed, or not since the mount,
 * or longer ago than dir_ttl; the listing is merged into LMDB without ever
 * touching objects that have local changes not yet replayed.  A file's
 * contents are downloaded on first open into a temporary file, then moved
 * into place, so a half-downloaded file is never left as the cached copy.
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
#include "fetch.h"
#include "notify.h"
#include "roamfs.h"

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
	struct fetching *next;
};

struct fetches {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* progress, end of a download or of a thread */
	struct fetching *head;
	unsigned threads;	/* streaming download threads running */
	int stop;		/* unmounting: cancel downloads */
};

struct listing {
	size_t n, cap;
	struct lent {
		char *name;
		struct sftp_attr a;
	} *e;
};

static int
listing_add(void *arg, const char *name, const struct sftp_attr *a)
{
	struct listing *l = arg;
	struct lent *e;

	if (strncmp(name, REMOTE_TMP_PREFIX, strlen(REMOTE_TMP_PREFIX)) == 0 ||
	    strlen(name) > 255 || strchr(name, '/'))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((e = realloc(l->e, l->cap * sizeof *e)) == NULL)
			return -ENOMEM;
		l->e = e;
	}
	if ((l->e[l->n].name = strdup(name)) == NULL)
		return -ENOMEM;
	l->e[l->n].a = *a;
	l->n++;
	return 0;
}

static void
listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
}

static int
lent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lent *)a)->name, ((const struct lent *)b)->name);
}

static struct lent *
listing_find(struct listing *l, const char *name)
{
	struct lent key = { (char *)name, { 0 } };

	if (l->n == 0)
		return NULL;
	return bsearch(&key, l->e, l->n, sizeof *l->e, lent_cmp);
}

static uint32_t
attr_mode(const struct sftp_attr *a)
{
	uint32_t m = (a->flags & SFTP_ATTR_PERMISSIONS) ? a->mode : S_IFREG | 0644;

	if ((m & S_IFMT) == 0)
		m |= S_IFREG;
	return m;
}

void
base_from_attr(struct base *b, const struct sftp_attr *a)
{
	b->size = a->size;
	b->mtime = a->mtime;
	b->mode = attr_mode(a);
	b->valid = 1;
}

/* Whether an object has local changes the server has not seen. */
static int
has_local_changes(struct roamfs *fs, struct db_txn *t, const struct inode *in)
{
	struct node *n;
	int dirty;

	if (in->flags & (I_LOCALNEW | I_EXCLUDED))
		return 1;
	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, in->ino);
	dirty = n && (n->dirty || (n->nopen && S_ISREG(in->mode) && in->pending_store));
	nodes_unlock(fs->nodes);
	return dirty || journal_pending_ino(t, in->ino) != 0;
}

/* A name the server no longer has: drop it locally unless it has local changes. */
static void
merge_gone(struct roamfs *fs, struct db_txn *t, struct inode *dir, const char *name, uint64_t ino)
{
	struct inode in;

	if (meta_inode_get(t, ino, &in) < 0)
		return;
	if (!(in.flags & I_REMOTE) || has_local_changes(fs, t, &in) ||
	    (S_ISDIR(in.mode) && meta_dir_empty(t, ino) != 1)) {
		inode_free(&in);
		return;
	}
	meta_dirent_del(t, dir->ino, name);
	in.nlink = S_ISDIR(in.mode) ? 0 : in.nlink - 1;
	if (S_ISDIR(in.mode))
		dir->nlink--;
	if (in.parent == dir->ino && strcmp(in.name, name) == 0)
		in.parent = 0;
	meta_inode_put(t, &in);
	inode_free(&in);
	notify_entry(fs, dir->ino, name);
}

/* A name both sides have: take the server's version if ours is clean and differs. */
static void
merge_known(struct roamfs *fs, struct db_txn *t, uint64_t ino, const struct sftp_attr *a)
{
	struct inode in;
	struct base nb;

	if (meta_inode_get(t, ino, &in) < 0)
		return;
	base_from_attr(&nb, a);
	if (has_local_changes(fs, t, &in) || (in.base.valid && in.base.size == nb.size &&
	    in.base.mtime == nb.mtime && in.base.mode == nb.mode) ||
	    (in.mode & S_IFMT) != (nb.mode & S_IFMT)) {
		inode_free(&in);
		return;
	}
	in.mode = nb.mode;
	in.size = nb.size;
	in.mtime_s = nb.mtime;
	in.mtime_ns = 0;
	in.flags |= I_REMOTE;
	if (S_ISREG(in.mode) && (in.flags & I_CACHED) && in.base.valid &&
	    (in.base.size != nb.size || in.base.mtime != nb.mtime)) {
		in.flags &= ~I_CACHED;
		cache_file_unlink(fs->cache, ino);
		notify_inode(fs, ino);
	}
	if (S_ISLNK(in.mode) && in.base.valid && in.base.mtime != nb.mtime) {
		free(in.target);
		in.target = NULL;
	}
	in.base = nb;
	meta_inode_put(t, &in);
	inode_free(&in);
}

/* A name only the server has: a new inode, unless we removed it ourselves. */
static void
merge_new(struct roamfs *fs, struct db_txn *t, struct inode *dir, const char *rel,
    const char *name, const struct sftp_attr *a)
{
	struct inode in;
	uint64_t seq;

	if (meta_tomb_get(t, dir->ino, name, &seq) == 0) {
		if (seq >= journal_head(t))
			return;	/* our removal is still on its way */
		meta_tomb_del(t, dir->ino, name);
	}
	memset(&in, 0, sizeof in);
	in.mode = attr_mode(a);
	if (exclude_match(fs->exclude, rel, S_ISDIR(in.mode)))
		return;	/* excluded paths are never fetched */
	if (meta_alloc_ino(t, &in.ino) < 0)
		return;
	in.nlink = S_ISDIR(in.mode) ? 2 : 1;
	in.size = a->size;
	in.mtime_s = in.ctime_s = in.atime_s = a->mtime;
	in.flags = I_REMOTE;
	in.parent = dir->ino;
	in.name = strdup(name);
	base_from_attr(&in.base, a);
	if (S_ISDIR(in.mode))
		dir->nlink++;
	meta_dirent_put(t, dir->ino, name, in.ino);
	meta_inode_put(t, &in);
	inode_free(&in);
}

struct local_names {
	struct buf names;	/* u64 ino, u32 len, bytes */
};

static int
collect_local(void *arg, const char *name, size_t len, uint64_t ino)
{
	struct buf *b = arg;

	return buf_put_u64(b, ino) || buf_put_str(b, name, len) ? -ENOMEM : 0;
}

/* Merge a server listing of directory ino into LMDB. */
static int
merge_listing(struct roamfs *fs, uint64_t ino, const char *dirrel, struct listing *l)
{
	struct db_txn t;
	struct inode dir;
	struct buf local, rd;
	uint32_t nlink;
	uint64_t cino;
	char *name, *rel;
	size_t i;
	int r;

	if (l->n)
		qsort(l->e, l->n, sizeof *l->e, lent_cmp);
	buf_init(&local, 0);
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if (meta_inode_get(&t, ino, &dir) < 0) {
		db_abort(&t);
		return t.ret;
	}
	nlink = dir.nlink;
	meta_dir_scan(&t, ino, collect_local, &local);
	buf_wrap(&rd, local.data, local.len);
	while (t.ret == 0 && buf_avail(&rd) > 0) {
		if (buf_get_u64(&rd, &cino) < 0 || buf_get_cstr(&rd, &name) < 0)
			break;
		if (listing_find(l, name) == NULL)
			merge_gone(fs, &t, &dir, name, cino);
		free(name);
	}
	for (i = 0; i < l->n && t.ret == 0; i++) {
		if (meta_dirent_get(&t, ino, l->e[i].name, &cino) == 0) {
			merge_known(fs, &t, cino, &l->e[i].a);
			continue;
		}
		if (asprintf(&rel, "%s%s%s", dirrel, *dirrel ? "/" : "", l->e[i].name) < 0)
			continue;
		merge_new(fs, &t, &dir, rel, l->e[i].name, &l->e[i].a);
		free(rel);
	}
	if (dir.nlink != nlink)
		notify_inode(fs, ino);	/* the kernel holds the old link count */
	dir.flags |= I_LISTED;
	meta_inode_put(&t, &dir);
	inode_free(&dir);
	buf_free(&local);
	return db_commit(&t);
}

/*
 * Whether directory ino needs a listing now: 0 no, 1 yes and it was never
 * listed, 2 yes but a listing is cached; *rel gets its path.
 */
static int
dir_needs_listing(struct roamfs *fs, uint64_t ino, char **rel)
{
	struct db_txn t;
	struct inode in;
	struct node *n;
	int r, fresh;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	fresh = n && n->listed && (fs->dir_ttl == 0 ||
	    time(NULL) - (time_t)n->listed < (time_t)fs->dir_ttl);
	nodes_unlock(fs->nodes);
	if (fresh)
		return 0;
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) == 0) {
		if (!S_ISDIR(in.mode))
			r = -ENOTDIR;
		else if ((in.flags & (I_EXCLUDED | I_LOCALNEW)) || !(in.flags & I_REMOTE))
			r = 0;
		else
			r = meta_path(&t, ino, rel) < 0 ? t.ret : (in.flags & I_LISTED) ? 2 : 1;
		inode_free(&in);
	}
	db_abort(&t);
	return r;
}

static void
mark_listed(struct roamfs *fs, uint64_t ino)
{
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_get(fs->nodes, ino)) != NULL)
		n->listed = (int)time(NULL);
	nodes_unlock(fs->nodes);
}

/* The cached listing of ino was served without the server: refresh it later. */
static void
mark_stale(struct roamfs *fs, uint64_t ino)
{
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_get(fs->nodes, ino)) != NULL)	/* the root has no node before */
		nodes_set_stale(fs->nodes, n);
	nodes_unlock(fs->nodes);
}

void
fetch_refresh_stale(struct roamfs *fs)
{
	struct buf inos;
	size_t i;

	buf_init(&inos, 0);
	nodes_lock(fs->nodes);
	nodes_take_stale(fs->nodes, nodes_put_ino, &inos);
	nodes_unlock(fs->nodes);
	for (i = 0; i + 8 <= inos.len; i += 8)
		fetch_dir(fs, be_get_u64(inos.data + i), 0);
	buf_free(&inos);
}

int
fetch_dir(struct roamfs *fs, uint64_t ino, int wait)
{
	struct listing l = { 0, 0, NULL };
	struct sftp *s;
	char *rel = NULL, *path;
	int r;

	int need;

	if ((need = dir_needs_listing(fs, ino, &rel)) <= 0)
		return need;
	/* A cached listing is served at once when the server is not at hand. */
	r = need == 2 && !wait ? remote_try_acquire(fs->fg, &s) : remote_acquire(fs->fg, &s);
	if (r < 0) {
		free(rel);
		if (need == 2)
			mark_stale(fs, ino);
		return need == 2 ? 0 : r;
	}
	if ((path = remote_path(fs->fg, rel)) == NULL)
		r = -ENOMEM;
	else
		r = sftp_readdir(s, path, listing_add, &l);
	remote_release(fs->fg, r);
	if (r == 0)
		r = merge_listing(fs, ino, rel, &l);
	else if (r == -ENOENT)
		r = 0;	/* not on the server yet: our own creation still on its way */
	if (r == 0)
		mark_listed(fs, ino);
	else
		log_warn("cannot list %s on the server: %s", *rel ? rel : "the home", strerror(-r));
	listing_free(&l);
	free(path);
	free(rel);
	return r < 0 ? r : 1;
}

/*
 * Record a finished download in the inode, unless it was cached meanwhile
 * (an open with O_TRUNC): 1 when recorded, 0 when not, or -errno.
 */
static int
fetch_commit(struct roamfs *fs, uint64_t ino, const char *tmp, const struct sftp_attr *a)
{
	struct db_txn t;
	struct inode in;
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
		meta_inode_put(&t, &in);
		done = 1;
	}
	inode_free(&in);
	if ((r = db_commit(&t)) < 0)
		return r;
	if (resized)
		notify_inode(fs, ino);	/* the server's file changed since its listing */
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
fetching_get(struct roamfs *fs, uint64_t ino, struct fetching **out)
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

	if ((r = remote_acquire(fs->fg, &s)) == 0) {
		if ((path = remote_path(fs->fg, f->rel)) == NULL)
			r = -ENOMEM;
		else
			r = sftp_download(s, path, f->fd, &a, download_progress, f);
		remote_release(fs->fg, r);
		free(path);
	}
	if (r == -EOFFLINE)
		log_warn("%s: not in the cache and the server is unreachable", f->rel);
	else if (r < 0 && r != -ECANCELED)
		log_warn("%s: download failed: %s", f->rel, strerror(-r));
	pthread_mutex_lock(&q->lock);
	/* Under the lock: a thread that finds f in the registry can still dup
	 * its descriptor.  No fsync: a copy cut short by a crash is caught at
	 * its next open (fetch_verify) and fetched again. */
	if (r == 0)
		r = fetch_commit(fs, f->ino, f->tmp, &a);
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
	pthread_mutex_lock(&q->lock);
	if ((r = fetching_get(fs, ino, &f)) < 0 || f == NULL) {
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
	check = n && !n->verified && !n->dirty && n->nopen == 0;
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
	struct fetches *q = fs->fetches;
	struct fetching *f;
	int r;

	pthread_mutex_lock(&q->lock);
	if ((r = fetching_get(fs, ino, &f)) <= 0 && f) {
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
