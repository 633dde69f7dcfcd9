/*
 * listing: bring the server's directory listings into the cache.
 *
 * A directory is listed when it was never listed, or not since the mount,
 * or longer ago than dir_ttl; the listing is merged into LMDB without ever
 * touching objects that have local changes not yet replayed.  A listing
 * served from the cache while the server was away is marked stale and
 * listed again once the server is at hand (listing_refresh_stale).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "roam/log.h"
#include "journal.h"
#include "listing.h"
#include "notify.h"
#include "pending.h"
#include "prefetch.h"
#include "roamfs.h"
#include "version.h"

struct listing {
	struct roamfs *fs;
	int root;		/* a listing of the home's root */
	char *marks;		/* its markers (pending_seen) */
	char *sessions;		/* its session markers (session_seen) */
	size_t n, cap;
	struct lent {
		char *name;
		struct sftp_attr a;
	} *e;
};

/*
 * The records the replay ended lately, numbered: a listing notes the
 * number before it asks the server, and before it merges it looks here
 * for records that ended since in the directory it lists (or that moved
 * the directory or a folder above it).  The journal no longer holds
 * those, so the merge could not tell that the listing predates them: it
 * would bring back a name just removed, or drop one just made.  Such a
 * listing is taken again.
 */
#define REPLAYED_MAX	1024
static pthread_mutex_t replayed_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t replayed_gen;		/* records ended so far */
static struct replayed {
	uint64_t gen;
	uint8_t type;
	char *path, *path2;
} replayed[REPLAYED_MAX];

void
listing_replayed(const struct jrec *r)
{
	struct replayed *e;

	pthread_mutex_lock(&replayed_lock);
	e = &replayed[replayed_gen % REPLAYED_MAX];
	free(e->path);
	free(e->path2);
	e->gen = ++replayed_gen;
	e->type = r->type;
	e->path = strdup(r->path);
	e->path2 = r->path2 ? strdup(r->path2) : NULL;
	pthread_mutex_unlock(&replayed_lock);
}

uint64_t
listing_gen(void)
{
	uint64_t g;

	pthread_mutex_lock(&replayed_lock);
	g = replayed_gen;
	pthread_mutex_unlock(&replayed_lock);
	return g;
}

/* Whether a change at p (relative to the home) shows in a listing of dir,
 * or moved dir or a folder above it. */
static int
touches(const char *p, const char *dir)
{
	const char *slash;
	size_t n, dl = strlen(dir);

	if (p == NULL)
		return 0;
	slash = strrchr(p, '/');
	n = slash ? (size_t)(slash - p) : 0;
	if (n == dl && strncmp(p, dir, n) == 0)
		return 1;	/* in dir */
	n = strlen(p);
	return n <= dl && strncmp(p, dir, n) == 0 && (dir[n] == '/' || dir[n] == '\0');
}

/* Whether a record that ended after gen touched dir (or too many ended to tell). */
int
listing_replayed_since(uint64_t gen, const char *dir)
{
	uint64_t g;
	int hit = 0;

	pthread_mutex_lock(&replayed_lock);
	if (replayed_gen - gen >= REPLAYED_MAX)
		hit = 1;
	for (g = gen + 1; !hit && g <= replayed_gen; g++) {
		const struct replayed *e = &replayed[(g - 1) % REPLAYED_MAX];

		hit = e->path == NULL || touches(e->path, dir) || touches(e->path2, dir);
	}
	pthread_mutex_unlock(&replayed_lock);
	return hit;
}

