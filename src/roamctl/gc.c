/*
 * gc: roamctl gc, the housekeeping of the caches (see gc.h).
 *
 * A cache is an entry of the cache root that is a directory (not a
 * symbolic link) holding a directory db/; dot files such as .usage.NAME
 * are not caches.  gc takes each cache's lock, DIR/lock, as roamfs does,
 * and keeps it while it works there, so that no roamfs starts on the
 * cache meanwhile (one that tries fails with "in use" for those seconds).
 * A lock held, or a roamfs answering on the cache's socket, means a
 * roamfs runs there, and the cache is left alone.  The changes waiting
 * and set aside come from the database (summary.h); the cache's last use
 * is the mtime of DIR/db/data.mdb, as roamctl status --all shows it.
 *
 * Removal walks the directory with openat/unlinkat/fstatat, never
 * following a symbolic link and never leaving the cache's file system,
 * and removes the lock last, so that a roamfs started meanwhile still
 * meets the held lock.  Trimming (evict_trim_idle) writes to the database
 * as root; the owner of its files and the mtime of data.mdb are put back
 * afterwards, so that the cache stays the user's and its last use stays
 * the user's last login.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roam/db.h"
#include "cache.h"
#include "evict.h"
#include "gc.h"
#include "roamctl.h"
#include "summary.h"

/* roamctl's exit statuses (roamctl(8)). */
enum { GC_EXIT_DONE = 0, GC_EXIT_FAILED = 1, GC_EXIT_USAGE = 2 };

#define DAY_S		86400
#define RM_DEPTH	32	/* a cache is shallow: deeper is refused, not followed */

enum gc_action { GC_NONE, GC_REMOVED, GC_TRIMMED, GC_KEPT };

static const char *const action_name[] = { "none", "removed", "trimmed", "kept" };

/* One cache directory under the root. */
struct gc_cache {
	char *name;		/* its name in the root */
	char *path;		/* ROOT/NAME */
	char user[64];		/* its owner's name, or uid */
	uid_t uid;
	gid_t gid;
	dev_t dev;		/* the file system it is on */
	ino_t ino;
	struct timespec used;	/* the mtime of db/data.mdb: its last use */
	int locked;		/* encrypted, its key not on the system: names and
				 * contents unreadable (DIR/key, DIR/state: cache.h) */
	int clean;		/* locked: DIR/state says all its changes were sent */
	int lockfd;		/* its lock while gc holds it, else -1 */
	int idle;		/* no roamfs, nothing unsent: may be trimmed */
	uint64_t contents;	/* DIR/data and DIR/tmp, as the budgets count them */
	enum gc_action action;
	char reason[160];
	uint64_t freed;
};

struct gc {
	const struct siteconf *site;
	const char *root;
	int rootfd;
	int dry_run;
	time_t now;
	struct gc_cache *v;
	size_t n, cap;
	int status;		/* the exit status so far */
};

/* Say what failed, one line on standard error; gc ends with status 1. */
static void
gc_fail(struct gc *g, const char *fmt, ...)
{
	va_list ap;

	fputs("roamctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	g->status = GC_EXIT_FAILED;
}

/* Out of memory: nothing sensible is left to do. */
static void
gc_oom(void)
{
	fprintf(stderr, "roamctl: out of memory\n");
	exit(GC_EXIT_FAILED);
}

/* Release c's lock, if gc holds it. */
static void
gc_unlock(struct gc_cache *c)
{
	if (c->lockfd >= 0)
		close(c->lockfd);
	c->lockfd = -1;
}

/* Leave c as it is, for reason (printf format). */
static void
gc_keep(struct gc_cache *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
	c->action = GC_KEPT;
	c->idle = 0;
	gc_unlock(c);
}

/* ---- finding the caches ---- */

/* Add the directory name of the root (its lstat st) to the list. */
static void
gc_add(struct gc *g, const char *name, const struct stat *st)
{
	struct gc_cache *c;
	struct passwd *pw;

	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct gc_cache *v = realloc(g->v, cap * sizeof *v);

		if (v == NULL)
			gc_oom();
		g->v = v;
		g->cap = cap;
	}
	c = &g->v[g->n++];
	memset(c, 0, sizeof *c);
	if ((c->name = strdup(name)) == NULL ||
	    asprintf(&c->path, "%s/%s", g->root, name) < 0)
		gc_oom();
	c->uid = st->st_uid;
	c->gid = st->st_gid;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->lockfd = -1;
	if ((pw = getpwuid(st->st_uid)) != NULL)
		snprintf(c->user, sizeof c->user, "%s", pw->pw_name);
	else
		snprintf(c->user, sizeof c->user, "%lu", (unsigned long)st->st_uid);
}

