/*
 * fs: the FUSE low-level handlers of roamfs.
 *
 * Every change is applied to the cache and journaled in one LMDB
 * transaction; applications never wait for the network, except to list a
 * directory or download a file they reach for the first time (fetch.c).
 * Each handler replies exactly once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "evict.h"
#include "fetch.h"
#include "flush.h"
#include "fs.h"
#include "listing.h"
#include "notify.h"
#include "prefetch.h"
#include "replay.h"
#include "roamfs.h"

#define FS(req) ((struct roamfs *)fuse_req_userdata(req))

struct dirsnap {
	size_t n;
	struct dirsnap_ent {
		char *name;
		uint64_t ino;
		uint32_t mode;
	} *ents;
};

/* Fill a struct stat from an inode and its in-memory node (may be NULL). */
static void
fs_stat(const struct roamfs *fs, const struct inode *in, const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = in->ino;
	st->st_mode = in->mode;
	st->st_nlink = in->nlink;
	/* Other names on the server that this cache keeps apart: an editor
	 * that sees them writes the file in place (vim's backupcopy=auto). */
	if ((in->flags & I_LINKED) && in->nlink == 1)
		st->st_nlink = 2;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)in->size;
	st->st_mtim.tv_sec = in->mtime_s;
	st->st_mtim.tv_nsec = in->mtime_ns;
	st->st_ctim.tv_sec = in->ctime_s;
	st->st_ctim.tv_nsec = in->ctime_ns;
	st->st_atim.tv_sec = in->atime_s;
	st->st_atim.tv_nsec = in->atime_ns;
	if (n && NODE_HELD(n)) {
		st->st_size = (off_t)n->size;
		st->st_mtim = n->mtime;
	}
	st->st_blksize = 65536;
	st->st_blocks = (st->st_size + 511) / 512;
}

static void
now_ts(int64_t *s, uint32_t *ns)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	*s = t.tv_sec;
	*ns = (uint32_t)t.tv_nsec;
}

static void
touch_ctime(struct inode *in)
{
	now_ts(&in->ctime_s, &in->ctime_ns);
}

static void
touch_mtime(struct inode *in)
{
	now_ts(&in->mtime_s, &in->mtime_ns);
	in->ctime_s = in->mtime_s;
	in->ctime_ns = in->mtime_ns;
}

/*
 * Reply with an entry and count the kernel's new reference.  in was read
 * when nodes_saves gave seen.  With the writeback cache, a kernel inode
 * made from this reply keeps its size: if a save of the node ended since,
 * in may predate the size the node held, and is read again.
 */
