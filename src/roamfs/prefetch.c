/*
 * prefetch: pinned files, the working set and offline misses (prefetch.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "prefetch.h"
#include "journal.h"
#include "sftp/sftp.h"

#define TICK_S		30	/* the pin list is looked at this often in the cache */
#define SERVER_S	120	/* and on the server (another workstation's pins) */
#define RETRY_S		10	/* after a pass cut short by the server */
#define FULL_S		600	/* pinned trees are walked again this often */
#define MISSES		5	/* offline misses remembered */
#define POLITE_US	50000	/* the wait while applications download */

struct opened {
	uint64_t ino, seq;
};

struct prefetch {
	pthread_t thread;
	int started;
	pthread_mutex_t lock;	/* everything below */
	pthread_cond_t cond;
	int stop, kicked;
	struct prefetch_conf conf;
	struct pathlist pins;
	const char *state;
	uint64_t files, files_done, bytes, bytes_done;	/* the pass under way or last */
	uint64_t ws_files, ws_done;			/* the working set at login */
	struct opened *op;	/* the files opened in the session */
	size_t nop, capop;
	uint64_t seq;
	char *miss[MISSES];
	time_t miss_at[MISSES];
	unsigned nmiss;		/* misses so far (the ring holds the last MISSES) */
};

/* ---- small helpers ---- */

/* Set in the prefetch thread: what it misses offline is no user's miss. */
static __thread int in_prefetch;

int
prefetch_thread(void)
{
	return in_prefetch;
}

static int
stopping(struct prefetch *p)
{
	int s;

	pthread_mutex_lock(&p->lock);
	s = p->stop;
	pthread_mutex_unlock(&p->lock);
	return s;
}

static void
set_state(struct prefetch *p, const char *state)
{
	pthread_mutex_lock(&p->lock);
	p->state = state;
	pthread_mutex_unlock(&p->lock);
}

/* The inode of name in directory dir, from the cache. */
static int
child(struct roamfs *fs, uint64_t dir, const char *name, uint64_t *ino)
{
	struct db_txn t;
	int r;

	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	r = meta_dirent_get(&t, dir, name, ino);
	db_abort(&t);
	return r;
}

/*
 * The inode at rel (normalised), listing each directory on the way from
 * the server when its listing is due: with list 1 waiting for the
 * connection, with 2 only when it is at hand; with 0 from the cache alone.
 */
static int
resolve(struct roamfs *fs, const char *rel, int list, uint64_t *ino)
{
	char *copy = strdup(rel), *c, *save = NULL;
	uint64_t dir = INO_ROOT;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (c = strtok_r(copy, "/", &save); c && r == 0; c = strtok_r(NULL, "/", &save)) {
		if (list)
			listing_update(fs, dir, list == 1);	/* offline: the cache answers */
		r = child(fs, dir, c, &dir);
	}
	free(copy);
	*ino = dir;
	return r;
}

/* Read a cached file of at most PATHLIST_MAX_BYTES into a list. */
static int
read_cached_list(struct roamfs *fs, uint64_t ino, struct pathlist *l)
{
	int fd, r;

	if ((fd = cache_file_open(fs->cache, ino, O_RDONLY)) < 0)
		return fd;
	r = pathlist_read_fd(fd, l);
	close(fd);
	return r;
}

/* Fetch (over the prefetcher's connection) and parse the list at rel. */
static int
load_list(struct roamfs *fs, const char *rel, struct pathlist *l)
{
	struct inode in;
	uint64_t ino;
	int r;

	pathlist_free(l);
	if ((r = resolve(fs, rel, 1, &ino)) < 0)
		return r == -ENOENT ? 0 : r;
	if ((r = meta_inode_read(fs->db, ino, &in)) < 0)
		return r;
	r = S_ISREG(in.mode) ? 0 : -EINVAL;
	if (r == 0 && !(in.flags & I_CACHED) && in.size > 0)
		r = fetch_file_via(fs, ino, fs->pf);
	inode_free(&in);
	if (r == 0 && (r = read_cached_list(fs, ino, l)) == -ENOENT)
		r = 0;	/* an empty file has no contents file */
	if (r == 0 && l->bad)
		log_warn("%s:%u: not a path in the home (%u such lines skipped): write one path "
		    "per line, relative to the home", rel, l->first_bad, l->bad);
	return r;
}

