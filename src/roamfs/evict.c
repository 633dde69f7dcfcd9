/*
 * evict: the budgets of the cached contents (see evict.h).
 *
 * The size of the contents is known from a walk of DIR/data and DIR/tmp
 * (a stat of each file).  Between walks it is estimated: what downloads
 * and writes added is counted (evict_grew), what removals freed is not, so
 * the estimate only errs upwards.  A walk runs when the estimate passes
 * the budget, and every RESCAN_S seconds while there is a budget.
 *
 * The machine's budget: each running roamfs whose cache lies in the cache
 * root writes the size of its contents to ROOT/.usage.NAME (NAME: its
 * cache directory) every TICK_S seconds, and removes or empties it at the
 * end.  The root is root's: roamctl prepare makes that file for the user,
 * and roamfs writes it in place; where it may write to the root (root's
 * roamfs), it makes it through ROOT/.usage-tmp.NAME.  A usage file counts
 * only when it belongs to the owner of ROOT/NAME and was written in the
 * last STALE_S seconds (a roamfs that died stops counting).  A roamfs may keep what the machine's
 * budget leaves after the others' contents.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "evict.h"
#include "journal.h"
#include "prefetch.h"

#define TICK_S		10	/* the thread looks at the budgets this often */
#define RESCAN_S	600	/* and walks the cache at least this often */
#define STALE_S		60	/* a usage file older than this does not count */
#define BATCH		64	/* files dropped per transaction */
#define FRESH_S		5	/* contents fetched or opened this recently stay */
#define ROOM_QUIET_S	300	/* no working set fetched this long after a full disk */
#define USAGE_PREFIX	".usage."
#define USAGE_TMP	".usage-tmp."

struct evictor {
	pthread_t thread;
	int started;
	pthread_rwlock_t rw;	/* see evict_read_lock */
	pthread_mutex_t room;	/* one evict_make_room at a time */
	pthread_mutex_t lock;	/* the fields below */
	pthread_cond_t cond;
	int stop, asked;
	uint64_t max, total;
	char *root;		/* the cache root (NULL: not in it) */
	char *name;		/* the cache directory's name in it */
	uint64_t used;		/* contents at the last walk */
	uint64_t grown;		/* added since (atomic) */
	uint64_t limit;		/* what this cache may keep (0: no limit) (atomic) */
	time_t walked;		/* when */
	time_t again;		/* walk again then: fresh files kept it over (0: tick) */
	uint64_t evicted_files, evicted_bytes;	/* since the mount */
	uint64_t kept_bytes;	/* over the budget and not droppable, at the last walk */
	int over_logged;	/* the warning about that was given */
	time_t room_failed;	/* evict_make_room found nothing to drop then */
	time_t room_needed;	/* the last evict_make_room: the disk was full */
	int publish_logged;	/* the usage file could not be written: said so */
};