static void
reply_entry(struct roamfs *fs, fuse_req_t req, const struct inode *in, uint64_t seen)
{
	const struct inode *given = in;
	struct fuse_entry_param e;
	struct inode again;
	struct node *n;
	int reread = 0, gone = 0;

	memset(&e, 0, sizeof e);
	e.ino = in->ino;
	nodes_lock(fs->nodes);
	while ((n = nodes_get(fs->nodes, e.ino)) != NULL && !NODE_HELD(n) && S_ISREG(in->mode) &&
	    nodes_saves(fs->nodes) != seen && !gone) {
		seen = nodes_saves(fs->nodes);
		nodes_unlock(fs->nodes);
		if (reread)
			inode_free(&again);
		reread = meta_inode_read(fs->db, e.ino, &again) == 0;
		gone = !reread;	/* removed meanwhile: what the caller read */
		in = reread ? &again : given;
		nodes_lock(fs->nodes);
	}
	if (n == NULL) {
		nodes_unlock(fs->nodes);
		if (reread)
			inode_free(&again);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n->nlookup++;
	fs_stat(fs, in, n, &e.attr);
	e.generation = n->gen;
	clock_gettime(CLOCK_MONOTONIC, &n->entry_until);
	n->entry_until.tv_sec += (time_t)fs->timeout;
	n->entry_until.tv_nsec += (long)((fs->timeout - (double)(time_t)fs->timeout) * 1e9);
	if (n->entry_until.tv_nsec >= 1000000000L) {
		n->entry_until.tv_sec++;
		n->entry_until.tv_nsec -= 1000000000L;
	}
	nodes_unlock(fs->nodes);
	if (reread)
		inode_free(&again);
	e.attr_timeout = fs->timeout;
	e.entry_timeout = fs->timeout;
	if (fuse_reply_entry(req, &e) == -ENOENT) {
		/* The request was interrupted: take the reference back. */
		nodes_lock(fs->nodes);
		n->nlookup--;
		nodes_drop_if_unused(fs->nodes, n);
		nodes_unlock(fs->nodes);
	}
}

/* Reply with the attributes of in and free it. */
static void
reply_attr(struct roamfs *fs, fuse_req_t req, struct inode *in)
{
	struct stat st;

	nodes_lock(fs->nodes);
	fs_stat(fs, in, nodes_find(fs->nodes, in->ino), &st);
	nodes_unlock(fs->nodes);
	inode_free(in);
	fuse_reply_attr(req, &st, fs->timeout);
}

/* Append a journal record describing a change to in. */
static int
jadd(struct db_txn *t, uint8_t type, const struct inode *in, const char *path,
    const char *path2, uint64_t *seq)
{
	struct jrec r;

	jrec_init(&r, type, in, path, path2);
	journal_append(t, &r);
	if (seq)
		*seq = r.seq;
	return t->ret;
}

/* Commit a change and wake the replayer when it went through. */
static int
commit_change(struct roamfs *fs, struct db_txn *t)
{
	int r = db_commit(t);

	if (r == 0)
		replay_wake(fs);
	return r;
}

/*
 * FIFOs and sockets live in the cache only, like excluded paths (SFTP
 * cannot store them): wherever they are named, also after a rename or a
 * hard link into the synced area.
 */
static int
local_only_type(uint32_t mode)
{
	return S_ISFIFO(mode) || S_ISSOCK(mode);
}

/*
 * A name the server could not take is refused at the call with
 * ENAMETOOLONG, as the server would refuse it; otherwise the change would
 * succeed here and be set aside when it is sent.  The server path is the
 * home's (remote_path) and the path relative to it, and it must fit in
 * REMOTE_PATH_MAX bytes.  A regular file also needs room for the
 * temporary name its uploads take in the same directory: its name counts
 * as REMOTE_TMP_NAME_MAX bytes when it is shorter.  Only lengths are
 * compared: the server is never asked.  Local-only objects (excluded,
 * FIFOs, sockets) are not limited: they never travel.
 */
static int
server_takes(const struct roamfs *fs, const char *rel, uint32_t mode)
{
	const char *slash = strrchr(rel, '/');
	size_t len = strlen(rel), name = slash ? len - (size_t)(slash + 1 - rel) : len;

	if (S_ISREG(mode) && name < REMOTE_TMP_NAME_MAX)
		len += REMOTE_TMP_NAME_MAX - name;
	return remote_path_len(fs->bg, len) <= REMOTE_PATH_MAX;
}

/* Create a new inode named name in parent (write transaction). */
static int
new_child(struct roamfs *fs, struct db_txn *t, struct inode *parent, const char *name,
    uint32_t mode, struct inode *in, char **path)
{
	uint64_t ino, old;
	int r;

	memset(in, 0, sizeof *in);
	if ((r = meta_dirent_get(t, parent->ino, name, &old)) == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	if (meta_alloc_ino(t, &ino) < 0 || meta_child_path(t, parent->ino, name, path) < 0)
		return t->ret ? t->ret : -ENOMEM;
	in->ino = ino;
	in->mode = mode;
	in->nlink = S_ISDIR(mode) ? 2 : 1;
	touch_mtime(in);
	in->atime_s = in->mtime_s;
	in->atime_ns = in->mtime_ns;
	in->flags = I_LOCALNEW;
	if ((parent->flags & I_EXCLUDED) || exclude_path(fs->exclude, *path, S_ISDIR(mode)) ||
	    local_only_type(mode))
		in->flags |= I_EXCLUDED;
	if (!(in->flags & I_EXCLUDED) && !server_takes(fs, *path, mode))
		return -ENAMETOOLONG;
	in->parent = parent->ino;
	if ((in->name = strdup(name)) == NULL)
		return -ENOMEM;
	meta_dirent_put(t, parent->ino, name, ino);
	touch_mtime(parent);
	if (S_ISDIR(mode))
		parent->nlink++;
	meta_inode_put(t, parent);
	return t->ret;
}

static void
fs_init(void *userdata, struct fuse_conn_info *conn)
{
	if (conn->capable & FUSE_CAP_WRITEBACK_CACHE)
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Move file data between /dev/fuse and the cache files with splice. */
	conn->want |= conn->capable & (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
	    FUSE_CAP_SPLICE_READ);
	conn->want &= ~FUSE_CAP_POSIX_ACL;
	conn->time_gran = 1;
}

/* Find name in the cached directory parent (*seen: for reply_entry). */
static int
lookup_cached(struct roamfs *fs, fuse_ino_t parent, const char *name, struct inode *in,
    uint64_t *seen)
{
	struct db_txn t;
	uint64_t ino;
	int r;

	*seen = nodes_saves(fs->nodes);
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	if ((r = meta_dirent_get(&t, parent, name, &ino)) == 0)
		r = meta_inode_get(&t, ino, in);
	db_abort(&t);
	return r;
}

/* Whether ino was just renewed by fs_open (once; for a moment only). */
static int
renew_pending(struct roamfs *fs, uint64_t ino)
{
	struct node *n;
	int pending = 0;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL && n->renew_at) {
		pending = time(NULL) - n->renew_at <= 2;
		n->renew_at = 0;
	}
	nodes_unlock(fs->nodes);
	return pending;
}

/*
 * Whether the kernel asks for an entry it was told to keep for longer: it
 * does so only before it makes a name there (mkdir, link, symlink, an
 * exclusive create) or replaces it by a rename (FUSE's d_revalidate,
 * LOOKUP_EXCL and LOOKUP_RENAME_TARGET), and after ESTALE.
 */
static int
lookup_forced(struct roamfs *fs, uint64_t ino)
{
	struct timespec now;
	struct node *n;
	int forced;

	clock_gettime(CLOCK_MONOTONIC, &now);
	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	forced = n && n->nlookup > 0 && (now.tv_sec < n->entry_until.tv_sec ||
	    (now.tv_sec == n->entry_until.tv_sec && now.tv_nsec < n->entry_until.tv_nsec));
	nodes_unlock(fs->nodes);
	return forced;
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct roamfs *fs = FS(req);
	struct fuse_entry_param e;
	struct inode in;
	uint64_t seen;
	int r, listed;

	if (strlen(name) > 255) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if ((listed = listing_update(fs, parent, 0)) < 0) {
		fuse_reply_err(req, -listed);
		return;
	}
	r = lookup_cached(fs, parent, name, &in, &seen);
	/* A name the cache lacks may be new on the server: wait for the listing. */
	if (r == -ENOENT && listed == 0 && listing_update(fs, parent, 1) == 1)
		r = lookup_cached(fs, parent, name, &in, &seen);
	if (r == -ENOENT) {
		/* Negative entry: not cached by the kernel, so new names show. */
		memset(&e, 0, sizeof e);
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (lookup_forced(fs, in.ino) && fetch_gone(fs, in.ino) == 1) {
		/* The kernel checks a name it is about to make (mkdir, ln,
		 * ln -s) and the server removed it: the name is free. */
		inode_free(&in);
		memset(&e, 0, sizeof e);
		fuse_reply_entry(req, &e);
		return;
	}
	if (renew_pending(fs, in.ino)) {
		/* fs_open found a new server version and failed with ESTALE:
		 * the kernel retries, checking each name with a lookup.  A
		 * negative answer makes it drop the old inode and look the
		 * name up again, which gives the new generation. */
		inode_free(&in);
		memset(&e, 0, sizeof e);
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(fs, req, &in, seen);
	inode_free(&in);
}

/* Remove an unreferenced inode with no names left, and its contents. */
static void fs_reap(struct roamfs *fs, uint64_t ino);

/* Drop n kernel references to ino, reaping it when nothing is left. */
static void
forget_one(struct roamfs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	struct node *n;
	int reap = 0;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		reap = n->nlookup == 0 && n->nopen == 0;
		nodes_drop_if_unused(fs->nodes, n);
	}
	nodes_unlock(fs->nodes);
	if (reap)
		fs_reap(fs, ino);
}

static void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(FS(req), ino, nlookup);
	fuse_reply_none(req);
}

static void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		forget_one(FS(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Whether an inode has no name left (a directory removed, a file unlinked). */
static int
is_orphan(const struct inode *in)
{
	return in->nlink == 0;
}

static void
fs_reap(struct roamfs *fs, uint64_t ino)
{
	struct inode in;
	struct db_txn t;
	int gone = 0;

	if (ino == INO_ROOT || meta_inode_read(fs->db, ino, &in) < 0)
		return;
	gone = is_orphan(&in);
	inode_free(&in);
	if (!gone || db_begin(fs->db, &t, 1) < 0)
		return;
	gone = 0;
	if (meta_inode_get(&t, ino, &in) == 0) {
		if ((gone = is_orphan(&in)) != 0)
			meta_inode_del(&t, ino);
		inode_free(&in);
	}
	if (db_commit(&t) == 0 && gone)
		cache_file_unlink(fs->cache, ino);
}

int
fs_reap_orphans(struct roamfs *fs)
{
	struct db_txn t;
	struct buf list;
	size_t i;
	int r;

	buf_init(&list, 0);
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	meta_orphans(&t, &list);
	r = db_commit(&t);
	for (i = 0; r >= 0 && i + 8 <= list.len; i += 8)
		fs_reap(fs, be_get_u64(list.data + i));
	buf_free(&list);
	return r < 0 ? r : 0;
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct inode in;
	int r;

	if ((r = meta_inode_read(fs->db, ino, &in)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_attr(fs, req, &in);
}

/* Journal a change of mode or times, unless a pending upload carries it. */
static void
journal_attrs(struct db_txn *t, struct inode *in, uint32_t attrs)
{
	struct jrec r;
	char *path;

	if ((in->flags & I_EXCLUDED) || in->pending_store || attrs == 0)
		return;
	if (meta_path(t, in->ino, &path) < 0)
		return;
	jrec_init(&r, J_SETATTR, in, path, NULL);
	r.attrs = attrs;
	journal_append(t, &r);
	free(path);
}

/*
 * An open file: the cache file, and its download while it is streamed.
 * Open handles are linked together: a kernel that aborts the connection at
 * unmount (a read still waiting then) sends no RELEASE for them, and
 * fs_close_handles frees them at exit.  One file system per process.
 */
struct handle {
	int fd;
	struct fetching *f;
	uint64_t ino;
	int writable;		/* opened for writing (see fs_lseek) */
	struct handle *prev, *next;
};

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle handles = { .fd = -1, .prev = &handles, .next = &handles };

static struct handle *
handle_new(int fd, struct fetching *f, uint64_t ino, int flags)
{
	struct handle *h = malloc(sizeof *h);

	if (h) {
		h->fd = fd;
		h->f = f;
		h->ino = ino;
		h->writable = (flags & O_ACCMODE) != O_RDONLY;
		pthread_mutex_lock(&handles_lock);
		h->next = handles.next;
		h->prev = &handles;
		handles.next->prev = h;
		handles.next = h;
		pthread_mutex_unlock(&handles_lock);
	}
	return h;
}

static void
handle_free(struct roamfs *fs, struct handle *h)
{
	pthread_mutex_lock(&handles_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	pthread_mutex_unlock(&handles_lock);
	close(h->fd);
	if (h->f)
		fetch_release(fs, h->f);
	free(h);
}

void
fs_close_handles(struct roamfs *fs)
{
	while (handles.next != &handles)
		handle_free(fs, handles.next);
}

static struct handle *
HANDLE(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* Whether ino has a handle open for writing. */
static int
open_for_writing(uint64_t ino)
{
	struct handle *h;
	int w = 0;

	pthread_mutex_lock(&handles_lock);
	for (h = handles.next; h != &handles && !w; h = h->next)
		w = h->ino == ino && h->writable;
	pthread_mutex_unlock(&handles_lock);
	return w;
}

/*
 * Truncate the cached contents of ino to size, fetching them first when
 * needed.  Without a handle, the contents could be dropped from the cache
 * before the inode says they changed: on success, the eviction lock is
 * then held (*locked), to be released once the change is recorded.
 */
static int
truncate_contents(struct roamfs *fs, fuse_ino_t ino, off_t size, struct fuse_file_info *fi,
    int *locked)
{
	struct inode in;
	int fd, r = 0, tries;

	for (tries = 0;; tries++) {
		if (!fi)
			evict_read_lock(fs);
		if ((r = meta_inode_read(fs->db, ino, &in)) < 0)
			break;
		r = S_ISREG(in.mode) ? (in.flags & I_CACHED) || size == 0 ? 0 : 1 : -EISDIR;
		inode_free(&in);
		if (r <= 0 || fi)
			break;
		evict_read_unlock(fs);
		if (tries == 3)
			return -EIO;
		if ((r = fetch_file(fs, ino)) < 0)
			return r;
	}
	if (r == 1)	/* with a handle: it was opened for writing, so fetched */
		r = fetch_file(fs, ino);
	if (r == 0) {
		fd = fi ? HANDLE(fi)->fd : cache_file_open(fs->cache, ino, O_WRONLY | O_CREAT);
		if (fd < 0) {
			r = fd;
		} else {
			nodes_write_begin(fs->nodes, ino);
			if (ftruncate(fd, size) < 0)
				r = -errno;
			nodes_write_end(fs->nodes, ino);
		}
		if (!fi && fd >= 0)
			close(fd);
	}
	if (!fi && r == 0)
		*locked = 1;
	else if (!fi)
		evict_read_unlock(fs);
	return r;
}

static int
apply_setattr(struct roamfs *fs, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi, struct inode *in)
{
	struct db_txn t;
	struct node *n;
	uint32_t jattrs = 0;
	int r, locked = 0;

	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != fs->uid)
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != fs->gid)
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_SIZE) &&
	    (r = truncate_contents(fs, ino, attr->st_size, fi, &locked)) < 0)
		return r;
	if ((r = db_begin(fs->db, &t, 1)) < 0 || (r = meta_inode_get(&t, ino, in)) < 0) {
		db_abort(&t);
		if (locked)
			evict_read_unlock(fs);
		return r;
	}
	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	if (to_set & FUSE_SET_ATTR_MODE) {
		in->mode = (in->mode & S_IFMT) | (attr->st_mode & 07777);
		jattrs |= JA_MODE;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		in->size = (uint64_t)attr->st_size;
		in->flags |= I_CACHED;
		touch_mtime(in);
		if (n && NODE_HELD(n))
			n->size = in->size;
		if (n && n->wbase > in->size)
			n->wbase = in->size;
		/* The kernel's size is this one now: a failed write is over. */
		if (n)
			n->werr = 0;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			now_ts(&in->mtime_s, &in->mtime_ns);
		else {
			in->mtime_s = attr->st_mtim.tv_sec;
			in->mtime_ns = (uint32_t)attr->st_mtim.tv_nsec;
		}
		if (n && NODE_HELD(n)) {
			n->mtime.tv_sec = in->mtime_s;
			n->mtime.tv_nsec = in->mtime_ns;
		}
		jattrs |= JA_MTIME;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			now_ts(&in->atime_s, &in->atime_ns);
		else {
			in->atime_s = attr->st_atim.tv_sec;
			in->atime_ns = (uint32_t)attr->st_atim.tv_nsec;
		}
	}
	nodes_unlock(fs->nodes);
	touch_ctime(in);
	if (to_set & FUSE_SET_ATTR_SIZE)
		journal_store(&t, in);
	else
		journal_attrs(&t, in, jattrs);
	meta_inode_put(&t, in);
	if ((r = commit_change(fs, &t)) < 0)
		inode_free(in);
	if (locked)
		evict_read_unlock(fs);
	return r;
}

/*
 * With the writeback cache the kernel owns mtime and sends it at close,
 * right after the data.  When the file has unflushed writes, the new mtime
 * joins the size held in memory and the flusher saves them together: no
 * transaction of its own.  Returns 1 when done that way, with in filled.
 */
static int
setattr_in_memory(struct roamfs *fs, fuse_ino_t ino, const struct stat *attr, int to_set,
    struct inode *in)
{
	struct node *n;
	int done = 0;

	if ((to_set & ~(FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME)) != 0 ||
	    !(to_set & FUSE_SET_ATTR_MTIME))
		return 0;
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL && n->dirty) {
		n->mtime = attr->st_mtim;
		done = 1;
	}
	nodes_unlock(fs->nodes);
	/* The inode only for the reply (the size and mtime come from the node). */
	return done && meta_inode_read(fs->db, ino, in) == 0;
}

static void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct inode in;
	int r;

	if (setattr_in_memory(fs, ino, attr, to_set, &in)) {
		reply_attr(fs, req, &in);
		return;
	}
	if ((r = apply_setattr(fs, ino, attr, to_set, fi, &in)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_attr(fs, req, &in);
}

static void
fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *target;
	int r;

	if ((r = fetch_link(FS(req), ino, &target)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_readlink(req, target);
	free(target);
}

/* Make a directory, file or symbolic link named name in parent. */
static int
make_node(struct roamfs *fs, fuse_ino_t parent, const char *name, uint32_t mode,
    const char *target, struct inode *in)
{
	struct inode dir;
	struct db_txn t;
	char *path = NULL;
	int r, fd = -1;

	if (target && strlen(target) > REMOTE_PATH_MAX)
		return -ENAMETOOLONG;
	if ((r = listing_update(fs, parent, 0)) < 0)
		return r;
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if ((r = meta_inode_get(&t, parent, &dir)) < 0) {
		db_abort(&t);
		return r;
	}
	r = new_child(fs, &t, &dir, name, mode, in, &path);
	/* A directory made here: the cache knows all of it, also offline. */
	if (r == 0 && S_ISDIR(mode))
		in->flags |= I_LISTED;
	if (r == 0 && S_ISREG(mode)) {
		in->flags |= I_CACHED;
		fd = cache_file_open(fs->cache, in->ino, O_WRONLY | O_CREAT | O_TRUNC);
		if (fd < 0)
			db_fail(&t, fd);
		else
			close(fd);
	}
	if (r == 0 && target) {
		in->target = strdup(target);
		in->size = strlen(target);
	}
	if (r == 0 && !(in->flags & I_EXCLUDED)) {
		if (S_ISDIR(mode))
			jadd(&t, J_MKDIR, in, path, NULL, NULL);
		else if (S_ISLNK(mode))
			jadd(&t, J_SYMLINK, in, path, target, NULL);
		else
			jadd(&t, J_STORE, in, path, NULL, &in->pending_store);
	}
	if (r == 0)
		meta_inode_put(&t, in);
	else
		db_fail(&t, r);
	r = commit_change(fs, &t);
	if (r < 0) {
		if (fd >= 0)
			cache_file_unlink(fs->cache, in->ino);
		inode_free(in);
	}
	inode_free(&dir);
	free(path);
	return r;
}

/* Reply with in, made or linked when nodes_saves gave seen (reply_entry). */
static void
reply_made(fuse_req_t req, int r, struct inode *in, uint64_t seen)
{
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_entry(FS(req), req, in, seen);
	inode_free(in);
}

static void
fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	uint64_t seen = nodes_saves(FS(req)->nodes);
	struct inode in;

	/* FIFOs and sockets stay local (SFTP cannot store them), as do the
	 * ssh, gpg-agent and editor sockets made in homes; devices are refused. */
	if (!S_ISREG(mode) && !local_only_type(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	reply_made(req, make_node(FS(req), parent, name, mode & (S_IFMT | 07777), NULL, &in),
	    &in, seen);
}

static void
fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	uint64_t seen = nodes_saves(FS(req)->nodes);
	struct inode in;

	reply_made(req, make_node(FS(req), parent, name, S_IFDIR | (mode & 07777), NULL, &in),
	    &in, seen);
}

static void
fs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	uint64_t seen = nodes_saves(FS(req)->nodes);
	struct inode in;

	reply_made(req, make_node(FS(req), parent, name, S_IFLNK | 0777, target, &in), &in, seen);
}

/* Point the remembered name of in elsewhere when its name goes away. */
static void
rename_away(struct db_txn *t, struct inode *in, uint64_t parent, const char *name)
{
	uint64_t p;
	char *n;

	if (in->parent != parent || strcmp(in->name, name) != 0)
		return;
	if (in->nlink > 0 && meta_find_name(t, in->ino, &p, &n) == 0) {
		free(in->name);
		in->parent = p;
		in->name = n;
	} else if (in->nlink == 0) {
		in->parent = 0;
	}
}

/* Journal the removal of in at path, or cancel its history if it never left. */
static void
journal_removal(struct db_txn *t, struct inode *in, uint64_t parent, const char *name,
    const char *path)
{
	uint64_t seq;

	if (in->flags & I_EXCLUDED)
		return;
	if (S_ISREG(in->mode) && in->nlink == 0 && (in->flags & I_LOCALNEW)) {
		/* The file never left: its history goes, except the removal of
		 * what it replaced under this name, which a listing must not
		 * bring back meanwhile. */
		journal_cancel_ino(t, in->ino, path, &seq);
		if (seq)
			meta_tomb_put(t, parent, name, seq);
		in->pending_store = 0;
		return;
	}
	jadd(t, S_ISDIR(in->mode) ? J_RMDIR : J_UNLINK, in, path, NULL, &seq);
	meta_tomb_put(t, parent, name, seq);
}

static int
remove_name(struct roamfs *fs, fuse_ino_t parent, const char *name, int want_dir)
{
	struct inode dir, in;
	struct db_txn t;
	uint64_t ino;
	char *path = NULL;
	int r;

	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	r = meta_dirent_get(&t, parent, name, &ino);
	db_abort(&t);
	if (r < 0)
		return r;
	/* Only an up-to-date listing tells that the directory is empty. */
	if (want_dir && (r = listing_update(fs, ino, 1)) < 0)
		return r;
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if (meta_dirent_get(&t, parent, name, &ino) < 0 ||
	    meta_inode_get(&t, ino, &in) < 0) {
		db_abort(&t);
		return t.ret ? t.ret : -ENOENT;
	}
	if (meta_inode_get(&t, parent, &dir) < 0) {
		inode_free(&in);
		db_abort(&t);
		return t.ret;
	}
	if (want_dir && !S_ISDIR(in.mode))
		r = -ENOTDIR;
	else if (!want_dir && S_ISDIR(in.mode))
		r = -EISDIR;
	else if (want_dir && meta_dir_empty(&t, ino) != 1)
		r = -ENOTEMPTY;
	if (r == 0 && meta_child_path(&t, parent, name, &path) == 0) {
		meta_dirent_del(&t, parent, name);
		in.nlink = want_dir ? 0 : in.nlink - 1;
		touch_ctime(&in);
		if (want_dir)
			dir.nlink--;
		touch_mtime(&dir);
		rename_away(&t, &in, parent, name);
		journal_removal(&t, &in, parent, name, path);
		meta_inode_put(&t, &in);
		meta_inode_put(&t, &dir);
	}
	if (r < 0)
		db_fail(&t, r);
	r = commit_change(fs, &t);
	inode_free(&in);
	inode_free(&dir);
	free(path);
	return r;
}

/* A removal that found the cache's disk full tries again on the reserve:
 * it is how the user makes room. */
static int
remove_name_or_reserve(struct roamfs *fs, fuse_ino_t parent, const char *name, int want_dir)
{
	int r = remove_name(fs, parent, name, want_dir);

	if (cache_reserve_release(fs->cache, r))
		r = remove_name(fs, parent, name, want_dir);
	return r;
}

static void
fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -remove_name_or_reserve(FS(req), parent, name, 0));
}

static void
fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -remove_name_or_reserve(FS(req), parent, name, 1));
}

