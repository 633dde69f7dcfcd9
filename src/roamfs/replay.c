/*
 * replay: the thread that sends the journal to the server, in order.
 *
 * For each record: a first transaction notes that the object may now
 * exist on the server (no more cancellation) and that later writes need a
 * new upload; then the change is made over SFTP; then a second transaction
 * removes the record and records the new server base version.  A crash
 * between the two replays the record again, so every change is written to
 * be harmless when applied twice.  Files travel to a temporary name in
 * the same server directory, get their mode and mtime, and are renamed
 * over the target with posix-rename, so the server never holds a torn
 * file.  A record that fails for a reason other than the connection is
 * set aside and reported, never retried forever.
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
#include "conflict.h"
#include "evict.h"
#include "listing.h"
#include "notify.h"
#include "own.h"
#include "pending.h"
#include "replay_int.h"
#include "unit.h"
#include "version.h"

struct replay {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* wakes the replayer */
	pthread_cond_t progress;	/* wakes replay_drain() */
	int wake, stop, started;	/* under lock */
	int draining;			/* under lock: unmounted, send at once */
	int hurry;			/* under lock: roamctl flush, send at once */
	time_t offline_since;		/* under lock; 0 when reaching the server */
	int idle;			/* under lock: journal found empty */
	struct leftover {		/* under lock: names an upload cut off may have left */
		char *tmp, *lock;
		time_t when;
	} *left;
	size_t nleft;
};

void
replay_leftover(struct roamfs *fs, const char *tmp, const char *lock)
{
	struct replay *rp = fs->replay;
	struct leftover *l;

	pthread_mutex_lock(&rp->lock);
	if ((l = realloc(rp->left, (rp->nleft + 1) * sizeof *l)) != NULL) {
		rp->left = l;
		l += rp->nleft;
		l->tmp = tmp ? strdup(tmp) : NULL;
		l->lock = lock ? strdup(lock) : NULL;
		l->when = time(NULL);
		rp->nleft++;
	}
	pthread_mutex_unlock(&rp->lock);
}

/*
 * Connected again after uploads were cut off: remove the temporary files
 * they may have left on the server (hidden from listings, but they hold
 * space and keep their folder from being removed), and the locks they
 * may have held, unless made after the cut (by another workstation).
 */
void
replay_sweep(struct roamfs *fs, struct sftp *s)
{
	struct replay *rp = fs->replay;
	struct sftp_attr a;
	struct leftover l;
	int e = 0;

	pthread_mutex_lock(&rp->lock);
	while (rp->nleft > 0 && e == 0) {
		l = rp->left[rp->nleft - 1];
		pthread_mutex_unlock(&rp->lock);
		if (l.lock && (e = sftp_lstat(s, l.lock, &a)) == 0 &&
		    (time_t)a.mtime <= l.when + 1)
			e = sftp_rmdir(s, l.lock);
		if (l.tmp && (e == 0 || e == -ENOENT))
			e = sftp_remove(s, l.tmp);
		if (e == -ENOTCONN || remote_is_transport_error(e)) {
			pthread_mutex_lock(&rp->lock);
			break;	/* at the next connection */
		}
		if (e < 0 && e != -ENOENT)
			log_debug("cannot remove %s from the server: %s", l.tmp ? l.tmp : l.lock,
			    strerror(-e));
		e = 0;
		free(l.tmp);
		free(l.lock);
		pthread_mutex_lock(&rp->lock);
		rp->nleft--;
	}
	pthread_mutex_unlock(&rp->lock);
}

/* The base version from the attributes of a reply; 0 when they lack the
 * mode (an LSTAT that failed). */
static int
base_from_reply(const struct sftp_attr *a, struct base *b)
{
	if (!(a->flags & SFTP_ATTR_PERMISSIONS))
		return 0;
	base_from_attr(b, a);
	return 1;
}

/*
 * A store that sends nothing (its file is gone here, or being written, or
 * not in the cache): the server is as it was.  When an upload of the file
 * to path was cut off, that may be either version, and the inode's base
 * knows neither: the one the server holds, if noted as ours (own.h),
 * becomes its base, so that the later records of the file (its removal,
 * its next upload) start from it.  0, or a transport error.
 */