/* A file whose contents are cached, as seen by a walk. */
struct cand {
	uint64_t ino;
	int64_t used;		/* access time of its contents file (ns) */
	uint64_t bytes;		/* blocks on the disk */
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

/* ---- walking the contents ---- */

/* The inode number of a contents file's name (16 hex digits), or 0. */
static uint64_t
name_ino(const char *name)
{
	uint64_t ino = 0;
	int i;

	for (i = 0; i < 16; i++) {
		char c = name[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return 0;
		ino = ino << 4 | (uint64_t)v;
	}
	return name[16] == '\0' ? ino : 0;
}

/* Add up the files of directory fd (not closed); with cs, list them. */
static uint64_t
walk_dir(int fd, struct cands *cs)
{
	struct dirent *d;
	struct stat st;
	uint64_t sum = 0, ino;
	/* A descriptor of its own: fd's offset is not ours to move. */
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = own < 0 ? NULL : fdopendir(own);

	if (dir == NULL) {
		if (own >= 0)
			close(own);
		return 0;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		sum += (uint64_t)st.st_blocks * 512;
		if (cs == NULL || (ino = name_ino(d->d_name)) == 0)
			continue;
		if (cs->n == cs->cap) {
			size_t cap = cs->cap ? cs->cap * 2 : 256;
			struct cand *v = realloc(cs->v, cap * sizeof *v);

			if (v == NULL)
				continue;	/* counted, not a candidate */
			cs->v = v;
			cs->cap = cap;
		}
		cs->v[cs->n].ino = ino;
		cs->v[cs->n].used = (int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec;
		cs->v[cs->n].bytes = (uint64_t)st.st_blocks * 512;
		cs->n++;
	}
	closedir(dir);
	return sum;
}

/* Least recently used first; then the larger first. */
static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->used != y->used)
		return x->used < y->used ? -1 : 1;
	return x->bytes > y->bytes ? -1 : x->bytes < y->bytes;
}

/* Open a subdirectory of a cache directory, or -1. */
static int
open_sub(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

uint64_t
evict_contents_size(const char *cache_dir)
{
	int dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	uint64_t sum = 0;

	if (dfd < 0)
		return 0;
	if ((fd = open_sub(dfd, "data")) >= 0) {
		sum += walk_dir(fd, NULL);
		close(fd);
	}
	if ((fd = open_sub(dfd, "tmp")) >= 0) {
		sum += walk_dir(fd, NULL);
		close(fd);
	}
	close(dfd);
	return sum;
}

/* ---- what may be dropped ---- */

/*
 * Whether the contents of in may be dropped: a clean copy of what the
 * server has, which nothing here needs (inside the write transaction t).
 * nodes: the running roamfs's table (NULL for an idle cache).
 */
static int
droppable(struct db_txn *t, struct nodes *nodes, const struct inode *in)
{
	struct node *n;
	int busy = 0;

	if (!S_ISREG(in->mode) || !(in->flags & I_CACHED) || !(in->flags & I_REMOTE) ||
	    (in->flags & (I_LOCALNEW | I_EXCLUDED | I_ASIDE | I_PINNED)) || in->nlink == 0 ||
	    in->pending_store || !in->base.valid || in->base.size != in->size ||
	    journal_pending_ino(t, in->ino) != 0)
		return 0;
	if (nodes) {
		nodes_lock(nodes);
		n = nodes_find(nodes, in->ino);
		busy = n && (n->nopen || NODE_HELD(n));
		nodes_unlock(nodes);
	}
	return !busy;
}

/*
 * Drop the contents of up to BATCH of inos (one transaction), counting
 * into *n; datafd: the cache's data directory.  Returns the bytes freed.
 */
static uint64_t
drop_batch(struct db *db, struct nodes *nodes, const struct pathlist *pins, int datafd,
    const struct cand *v, size_t nv, struct evict_count *n)
{
	uint64_t dropped[BATCH], freed = 0;
	size_t i, nd = 0;
	struct db_txn t;
	struct inode in;
	char name[24], *rel;
	int keep;

	if (db_begin(db, &t, 1) < 0)
		return 0;
	for (i = 0; i < nv && i < BATCH; i++) {
		if (meta_inode_get(&t, v[i].ino, &in) < 0) {
			t.ret = 0;	/* no inode: a leftover the reaper removes */
			continue;
		}
		keep = !droppable(&t, nodes, &in);
		/* Pinned, or one of roamfs's own lists in the home. */
		if (!keep && meta_path(&t, in.ino, &rel) == 0) {
			keep = prefetch_keep(pins, rel);
			free(rel);
		}
		t.ret = 0;
		if (!keep) {
			in.flags &= ~I_CACHED;
			meta_inode_put(&t, &in);
			dropped[nd++] = i;
		} else {
			n->kept_files++;
			n->kept_bytes += v[i].bytes;
		}
		inode_free(&in);
	}
	if (db_commit(&t) < 0)
		return 0;
	/* The records say uncached now: an open fetches them again. */
	for (i = 0; i < nd; i++) {
		snprintf(name, sizeof name, "%016" PRIx64, v[dropped[i]].ino);
		if (unlinkat(datafd, name, 0) == 0 || errno == ENOENT) {
			n->files++;
			n->bytes += v[dropped[i]].bytes;
			freed += v[dropped[i]].bytes;
		}
	}
	return freed;
}

/* Leave out the candidates used in the last FRESH_S seconds: a file just
 * fetched for an open, or just closed, is not dropped under its reader's
 * feet, even when what cannot go (pins, changes) keeps the cache over.
 * Returns when the first of those left out may go (seconds), or 0. */
static time_t
keep_fresh(struct cands *cs)
{
	int64_t since = ((int64_t)time(NULL) - FRESH_S) * 1000000000, first = 0;
	size_t i, k = 0;

	for (i = 0; i < cs->n; i++)
		if (cs->v[i].used < since)
			cs->v[k++] = cs->v[i];
		else if (first == 0 || cs->v[i].used < first)
			first = cs->v[i].used;
	cs->n = k;
	return first ? (time_t)(first / 1000000000) + FRESH_S + 1 : 0;
}

/*
 * Drop the least recently used of cs until need bytes are freed (all of
 * them with need UINT64_MAX).  Returns the bytes freed.
 */
static uint64_t
drop_lru(struct db *db, struct nodes *nodes, const struct pathlist *pins, pthread_rwlock_t *rw,
    int datafd, struct cands *cs, uint64_t need, struct evict_count *n)
{
	uint64_t freed = 0;
	size_t i, k;

	qsort(cs->v, cs->n, sizeof *cs->v, cand_cmp);
	for (i = 0; i < cs->n && freed < need; i += k) {
		uint64_t want = 0;

		/* A batch of what is still needed, at most BATCH files. */
		for (k = 0; i + k < cs->n && k < BATCH && want < need - freed; k++)
			want += cs->v[i + k].bytes;
		if (rw)
			pthread_rwlock_wrlock(rw);
		freed += drop_batch(db, nodes, pins, datafd, cs->v + i, k, n);
		if (rw)
			pthread_rwlock_unlock(rw);
	}
	return freed;
}

/* ---- the machine's budget ---- */

/* The usage another cache of the root published, or 0. */
static uint64_t
usage_of(int rootfd, const char *file, const char *name, time_t now)
{
	struct stat fst, dst;
	unsigned long long used;
	char buf[64];
	ssize_t len;
	int fd;

	if (fstatat(rootfd, name, &dst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(dst.st_mode))
		return 0;
	if ((fd = openat(rootfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return 0;
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_uid != dst.st_uid ||
	    fst.st_mtime + STALE_S < now || (len = read(fd, buf, sizeof buf - 1)) <= 0) {
		close(fd);
		return 0;
	}
	close(fd);
	buf[len] = '\0';
	return sscanf(buf, "%llu", &used) == 1 ? (uint64_t)used : 0;
}

/* The contents the other running roamfs of the cache root keep. */
static uint64_t
others_usage(const struct evictor *e)
{
	size_t plen = strlen(USAGE_PREFIX);
	time_t now = time(NULL);
	struct dirent *d;
	uint64_t sum = 0;
	DIR *dir;

	if ((dir = opendir(e->root)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		const char *name = d->d_name + plen;

		if (strncmp(d->d_name, USAGE_PREFIX, plen) || !*name || strcmp(name, e->name) == 0)
			continue;
		sum += usage_of(dirfd(dir), d->d_name, name, now);
	}
	closedir(dir);
	return sum;
}

/*
 * Write our usage in place to ROOT/.usage.NAME, a file of ours that
 * roamctl prepare made (the root is root's: we cannot make files there).
 * 0, -ENOENT when there is none, or another -errno.
 */
static int
publish_in_place(const char *path, const char *line, int len)
{
	struct stat st;
	int fd, r = 0;

	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid())
		r = -EPERM;
	else if (pwrite(fd, line, (size_t)len, 0) != len || ftruncate(fd, len) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * Write our usage to ROOT/.usage.NAME: in place, else through a temporary
 * file (a root we may write to: root's roamfs, or a root left 1777).
 */
static void
publish(struct evictor *e, uint64_t used)
{
	char path[PATH_MAX], tmp[PATH_MAX], line[32];
	int fd, len, ok, r;

	if ((size_t)snprintf(path, sizeof path, "%s/%s%s", e->root, USAGE_PREFIX, e->name) >=
	    sizeof path || (size_t)snprintf(tmp, sizeof tmp, "%s/%s%s", e->root, USAGE_TMP,
	    e->name) >= sizeof tmp)
		return;
	len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)used);
	if ((r = publish_in_place(path, line, len)) == 0)
		return;
	if (r == -ENOENT) {
		unlink(tmp);
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0) {
			ok = write(fd, line, (size_t)len) == len;
			close(fd);
			if (ok && rename(tmp, path) == 0)
				return;
			unlink(tmp);
		}
		r = -errno;
	}
	if (!e->publish_logged && (e->publish_logged = 1))
		log_warn("cannot write %s (%s): this cache's contents do not count against the "
		    "machine's budget; have root run roamctl prepare for this user (the PAM "
		    "session does at login)", path, r == -EPERM ? "it is not this user's file" :
		    strerror(-r));
}

/* Our usage file says nothing any more: removed, or emptied when we may not remove it. */
static void
unpublish(struct evictor *e)
{
	char path[PATH_MAX];
	int fd;

	if (e->root == NULL || (size_t)snprintf(path, sizeof path, "%s/%s%s", e->root,
	    USAGE_PREFIX, e->name) >= sizeof path)
		return;
	if (unlink(path) < 0 && (errno == EACCES || errno == EPERM) &&
	    (fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) >= 0)
		close(fd);
}

/* What this cache may keep now (0: no limit). */
static uint64_t
own_limit(struct evictor *e)
{
	uint64_t limit = e->max, others, share;

	if (e->total && e->root) {
		others = others_usage(e);
		share = others < e->total ? e->total - others : 0;
		if (limit == 0 || share < limit)
			limit = share;
		if (limit == 0)
			limit = 1;	/* nothing left: keep only what cannot go */
	}
	return limit;
}

/* ---- the thread ---- */

static void
format_size(char *buf, size_t len, uint64_t b)
{
	if (b >= (uint64_t)10 << 30)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(b >> 30));
	else if (b >= (uint64_t)10 << 20)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)((b + 1023) >> 10));
}

/* Walk the cache and drop what is over the limit. */
static void
walk_and_drop(struct roamfs *fs, struct evictor *e, uint64_t limit)
{
	struct evict_count n = { 0 };
	struct cands cs = { 0 };
	struct pathlist pins;
	uint64_t used, freed = 0;
	time_t fresh_until;
	char a[32], b[32];

	__atomic_store_n(&e->grown, 0, __ATOMIC_RELAXED);
	used = walk_dir(cache_data_fd(fs->cache), &cs) + walk_dir(cache_tmp_fd(fs->cache), NULL);
	fresh_until = keep_fresh(&cs);
	if (limit && used > limit && prefetch_pins_copy(fs, &pins) == 0) {
		freed = drop_lru(fs->db, fs->nodes, &pins, &e->rw, cache_data_fd(fs->cache), &cs,
		    used - limit + limit / 10, &n);
		pathlist_free(&pins);
	}
	free(cs.v);
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&e->used, used > freed ? used - freed : 0, __ATOMIC_RELAXED);
	e->walked = time(NULL);
	/* Over the budget with files left only for being fresh (just sent,
	 * just read): they may go in seconds, not at the next tick. */
	e->again = limit && e->used > limit ? fresh_until : 0;
	e->evicted_files += n.files;
	e->evicted_bytes += n.bytes;
	e->kept_bytes = limit && e->used > limit ? n.kept_bytes : 0;
	pthread_mutex_unlock(&e->lock);
	if (n.files)
		log_info("dropped the cached contents of %llu files (%llu bytes, least recently "
		    "used first) to keep the cache within its budget", (unsigned long long)n.files,
		    (unsigned long long)n.bytes);
	if (limit && e->used > limit && !e->over_logged) {
		format_size(a, sizeof a, e->used);
		format_size(b, sizeof b, limit);
		log_warn("the cache's contents (%s) stay over their budget (%s): the rest are "
		    "changes not on the server yet, pinned or open files; they go once sent "
		    "or closed (roamctl status)", a, b);
		e->over_logged = 1;
	} else if (!limit || e->used <= limit) {
		e->over_logged = 0;
	}
}

static void *
evict_main(void *arg)
{
	struct roamfs *fs = arg;
	struct evictor *e = fs->evictor;
	struct timespec until;
	uint64_t limit, estimate;
	int asked;

	for (;;) {
		pthread_mutex_lock(&e->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += TICK_S;
		if (e->again && e->again < until.tv_sec)
			until.tv_sec = e->again;
		while (!e->stop && !e->asked &&
		    pthread_cond_timedwait(&e->cond, &e->lock, &until) != ETIMEDOUT)
			;
		asked = e->asked;
		e->asked = 0;
		if (e->stop) {
			pthread_mutex_unlock(&e->lock);
			break;
		}
		estimate = e->used + __atomic_load_n(&e->grown, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&e->lock);
		limit = own_limit(e);
		__atomic_store_n(&e->limit, limit, __ATOMIC_RELAXED);
		if ((limit && (estimate > limit || time(NULL) - e->walked >= RESCAN_S)) ||
		    (asked && limit)) {
			/* At most a walk a second, however often it is asked. */
			if (time(NULL) - e->walked < 1)
				usleep(1000000);
			walk_and_drop(fs, e, limit);
			estimate = e->used;
		}
		if (e->root)
			publish(e, estimate);
	}
	return NULL;
}

/* The cache root, when the cache directory is one of its entries. */
static int
in_root(struct evictor *e, const char *cache, const char *root)
{
	char rc[PATH_MAX], rr[PATH_MAX], *slash;

	if (root == NULL || realpath(cache, rc) == NULL || realpath(root, rr) == NULL ||
	    (slash = strrchr(rc, '/')) == NULL || slash == rc)
		return 0;
	*slash = '\0';
	if (strcmp(rc, rr))
		return 0;
	e->root = strdup(rr);
	e->name = strdup(slash + 1);
	return e->root && e->name;
}

int
evict_start(struct roamfs *fs, const struct evict_conf *c)
{
	struct evictor *e = calloc(1, sizeof *e);
	pthread_rwlockattr_t ra;
	int r;

	if (e == NULL)
		return -ENOMEM;
	pthread_rwlockattr_init(&ra);
	/* Opens are many and short: the thread must not starve behind them. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&e->rw, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->room, NULL);
	pthread_cond_init(&e->cond, NULL);
	e->max = c->max;
	e->total = c->total;
	if (c->total && !in_root(e, cache_dir(fs->cache), c->root)) {
		free(e->root);
		free(e->name);
		e->root = e->name = NULL;
		log_notice("the cache %s is not in the cache root %s: the machine's budget "
		    "(cache_total) does not apply to it", cache_dir(fs->cache),
		    c->root ? c->root : "(none)");
	}
	e->used = walk_dir(cache_data_fd(fs->cache), NULL) + walk_dir(cache_tmp_fd(fs->cache), NULL);
	e->walked = time(NULL);
	e->asked = 1;		/* a first look at once */
	fs->evictor = e;
	if ((r = pthread_create(&e->thread, NULL, evict_main, fs)) != 0) {
		fs->evictor = NULL;
		free(e->root);
		free(e->name);
		free(e);
		return -r;
	}
	e->started = 1;
	return 0;
}

void
evict_stop(struct roamfs *fs)
{
	struct evictor *e = fs->evictor;

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = 1;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->started)
		pthread_join(e->thread, NULL);
	unpublish(e);
	fs->evictor = NULL;
	pthread_rwlock_destroy(&e->rw);
	pthread_mutex_destroy(&e->room);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e->root);
	free(e->name);
	free(e);
}