struct rename_ctx {
	struct inode src, dst, p1, p2;
	int have_dst;
	char *from, *to;
};

static void
rename_ctx_free(struct rename_ctx *c)
{
	inode_free(&c->src);
	inode_free(&c->p1);
	inode_free(&c->p2);
	if (c->have_dst)
		inode_free(&c->dst);
	free(c->from);
	free(c->to);
}

/* Check the rename is allowed, as rename(2) would. */
static int
rename_check(struct db_txn *t, struct rename_ctx *c, unsigned flags)
{
	if (c->have_dst && c->dst.ino == c->src.ino)
		return 1;	/* the same file: nothing to do */
	if (c->have_dst && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (!c->have_dst)
		return 0;
	if (S_ISDIR(c->dst.mode) && !S_ISDIR(c->src.mode))
		return -EISDIR;
	if (!S_ISDIR(c->dst.mode) && S_ISDIR(c->src.mode))
		return -ENOTDIR;
	if (S_ISDIR(c->dst.mode) && meta_dir_empty(t, c->dst.ino) != 1)
		return -ENOTEMPTY;
	return 0;
}

/* The entries of a directory, read before changing anything. */
static int
subtree_collect(void *arg, const char *name, size_t len, uint64_t ino)
{
	struct buf *b = arg;

	return buf_put_u64(b, ino) || buf_put_str(b, name, len) ? -ENOMEM : 0;
}

/*
 * Call fn(arg, ino, path of the entry, its inode) for each entry of the
 * directory dir, whose path is path, until fn returns non-zero (returned)
 * or the transaction fails.  The entries are read first, so fn may change
 * what it is given.
 */
static int
subtree_each(struct db_txn *t, uint64_t dir, const char *path,
    int (*fn)(void *arg, uint64_t ino, const char *child, struct inode *in), void *arg)
{
	struct buf list, rd;
	struct inode in;
	uint64_t ino;
	char *name, *child;
	int r = 0;

	buf_init(&list, 0);
	if (meta_dir_scan(t, dir, subtree_collect, &list) < 0)
		r = db_fail(t, -ENOMEM);
	buf_wrap(&rd, list.data, list.len);
	while (r == 0 && t->ret == 0 && buf_avail(&rd) > 0) {
		if (buf_get_u64(&rd, &ino) < 0 || buf_get_cstr(&rd, &name) < 0)
			break;
		if (asprintf(&child, "%s/%s", path, name) < 0)
			child = NULL;
		free(name);
		if (child == NULL) {
			r = db_fail(t, -ENOMEM);
			break;
		}
		if (meta_inode_get(t, ino, &in) == 0) {
			r = fn(arg, ino, child, &in);
			inode_free(&in);
		}
		free(child);
	}
	buf_free(&list);
	return r ? r : t->ret;
}

struct crossing {
	struct roamfs *fs;
	struct db_txn *t;
	int enter;
};

/*
 * A directory enters the synced area (enter) or leaves it: what is below
 * it was local-only, or synced, and now is the other.  Entering, each
 * entry that the exclusion list does not keep local is journaled as new
 * (parents first, at its new path); leaving, each synced entry's removal
 * is journaled (children first, at its old path), and it becomes
 * local-only.  FIFOs and sockets stay local either way.
 */
static int
cross_one(void *arg, uint64_t ino, const char *child, struct inode *in)
{
	struct crossing *x = arg;
	struct db_txn *t = x->t;

	if (local_only_type(in->mode))
		return 0;	/* stays in the cache */
	if (x->enter && (in->flags & I_EXCLUDED) && !exclude_path(x->fs->exclude, child, S_ISDIR(in->mode))) {
		in->flags = (in->flags & ~I_EXCLUDED) | I_LOCALNEW;
		in->pending_store = 0;
		if (S_ISDIR(in->mode)) {
			in->flags |= I_LISTED;
			jadd(t, J_MKDIR, in, child, NULL, NULL);
		} else if (S_ISLNK(in->mode))
			jadd(t, J_SYMLINK, in, child, in->target, NULL);
		else
			jadd(t, J_STORE, in, child, NULL, &in->pending_store);
		meta_inode_put(t, in);
		if (S_ISDIR(in->mode))
			subtree_each(t, ino, child, cross_one, x);
	} else if (!x->enter && !(in->flags & I_EXCLUDED)) {
		if (S_ISDIR(in->mode))
			subtree_each(t, ino, child, cross_one, x);
		jadd(t, S_ISDIR(in->mode) ? J_RMDIR : J_UNLINK, in, child, NULL, NULL);
		in->flags |= I_EXCLUDED | I_LOCALNEW;
		meta_inode_put(t, in);
	}
	return 0;
}

static void
subtree_cross(struct roamfs *fs, struct db_txn *t, uint64_t dir, const char *path, int enter)
{
	struct crossing x = { fs, t, enter };

	subtree_each(t, dir, path, cross_one, &x);
}

/* Whether what a rename moves is local-only at its new name. */
static int
rename_to_local(const struct roamfs *fs, const struct rename_ctx *c)
{
	return (c->p2.flags & I_EXCLUDED) || exclude_path(fs->exclude, c->to, S_ISDIR(c->src.mode)) ||
	    local_only_type(c->src.mode);
}

/*
 * Whether the server takes every name below a directory once it is at its
 * new path (server_takes): those that travel, as rename_journal and
 * subtree_cross send them.  Stops at the first name too long.
 */
static int
fits_one(void *arg, uint64_t ino, const char *child, struct inode *in)
{
	struct crossing *x = arg;
	/* Synced already, or local-only until now and not kept so. */
	int travels = !local_only_type(in->mode) && (!(in->flags & I_EXCLUDED) ||
	    (x->enter && !exclude_path(x->fs->exclude, child, S_ISDIR(in->mode))));

	if (travels && !server_takes(x->fs, child, in->mode))
		return -ENAMETOOLONG;
	if (travels && S_ISDIR(in->mode))
		return subtree_each(x->t, ino, child, fits_one, x);
	return 0;
}

static int
subtree_fits(struct roamfs *fs, struct db_txn *t, uint64_t dir, const char *path, int enter)
{
	struct crossing x = { fs, t, enter };

	return subtree_each(t, dir, path, fits_one, &x);
}

/*
 * Whether the server takes what a rename puts at c->to: the object, and
 * for a directory what it holds.  The directory's cached subtree is read
 * only when its new path is longer than its old one (what it holds fitted
 * there), or when it enters the synced area (what it holds was local-only).
 */
static int
rename_fits(struct roamfs *fs, struct db_txn *t, struct rename_ctx *c)
{
	int enter = (c->src.flags & I_EXCLUDED) != 0;

	if (rename_to_local(fs, c))
		return 0;
	if (!server_takes(fs, c->to, c->src.mode))
		return -ENAMETOOLONG;
	if (!S_ISDIR(c->src.mode) || (!enter && strlen(c->to) <= strlen(c->from)))
		return 0;
	return subtree_fits(fs, t, c->src.ino, c->to, enter);
}

/* Journal a rename, minding objects that enter or leave the excluded area. */
static void
rename_journal(struct roamfs *fs, struct db_txn *t, struct rename_ctx *c,
    uint64_t p1, const char *n1)
{
	int src_ex = (c->src.flags & I_EXCLUDED) != 0;
	int dst_ex = rename_to_local(fs, c);
	uint64_t seq;
	struct jrec r;

	if (dst_ex)
		c->src.flags |= I_EXCLUDED;
	else
		c->src.flags &= ~I_EXCLUDED;
	if (src_ex && dst_ex) {
		/* Put over a synced file (a FIFO or socket can be, anywhere):
		 * that file leaves the server. */
		if (c->have_dst && !(c->dst.flags & I_EXCLUDED)) {
			const char *n2 = strrchr(c->to, '/') ? strrchr(c->to, '/') + 1 : c->to;

			jadd(t, J_UNLINK, &c->dst, c->to, NULL, &seq);
			meta_tomb_put(t, c->p2.ino, n2, seq);
		}
		return;
	}
	if (!src_ex && dst_ex) {
		/* Leaves the synced area: gone from the server, and so is what
		 * is below it (first). */
		if (S_ISDIR(c->src.mode))
			subtree_cross(fs, t, c->src.ino, c->from, 0);
		jadd(t, S_ISDIR(c->src.mode) ? J_RMDIR : J_UNLINK, &c->src, c->from, NULL, &seq);
		meta_tomb_put(t, p1, n1, seq);
		c->src.flags |= I_LOCALNEW;
		return;
	}
	if (src_ex && !dst_ex) {
		/* Enters the synced area: uploaded as new. */
		c->src.flags |= I_LOCALNEW;
		c->src.pending_store = 0;
		if (S_ISDIR(c->src.mode)) {
			c->src.flags |= I_LISTED;	/* made here: all of it is known */
			jadd(t, J_MKDIR, &c->src, c->to, NULL, NULL);
			subtree_cross(fs, t, c->src.ino, c->to, 1);	/* then what it holds */
		} else if (S_ISLNK(c->src.mode))
			jadd(t, J_SYMLINK, &c->src, c->to, c->src.target, NULL);
		else
			jadd(t, J_STORE, &c->src, c->to, NULL, &c->src.pending_store);
		return;
	}
	jrec_init(&r, J_RENAME, &c->src, c->from, c->to);
	if (c->have_dst && !(c->dst.flags & I_EXCLUDED)) {
		r.victim = c->dst.ino;
		r.victim_remote = !(c->dst.flags & I_LOCALNEW);
		r.victim_base = c->dst.base;
	}
	journal_append(t, &r);
	meta_tomb_put(t, p1, n1, r.seq);
}

/* Move the entries and fix link counts for a checked rename. */
static void
rename_apply(struct db_txn *t, struct rename_ctx *c, uint64_t p1, const char *n1,
    uint64_t p2, const char *n2)
{
	int same = p1 == p2;
	struct inode *p2i = same ? &c->p1 : &c->p2;

	meta_dirent_del(t, p1, n1);
	meta_dirent_put(t, p2, n2, c->src.ino);
	if (c->have_dst) {
		c->dst.nlink = S_ISDIR(c->dst.mode) ? 0 : c->dst.nlink - 1;
		if (S_ISDIR(c->dst.mode))
			p2i->nlink--;
		touch_ctime(&c->dst);
		/* After the entry changed hands: the victim's other names only. */
		rename_away(t, &c->dst, p2, n2);
		if (c->dst.nlink == 0 && (c->dst.flags & I_LOCALNEW) && S_ISREG(c->dst.mode))
			journal_cancel_ino(t, c->dst.ino, NULL, NULL);
		meta_inode_put(t, &c->dst);
	}
	if (S_ISDIR(c->src.mode) && !same) {
		c->p1.nlink--;
		c->p2.nlink++;
	}
	if (c->src.parent == p1 && strcmp(c->src.name, n1) == 0) {
		c->src.parent = p2;
		free(c->src.name);
		c->src.name = strdup(n2);
	}
	touch_ctime(&c->src);
	touch_mtime(&c->p1);
	touch_mtime(p2i);
	meta_inode_put(t, &c->src);
	meta_inode_put(t, &c->p1);
	if (!same)
		meta_inode_put(t, &c->p2);
}

static int
rename_load(struct db_txn *t, struct rename_ctx *c, uint64_t p1, const char *n1,
    uint64_t p2, const char *n2)
{
	uint64_t ino;
	int r;

	if ((r = meta_dirent_get(t, p1, n1, &ino)) < 0 ||
	    (r = meta_inode_get(t, ino, &c->src)) < 0)
		return r;
	if (meta_inode_get(t, p1, &c->p1) < 0 || meta_inode_get(t, p2, &c->p2) < 0)
		return t->ret ? t->ret : -ENOENT;
	r = meta_dirent_get(t, p2, n2, &ino);
	if (r == 0 && (r = meta_inode_get(t, ino, &c->dst)) == 0)
		c->have_dst = 1;
	if (r < 0 && r != -ENOENT)
		return r;
	if (meta_child_path(t, p1, n1, &c->from) < 0 || meta_child_path(t, p2, n2, &c->to) < 0)
		return t->ret ? t->ret : -ENOMEM;
	return 0;
}

static int
do_rename(struct roamfs *fs, uint64_t p1, const char *n1, uint64_t p2, const char *n2,
    unsigned flags)
{
	struct rename_ctx c;
	struct db_txn t;
	uint64_t dino;
	int r;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	if (strlen(n2) > 255)
		return -ENAMETOOLONG;
	/* A directory about to be replaced must be known to be empty. */
	if (db_begin(fs->db, &t, 0) == 0) {
		r = meta_dirent_get(&t, p2, n2, &dino);
		db_abort(&t);
		if (r == 0 && (r = listing_update(fs, dino, 1)) < 0 && r != -ENOTDIR)
			return r;
	}
	memset(&c, 0, sizeof c);
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if ((r = rename_load(&t, &c, p1, n1, p2, n2)) == 0 &&
	    (r = rename_check(&t, &c, flags)) == 0 && (r = rename_fits(fs, &t, &c)) == 0) {
		rename_journal(fs, &t, &c, p1, n1);
		rename_apply(&t, &c, p1, n1, p2, n2);
	}
	if (r < 0)
		db_fail(&t, r);
	r = r > 0 ? (db_abort(&t), 0) : commit_change(fs, &t);
	rename_ctx_free(&c);
	return r;
}

static void
fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
    const char *newname, unsigned int flags)
{
	struct roamfs *fs = FS(req);
	int r = do_rename(fs, parent, name, newparent, newname, flags);

	/* Renaming over a file frees its space: let it through a full disk. */
	if (cache_reserve_release(fs->cache, r))
		r = do_rename(fs, parent, name, newparent, newname, flags);
	fuse_reply_err(req, -r);
}