/* Wait while applications wait for downloads: they go first. */
static void
polite(struct roamfs *fs, struct prefetch *p)
{
	while (fetch_busy(fs) && !stopping(p))
		usleep(POLITE_US);
}

/* ---- walking what is pinned ---- */

struct todo {
	uint64_t *ino;
	size_t n, cap;
};

static int
todo_add(struct todo *t, uint64_t ino)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		uint64_t *v = realloc(t->ino, cap * sizeof *v);

		if (v == NULL)
			return -ENOMEM;
		t->ino = v;
		t->cap = cap;
	}
	t->ino[t->n++] = ino;
	return 0;
}

static int
collect(void *arg, const char *name, size_t len, uint64_t ino)
{
	(void)name;
	(void)len;
	return todo_add(arg, ino);
}

/* What a walk of the cache found under one path. */
struct tally {
	uint64_t files, cached, bytes, cached_bytes;
};

/*
 * Every file under ino (ino itself when a file): counted into *ty, and
 * those not cached appended to *fetch (may be NULL).  With list, each
 * directory is listed from the server first when due.
 */
static int
walk(struct roamfs *fs, uint64_t ino, int list, struct tally *ty, struct todo *fetch)
{
	struct todo dirs = { 0 }, kids = { 0 };
	struct db_txn t;
	struct inode in;
	size_t i, k;
	int r;

	if ((r = todo_add(&dirs, ino)) < 0)
		return r;
	for (i = 0; r == 0 && i < dirs.n; i++) {
		if (meta_inode_read(fs->db, dirs.ino[i], &in) < 0)
			continue;
		if (S_ISREG(in.mode)) {
			ty->files++;
			ty->bytes += in.size;
			if (in.flags & (I_CACHED | I_LOCALNEW | I_EXCLUDED)) {
				ty->cached++;
				ty->cached_bytes += in.size;
			} else if (fetch) {
				r = todo_add(fetch, in.ino);
			}
		}
		if (S_ISDIR(in.mode)) {
			if (list)
				listing_update(fs, in.ino, 1);
			kids.n = 0;
			if ((r = db_begin(fs->db, &t, 0)) == 0) {
				r = meta_dir_scan(&t, in.ino, collect, &kids);
				db_abort(&t);
			}
			for (k = 0; r == 0 && k < kids.n; k++)
				r = todo_add(&dirs, kids.ino[k]);
		}
		inode_free(&in);
	}
	free(dirs.ino);
	free(kids.ino);
	return r;
}

/* Fetch the files of todo, counting them as done; -EOFFLINE when cut off. */
static int
fetch_all(struct roamfs *fs, struct prefetch *p, const struct todo *todo, int ws)
{
	struct inode in;
	size_t i;
	int r = 0;

	for (i = 0; i < todo->n && !stopping(p); i++) {
		if (meta_inode_read(fs->db, todo->ino[i], &in) < 0)
			continue;
		/* The working set stops at the budget; pins do not. */
		if (ws && !evict_room(fs, in.size)) {
			inode_free(&in);
			log_info("working set: stopped at the cache's budget, %zu of %zu files "
			    "fetched", i, todo->n);
			break;
		}
		polite(fs, p);
		r = fetch_file_via(fs, todo->ino[i], fs->pf);
		pthread_mutex_lock(&p->lock);
		if (r == 0) {
			if (ws)
				p->ws_done++;
			else {
				p->files_done++;
				p->bytes_done += in.size;
			}
		}
		pthread_mutex_unlock(&p->lock);
		inode_free(&in);
		if (r == -EOFFLINE)
			return r;
	}
	return 0;
}