static int
listing_add(void *arg, const char *name, const struct sftp_attr *a)
{
	struct listing *l = arg;
	struct lent *e;

	if (l->root && strncmp(name, PENDING_PREFIX, strlen(PENDING_PREFIX)) == 0)
		return pending_seen(l->fs, &l->marks, name, a);	/* a workstation's marker */
	if (l->root && strncmp(name, SESSION_PREFIX, strlen(SESSION_PREFIX)) == 0)
		return session_seen(l->fs, &l->sessions, name, a);
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
	free(l->marks);
	free(l->sessions);
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

static int collect_local(void *arg, const char *name, size_t len, uint64_t ino);
static void merge_gone(struct roamfs *fs, struct db_txn *t, struct inode *dir, const char *name,
    uint64_t ino);

/* A directory the server no longer has: drop what it holds, but what has
 * local changes (which the replay then sends, making it again). */
static void
merge_gone_below(struct roamfs *fs, struct db_txn *t, struct inode *dir)
{
	struct buf names, rd;
	uint64_t cino;
	char *name;

	buf_init(&names, 0);
	meta_dir_scan(t, dir->ino, collect_local, &names);
	buf_wrap(&rd, names.data, names.len);
	while (t->ret == 0 && buf_avail(&rd) > 0) {
		if (buf_get_u64(&rd, &cino) < 0 || buf_get_cstr(&rd, &name) < 0)
			break;
		merge_gone(fs, t, dir, name, cino);
		free(name);
	}
	buf_free(&names);
	meta_inode_put(t, dir);
}

/* A name the server no longer has: drop it locally unless it has local
 * changes; a directory with all it holds that has none. */
static void
merge_gone(struct roamfs *fs, struct db_txn *t, struct inode *dir, const char *name, uint64_t ino)
{
	struct inode in;

	if (meta_inode_get(t, ino, &in) < 0)
		return;
	if (!(in.flags & I_REMOTE) || version_local_changes(fs, t, &in)) {
		inode_free(&in);
		return;
	}
	if (S_ISDIR(in.mode))
		merge_gone_below(fs, t, &in);
	if (S_ISDIR(in.mode) && meta_dir_empty(t, ino) != 1) {
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

/*
 * What the server's listing says of a file's other names (a->nlink, from
 * the entry's long name): I_LINKED while it has several, so that its
 * uploads rewrite it in place and the names stay one file there (replay.c).
 * 1 when the flag changed.
 */
static int
linked(struct inode *in, const struct sftp_attr *a)
{
	uint32_t was = in->flags;

	if (!S_ISREG(in->mode) || a->nlink == 0 || !S_ISREG(attr_mode(a)))
		return 0;
	if (a->nlink > 1)
		in->flags |= I_LINKED;
	else
		in->flags &= ~I_LINKED;
	return in->flags != was;
}

/* A name both sides have: take the server's version if ours is clean and differs. */
static void
merge_known(struct roamfs *fs, struct db_txn *t, uint64_t ino, const struct sftp_attr *a)
{
	struct inode in;
	int r = 0;

	if (meta_inode_get(t, ino, &in) < 0)
		return;
	if (!version_local_changes(fs, t, &in) && (in.mode & S_IFMT) == (attr_mode(a) & S_IFMT) &&
	    (r = version_take(fs, &in, a)) > 0)
		meta_inode_put(t, &in);
	if (linked(&in, a))
		meta_inode_put(t, &in);
	inode_free(&in);
	if (r == 2)
		notify_renew(fs, t, ino);	/* its size and pages in the kernel */
	else if (r == 1)
		notify_inode(fs, ino);
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
	if (exclude_path(fs->exclude, rel, S_ISDIR(in.mode)))
		return;	/* excluded paths are never fetched */
	if (meta_alloc_ino(t, &in.ino) < 0)
		return;
	in.nlink = S_ISDIR(in.mode) ? 2 : 1;
	in.size = a->size;
	in.mtime_s = in.ctime_s = in.atime_s = a->mtime;
	in.flags = I_REMOTE;
	linked(&in, a);
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

/*
 * Merge a server listing of directory ino, asked for when the replay had
 * ended gen records, into LMDB: -ESTALE when records that ended since
 * touched the directory, unless careful.  A careful merge only adds the
 * names the cache lacks and never removed: it drops nothing and takes no
 * version, as the listing may predate changes of ours.
 */
static int
merge_listing(struct roamfs *fs, uint64_t ino, const char *dirrel, struct listing *l,
    uint64_t gen, int careful)
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
	/* Checked in the transaction: a record whose end is not committed
	 * yet is still in the journal this merge reads. */
	if (!careful && listing_replayed_since(gen, dirrel)) {
		inode_free(&dir);
		db_abort(&t);
		return -ESTALE;
	}
	nlink = dir.nlink;
	if (!careful)
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
			if (!careful)
				merge_known(fs, &t, cino, &l->e[i].a);
			continue;
		}
		if (careful && meta_tomb_get(&t, ino, l->e[i].name, &cino) == 0)
			continue;	/* removed here, lately or not */
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
/* Whether directory ino was listed less than dir_ttl ago. */
static int
listed_fresh(struct roamfs *fs, uint64_t ino)
{
	struct node *n;
	int fresh;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	fresh = n && n->listed && (fs->dir_ttl == 0 ||
	    time(NULL) - (time_t)n->listed < (time_t)fs->dir_ttl);
	nodes_unlock(fs->nodes);
	return fresh;
}

/*
 * Whether directory in, or a folder above it, was renamed here by a record
 * still to be sent: the server's object at its path is not it yet (a
 * folder renamed over an empty one, say), and a listing of that path would
 * drop what it holds.
 */
int
listing_moving(struct db_txn *t, const struct inode *in)
{
	struct inode up;
	uint64_t ino = in->ino, next = in->parent;
	int depth, hit = 0;

	for (depth = 0; ino != INO_ROOT && ino != 0 && depth < 4096 && !hit; depth++) {
		hit = journal_ino_has(t, ino, J_RENAME) > 0;
		if (depth > 0 && meta_inode_get(t, ino, &up) == 0) {
			next = up.parent;
			inode_free(&up);
		} else if (depth > 0) {
			break;
		}
		ino = next;
	}
	return hit;
}

static int
dir_needs_listing(struct roamfs *fs, uint64_t ino, char **rel)
{
	struct db_txn t;
	struct inode in;
	int r;

	if (listed_fresh(fs, ino))
		return 0;
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) == 0) {
		if (!S_ISDIR(in.mode))
			r = -ENOTDIR;
		else if ((in.flags & (I_EXCLUDED | I_LOCALNEW)) || !(in.flags & I_REMOTE))
			r = 0;
		else if ((in.flags & I_LISTED) && listing_moving(&t, &in))
			r = 0;	/* the server has it elsewhere until the rename is sent */
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

void
listing_expire(struct roamfs *fs, uint64_t dir)
{
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, dir)) != NULL)
		n->listed = 0;
	nodes_unlock(fs->nodes);
}