int
replay_unsent(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    struct outcome *o)
{
	struct sftp_attr a;
	struct base b;
	struct db_txn t;
	int n = 0, e;

	if (db_begin(fs->db, &t, 0) == 0) {
		n = own_list(&t, r->path, &b, 1);
		db_abort(&t);
	}
	if (n == 0)
		return 0;
	if ((e = sftp_lstat(s, path, &a)) < 0)
		return e == -ENOTCONN || remote_is_transport_error(e) ? e : 0;
	if (conflict_own_which(fs, s, r->path, path, &a, &b) && base_from_reply(&a, &o->base)) {
		o->base.racy = b.racy;
		o->set_base = 1;
		log_debug("%s: not sent; the server holds a version of ours (%llu bytes, mtime %lld)",
		    r->path, (unsigned long long)o->base.size, (long long)o->base.mtime);
	}
	return 0;
}

static int
base_from_server(struct sftp *s, const char *path, struct base *b)
{
	struct sftp_attr a;
	int r;

	if ((r = sftp_lstat(s, path, &a)) < 0)
		return r;
	return base_from_reply(&a, b) ? 0 : -EIO;
}

uint64_t
replay_sent_hash(struct roamfs *fs, struct sftp *s, uint64_t ino, int fd, const char *path,
    uint64_t size, uint64_t wmark)
{
	uint64_t h = wmark != UINT64_MAX ? version_hash(fd, size) : 0;

	/* Checked after the hash: no write began from before the upload to
	 * after the hash, so the file held what was sent. */
	if (h != 0 && nodes_write_mark(fs->nodes, ino) == wmark)
		return h;
	log_debug("%s was written to while it was sent: its hash is read back", path);
	return conflict_server_hash(s, path, size);
}

char *
replay_lock_name(const char *path)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a of the name */
	char *p;
	int dl = slash ? (int)(slash - path + 1) : 0;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	if (asprintf(&p, "%.*s" REMOTE_TMP_PREFIX "lock.%016" PRIx64, dl, path, h) < 0)
		return NULL;
	return p;
}

char *
replay_tmp_name(struct roamfs *fs, const char *path, const struct jrec *r)
{
	const char *slash = strrchr(path, '/');
	char *p;
	int dl = slash ? (int)(slash - path + 1) : 0;

	if (asprintf(&p, "%.*s" REMOTE_TMP_PREFIX "%" PRIx64 ".%" PRIu64, dl, path,
	    r->ino ^ fs->tmp_salt, r->seq) < 0)
		return NULL;
	return p;
}

static int
replay_store(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    struct outcome *o)
{
	struct sftp_attr a;
	struct inode in;
	uint64_t sent = 0, wmark;
	char *tmp = NULL;
	int fd, e;

	/* The inode as it is now, not as it was when the record was made. */
	if ((e = meta_inode_read(fs->db, r->ino, &in)) < 0)
		return e == -ENOENT ? 0 : e;	/* gone: its removal follows */
	if (in.nlink == 0 || !(in.flags & I_CACHED) || (in.flags & I_EXCLUDED)) {
		inode_free(&in);
		return replay_unsent(fs, s, r, path, o);
	}
	/* A file of a SQLite database: the database goes whole (unit.h). */
	if ((e = replay_unit(fs, s, r, &in, o)) != 1) {
		inode_free(&in);
		return e == 2 ? replay_unsent(fs, s, r, path, o) : e;
	}
	if (replay_being_written(fs, r)) {
		inode_free(&in);
		return replay_unsent(fs, s, r, path, o);
	}
	if ((fd = cache_file_open(fs->cache, r->ino, O_RDONLY)) < 0) {
		inode_free(&in);
		return fd == -ENOENT ? replay_unsent(fs, s, r, path, o) : fd;
	}
	wmark = nodes_write_mark(fs->nodes, r->ino);
	memset(&a, 0, sizeof a);
	a.flags = SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME;
	a.mode = in.mode & 07777;
	a.atime = a.mtime = (uint32_t)in.mtime_s;
	/* Several names share the file: a rename over one of them would split
	 * them, so the file they share is rewritten in place.  Not there any
	 * more (removed on the server): uploaded as a new file. */
	replay_step(fs, 1, in.size);
	e = replay_in_place(&in) ? sftp_rewrite(s, fd, path, &a, &sent) : -ENOENT;
	if (e == -ENOENT) {
		if ((tmp = replay_tmp_name(fs, path, r)) == NULL)
			e = -ENOMEM;
		else
			e = sftp_upload(s, fd, tmp, in.mode & 07777, 1, NULL, NULL, &sent);
		if (e == 0)
			e = sftp_setstat(s, tmp, &a);
		if (e == 0)
			e = sftp_rename(s, tmp, path);
		if (e < 0 && tmp && !remote_is_transport_error(e) && e != -ENOTCONN)
			sftp_remove(s, tmp);
		else if (e < 0 && tmp)
			replay_leftover(fs, tmp, NULL);
	}
	replay_step(fs, 0, 0);
	if (e == 0) {
		o->set_base = 1;
		o->base.size = sent;
		o->base.mtime = in.mtime_s;
		o->base.mode = in.mode;
		o->base.valid = 1;
		o->base.racy = version_is_racy(in.mtime_s) ?
		    replay_sent_hash(fs, s, r->ino, fd, path, sent, wmark) : 0;
	}
	close(fd);
	free(tmp);
	inode_free(&in);
	return e;
}