void
evict_grew(struct roamfs *fs, uint64_t bytes)
{
	struct evictor *e = fs->evictor;
	uint64_t limit, grown;

	if (e == NULL)
		return;
	grown = __atomic_add_fetch(&e->grown, bytes, __ATOMIC_RELAXED);
	limit = __atomic_load_n(&e->limit, __ATOMIC_RELAXED);
	if (limit == 0 || __atomic_load_n(&e->used, __ATOMIC_RELAXED) + grown <= limit)
		return;
	pthread_mutex_lock(&e->lock);
	if (!e->asked) {
		e->asked = 1;
		pthread_cond_signal(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
}

uint64_t
evict_make_room(struct roamfs *fs, uint64_t want)
{
	struct evictor *e = fs->evictor;
	struct evict_count n = { 0 };
	struct cands cs = { 0 };
	struct pathlist pins;
	struct statvfs vfs;
	uint64_t freed = 0, need = want;
	time_t now = time(NULL);

	if (e == NULL)
		return 0;
	/* Writes that found the disk full together: the first makes the room,
	 * the others find it made (else they would find the same files being
	 * dropped, kept by nothing, and fail). */
	pthread_mutex_lock(&e->room);
	if (fstatvfs(cache_data_fd(fs->cache), &vfs) == 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;

		if (avail >= want) {
			pthread_mutex_unlock(&e->room);
			return want;
		}
		need = want - avail;
	}
	pthread_mutex_lock(&e->lock);
	e->room_needed = now;
	/* A disk that stays full: one walk every few seconds, not per write. */
	if (e->room_failed && now - e->room_failed < 3) {
		pthread_mutex_unlock(&e->lock);
		pthread_mutex_unlock(&e->room);
		return 0;
	}
	pthread_mutex_unlock(&e->lock);
	if (prefetch_pins_copy(fs, &pins) == 0) {
		/* Some room beyond this write, for the next ones; what was
		 * used in the last seconds only when the rest is not enough. */
		need += (uint64_t)8 << 20;
		walk_dir(cache_data_fd(fs->cache), &cs);
		keep_fresh(&cs);
		freed = drop_lru(fs->db, fs->nodes, &pins, &e->rw, cache_data_fd(fs->cache), &cs,
		    need, &n);
		cs.n = 0;
		if (freed < need) {
			walk_dir(cache_data_fd(fs->cache), &cs);
			freed += drop_lru(fs->db, fs->nodes, &pins, &e->rw, cache_data_fd(fs->cache),
			    &cs, need - freed, &n);
		}
		pathlist_free(&pins);
	}
	free(cs.v);
	pthread_mutex_lock(&e->lock);
	e->room_failed = freed ? 0 : now;
	e->evicted_files += n.files;
	e->evicted_bytes += n.bytes;
	pthread_mutex_unlock(&e->lock);
	pthread_mutex_unlock(&e->room);
	if (n.files)
		log_notice("the cache's disk is full: dropped the cached contents of %llu clean "
		    "files (%llu bytes, least recently used first) to make room",
		    (unsigned long long)n.files, (unsigned long long)n.bytes);
	return freed;
}

int
evict_room(struct roamfs *fs, uint64_t bytes)
{
	struct evictor *e = fs->evictor;
	uint64_t limit, used;
	struct statvfs vfs;

	/* The disk first: a tenth of it stays free for what the user writes. */
	if (fstatvfs(cache_data_fd(fs->cache), &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < bytes + (uint64_t)vfs.f_blocks * vfs.f_frsize / 10)
		return 0;
	/* The disk was full lately: what the user writes comes first. */
	if (e && __atomic_load_n(&e->room_needed, __ATOMIC_RELAXED) + ROOM_QUIET_S > time(NULL))
		return 0;
	if (e == NULL || (limit = __atomic_load_n(&e->limit, __ATOMIC_RELAXED)) == 0)
		return 1;
	used = __atomic_load_n(&e->used, __ATOMIC_RELAXED) +
	    __atomic_load_n(&e->grown, __ATOMIC_RELAXED);
	return used + bytes <= limit - limit / 10;
}

void
evict_touch(int fd)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

	futimens(fd, ts);
}

void
evict_read_lock(struct roamfs *fs)
{
	if (fs->evictor)
		pthread_rwlock_rdlock(&fs->evictor->rw);
}

void
evict_read_unlock(struct roamfs *fs)
{
	if (fs->evictor)
		pthread_rwlock_unlock(&fs->evictor->rw);
}

/* ---- roamctl evict ---- */

struct tree {
	struct cands cs;
	struct buf dirs;	/* directories still to list */
};

static int
tree_add(void *arg, const char *name, size_t len, uint64_t ino)
{
	struct tree *tr = arg;

	(void)name;
	(void)len;
	return buf_put_u64(&tr->dirs, ino) < 0 ? -ENOMEM : 0;
}

int
evict_tree(struct roamfs *fs, uint64_t ino, struct evict_count *n)
{
	struct tree tr = { { 0 }, { 0 } };
	struct pathlist pins;
	struct db_txn t;
	struct inode in;
	size_t i;
	int r;

	memset(n, 0, sizeof *n);
	buf_init(&tr.dirs, 0);
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	/* Every file under ino: directories are listed in turn. */
	r = buf_put_u64(&tr.dirs, ino) < 0 ? -ENOMEM : 0;
	for (i = 0; r == 0 && i + 8 <= tr.dirs.len; i += 8) {
		uint64_t d = 0;
		int k;

		for (k = 0; k < 8; k++)
			d = d << 8 | tr.dirs.data[i + k];
		if (meta_inode_get(&t, d, &in) < 0) {
			t.ret = 0;
			continue;
		}
		if (S_ISDIR(in.mode)) {
			r = meta_dir_scan(&t, d, tree_add, &tr);
		} else if (S_ISREG(in.mode) && (in.flags & I_CACHED)) {
			if (tr.cs.n == tr.cs.cap) {
				size_t cap = tr.cs.cap ? tr.cs.cap * 2 : 64;
				struct cand *v = realloc(tr.cs.v, cap * sizeof *v);

				if (v == NULL)
					r = -ENOMEM;
				else {
					tr.cs.v = v;
					tr.cs.cap = cap;
				}
			}
			if (r == 0) {
				int64_t size = cache_file_size(fs->cache, d);

				tr.cs.v[tr.cs.n].ino = d;
				tr.cs.v[tr.cs.n].used = 0;
				tr.cs.v[tr.cs.n].bytes = size > 0 ? (uint64_t)size : 0;
				tr.cs.n++;
			}
		}
		inode_free(&in);
	}
	db_abort(&t);
	buf_free(&tr.dirs);
	if (r == 0 && tr.cs.n && (r = prefetch_pins_copy(fs, &pins)) == 0) {
		drop_lru(fs->db, fs->nodes, &pins, fs->evictor ? &fs->evictor->rw : NULL,
		    cache_data_fd(fs->cache), &tr.cs, UINT64_MAX, n);
		pathlist_free(&pins);
	}
	free(tr.cs.v);
	if (fs->evictor && n->files) {
		pthread_mutex_lock(&fs->evictor->lock);
		fs->evictor->evicted_files += n->files;
		fs->evictor->evicted_bytes += n->bytes;
		fs->evictor->used = fs->evictor->used > n->bytes ? fs->evictor->used - n->bytes : 0;
		pthread_mutex_unlock(&fs->evictor->lock);
	}
	return r;
}

int
evict_status(struct roamfs *fs, struct ctl_record *c)
{
	struct evictor *e = fs->evictor;
	int r = 0;

	if (e == NULL)
		return 0;
	pthread_mutex_lock(&e->lock);
	r |= ctl_put_u64(c, "cache_contents", e->used + __atomic_load_n(&e->grown,
	    __ATOMIC_RELAXED));
	r |= ctl_put_u64(c, "cache_max", e->max);
	r |= ctl_put_u64(c, "cache_total", e->root ? e->total : 0);
	r |= ctl_put_u64(c, "cache_limit", __atomic_load_n(&e->limit, __ATOMIC_RELAXED));
	r |= ctl_put_u64(c, "evicted_files", e->evicted_files);
	r |= ctl_put_u64(c, "evicted_bytes", e->evicted_bytes);
	r |= ctl_put_u64(c, "cache_kept_over", e->kept_bytes);
	pthread_mutex_unlock(&e->lock);
	return r ? -ENOMEM : 0;
}

/* ---- an idle cache (roamctl gc) ---- */

/* The pin list of an idle cache, as far as the cache holds it. */
static void
idle_pins(struct db *db, int datafd, struct pathlist *pins)
{
	struct db_txn t;
	struct inode in;
	uint64_t ino = 0;
	char name[24];
	int fd, found = 0;

	memset(pins, 0, sizeof *pins);
	if (db_begin(db, &t, 0) < 0)
		return;
	if (meta_lookup(&t, PATHLIST_PINS, &ino) == 0 && meta_inode_get(&t, ino, &in) == 0) {
		found = (in.flags & I_CACHED) != 0;
		inode_free(&in);
	}
	db_abort(&t);
	snprintf(name, sizeof name, "%016" PRIx64, ino);
	if (!found || (fd = openat(datafd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	pathlist_read_fd(fd, pins);	/* an unreadable list leaves it empty */
	close(fd);
}

int
evict_trim_idle(const char *cache_dir, struct db *db, uint64_t budget, uint64_t *used,
    struct evict_count *n)
{
	struct cands cs = { 0 };
	struct pathlist pins;
	int dfd, datafd, tmpfd;

	memset(n, 0, sizeof *n);
	*used = 0;
	if ((dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	datafd = open_sub(dfd, "data");
	tmpfd = open_sub(dfd, "tmp");
	close(dfd);
	if (datafd < 0) {
		if (tmpfd >= 0)
			close(tmpfd);
		return errno == ENOENT ? 0 : -errno;
	}
	*used = walk_dir(datafd, &cs) + (tmpfd >= 0 ? walk_dir(tmpfd, NULL) : 0);
	if (*used > budget) {
		idle_pins(db, datafd, &pins);
		drop_lru(db, NULL, &pins, NULL, datafd, &cs, *used - budget, n);
		pathlist_free(&pins);
	}
	free(cs.v);
	close(datafd);
	if (tmpfd >= 0)
		close(tmpfd);
	return 0;
}