/* Fetch every pinned file not cached: 0 or -EOFFLINE. */
static int
pass_pins(struct roamfs *fs, struct prefetch *p)
{
	struct pathlist pins = { 0 };
	struct todo todo = { 0 };
	struct tally ty = { 0 };
	uint64_t ino;
	size_t i;
	int r;

	set_state(p, "reading the pin list");
	if ((r = load_list(fs, PATHLIST_PINS, &pins)) < 0) {
		pathlist_free(&pins);
		return r == -EOFFLINE ? r : 0;	/* keeps the list it had */
	}
	pthread_mutex_lock(&p->lock);
	pathlist_free(&p->pins);
	p->pins = pins;
	if (pins.n == 0)
		p->files = p->files_done = p->bytes = p->bytes_done = 0;
	pthread_mutex_unlock(&p->lock);
	if (pins.n == 0)
		return 0;
	set_state(p, "listing the pinned folders");
	if ((r = prefetch_pins_copy(fs, &pins)) < 0)
		return r;
	for (i = 0; r == 0 && i < pins.n && !stopping(p); i++)
		if (resolve(fs, pins.v[i], 1, &ino) == 0)
			r = walk(fs, ino, 1, &ty, &todo);
	pathlist_free(&pins);
	pthread_mutex_lock(&p->lock);
	p->files = ty.files;
	p->files_done = ty.cached;
	p->bytes = ty.bytes;
	p->bytes_done = ty.cached_bytes;
	p->state = "fetching the pinned files";
	pthread_mutex_unlock(&p->lock);
	if (r == 0)
		r = fetch_all(fs, p, &todo, 0);
	free(todo.ino);
	return r;
}

/* At login: fetch the files of the last session's working set. */
static int
pass_workingset(struct roamfs *fs, struct prefetch *p)
{
	struct pathlist ws = { 0 };
	struct todo todo = { 0 };
	struct inode in;
	uint64_t ino;
	size_t i;
	int r;

	set_state(p, "reading the working set");
	if ((r = load_list(fs, PATHLIST_WORKINGSET, &ws)) < 0 || ws.n == 0) {
		pathlist_free(&ws);
		return r == -EOFFLINE ? r : 0;
	}
	set_state(p, "fetching the working set");
	/* From the end of the list: the files the last session opened first,
	 * which programs starting now open first too. */
	for (i = ws.n; i-- > 0 && !stopping(p);) {
		if (resolve(fs, ws.v[i], 1, &ino) < 0 || meta_inode_read(fs->db, ino, &in) < 0)
			continue;
		if (S_ISREG(in.mode) && !(in.flags & (I_CACHED | I_LOCALNEW | I_EXCLUDED)))
			r = todo_add(&todo, ino);
		inode_free(&in);
		if (r < 0)
			break;
	}
	pthread_mutex_lock(&p->lock);
	p->ws_files = ws.n;
	p->ws_done = ws.n - todo.n;
	pthread_mutex_unlock(&p->lock);
	pathlist_free(&ws);
	if (r == 0)
		r = fetch_all(fs, p, &todo, 1);
	free(todo.ino);
	return r;
}

/* ---- the thread ---- */

/*
 * The pin list's version in the cache: changes when someone writes it.
 * With server, its folder is listed again when due (never waiting for the
 * connection: applications may need it), to see another workstation's.
 */
static uint64_t
pins_version(struct roamfs *fs, int server)
{
	struct inode in;
	uint64_t ino, v = 0;

	if (resolve(fs, PATHLIST_PINS, server ? 2 : 0, &ino) == 0 &&
	    meta_inode_read(fs->db, ino, &in) == 0) {
		v = ino * 1000003 ^ in.size * 8191 ^ (uint64_t)in.mtime_s * 31 ^ in.mtime_ns;
		inode_free(&in);
	}
	return v;
}