static int
do_link(struct roamfs *fs, uint64_t ino, uint64_t parent, const char *name, struct inode *in)
{
	struct inode dir;
	struct db_txn t;
	char *from = NULL, *to = NULL;
	uint64_t old;
	int r;

	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	if ((r = db_begin(fs->db, &t, 1)) < 0)
		return r;
	if (meta_inode_get(&t, ino, in) < 0 || meta_inode_get(&t, parent, &dir) < 0) {
		db_abort(&t);
		return t.ret;
	}
	if (S_ISDIR(in->mode))
		r = -EPERM;
	else if (meta_dirent_get(&t, parent, name, &old) == 0)
		r = -EEXIST;
	else if (meta_path(&t, ino, &from) < 0 || meta_child_path(&t, parent, name, &to) < 0)
		r = t.ret ? t.ret : -ENOMEM;
	else if (((in->flags & I_EXCLUDED) != 0) !=
	    ((dir.flags & I_EXCLUDED) || exclude_path(fs->exclude, to, 0) || local_only_type(in->mode)))
		r = -EXDEV;	/* between synced and local-only areas */
	else if (!(in->flags & I_EXCLUDED) && !server_takes(fs, to, in->mode))
		r = -ENAMETOOLONG;
	if (r == 0) {
		in->nlink++;
		touch_ctime(in);
		touch_mtime(&dir);
		meta_dirent_put(&t, parent, name, ino);
		if (!(in->flags & I_EXCLUDED))
			jadd(&t, J_LINK, in, from, to, NULL);
		meta_inode_put(&t, in);
		meta_inode_put(&t, &dir);
	} else
		db_fail(&t, r);
	r = commit_change(fs, &t);
	inode_free(&dir);
	free(from);
	free(to);
	if (r < 0)
		inode_free(in);
	return r;
}