/* One round trip (MKDIR and LSTAT together), two when the server's umask
 * took mode bits away. */
static int
replay_mkdir(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    struct outcome *o)
{
	struct sftp_attr a, set;
	char *copy = NULL;
	int e = sftp_mkdir_lstat(s, path, r->mode, &a);

	/* Already there (a replay after a crash, or made elsewhere too: the
	 * folders merge) if it is a directory.  Another object made there
	 * elsewhere keeps the name; ours takes its conflict name. */
	if (e == -EEXIST && (a.flags & SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.mode))
		e = 0;
	else if (e == -EEXIST && (a.flags & SFTP_ATTR_PERMISSIONS))
		e = (path = copy = conflict_made(fs, r, &a)) == NULL ? -ENOMEM :
		    sftp_mkdir_lstat(s, path, r->mode, &a);
	if (e < 0) {
		free(copy);
		return e;
	}
	if (!(a.flags & SFTP_ATTR_PERMISSIONS) || (a.mode & 07777) != (r->mode & 07777)) {
		memset(&set, 0, sizeof set);
		set.flags = SFTP_ATTR_PERMISSIONS;
		set.mode = r->mode;
		e = sftp_setstat_lstat(s, path, &set, &a);
	}
	if (e == 0)
		o->set_base = base_from_reply(&a, &o->base);
	free(copy);
	return e;
}

static int
replay_symlink(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    struct outcome *o)
{
	struct sftp_attr a;
	char *old = NULL, *copy = NULL;
	int e = sftp_symlink(s, r->path2, path);

	/* Already there (a replay after a crash) if it is our link.  Another
	 * object made there elsewhere keeps the name; ours takes its
	 * conflict name. */
	if (e == -EEXIST || e == -EIO) {
		if (sftp_readlink(s, path, &old) == 0 && strcmp(old, r->path2) == 0)
			e = 0;
		else if (sftp_lstat(s, path, &a) == 0 && (a.flags & SFTP_ATTR_PERMISSIONS))
			e = (path = copy = conflict_made(fs, r, &a)) == NULL ? -ENOMEM :
			    sftp_symlink(s, r->path2, path);
		free(old);
	}
	/* Made, but the connection was lost before its attributes came: made
	 * again at the next connection (found there, ours), so that what the
	 * replay left at the name is known (own.h) and its removal or
	 * replacement is not taken for another workstation's change. */
	if (e == 0) {
		int b = base_from_server(s, path, &o->base);

		if (b == 0)
			o->set_base = 1;
		else if (remote_is_transport_error(b))
			e = b;
	}
	free(copy);
	return e;
}

static int
replay_rename(struct sftp *s, const char *from, const char *to)
{
	struct sftp_attr a;
	int e = sftp_rename(s, from, to);

	/* Done before a crash: the source is gone and the target is there. */
	if (e == -ENOENT && sftp_lstat(s, from, &a) == -ENOENT && sftp_lstat(s, to, &a) == 0)
		e = 0;
	return e;
}