static void *
prefetch_main(void *arg)
{
	struct roamfs *fs = arg;
	struct prefetch *p = fs->prefetch;
	struct timespec until;
	time_t full = 0, asked = 0;
	uint64_t seen = 0, v;
	int ws_left = p->conf.workingset_files != 0, r, wait_s = 0, run;

	in_prefetch = 1;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_s;
		while (!p->stop && !p->kicked && wait_s &&
		    pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT)
			;
		run = p->kicked || wait_s == 0;
		p->kicked = 0;
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		pthread_mutex_unlock(&p->lock);
		/* Between passes: only when the pin list changed, or now and then. */
		v = pins_version(fs, time(NULL) - asked >= SERVER_S);
		if (time(NULL) - asked >= SERVER_S)
			asked = time(NULL);
		if (!run && v == seen && time(NULL) - full < FULL_S) {
			wait_s = TICK_S;
			continue;
		}
		seen = v;
		full = time(NULL);
		r = pass_pins(fs, p);
		if (r == 0 && ws_left) {
			r = pass_workingset(fs, p);
			ws_left = r == -EOFFLINE;
		}
		set_state(p, r == -EOFFLINE ? "waiting for the server" : "done");
		wait_s = r == -EOFFLINE ? RETRY_S : TICK_S;
		if (r == -EOFFLINE)
			full = 0;	/* try again at the next tick */
	}
	return NULL;
}

int
prefetch_start(struct roamfs *fs, const struct prefetch_conf *c)
{
	struct prefetch *p = calloc(1, sizeof *p);
	int r;

	if (p == NULL)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->conf = *c;
	p->state = "starting";
	fs->prefetch = p;
	if ((r = pthread_create(&p->thread, NULL, prefetch_main, fs)) != 0) {
		log_warn("cannot start the prefetch thread: %s; pinned files are not fetched "
		    "ahead", strerror(r));
		return 0;	/* roamfs works on without it */
	}
	p->started = 1;
	return 0;
}

void
prefetch_stop(struct roamfs *fs)
{
	struct prefetch *p = fs->prefetch;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	fetch_cancel(fs);	/* a download under way ends now */
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = 0;
}