static void
fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct roamfs *fs = FS(req);
	struct inode in;
	uint64_t seen;
	int r;

	/* The server needs the contents to exist before it links them. */
	if ((r = fetch_file(fs, ino)) < 0 && r != -EISDIR) {
		fuse_reply_err(req, -r);
		return;
	}
	seen = nodes_saves(fs->nodes);
	reply_made(req, do_link(fs, ino, newparent, newname, &in), &in, seen);
}

/* Count an open handle on fd, the cache file of ino. */
static void
opened(struct roamfs *fs, fuse_ino_t ino, int fd)
{
	struct stat st;
	struct node *n;
	uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;

	evict_touch(fd);
	nodes_lock(fs->nodes);
	if ((n = nodes_get(fs->nodes, ino)) != NULL) {
		if (n->nopen++ == 0 || size < n->wbase)
			n->wbase = size;
	}
	nodes_unlock(fs->nodes);
}

/* Take back the count of opened() for an open that failed after it. */
static void
open_undone(struct roamfs *fs, fuse_ino_t ino)
{
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL && n->nopen)
		n->nopen--;
	nodes_unlock(fs->nodes);
}

/*
 * Open the cached contents of ino, downloading them first when needed,
 * and count the handle (opened).  Whether they are cached is read and the
 * file opened under the eviction lock, so that the contents cannot be
 * dropped in between; downloads run outside it, and then the open starts
 * over (the contents may have been dropped again meanwhile, if rarely).
 */