/* By name, for a report in a stable order. */
static int
gc_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct gc_cache *)a)->name, ((const struct gc_cache *)b)->name);
}

/* List the caches under the root: 0, or -errno (ENOENT: no root, no caches). */
static int
gc_scan(struct gc *g)
{
	struct dirent *d;
	struct stat st, db;
	char sub[NAME_MAX + 8];
	int fd = openat(g->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' ||
		    fstatat(g->rootfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		snprintf(sub, sizeof sub, "%s/db", d->d_name);
		if (fstatat(g->rootfd, sub, &db, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(db.st_mode))
			gc_add(g, d->d_name, &st);
	}
	closedir(dir);
	if (g->n)
		qsort(g->v, g->n, sizeof *g->v, gc_cmp_name);
	return 0;
}

/* ---- looking at one ---- */

/*
 * Take c's lock as roamfs does (a lock file missing is made, the user's):
 * 0, -EBUSY when a roamfs holds it, or -errno.  A dry run makes nothing.
 */
static int
gc_lock(struct gc *g, struct gc_cache *c)
{
	char lock[NAME_MAX + 8];
	struct stat st;
	int fd;

	snprintf(lock, sizeof lock, "%s/lock", c->name);
	/* O_NONBLOCK: a FIFO put there must not hold gc up. */
	fd = openat(g->rootfd, lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && g->dry_run)
		return 0;
	if (fd < 0 && errno == ENOENT &&
	    (fd = openat(g->rootfd, lock, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) >= 0 && fchown(fd, c->uid, c->gid) < 0) {
		close(fd);
		return -errno;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return e;
	}
	c->lockfd = fd;
	return 0;
}

/* When c was last used: the mtime of its database, DIR/db/data.mdb. */
static void
gc_last_use(struct gc *g, struct gc_cache *c)
{
	char path[NAME_MAX + 16], state[16];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/db/data.mdb", c->name);
	if (fstatat(g->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		c->used = st.st_mtim;
		return;
	}
	/* An encrypted cache without its key: DIR/state is written at each
	 * mount and at its end, and says whether all was sent. */
	snprintf(path, sizeof path, "%s/key", c->name);
	if (fstatat(g->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return;
	c->locked = 1;
	snprintf(path, sizeof path, "%s/state", c->name);
	if ((fd = openat(g->rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		c->used = st.st_mtim;
		n = read(fd, state, sizeof state - 1);
		state[n > 0 ? n : 0] = '\0';
		c->clean = strcmp(state, "clean\n") == 0;
	}
	close(fd);
}

/* Read c's counts of changes waiting and set aside: 0 or -errno. */
static int
gc_read(struct gc_cache *c, uint64_t *changes, uint64_t *aside)
{
	struct summary s = { 0 };
	struct db_txn tx;
	struct db *db;
	char *cause = NULL, *dbdir;
	int e;

	if (c->locked) {
		/* Its database is ciphertext: only DIR/state can tell. */
		*changes = *aside = 0;
		return c->used.tv_sec == 0 ? -ENOENT : 0;
	}
	if (c->used.tv_sec == 0)
		return -ENOENT;	/* no data.mdb, or not a file */
	if (asprintf(&dbdir, "%s/db", c->path) < 0)
		gc_oom();
	e = db_open_readonly(dbdir, &db, &cause);
	free(dbdir);
	free(cause);
	if (e < 0)
		return e;
	if ((e = db_begin(db, &tx, 0)) == 0) {
		e = summary_read(&tx, &s);
		db_abort(&tx);
	}
	db_close(db);
	*changes = s.changes;
	*aside = s.set_aside;
	summary_free(&s);
	return e;
}

/* ---- removing ---- */

static int rm_tree(int pfd, const char *name, dev_t dev, int depth, int dry, uint64_t *freed);

/*
 * Remove what the directory fd holds, but the entry keep (NULL: all),
 * adding what its files took to *freed.  0, or the first -errno.
 */
static int
rm_children(int fd, dev_t dev, int depth, const char *keep, int dry, uint64_t *freed)
{
	/* A descriptor of its own for the listing: fd stays the caller's. */
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = 0, r;
	DIR *dir = own < 0 ? NULL : fdopendir(own);
	struct dirent *d;

	if (dir == NULL) {
		e = -errno;
		if (own >= 0)
			close(own);
		return e;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    (keep && strcmp(d->d_name, keep) == 0))
			continue;
		if ((r = rm_tree(fd, d->d_name, dev, depth, dry, freed)) < 0 && e == 0)
			e = r;
	}
	closedir(dir);
	return e;
}

/*
 * Remove name of the directory pfd, a whole tree for a directory, adding
 * the bytes its files took to *freed; with dry, only count.  Never
 * follows a symbolic link, never leaves the file system dev.  0, or the
 * first -errno (what could go is gone).
 */
static int
rm_tree(int pfd, const char *name, dev_t dev, int depth, int dry, uint64_t *freed)
{
	struct stat st, fst;
	int fd, e = 0;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st.st_dev != dev)
		return -EXDEV;
	if (S_ISDIR(st.st_mode)) {
		if (depth >= RM_DEPTH)
			return -ELOOP;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* The directory opened is the one looked at, on the same disk. */
		if (fstat(fd, &fst) < 0 || fst.st_dev != dev || fst.st_ino != st.st_ino)
			e = -EXDEV;
		else
			e = rm_children(fd, dev, depth + 1, NULL, dry, freed);
		close(fd);
	}
	if (e == 0 && !dry && unlinkat(pfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
	    errno != ENOENT)
		e = -errno;
	if (e == 0 && (S_ISDIR(st.st_mode) || st.st_nlink <= 1))
		*freed += (uint64_t)st.st_blocks * 512;
	return e;
}

/*
 * Remove the cache directory of c, its lock last, and its usage file,
 * adding what they took to *freed; with dry, only count.
 */
static int
rm_cache(struct gc *g, struct gc_cache *c, int dry, uint64_t *freed)
{
	char usage[NAME_MAX + 16];
	struct stat st;
	int fd, e;

	fd = openat(g->rootfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
		close(fd);
		return -ESTALE;	/* replaced since it was looked at */
	}
	e = rm_children(fd, c->dev, 1, "lock", dry, freed);
	if (e == 0)
		e = rm_tree(fd, "lock", c->dev, 1, dry, freed);
	close(fd);
	if (e == 0 && !dry && unlinkat(g->rootfd, c->name, AT_REMOVEDIR) < 0)
		e = -errno;
	if (e == 0)
		*freed += (uint64_t)st.st_blocks * 512;
	snprintf(usage, sizeof usage, ".usage.%s", c->name);
	if (!dry)
		unlinkat(g->rootfd, usage, 0);	/* a leftover of a roamfs that died */
	return e;
}

/*
 * Remove c, expired; say so when it fails.  A walk that only counts goes
 * first, so that a cache that cannot go whole (a file system mounted in
 * it, say) stays whole, and a cache still, for the next run.
 */
static void
gc_remove(struct gc *g, struct gc_cache *c, const char *reason)
{
	uint64_t count = 0;
	int e = rm_cache(g, c, 1, &count);

	if (e == 0 && !g->dry_run)
		e = rm_cache(g, c, 0, &c->freed);
	else
		c->freed = e == 0 ? count : 0;

	gc_unlock(c);
	c->idle = 0;
	c->contents = 0;
	if (e == 0) {
		c->action = GC_REMOVED;
		snprintf(c->reason, sizeof c->reason, "%s", reason);
		return;
	}
	gc_fail(g, "cannot remove %s: %s; look at what it holds and remove it by hand", c->path,
	    e == -EXDEV ? "another file system is mounted in it" :
	    e == -ELOOP ? "it holds folders nested too deep" : strerror(-e));
	gc_keep(c, "could not be removed: %s", e == -EXDEV ? "a file system is mounted in it" :
	    e == -ELOOP ? "folders nested too deep" : strerror(-e));
}

/* ---- trimming ---- */

/* Give the database back to c's user (gc wrote it as root), and its last use. */
static void
gc_give_back(struct gc *g, struct gc_cache *c)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct timespec ts[2] = { { 0, UTIME_OMIT }, c->used };
	char path[NAME_MAX + 16];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/db/%s", c->name, files[i]);
		if (fstatat(g->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_uid != c->uid || st.st_gid != c->gid) &&
		    fchownat(g->rootfd, path, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0)
			gc_fail(g, "cannot give %s/db/%s back to its user: %s; run chown %s %s/db/%s",
			    c->path, files[i], strerror(errno), c->user, c->path, files[i]);
	}
	snprintf(path, sizeof path, "%s/db/data.mdb", c->name);
	utimensat(g->rootfd, path, ts, AT_SYMLINK_NOFOLLOW);
}

/*
 * Drop clean contents of c, least recently used first, down to budget
 * bytes; why says for which budget.  A dry run counts what is over.
 */
static void
gc_trim(struct gc *g, struct gc_cache *c, uint64_t budget, const char *why)
{
	struct evict_count n;
	struct db *db;
	uint64_t used;
	char *dbdir, *cause = NULL;
	int e;

	if (c->locked) {
		/* Without its key the database cannot say what is clean: an
		 * encrypted cache all of which is on the server goes whole. */
		char reason[sizeof c->reason];

		snprintf(reason, sizeof reason, "%s; encrypted and locked, so removed whole (all "
		    "of it was on the server)", why);
		gc_remove(g, c, reason);
		return;
	}
	if (g->dry_run) {
		n.bytes = c->contents > budget ? c->contents - budget : 0;
		used = c->contents;
	} else {
		if (asprintf(&dbdir, "%s/db", c->path) < 0)
			gc_oom();
		e = db_open(dbdir, CACHE_MAP_SIZE, &db, &cause);
		free(dbdir);
		if (e == 0) {
			e = evict_trim_idle(c->path, db, budget, &used, &n);
			db_close(db);
		}
		gc_give_back(g, c);
		if (e < 0) {
			gc_fail(g, "cannot trim %s: %s; see %s/roamfs.log and roamctl status --all",
			    c->path, cause ? cause : strerror(-e), c->path);
			free(cause);
			return;
		}
	}
	c->contents = used > n.bytes ? used - n.bytes : 0;
	c->freed += n.bytes;
	if (n.bytes) {
		c->action = GC_TRIMMED;
		snprintf(c->reason, sizeof c->reason, "%s", why);
	} else if (c->action != GC_TRIMMED) {
		snprintf(c->reason, sizeof c->reason, "%s, but nothing in it can be dropped (files "
		    "made here, local-only or pinned)", why);
	}
}

/*
 * Look at one cache: leave it alone when a roamfs runs on it or it holds
 * what is not on the server, else remove it when expired, or trim it to
 * its own budget.  It keeps its lock while it may be trimmed further.
 */
static void
gc_examine(struct gc *g, struct gc_cache *c)
{
	uint64_t changes = 0, aside = 0, max;
	unsigned expire = g->site->cache_expire, days;
	int e;

	c->contents = evict_contents_size(c->path);
	gc_last_use(g, c);
	if ((e = gc_lock(g, c)) == -EBUSY || (e == 0 && is_running(c->path))) {
		gc_keep(c, "in use by a running roamfs");
	} else if (e < 0) {
		gc_fail(g, "cannot take the lock of %s: %s; check %s/lock (a regular file, the "
		    "user's)", c->path, strerror(-e), c->path);
		gc_keep(c, "its lock cannot be taken: %s", strerror(-e));
	} else if ((e = gc_read(c, &changes, &aside)) < 0) {
		gc_fail(g, "cannot read the database of %s: %s; it is kept: see %s/roamfs.log, and "
		    "remove it by hand if it is of no use", c->path, strerror(-e), c->path);
		gc_keep(c, "its database cannot be read: %s", strerror(-e));
	} else if (c->locked && !c->clean) {
		gc_keep(c, "encrypted with %s's password, and it may hold changes not on the "
		    "server yet; they go at %s's next login", c->user, c->user);
	} else if (changes) {
		gc_keep(c, "%llu change%s not on the server yet; they go at %s's next login",
		    (unsigned long long)changes, changes == 1 ? "" : "s", c->user);
	} else if (aside) {
		gc_keep(c, "%llu change%s refused by the server, set aside; %s's roamctl "
		    "set-aside lists them at the next login", (unsigned long long)aside,
		    aside == 1 ? "" : "s", c->user);
	}
	if (c->action == GC_KEPT)
		return;
	c->idle = 1;
	days = g->now > c->used.tv_sec ? (unsigned)((g->now - c->used.tv_sec) / DAY_S) : 0;
	snprintf(c->reason, sizeof c->reason, "last used %u day%s ago, within its budget", days,
	    days == 1 ? "" : "s");
	if (expire > 0 && days >= expire) {
		char reason[sizeof c->reason];

		snprintf(reason, sizeof reason, "not used for %u days (cache_expire = %u)", days,
		    expire);
		gc_remove(g, c, reason);
		return;
	}
	max = size_opt_resolve(&g->site->cache_max, c->path);
	if (max && c->contents > max)
		gc_trim(g, c, max - max / 10, "over its own budget, cache_max");
}

/* Least recently used first. */
static int
gc_cmp_used(const void *a, const void *b)
{
	const struct gc_cache *x = *(struct gc_cache *const *)a, *y = *(struct gc_cache *const *)b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	return (x->used.tv_nsec > y->used.tv_nsec) - (x->used.tv_nsec < y->used.tv_nsec);
}

/*
 * The machine's budget: when all the caches together pass cache_total,
 * trim the idle ones, the least recently used first, each as far as
 * needed, until they are within 90% of it.
 */
static void
gc_machine(struct gc *g)
{
	uint64_t total = size_opt_resolve(&g->site->cache_total, g->root), sum = 0, target;
	struct gc_cache **idle;
	size_t i, ni = 0;

	if (total == 0)
		return;
	for (i = 0; i < g->n; i++)
		sum += g->v[i].contents;
	if (sum <= total)
		return;
	target = total - total / 10;
	if ((idle = calloc(g->n, sizeof *idle)) == NULL)
		gc_oom();
	for (i = 0; i < g->n; i++)
		if (g->v[i].idle)
			idle[ni++] = &g->v[i];
	qsort(idle, ni, sizeof *idle, gc_cmp_used);
	for (i = 0; i < ni && sum > target; i++) {
		uint64_t need = sum - target, before = idle[i]->contents;

		if (before == 0)
			continue;
		gc_trim(g, idle[i], before > need ? before - need : 0,
		    "for the machine's budget, cache_total");
		sum -= before - idle[i]->contents;
	}
	free(idle);
}

/* ---- saying what was done ---- */

/* One line for c (nothing for a cache left as it was). */
static void
gc_print(const struct gc *g, const struct gc_cache *c)
{
	switch (c->action) {
	case GC_REMOVED:
		printf("%s %s (user %s, last used ", g->dry_run ? "would remove" : "removed", c->path,
		    c->user);
		print_time(c->used.tv_sec);
		fputs("): ", stdout);
		print_bytes(c->freed);
		puts(g->dry_run ? " to free" : " freed");
		break;
	case GC_TRIMMED:
		printf("%s %s (user %s, %s): ", g->dry_run ? "would trim" : "trimmed", c->path, c->user,
		    c->reason);
		print_bytes(c->freed);
		puts(g->dry_run ? " to free at most" :
		    " freed; what went is fetched again when opened");
		break;
	case GC_KEPT:
		printf("kept %s (user %s): %s\n", c->path, c->user, c->reason);
		break;
	case GC_NONE:
		break;
	}
}

/* c as a JSON object (roamctl(8), JSON FIELDS, gc). */
static void
gc_json(const struct gc_cache *c)
{
	fputs("{\"cache\":", stdout);
	json_str(c->path);
	fputs(",\"user\":", stdout);
	json_str(c->user);
	printf(",\"last_used\":%lld,\"action\":\"%s\",\"reason\":", (long long)c->used.tv_sec,
	    action_name[c->action]);
	json_str(c->reason);
	printf(",\"freed_bytes\":%llu}", (unsigned long long)c->freed);
}

/* Every cache, then the sums (text), or the JSON array. */
static void
gc_report(const struct gc *g, int json)
{
	size_t i, counts[4] = { 0 };
	uint64_t freed = 0;

	if (json)
		putchar('[');
	for (i = 0; i < g->n; i++) {
		if (json) {
			if (i)
				putchar(',');
			gc_json(&g->v[i]);
		} else {
			gc_print(g, &g->v[i]);
		}
		counts[g->v[i].action]++;
		freed += g->v[i].freed;
	}
	if (json) {
		puts("]");
		return;
	}
	fputs(g->dry_run ? "would free " : "freed ", stdout);
	print_bytes(freed);
	printf(" in all (%zu caches %s, %zu %s, %zu kept)%s\n", counts[GC_REMOVED],
	    g->dry_run ? "to remove" : "removed", counts[GC_TRIMMED],
	    g->dry_run ? "to trim" : "trimmed", counts[GC_KEPT],
	    g->dry_run ? "; --dry-run: nothing was changed" : "");
}

/* ---- the command ---- */

/* As many open files as allowed: gc holds the lock of every idle cache. */
static void
gc_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Release the locks and free the list. */
static void
gc_free(struct gc *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		gc_unlock(&g->v[i]);
		free(g->v[i].name);
		free(g->v[i].path);
	}
	free(g->v);
	if (g->rootfd >= 0)
		close(g->rootfd);
}

/* roamctl gc: see gc.h. */
int
gc_run(const struct siteconf *site, const char *root, int json, int dry_run)
{
	struct gc g = { .site = site, .root = root, .rootfd = -1, .dry_run = dry_run,
	    .now = time(NULL), .status = GC_EXIT_DONE };
	size_t i;
	int e;

	if (geteuid() != 0) {
		fprintf(stderr, "roamctl: gc removes and trims the caches of every user: run it as "
		    "root\n");
		return GC_EXIT_USAGE;
	}
	gc_raise_nofile();
	g.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e = g.rootfd < 0 ? -errno : gc_scan(&g);
	if (e < 0 && e != -ENOENT) {	/* no root yet: no cache either */
		gc_fail(&g, "cannot read the cache root %s: %s; check cache_root in the site "
		    "configuration (roamfs.conf(5)) or --cache-root", root, strerror(-e));
		gc_free(&g);
		return g.status;
	}
	for (i = 0; i < g.n; i++)
		gc_examine(&g, &g.v[i]);
	gc_machine(&g);
	gc_report(&g, json);
	fflush(stdout);
	gc_free(&g);
	return g.status;
}