void
prefetch_free(struct roamfs *fs)
{
	struct prefetch *p = fs->prefetch;
	unsigned i;

	if (p == NULL)
		return;
	prefetch_stop(fs);
	fs->prefetch = NULL;
	pathlist_free(&p->pins);
	for (i = 0; i < MISSES; i++)
		free(p->miss[i]);
	free(p->op);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

void
prefetch_kick(struct roamfs *fs)
{
	struct prefetch *p = fs->prefetch;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* ---- the session's files ---- */

static int
by_seq_desc(const void *a, const void *b)
{
	const struct opened *x = a, *y = b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

void
prefetch_opened(struct roamfs *fs, uint64_t ino)
{
	struct prefetch *p = fs->prefetch;
	size_t i, cap;

	if (p == NULL || p->conf.workingset_files == 0)
		return;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nop; i++)
		if (p->op[i].ino == ino)
			break;
	if (i == p->nop) {
		/* Full: keep the most recent half. */
		cap = (size_t)p->conf.workingset_files * 2;
		if (p->nop >= cap) {
			qsort(p->op, p->nop, sizeof *p->op, by_seq_desc);
			p->nop = cap / 2;
			i = p->nop;
		}
		if (p->nop == p->capop) {
			size_t nc = p->capop ? p->capop * 2 : 64;
			struct opened *v = realloc(p->op, nc * sizeof *v);

			if (v == NULL) {
				pthread_mutex_unlock(&p->lock);
				return;
			}
			p->op = v;
			p->capop = nc;
		}
		p->op[p->nop++].ino = ino;
	}
	p->op[i].seq = ++p->seq;
	pthread_mutex_unlock(&p->lock);
}

void
prefetch_offline_miss(struct roamfs *fs, const char *rel)
{
	struct prefetch *p = fs->prefetch;
	unsigned k;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	k = p->nmiss++ % MISSES;
	free(p->miss[k]);
	p->miss[k] = strdup(rel);
	p->miss_at[k] = time(NULL);
	pthread_mutex_unlock(&p->lock);
}

int
prefetch_pins_copy(struct roamfs *fs, struct pathlist *out)
{
	struct prefetch *p = fs->prefetch;
	size_t i;
	int r = 0;

	memset(out, 0, sizeof *out);
	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (i = 0; r == 0 && i < p->pins.n; i++)
		r = pathlist_add(out, p->pins.v[i]) < 0 ? -ENOMEM : 0;
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		pathlist_free(out);
	return r;
}

int
prefetch_keep(const struct pathlist *pins, const char *rel)
{
	size_t n = strlen(PATHLIST_DIR);

	return (strncmp(rel, PATHLIST_DIR, n) == 0 && (rel[n] == '/' || rel[n] == '\0')) ||
	    (pins && pathlist_covers(pins, rel) != NULL);
}

/* ---- roamctl ---- */

int
prefetch_status(struct roamfs *fs, struct ctl_record *c)
{
	struct prefetch *p = fs->prefetch;
	char *misses = NULL, *m;
	unsigned i, n, k;
	time_t last = 0;
	int e = 0;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->lock);
	/* The last misses, most recent first, one per line. */
	n = p->nmiss < MISSES ? p->nmiss : MISSES;
	for (i = 0; i < n; i++) {
		k = (p->nmiss - 1 - i) % MISSES;
		if (i == 0)
			last = p->miss_at[k];
		if (asprintf(&m, "%s%s%s", misses ? misses : "", misses ? "\n" : "",
		    p->miss[k] ? p->miss[k] : "?") < 0) {
			e = -ENOMEM;
			break;
		}
		free(misses);
		misses = m;
	}
	e |= ctl_put_str(c, "prefetch", p->state);
	e |= ctl_put_u64(c, "pins", p->pins.n);
	e |= ctl_put_u64(c, "pinned_files", p->files);
	e |= ctl_put_u64(c, "pinned_files_cached", p->files_done);
	e |= ctl_put_u64(c, "pinned_bytes", p->bytes);
	e |= ctl_put_u64(c, "pinned_bytes_cached", p->bytes_done);
	e |= ctl_put_u64(c, "workingset_files", p->ws_files);
	e |= ctl_put_u64(c, "workingset_cached", p->ws_done);
	e |= ctl_put_u64(c, "offline_misses", p->nmiss);
	e |= ctl_put_str(c, "offline_missed", misses ? misses : "");
	e |= ctl_put_i64(c, "offline_missed_at", last);
	pthread_mutex_unlock(&p->lock);
	free(misses);
	return e ? -ENOMEM : 0;
}

int
prefetch_pins_reply(struct roamfs *fs, struct ctl_reply *r)
{
	struct pathlist pins;
	struct ctl_record *c;
	struct tally ty;
	struct db_txn t;
	uint64_t ino;
	size_t i;
	int e = 0, found;

	if (prefetch_pins_copy(fs, &pins) < 0)
		return -ENOMEM;
	for (i = 0; e == 0 && i < pins.n; i++) {
		memset(&ty, 0, sizeof ty);
		found = 0;
		if (db_begin(fs->db, &t, 0) == 0) {
			found = meta_lookup(&t, pins.v[i], &ino) == 0;
			db_abort(&t);
		}
		if (found)
			walk(fs, ino, 0, &ty, NULL);
		if ((c = ctl_reply_record(r)) == NULL)
			e = -ENOMEM;
		else
			e = ctl_put_str(c, "path", pins.v[i]) | ctl_put_u64(c, "found", found) |
			    ctl_put_u64(c, "files", ty.files) |
			    ctl_put_u64(c, "cached_files", ty.cached) |
			    ctl_put_u64(c, "bytes", ty.bytes) |
			    ctl_put_u64(c, "cached_bytes", ty.cached_bytes) ? -ENOMEM : 0;
	}
	pathlist_free(&pins);
	return e;
}

/* ---- writing the working set at logout ---- */

/* The session's files, most recent first, within the bounds, as a list. */
static int
workingset_list(struct roamfs *fs, struct prefetch *p, struct pathlist *l)
{
	struct db_txn t;
	struct inode in;
	uint64_t bytes = 0;
	size_t i;
	char *rel;
	int r = 0;

	memset(l, 0, sizeof *l);
	qsort(p->op, p->nop, sizeof *p->op, by_seq_desc);
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	for (i = 0; i < p->nop && l->n < p->conf.workingset_files; i++) {
		if (meta_inode_get(&t, p->op[i].ino, &in) < 0) {
			t.ret = 0;
			continue;
		}
		if (S_ISREG(in.mode) && in.nlink > 0 && !(in.flags & I_EXCLUDED) &&
		    meta_path(&t, in.ino, &rel) == 0) {
			if (!prefetch_keep(NULL, rel) && (p->conf.workingset_bytes == 0 ||
			    bytes + in.size <= p->conf.workingset_bytes)) {
				bytes += in.size;
				r = pathlist_add(l, rel) < 0 ? -ENOMEM : 0;
			}
			free(rel);
		}
		t.ret = 0;
		inode_free(&in);
		if (r < 0)
			break;
	}
	db_abort(&t);
	return r;
}

/* Upload the local file fd to rel on the server, through a temporary name. */
static int
upload_list(struct roamfs *fs, int fd, const char *rel)
{
	char tmpname[64], *dir = NULL, *tmp = NULL, *dst = NULL, *top = NULL;
	struct sftp *s;
	int r;

	snprintf(tmpname, sizeof tmpname, "%s/%sworkingset.%016" PRIx64, PATHLIST_DIR,
	    REMOTE_TMP_PREFIX, fs->tmp_salt);
	if ((r = remote_acquire(fs->bg, &s)) < 0)
		return r;
	if ((top = remote_path(fs->bg, ".config")) == NULL ||
	    (dir = remote_path(fs->bg, PATHLIST_DIR)) == NULL ||
	    (tmp = remote_path(fs->bg, tmpname)) == NULL || (dst = remote_path(fs->bg, rel)) == NULL)
		r = -ENOMEM;
	if (r == 0 && (r = sftp_mkdir(s, top, 0755)) == -EEXIST)
		r = 0;
	if (r == 0 && (r = sftp_mkdir(s, dir, 0700)) == -EEXIST)
		r = 0;
	if (r == 0)
		r = sftp_upload(s, fd, tmp, 0600, 0, NULL, NULL, NULL);
	if (r == 0 && (r = sftp_rename(s, tmp, dst)) < 0)
		sftp_remove(s, tmp);
	remote_release(fs->bg, r);
	free(top);
	free(dir);
	free(tmp);
	free(dst);
	return r;
}

void
prefetch_save_workingset(struct roamfs *fs)
{
	struct prefetch *p = fs->prefetch;
	struct pathlist l;
	struct db_txn t;
	struct buf b;
	char name[64];
	uint64_t head = 0;
	int fd, r;

	if (p == NULL || p->conf.workingset_files == 0 || p->nop == 0)
		return;
	if (db_begin(fs->db, &t, 0) == 0) {
		head = journal_head(&t);
		db_abort(&t);
	}
	if (head != UINT64_MAX) {
		log_info("working set not written: changes still wait for the server");
		return;
	}
	if (workingset_list(fs, p, &l) < 0 || l.n == 0) {
		pathlist_free(&l);
		return;
	}
	buf_init(&b, 0);
	r = pathlist_format(&l, "# roamfs working set: the files the last session opened, most "
	    "recent first.\n# Written by roamfs at logout; the next login fetches them ahead. "
	    "See roamfs(8).\n", &b);
	if (r == 0 && (fd = cache_tmp_open(fs->cache, 0, name)) >= 0) {
		if (write(fd, b.data, b.len) != (ssize_t)b.len)
			r = -EIO;
		else
			r = upload_list(fs, fd, PATHLIST_WORKINGSET);
		close(fd);
		cache_tmp_discard(fs->cache, name);
	}
	if (r == 0)
		log_info("wrote the working set of this session (%zu files) to %s", l.n,
		    PATHLIST_WORKINGSET);
	else if (r != -EOFFLINE)
		log_warn("cannot write the working set to %s on the server: %s; the next login "
		    "fetches files as they are opened", PATHLIST_WORKINGSET, strerror(-r));
	buf_free(&b);
	pathlist_free(&l);
}