int
listing_expire_parent(struct roamfs *fs, struct db_txn *t, const char *rel, uint64_t *dir)
{
	const char *slash = strrchr(rel, '/');
	char *dn = strndup(rel, slash ? (size_t)(slash - rel) : 0);
	uint64_t d;
	int r;

	if (dn == NULL)
		return -ENOMEM;
	if ((r = meta_lookup(t, dn, &d)) == 0) {
		listing_expire(fs, d);
		if (dir)
			*dir = d;
	}
	free(dn);
	return r;
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
listing_refresh_stale(struct roamfs *fs)
{
	struct buf inos;
	size_t i;

	buf_init(&inos, 0);
	nodes_lock(fs->nodes);
	nodes_take_stale(fs->nodes, nodes_put_ino, &inos);
	nodes_unlock(fs->nodes);
	for (i = 0; i + 8 <= inos.len; i += 8)
		listing_update(fs, be_get_u64(inos.data + i), 0);
	buf_free(&inos);
}

/*
 * The directories being listed now, so that two threads (a program and the
 * prefetcher at login) do not list one twice: the second waits for the
 * first, then finds the listing fresh.
 */
#define INFLIGHT_MAX 32
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_cond = PTHREAD_COND_INITIALIZER;
static uint64_t inflight[INFLIGHT_MAX];
static unsigned ninflight;

/* 1: this thread lists ino (inflight_end after); 0: another did meanwhile. */
static int
inflight_begin(uint64_t ino)
{
	unsigned i;
	int waited = 0, found;

	pthread_mutex_lock(&inflight_lock);
	for (;;) {
		for (i = 0, found = 0; i < ninflight && !found; i++)
			found = inflight[i] == ino;
		if (!found)
			break;
		waited = 1;
		pthread_cond_wait(&inflight_cond, &inflight_lock);
	}
	if (!waited && ninflight < INFLIGHT_MAX)
		inflight[ninflight++] = ino;
	pthread_mutex_unlock(&inflight_lock);
	return !waited;
}

static void
inflight_end(uint64_t ino)
{
	unsigned i;

	pthread_mutex_lock(&inflight_lock);
	for (i = 0; i < ninflight; i++)
		if (inflight[i] == ino) {
			inflight[i] = inflight[--ninflight];
			break;
		}
	pthread_cond_broadcast(&inflight_cond);
	pthread_mutex_unlock(&inflight_lock);
}

static int listing_run(struct roamfs *fs, uint64_t ino, int wait, int need, char *rel);

int
listing_update(struct roamfs *fs, uint64_t ino, int wait)
{
	char *rel = NULL;
	int need, r;

	for (;;) {
		if ((need = dir_needs_listing(fs, ino, &rel)) <= 0)
			return need;
		if (inflight_begin(ino))
			break;
		free(rel);	/* listed by another thread: fresh now, unless it failed */
		rel = NULL;
	}
	r = listing_run(fs, ino, wait, need, rel);
	inflight_end(ino);
	return r;
}

/* List directory ino (at rel, freed here) from the server and merge it. */
static int
listing_run(struct roamfs *fs, uint64_t ino, int wait, int need, char *rel)
{
	struct listing l = { fs, ino == INO_ROOT, NULL, NULL, 0, 0, NULL };
	struct sftp *s;
	uint64_t gen;
	char *path;
	int r, tries = 0;

	if ((path = remote_path(fs->fg, rel)) == NULL) {
		free(rel);
		return -ENOMEM;
	}
again:
	gen = listing_gen();
	/* A cached listing is served at once when the server is not at hand. */
	r = need == 2 && !wait ? remote_try_acquire(fs->fg, &s) : remote_acquire(fs->fg, &s);
	if (r == 0) {
		r = sftp_readdir(s, path, listing_add, &l);
		remote_release(fs->fg, r);
		/* A connection that died while idle (the network came back since):
		 * once more on a new one, unless the cache can serve. */
		if (remote_is_transport_error(r) && !(need == 2 && !wait) &&
		    (r = remote_acquire(fs->fg, &s)) == 0) {
			listing_free(&l);
			memset(&l, 0, sizeof l);
			l.fs = fs;
			l.root = ino == INO_ROOT;
			r = sftp_readdir(s, path, listing_add, &l);
			remote_release(fs->fg, r);
		}
	}
	if (r < 0 && (remote_is_transport_error(r) || r == -EAGAIN || r == -EOFFLINE)) {
		if (need == 2)
			mark_stale(fs, ino);
		/* Never listed here: the folder's contents are not in the cache. */
		if (need != 2 && r == -EOFFLINE && !prefetch_thread()) {
			log_warn("%s: not in the cache and %s", *rel ? rel : "the home",
			    remote_offline_reason(fs->fg));
			prefetch_offline_miss(fs, *rel ? rel : ".");
		}
		free(rel);
		free(path);
		listing_free(&l);
		return need == 2 ? 0 : r;
	}
	if (r == 0 && l.root) {
		pending_listed(fs, l.marks);
		session_listed(fs, l.sessions);
	}
	if (r == 0 && (r = merge_listing(fs, ino, rel, &l, gen, tries == 2)) == -ESTALE) {
		/* Older than changes of ours that ended meanwhile: again,
		 * and the third time merged with care. */
		listing_free(&l);
		memset(&l, 0, sizeof l);
		l.fs = fs;
		l.root = ino == INO_ROOT;
		tries++;
		goto again;
	}
	if (r == -ENOENT)
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