static int
open_contents(struct roamfs *fs, fuse_ino_t ino, int flags, struct fetching **f)
{
	struct inode in;
	int r, fd = -1, tries;

	*f = NULL;
	fetch_verify(fs, ino);
	for (tries = 0;; tries++) {
		evict_read_lock(fs);
		if ((r = meta_inode_read(fs->db, ino, &in)) < 0) {
			evict_read_unlock(fs);
			return r;
		}
		if (S_ISDIR(in.mode))
			r = -EISDIR;
		else if (in.flags & I_CACHED)
			r = cache_file_open(fs->cache, ino, O_RDWR | O_CREAT);
		else if (flags & O_TRUNC)
			r = cache_file_open(fs->cache, ino, O_RDWR | O_CREAT | O_TRUNC);
		else
			r = INT_MAX;	/* to be fetched */
		if (r != INT_MAX) {
			if (r >= 0)
				opened(fs, ino, r);
			evict_read_unlock(fs);
			inode_free(&in);
			return r;
		}
		evict_read_unlock(fs);
		if (tries == 3) {
			log_warn("the contents of inode %llu were dropped from the cache again and "
			    "again while being opened: the cache is too small for its budget "
			    "(cache_max)", (unsigned long long)ino);
			inode_free(&in);
			return -EIO;
		}
		/* Only a reader can start before the whole file is here. */
		if ((flags & O_ACCMODE) == O_RDONLY)
			r = fetch_stream(fs, ino, in.size, &fd, f);
		else
			r = fetch_file(fs, ino);
		inode_free(&in);
		if (r < 0)
			return r;
		if (*f) {
			opened(fs, ino, fd);
			return fd;
		}
	}
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct fetching *f;
	struct handle *h;
	struct stat st;
	struct inode in;
	int fd;

	/* Close-to-open: a file not confirmed lately asks the server. */
	if ((fd = fetch_check(fs, ino)) != 0) {
		fuse_reply_err(req, fd == 1 ? ESTALE : -fd);
		return;
	}
	if ((fd = open_contents(fs, ino, fi->flags, &f)) < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	if ((h = handle_new(fd, f, ino, fi->flags)) == NULL) {
		close(fd);
		if (f)
			fetch_release(fs, f);
		open_undone(fs, ino);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (fi->flags & O_TRUNC) {
		memset(&st, 0, sizeof st);
		if (apply_setattr(fs, ino, &st, FUSE_SET_ATTR_SIZE, NULL, &in) == 0)
			inode_free(&in);
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 1;
	prefetch_opened(fs, ino);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		handle_free(fs, h);
		open_undone(fs, ino);
	}
}

static void
fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct fuse_entry_param e;
	struct handle *h;
	struct inode in;
	struct node *n;
	int r, fd;

	if ((r = make_node(fs, parent, name, S_IFREG | (mode & 07777), NULL, &in)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if ((fd = cache_file_open(fs->cache, in.ino, O_RDWR)) < 0 ||
	    (h = handle_new(fd, NULL, in.ino, fi->flags)) == NULL) {
		if (fd >= 0)
			close(fd);
		inode_free(&in);
		fuse_reply_err(req, fd < 0 ? -fd : ENOMEM);
		return;
	}
	memset(&e, 0, sizeof e);
	nodes_lock(fs->nodes);
	n = nodes_get(fs->nodes, in.ino);
	if (n) {
		n->nlookup++;
		n->nopen++;
		n->wbase = 0;
		e.generation = n->gen;
	}
	fs_stat(fs, &in, n, &e.attr);
	nodes_unlock(fs->nodes);
	e.ino = in.ino;
	e.attr_timeout = e.entry_timeout = fs->timeout;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 1;
	prefetch_opened(fs, e.ino);
	inode_free(&in);
	fuse_reply_create(req, &e, fi);
}

static void
read_interrupted(fuse_req_t req, void *fs)
{
	fetch_wake(fs);
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	struct handle *h = HANDLE(fi);
	int r;

	/* A file still arriving: wait for the range asked, or a signal. */
	if (h->f) {
		fuse_req_interrupt_func(req, read_interrupted, FS(req));
		if ((r = fetch_wait(FS(req), h->f, (uint64_t)off + size, req)) < 0) {
			fuse_reply_err(req, -r);
			return;
		}
	}
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = h->fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/*
 * Note that ino was written up to end through fd: its size and mtime are
 * now held in memory.  A node that held none (neither dirty nor being
 * saved) starts from the size of the cache file, unless a save ended
 * meanwhile (the size taken may lack another write's bytes): then again.
 */
static void
mark_written(struct roamfs *fs, fuse_ino_t ino, int fd, uint64_t end)
{
	struct stat st;
	struct node *n;
	uint64_t saves;

	nodes_lock(fs->nodes);
	while ((n = nodes_get(fs->nodes, ino)) != NULL && !NODE_HELD(n)) {
		saves = nodes_saves(fs->nodes);
		nodes_unlock(fs->nodes);
		if (fstat(fd, &st) < 0)
			st.st_size = 0;
		nodes_lock(fs->nodes);
		if (NODE_HELD(n) || nodes_saves(fs->nodes) != saves)
			continue;
		n->size = (uint64_t)st.st_size;
		break;
	}
	if (n != NULL) {
		n->dirty = 1;
		if (end > n->size)
			n->size = end;
		clock_gettime(CLOCK_REALTIME, &n->mtime);
	}
	nodes_unlock(fs->nodes);
}

/*
 * A write to the cache file of ino failed (or was refused) at off: the
 * file may now lack bytes the application wrote.  With the writeback cache
 * the kernel writes pages in no set order, so pages after off may be there
 * already, with a hole of zeros before them that an upload would send.  So
 * the cache file is cut at the first such place (never below its size when
 * it was opened: those bytes are the application's too), later writes past
 * the cut are refused with the same error, and at the last close the
 * kernel is given a new inode for the file (fs_release), since it keeps
 * its own size with the writeback cache.  off UINT64_MAX: only cut again.
 */
static void
write_failed(struct roamfs *fs, fuse_ino_t ino, int fd, uint64_t off, int err)
{
	uint64_t cut = UINT64_MAX;
	struct stat st;
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_get(fs->nodes, ino)) != NULL) {
		if (off < n->wbase)
			off = n->wbase;
		if (n->werr == 0 || off < n->wcut)
			n->wcut = off;
		if (n->werr == 0)
			n->werr = err;
		cut = n->wcut;
		if (NODE_HELD(n) && n->size > cut)
			n->size = cut;
	}
	nodes_unlock(fs->nodes);
	if (cut != UINT64_MAX && fstat(fd, &st) == 0 && (uint64_t)st.st_size > cut &&
	    ftruncate(fd, (off_t)cut) < 0)
		log_err("cannot cut the cache file of inode %llu after a failed write (%s): "
		    "it may hold a gap of zeros; save the file again once its disk works",
		    (unsigned long long)ino, strerror(errno));
	/* The error reaches the writer at fsync or close, but the kernel
	 * would go on showing the bytes from its pages: drop them. */
	notify_inode(fs, ino);
}

/* The errno a write ending at end gets after an earlier write failed, or 0. */
static int
write_refused(struct roamfs *fs, fuse_ino_t ino, uint64_t end)
{
	struct node *n;
	int err = 0;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL && n->werr && end > n->wcut)
		err = n->werr;
	nodes_unlock(fs->nodes);
	return err;
}

static void
fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
    struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	size_t size = fuse_buf_size(in_buf);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
	uint64_t end = (uint64_t)off + size, at = (uint64_t)off;
	int fd = HANDLE(fi)->fd, err, tries;
	ssize_t n = 0;

	nodes_write_begin(fs->nodes, ino);
	if ((err = write_refused(fs, ino, end)) == 0) {
		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = fd;
		out.buf[0].pos = off;
		n = fuse_buf_copy(&out, in_buf, 0);
		/* A full disk: clean contents make room, and the rest goes on
		 * (both bufvecs were advanced past what was written).  Other
		 * writes may take the room made before this one gets to it:
		 * a few times. */
		for (tries = 0; tries < 4 && (n == -ENOSPC || n == -EDQUOT ||
		    (n >= 0 && (size_t)n < size)) &&
		    evict_make_room(fs, size - (n > 0 ? (size_t)n : 0)) > 0; tries++) {
			ssize_t m = fuse_buf_copy(&out, in_buf, 0);

			if (m > 0)
				n = (n > 0 ? n : 0) + m;
			else if (m < 0 && n <= 0)
				n = m;
		}
		if (n > 0)
			evict_grew(fs, (uint64_t)n);
		if (n < 0)
			err = (int)-n;
		else if ((size_t)n < size) {
			err = ENOSPC;	/* the rest did not fit */
			at += (uint64_t)n;
			/* What did fit is in the cache file: the size must show it,
			 * or the kernel is given a shorter file than the cache holds
			 * and the upload sends bytes the mount does not show. */
			if (n > 0)
				mark_written(fs, ino, fd, at);
		} else if ((err = write_refused(fs, ino, end)) != 0) {
			at = UINT64_MAX;	/* another write failed meanwhile */
			mark_written(fs, ino, fd, end);	/* write_failed cuts it */
		}
	}
	nodes_write_end(fs->nodes, ino);
	if (err) {
		write_failed(fs, ino, fd, at, err);
		fuse_reply_err(req, err);
		return;
	}
	mark_written(fs, ino, fd, end);
	fuse_reply_write(req, (size_t)n);
}