/*
 * A change of mode or times.  SETSTAT follows symbolic links on the
 * server, so a link's times go with lsetstat@openssh.com (a link has no
 * mode of its own on Linux); without that extension they stay local: the
 * target must not get them, and the change is not worth setting aside.
 * The atime is what the mount shows now (the record has the mtime only).
 */
static int
replay_setattr(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    struct outcome *o)
{
	static int told_no_lsetstat;
	struct sftp_attr a, st;
	struct inode in;
	struct base base;
	int e, link;

	if ((e = meta_inode_read(fs->db, r->ino, &in)) < 0)
		return e == -ENOENT ? 0 : e;	/* gone: its removal follows */
	link = S_ISLNK(in.mode);
	base = in.base;
	memset(&a, 0, sizeof a);
	if ((r->attrs & JA_MODE) && !link) {
		a.flags |= SFTP_ATTR_PERMISSIONS;
		a.mode = r->mode;
	}
	if (r->attrs & JA_MTIME) {
		a.flags |= SFTP_ATTR_ACMODTIME;
		a.mtime = (uint32_t)r->mtime;
		a.atime = (uint32_t)in.atime_s;
	}
	inode_free(&in);
	if (a.flags == 0)
		return 0;
	if (!link)
		e = sftp_setstat_lstat(s, path, &a, &st);
	else if ((e = sftp_lsetstat_lstat(s, path, &a, &st)) == -ENOTSUP) {
		if (!told_no_lsetstat) {
			told_no_lsetstat = 1;
			log_debug("the server lacks lsetstat@openssh.com: times of symbolic "
			    "links stay local (first: %s)", r->path);
		}
		return 0;
	}
	if (e == -ENOENT) {
		/* Removed on the server meanwhile: its listing removes it here. */
		log_info("%s is gone from the server: its change of mode or times is dropped",
		    r->path);
		return 0;
	}
	if (e == 0)
		o->set_base = base_from_reply(&st, &o->base);
	/* The mode or times merged into another workstation's contents. */
	o->foreign = o->set_base && S_ISREG(o->base.mode) && base.valid && o->base.size != base.size;
	return e;
}

static int
replay_one(struct roamfs *fs, struct sftp *s, const struct jrec *r, struct outcome *o)
{
	char *path = remote_path(fs->bg, r->path);
	char *path2 = r->path2 ? remote_path(fs->bg, r->path2) : NULL;
	int e;

	if (path == NULL || (r->path2 && path2 == NULL)) {
		free(path);
		return -ENOMEM;
	}
	switch (r->type) {
	case J_STORE:
		e = replay_store(fs, s, r, path, o);
		break;
	case J_MKDIR:
		e = replay_mkdir(fs, s, r, path, o);
		break;
	case J_SYMLINK:
		e = replay_symlink(fs, s, r, path, o);
		break;
	case J_LINK:
		e = sftp_link(s, path, path2);
		if (e == -EEXIST)
			e = 0;
		/* The file is not on the server (its upload was skipped: it
		 * was gone here by then, or was being written): sent to the
		 * new name, or nothing to do. */
		else if (e == -ENOENT && (e = conflict_resend(fs, r)) > 0) {
			o->replaced = e == 2;
			e = 0;
		}
		break;
	case J_UNLINK:
		/* Not over another workstation's change of the file. */
		if ((e = conflict_remove(fs, s, r, path)) == 0)
			e = sftp_remove(s, path);
		e = e == -ENOENT || e > 0 ? 0 : e;
		break;
	case J_RMDIR:
		e = sftp_rmdir(s, path);
		/* Holds what another workstation put there, or is another
		 * workstation's file now: kept. */
		if (e == -ENOTEMPTY || e == -ENOTDIR)
			conflict_rmdir_kept(fs, r, e);
		e = e == -ENOENT || e == -ENOTEMPTY || e == -ENOTDIR ? 0 : e;
		break;
	case J_RENAME:
		/* Not over a name another workstation made or changed. */
		if ((e = conflict_rename(fs, s, r, path, path2)) == 0)
			e = replay_rename(s, path, path2);
		o->replaced = e == 2;	/* now an upload, under the same seq */
		e = e > 0 ? 0 : e;
		break;
	case J_SETATTR:
		e = replay_setattr(fs, s, r, path, o);
		break;
	default:
		e = -EINVAL;
	}
	free(path);
	free(path2);
	return e;
}

int
replay_begin_txn(struct db_txn *t, const struct jrec *r)
{
	struct inode in;
	struct jrec now;
	int same;

	/* Read before this transaction: the record may have been cancelled
	 * (or turned into a removal) since, by a change of the same file. */
	if (journal_get(t, r->seq, &now) < 0)
		return t->ret ? t->ret : 1;
	same = now.type == r->type && now.ino == r->ino;
	jrec_free(&now);
	if (!same)
		return 1;
	if (meta_inode_get(t, r->ino, &in) == 0) {
		in.flags &= ~I_LOCALNEW;
		if (in.pending_store == r->seq)
			in.pending_store = 0;
		meta_inode_put(t, &in);
		inode_free(&in);
	}
	return t->ret;
}

/* replay_begin_txn in a transaction of its own: 0, 1 when the record is gone, or -errno. */
static int
replay_begin(struct roamfs *fs, const struct jrec *r)
{
	struct db_txn t;
	int e;

	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	if ((e = replay_begin_txn(&t, r)) != 0) {
		db_abort(&t);
		return e;
	}
	return db_commit(&t);
}

/*
 * After a rename reached the server: what it moved there may have been
 * changed by another workstation meanwhile (the rename took that along),
 * while the cache still holds ours.  The next open or lookup asks again.
 */
static void
renamed(struct roamfs *fs, struct db_txn *t, const struct jrec *r)
{
	struct node *n;

	listing_expire_parent(fs, t, r->path2, NULL);
	nodes_lock(fs->nodes);
	if ((n = nodes_find(fs->nodes, r->ino)) != NULL)
		n->confirmed = 0;
	nodes_unlock(fs->nodes);
}

/*
 * The server refused r for good: keep the record (DB_ASIDE) and an entry
 * in the conflict table for roamctl, and for an upload keep our contents
 * in the cache under their name, where no listing replaces them.
 */
static void
set_aside(struct roamfs *fs, struct db_txn *t, struct jrec *r, int err)
{
	struct inode in;

	journal_set_aside(t, r, err);
	conflict_note(fs, t, CONFLICT_ASIDE, r->path, NULL, strerror(err));
	if (r->type == J_STORE && meta_inode_get(t, r->ino, &in) == 0) {
		in.flags |= I_ASIDE;
		meta_inode_put(t, &in);
		inode_free(&in);
	}
}

/*
 * Note what r, replayed, left on the server (own.h).  The record as it is
 * stored now: a conflict may have sent it to another name meanwhile.
 */
static void
note_own(struct db_txn *t, const struct jrec *r, const struct outcome *o)
{
	struct jrec now;
	struct base was;

	if (journal_get(t, r->seq, &now) < 0)
		return;
	switch (now.type) {
	case J_STORE:
	case J_MKDIR:
	case J_SYMLINK:
	case J_SETATTR:
		/* Made, but what was made is not known: nothing is taken for ours. */
		if (o->foreign || (!o->set_base && (now.type == J_MKDIR || now.type == J_SYMLINK))) {
			own_del(t, now.path);
			break;
		}
		/* Nothing sent (an upload skipped, a change of times that had
		 * nothing to set): the server is as it was. */
		if (!o->set_base)
			break;
		/* A change of mode or times keeps what is known of the contents. */
		if (now.type == J_SETATTR && own_get(t, now.path, &was) == 0 &&
		    was.size == o->base.size && was.mtime == o->base.mtime) {
			struct base b = o->base;

			b.racy = was.racy;
			own_put(t, now.path, &b);
		} else {
			own_put(t, now.path, &o->base);
		}
		break;
	case J_LINK:
		if (own_get(t, now.path, &was) == 0)
			own_put(t, now.path2, &was);
		break;
	case J_UNLINK:
	case J_RMDIR:
		own_del(t, now.path);
		break;
	case J_RENAME:
		own_move(t, now.path, now.path2);
		break;
	}
	jrec_free(&now);
}