/*
 * After a failed write, once the file is closed: the kernel holds a size
 * and pages the cache file does not have, and with the writeback cache it
 * trusts its own size over ours: the inode is renewed (notify_renew).
 */
static void
kernel_renew(struct roamfs *fs, fuse_ino_t ino, int64_t size)
{
	struct db_txn t;
	struct node *n;

	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL) {
		n->werr = 0;
		if (NODE_HELD(n) && size >= 0 && n->size > (uint64_t)size)
			n->size = (uint64_t)size;
	}
	nodes_unlock(fs->nodes);
	if (db_begin(fs->db, &t, 0) == 0) {
		notify_renew(fs, &t, ino);
		db_abort(&t);
	}
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL)
		nodes_drop_if_unused(fs->nodes, n);
	nodes_unlock(fs->nodes);
}

static void
fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, -flush_close(FS(req), ino));
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct node *n;
	int reap = 0, renew = 0;

	flush_close(fs, ino);
	handle_free(fs, HANDLE(fi));
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL) {
		if (n->nopen)
			n->nopen--;
		reap = n->nopen == 0 && n->nlookup == 0;
		/* A failed write, or a new server version while it was open. */
		renew = n->nopen == 0 && (n->werr != 0 || n->renew_later);
		nodes_drop_if_unused(fs->nodes, n);
	}
	nodes_unlock(fs->nodes);
	if (renew)
		kernel_renew(fs, ino, cache_file_size(fs->cache, ino));
	if (reap)
		fs_reap(fs, ino);
	fuse_reply_err(req, 0);
}