void
replay_end_txn(struct roamfs *fs, struct db_txn *t, struct jrec *r, int err,
    const struct outcome *o)
{
	struct inode in;

	listing_replayed(r);	/* listings taken before may not show it */
	if (err == 0 && o->replaced)
		return;	/* the record under r->seq is another one now: replayed next */
	if (err < 0) {
		set_aside(fs, t, r, -err);
	} else {
		note_own(t, r, o);
		journal_remove(t, r);
	}
	/* Nothing on its way: the cache's bases say it all (own.h). */
	if (journal_empty(t))
		own_clear(t);
	__atomic_fetch_add(&fs->progress.sent_changes, 1, __ATOMIC_RELAXED);
	/* A file sent is clean: over its budget, the cache may drop it now. */
	evict_grew(fs, 0);
	if (err == 0 && r->type == J_RENAME)
		renamed(fs, t, r);
	if (err == 0 && o->set_base && o->foreign && journal_later_ino(t, r->ino, r->seq) == 0 &&
	    !nodes_busy(fs->nodes, r->ino) && meta_inode_get(t, r->ino, &in) == 0) {
		/* The server's contents are another workstation's: take them
		 * (ours had no change left to send), fetched at the next open. */
		in.base = o->base;
		in.size = o->base.size;
		in.flags |= I_REMOTE;
		if (in.flags & I_CACHED) {
			in.flags &= ~I_CACHED;
			cache_file_unlink(fs->cache, in.ino);
		}
		meta_inode_put(t, &in);
		inode_free(&in);
		notify_renew(fs, t, r->ino);
	} else if (err == 0 && o->set_base && !o->foreign) {
		if (meta_inode_get(t, r->ino, &in) == 0) {
			struct base was = in.base;

			in.base = o->base;
			/* A change of attributes keeps the contents, and what
			 * is known of them. */
			if (r->type != J_STORE && was.racy && was.size == in.base.size &&
			    was.mtime == in.base.mtime)
				in.base.racy = was.racy, in.base.refetch = was.refetch;
			in.flags |= I_REMOTE;
			if (r->type == J_STORE)
				in.flags &= ~I_ASIDE;	/* sent at last */
			meta_inode_put(t, &in);
			inode_free(&in);
		}
		/* Our later changes of it (its removal too, once it is gone
		 * from the cache) start from what we sent. */
		journal_rebase_ino(t, r->ino, r->seq, &o->base);
	}
}

static int
replay_end(struct roamfs *fs, struct jrec *r, int err, const struct outcome *o)
{
	struct db_txn t;
	int e;

	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	replay_end_txn(fs, &t, r, err, o);
	e = db_commit(&t);
	if (cache_reserve_release(fs->cache, e))
		return replay_end(fs, r, err, o);	/* dropping records makes room */
	return e;
}

void
replay_step(struct roamfs *fs, uint64_t files, uint64_t bytes)
{
	struct replay_progress *p = &fs->progress;

	__atomic_store_n(&p->step_files, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->step_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&p->step_start, __atomic_load_n(&p->sent_bytes, __ATOMIC_RELAXED),
	    __ATOMIC_RELAXED);
	__atomic_store_n(&p->step_files, files, __ATOMIC_RELEASE);
}

static void
replay_set_offline(struct roamfs *fs, int offline)
{
	struct replay *rp = fs->replay;

	pthread_mutex_lock(&rp->lock);
	if (!offline)
		rp->offline_since = 0;
	else if (rp->offline_since == 0)
		rp->offline_since = time(NULL);
	pthread_mutex_unlock(&rp->lock);
}

int
replay_being_written(struct roamfs *fs, const struct jrec *r)
{
	struct db_txn t;
	struct node *n;
	int dirty;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, r->ino);
	dirty = n && n->dirty;
	nodes_unlock(fs->nodes);
	if (!dirty || db_begin(fs->db, &t, 0) < 0)
		return 0;
	/* Later records (a link, a rename) need the file there: send what
	 * the cache holds now, and the next upload brings the rest. */
	dirty = journal_later_ino(&t, r->ino, r->seq) == 0;
	db_abort(&t);
	return dirty;
}

int
replay_settling(struct roamfs *fs, const struct jrec *r)
{
	int draining;

	pthread_mutex_lock(&fs->replay->lock);
	draining = fs->replay->draining || fs->replay->hurry;
	pthread_mutex_unlock(&fs->replay->lock);
	return !draining && time(NULL) - r->when < REPLAY_SETTLE;
}