static void
fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	int r = 0;

	if ((datasync ? fdatasync(HANDLE(fi)->fd) : fsync(HANDLE(fi)->fd)) < 0)
		r = -errno;
	if (r == 0)
		r = flush_node(fs, ino);
	if (r == 0)
		r = db_sync(fs->db);
	fuse_reply_err(req, -r);
}

/*
 * SEEK_DATA and SEEK_HOLE from the holes of the cache file.  Not while it
 * may lack data: a file still arriving from the server, or one open for
 * writing anywhere, since with the writeback cache the kernel may still
 * hold written pages that the cache file does not have yet (it sends them
 * at the latest when each writer closes).  Then everything up to the
 * largest size known is data, which POSIX allows.
 */
static void
fs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct handle *h = HANDLE(fi);
	struct inode in;
	struct stat st;
	struct node *n;
	off_t r, size;

	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (h->f == NULL && !open_for_writing(ino)) {
		if ((r = lseek(h->fd, off, whence)) < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_lseek(req, r);
		return;
	}
	if ((r = meta_inode_read(fs->db, ino, &in)) < 0) {
		fuse_reply_err(req, (int)-r);
		return;
	}
	size = (off_t)in.size;
	inode_free(&in);
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, ino)) != NULL && NODE_HELD(n) && (off_t)n->size > size)
		size = (off_t)n->size;
	nodes_unlock(fs->nodes);
	if (fstat(h->fd, &st) == 0 && st.st_size > size)
		size = st.st_size;
	if (off < 0 || off >= size)
		fuse_reply_err(req, ENXIO);
	else
		fuse_reply_lseek(req, whence == SEEK_DATA ? off : size);
}

static int
snap_add(void *arg, const char *name, size_t len, uint64_t ino)
{
	struct dirsnap *s = arg;
	struct dirsnap_ent *e;

	if ((s->n & (s->n - 1)) == 0 && s->n >= 2) {
		e = realloc(s->ents, s->n * 2 * sizeof *e);
		if (e == NULL)
			return -ENOMEM;
		s->ents = e;
	}
	e = &s->ents[s->n];
	if ((e->name = strndup(name, len)) == NULL)
		return -ENOMEM;
	e->ino = ino;
	e->mode = 0;
	s->n++;
	return 0;
}

static void
snap_free(struct dirsnap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->ents[i].name);
	free(s->ents);
	free(s);
}

/* Read a directory's entries, with "." and "..", into a snapshot. */
static int
snap_take(struct roamfs *fs, fuse_ino_t ino, struct dirsnap *s)
{
	struct db_txn t;
	struct inode in, child;
	size_t i;
	int r;

	if ((s->ents = calloc(2, sizeof *s->ents)) == NULL)
		return -ENOMEM;
	if ((r = db_begin(fs->db, &t, 0)) < 0)
		return r;
	if ((r = meta_inode_get(&t, ino, &in)) == 0) {
		snap_add(s, ".", 1, ino);
		snap_add(s, "..", 2, in.parent ? in.parent : ino);
		inode_free(&in);
		r = meta_dir_scan(&t, ino, snap_add, s);
	}
	for (i = 0; r >= 0 && i < s->n; i++)
		if (meta_inode_get(&t, s->ents[i].ino, &child) == 0) {
			s->ents[i].mode = child.mode;
			inode_free(&child);
		}
	db_abort(&t);
	return r < 0 ? r : 0;
}

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct dirsnap *s;
	int r;

	if ((r = listing_update(fs, ino, 0)) < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if ((s = calloc(1, sizeof *s)) == NULL || (r = snap_take(fs, ino, s)) < 0) {
		if (s)
			snap_free(s);
		fuse_reply_err(req, s ? -r : ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)s;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT)
		snap_free(s);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct roamfs *fs = FS(req);
	struct dirsnap *s = (struct dirsnap *)(uintptr_t)fi->fh;
	struct stat st;
	char *buf, *p;
	size_t left = size, n;
	size_t i;

	if (off == 0) {
		/* rewinddir: see the directory as it is now. */
		struct dirsnap *fresh = calloc(1, sizeof *fresh);

		if (fresh && snap_take(fs, ino, fresh) == 0) {
			struct dirsnap tmp = *s;

			*s = *fresh;
			*fresh = tmp;
		}
		if (fresh)
			snap_free(fresh);
	}
	if ((buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	for (i = (size_t)off; i < s->n; i++) {
		memset(&st, 0, sizeof st);
		st.st_ino = s->ents[i].ino;
		st.st_mode = s->ents[i].mode;
		n = fuse_add_direntry(req, p, left, s->ents[i].name, &st, (off_t)(i + 1));
		if (n > left)
			break;
		p += n;
		left -= n;
	}
	fuse_reply_buf(req, buf, size - left);
	free(buf);
}

static void
fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	snap_free((struct dirsnap *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void
fs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	fuse_reply_err(req, -db_sync(FS(req)->db));
}

static void
fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct roamfs *fs = FS(req);
	struct statvfs st;

	/* The cache's filesystem: what can be written now, without the network. */
	if (statvfs(cache_dir(fs->cache), &st) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.open = fs_open,
	.read = fs_read,
	.write_buf = fs_write_buf,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.releasedir = fs_releasedir,
	.fsyncdir = fs_fsyncdir,
	.statfs = fs_statfs,
	.create = fs_create,
	.lseek = fs_lseek,
};