/*
 * Replay the oldest record: 1 done, 0 journal empty, -EAGAIN when the
 * oldest record is still settling, -errno to retry later.
 */
static int
replay_next(struct roamfs *fs)
{
	struct outcome o;
	struct db_txn t;
	struct jrec r;
	struct sftp *s;
	int e;

	if ((e = db_begin(fs->db, &t, 0)) < 0)
		return e;
	e = journal_first(&t, &r);
	db_abort(&t);
	if (e == -ENOENT)
		return 0;
	if (e == 0 && replay_settling(fs, &r)) {
		jrec_free(&r);
		return -EAGAIN;
	}
	if (e == 0 && r.type == J_STORE && (e = replay_batch(fs)) != 0) {
		/* Several uploads went (or failed) together. */
		jrec_free(&r);
		return e;
	}
	if (e < 0) {
		log_err("the journal cannot be read (%s): replay stops; see roamfs(8)", strerror(-e));
		return e;
	}
	if ((e = remote_acquire(fs->bg, &s)) < 0) {
		jrec_free(&r);
		replay_set_offline(fs, 1);
		return e;
	}
	replay_set_offline(fs, 0);
	replay_sweep(fs, s);
	sftp_set_meter(s, &fs->progress.sent_bytes);
	memset(&o, 0, sizeof o);
	if ((e = replay_begin(fs, &r)) == 1) {
		/* Cancelled since it was read: nothing to send. */
		remote_release(fs->bg, 0);
		jrec_free(&r);
		return 1;
	}
	if (e == 0)
		e = replay_one(fs, s, &r, &o);
	remote_release(fs->bg, e);
	if (e < 0 && (remote_is_transport_error(e) || e == -ENOMEM || e == -EAGAIN)) {
		/* -EAGAIN: another workstation replaces the file now (unit.c). */
		jrec_free(&r);
		return e;
	}
	if (e < 0)
		log_err("could not apply %s of %s on the server: %s; the change is set aside "
		    "(the local copy is kept) and listed by roamctl", jtype_name(r.type),
		    r.path, strerror(-e));
	else
		log_debug("replayed %s %s%s%s (inode %llu, seq %llu)", jtype_name(r.type), r.path,
		    r.path2 ? " -> " : "", r.path2 ? r.path2 : "", (unsigned long long)r.ino,
		    (unsigned long long)r.seq);
	e = replay_end(fs, &r, e, &o);
	jrec_free(&r);
	return e < 0 ? e : 1;
}

static void *
replay_thread(void *arg)
{
	struct roamfs *fs = arg;
	struct replay *rp = fs->replay;
	struct timespec until;
	int r = 0, draining;

	remote_keepalive(fs->fg);	/* open the channel a warm login left to us */
	listing_refresh_stale(fs);	/* and list what was served meanwhile */
	for (;;) {
		pthread_mutex_lock(&rp->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += r == -EAGAIN ? REPLAY_SETTLE : 2;
		/* While the oldest record settles, new ones change nothing. */
		while (!rp->stop && !(rp->wake && (r != -EAGAIN || rp->draining)))
			if (pthread_cond_timedwait(&rp->cond, &rp->lock, &until) == ETIMEDOUT)
				break;
		rp->wake = 0;
		draining = rp->draining;
		if (rp->stop) {
			pthread_mutex_unlock(&rp->lock);
			break;
		}
		pthread_mutex_unlock(&rp->lock);
		pending_update(fs, draining);	/* a marker while changes are on their way */
		session_update(fs);		/* and one while the home is mounted */
		while ((r = replay_next(fs)) == 1)
			;
		pending_update(fs, draining);
		/* Applications never wait for a connect, nor does logout: the
		 * replay connects as soon as the journal holds something, even
		 * while it settles.  An idle home holds one SSH session on the
		 * server, not two. */
		remote_keepalive(fs->fg);
		if (r != 0)
			remote_keepalive(fs->bg);
		listing_refresh_stale(fs);
		if (r < 0 && r != -EAGAIN)
			replay_set_offline(fs, 1);	/* no progress: counts for drain's timeout */
		pthread_mutex_lock(&rp->lock);
		rp->idle = r == 0;
		if (r == 0)
			rp->hurry = 0;
		pthread_cond_broadcast(&rp->progress);
		pthread_mutex_unlock(&rp->lock);
	}
	return NULL;
}

int
replay_start(struct roamfs *fs)
{
	struct replay *rp = calloc(1, sizeof *rp);
	int r;

	if (rp == NULL)
		return -ENOMEM;
	pthread_mutex_init(&rp->lock, NULL);
	pthread_cond_init(&rp->cond, NULL);
	pthread_cond_init(&rp->progress, NULL);
	rp->wake = 1;
	fs->replay = rp;
	if ((r = pthread_create(&rp->thread, NULL, replay_thread, fs)) != 0)
		return -r;
	rp->started = 1;
	return 0;
}

/*
 * Called after every change: only a replayer that found the journal empty
 * sleeps on it and needs waking.  A busy or settling one finds the new
 * records on its next pass, so a burst of changes costs no thread switch.
 */
void
replay_wake(struct roamfs *fs)
{
	struct replay *rp = fs->replay;
	int was_idle;

	if (rp == NULL)
		return;
	pthread_mutex_lock(&rp->lock);
	was_idle = rp->idle;
	rp->wake = 1;
	rp->idle = 0;
	if (was_idle)
		pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}

void
replay_flush(struct roamfs *fs)
{
	struct replay *rp = fs->replay;

	if (rp == NULL)
		return;
	remote_kick(fs->bg);
	remote_kick(fs->fg);
	pthread_mutex_lock(&rp->lock);
	rp->hurry = 1;
	rp->wake = 1;
	rp->idle = 0;
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
}

void
replay_state(struct roamfs *fs, struct replay_state *st)
{
	struct replay *rp = fs->replay;

	memset(st, 0, sizeof *st);
	if (rp == NULL)
		return;
	pthread_mutex_lock(&rp->lock);
	st->draining = rp->draining;
	st->offline_since = rp->offline_since;
	st->idle = rp->idle;
	pthread_mutex_unlock(&rp->lock);
}

static size_t
journal_size(struct roamfs *fs)
{
	struct db_txn t;
	size_t n = 0;

	if (db_begin(fs->db, &t, 0) == 0) {
		db_count(&t, DB_JOURNAL, &n);
		db_abort(&t);
	}
	return n;
}

int
replay_drain(struct roamfs *fs)
{
	struct replay *rp = fs->replay;
	struct timespec until;
	size_t left;
	int gave_up = 0;

	if ((left = journal_size(fs)) == 0)
		return 0;
	log_info("sending %zu remaining changes to the server before exiting", left);
	remote_kick(fs->bg);
	pthread_mutex_lock(&rp->lock);
	rp->draining = 1;
	rp->wake = 1;
	rp->idle = 0;
	pthread_cond_signal(&rp->cond);
	for (;;) {
		if (rp->idle && journal_size(fs) == 0)
			break;
		if (rp->offline_since && time(NULL) - rp->offline_since >= (time_t)fs->flush_timeout) {
			gave_up = 1;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&rp->progress, &rp->lock, &until);
		if (rp->offline_since) {
			rp->wake = 1;
			pthread_cond_signal(&rp->cond);
		}
	}
	pthread_mutex_unlock(&rp->lock);
	if (gave_up) {
		log_warn("%zu changes could not reach the server; they stay in the cache %s "
		    "and are sent at the next mount", journal_size(fs), cache_dir(fs->cache));
		return -EOFFLINE;
	}
	log_info("all changes are on the server");
	return 0;
}

void
replay_stop(struct roamfs *fs)
{
	struct replay *rp = fs->replay;

	if (rp == NULL)
		return;
	pthread_mutex_lock(&rp->lock);
	rp->stop = 1;
	pthread_cond_signal(&rp->cond);
	pthread_mutex_unlock(&rp->lock);
	if (rp->started)
		pthread_join(rp->thread, NULL);
	pending_update(fs, 1);	/* the marker goes with the last change sent */
	session_end(fs);
	pthread_mutex_destroy(&rp->lock);
	pthread_cond_destroy(&rp->cond);
	pthread_cond_destroy(&rp->progress);
	while (rp->nleft > 0) {
		rp->nleft--;
		free(rp->left[rp->nleft].tmp);
		free(rp->left[rp->nleft].lock);
	}
	free(rp->left);
	free(rp);
	fs->replay = NULL;
}
