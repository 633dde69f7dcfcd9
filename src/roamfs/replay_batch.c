/*
 * replay_batch: send a run of uploads at the head of the journal together.
 *
 * Consecutive STORE records of distinct files commute: each one writes a
 * temporary name of its own and renames it over its own target.  Sending
 * them with sftp_put_many() keeps the requests of many files in flight, so
 * that thousands of small files do not cost several round trips each.
 * The run stops at the first record of another kind, at a record still
 * settling, at a file with several names (rewritten in place, alone), at a
 * file of a SQLite database (unit.h: the database goes whole, alone), and
 * at a second record for a file or path already in it.  A run of one file
 * goes the same way.
 *
 * Each rename replaces only the version the change was based on (or
 * nothing, for a new file): the LSTAT that checks it travels with the
 * file's other requests.  A file that finds another version there is left
 * under its temporary name for conflict.c to decide, and one whose folder
 * is gone from the server is sent again once the folder is made again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "conflict.h"
#include "own.h"
#include "replay_int.h"
#include "unit.h"
#include "version.h"

#define BATCH_MAX	1024
#define PREFETCH_BYTES	(128 << 10)	/* read ahead of each file at prepare */

struct batch {
	struct roamfs *fs;
	struct db_txn *t;		/* while collecting */
	size_t n;
	struct jrec rec[BATCH_MAX];
	struct sftp_put put[BATCH_MAX];
	int send[BATCH_MAX];		/* put[i] is to be sent */
	int gone[BATCH_MAX];		/* rec[i] was cancelled before it started */
	int busy[BATCH_MAX];		/* rec[i] waits: another workstation replaces its file */
	int alone[BATCH_MAX];		/* rec[i] is a database's file: replayed alone next (unit.h) */
	uint64_t racy[BATCH_MAX];	/* the racy hash of the version rec[i] replaces */
	uint64_t size[BATCH_MAX];	/* the size of the file rec[i] sends */
	uint64_t wmark[BATCH_MAX];	/* its last write before the upload (nodes_write_mark) */
	uint64_t bytes;			/* the size of the files to send */
	struct outcome out[BATCH_MAX];
};

/* Whether a file goes alone: rewritten in place (replay.c), not renamed
 * into place, or a file of a SQLite database (unit.h). */
static int
batch_alone(const struct batch *b, const struct jrec *r)
{
	struct inode in;
	int alone = 0;

	if (meta_inode_get(b->t, r->ino, &in) == 0) {
		alone = replay_in_place(&in) || unit_known(r->path, &in);
		inode_free(&in);
	}
	return alone;
}

/* Whether a record can join the batch. */
static int
batch_fits(const struct batch *b, const struct jrec *r)
{
	size_t i;

	if (b->n == BATCH_MAX || r->type != J_STORE || replay_settling(b->fs, r) ||
	    batch_alone(b, r))
		return 0;
	for (i = 0; i < b->n; i++)
		if (b->rec[i].ino == r->ino || strcmp(b->rec[i].path, r->path) == 0)
			return 0;
	return 1;
}

static int
batch_collect(void *arg, struct jrec *r)
{
	struct batch *b = arg;

	if (!batch_fits(b, r)) {
		jrec_free(r);
		return 1;
	}
	b->put[b->n].fd = -1;
	b->rec[b->n++] = *r;
	return 0;
}

/* Prepare the upload of record i, or leave it unsent when there is nothing to send. */
static int
batch_prepare(struct batch *b, size_t i)
{
	struct roamfs *fs = b->fs;
	struct sftp_put *p = &b->put[i];
	struct inode in;
	int fd;

	p->fd = -1;
	if (meta_inode_read(fs->db, b->rec[i].ino, &in) < 0)
		return 0;	/* gone: its removal follows */
	if (in.nlink == 0 || !(in.flags & I_CACHED) || (in.flags & I_EXCLUDED) ||
	    replay_being_written(fs, &b->rec[i]) ||
	    (fd = cache_file_open(fs->cache, in.ino, O_RDONLY)) < 0) {
		log_debug("%s: not sent (links %u, flags %#x)", b->rec[i].path, (unsigned)in.nlink,
		    (unsigned)in.flags);
		inode_free(&in);
		return 0;
	}
	p->fd = fd;
	b->wmark[i] = nodes_write_mark(fs->nodes, in.ino);
	/* Ask for the start of every file of the run now: after a reboot the
	 * cache is on a cold disk, and reads one file at a time would leave
	 * the upload waiting for each in turn. */
	(void)posix_fadvise(fd, 0, PREFETCH_BYTES, POSIX_FADV_WILLNEED);
	p->mode = in.mode & 07777;
	p->mtime = (uint32_t)in.mtime_s;
	/* What the rename may replace: the version the change started from. */
	p->check = !(in.flags & I_REMOTE) || in.base.valid;
	p->expect_absent = !(in.flags & I_REMOTE);
	p->expect_mode = in.base.mode;
	p->expect_size = in.base.size;
	p->expect_mtime = (uint32_t)in.base.mtime;
	/* A version of the same size and second may have replaced it: its
	 * contents tell, compared under the lock. */
	b->racy[i] = p->check && !p->expect_absent ? in.base.racy : 0;
	p->verify = b->racy[i] != 0;
	p->path = remote_path(fs->bg, b->rec[i].path);
	p->tmp = p->path ? replay_tmp_name(fs, p->path, &b->rec[i]) : NULL;
	p->lock = p->path ? replay_lock_name(p->path) : NULL;
	b->out[i].base.mtime = in.mtime_s;
	b->out[i].base.mode = in.mode;
	b->bytes += in.size;
	b->size[i] = in.size;
	inode_free(&in);
	if (p->tmp == NULL || p->lock == NULL)
		return -ENOMEM;
	b->send[i] = 1;
	return 0;
}

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (b->put[i].fd >= 0)
			close(b->put[i].fd);
		free((char *)b->put[i].tmp);
		free((char *)b->put[i].path);
		free((char *)b->put[i].lock);
		jrec_free(&b->rec[i]);
	}
}

/* Mark the records as started, in one transaction; those cancelled since
 * they were read are left out (gone[i]). */
static int
batch_begin(struct batch *b)
{
	struct db_txn t;
	size_t i;
	int e;

	if ((e = db_begin(b->fs->db, &t, 1)) < 0)
		return e;
	for (i = 0; i < b->n && t.ret == 0; i++)
		b->gone[i] = replay_begin_txn(&t, &b->rec[i]) == 1;
	return db_commit(&t);
}

/* A file the batch found to be a SQLite database: its record stays, to be
 * replayed alone with the rest of the database (unit.h), and the batch
 * leaves it out from now on without reading it. */
static void
mark_sqlite(struct db_txn *t, const struct jrec *r)
{
	struct inode in;

	if (meta_inode_get(t, r->ino, &in) == 0) {
		in.flags |= I_SQLITE;
		if (in.pending_store == 0)
			in.pending_store = r->seq;
		meta_inode_put(t, &in);
		inode_free(&in);
	}
}

/* Record every result, in one transaction. */
static int
batch_end_txn(struct batch *b)
{
	struct db_txn t;
	size_t i;
	int e;

	if ((e = db_begin(b->fs->db, &t, 1)) < 0)
		return e;
	for (i = 0; i < b->n; i++)
		if (b->alone[i])
			mark_sqlite(&t, &b->rec[i]);
		else if (!b->gone[i] && !b->busy[i])
			replay_end_txn(b->fs, &t, &b->rec[i], b->send[i] ? b->put[i].err : 0, &b->out[i]);
	return db_commit(&t);
}

static int
batch_end(struct batch *b)
{
	size_t i;
	int e, err;

	for (i = 0; i < b->n; i++) {
		if (b->alone[i])
			continue;
		err = b->send[i] ? b->put[i].err : 0;
		if (err < 0 && !b->busy[i])
			log_err("could not upload %s to the server: %s; the change is set aside "
			    "(the local copy is kept) and listed by roamctl", b->rec[i].path,
			    strerror(-err));
		if (!b->gone[i] && !b->busy[i])
			log_debug("%s store %s (inode %llu, seq %llu)", b->send[i] ? "sent" : "not sent:",
			    b->rec[i].path, (unsigned long long)b->rec[i].ino,
			    (unsigned long long)b->rec[i].seq);
		if (!b->send[i])
			continue;	/* replay_unsent said */
		b->out[i].set_base = err == 0;
		b->out[i].base.size = b->put[i].sent;
		b->out[i].base.valid = 1;
	}
	/* Dropping the records makes room: on a full disk use the reserve. */
	e = batch_end_txn(b);
	if (cache_reserve_release(b->fs->cache, e))
		e = batch_end_txn(b);
	return e;
}

/* Locks older than this were left by a client that died (a replacement
 * holds its lock for a round trip or two). */
#define LOCK_STALE	60

int
replay_lock_stale(struct sftp *s, const char *lock)
{
	struct sftp_attr a;

	if (sftp_lstat(s, lock, &a) < 0 || (time_t)a.mtime + LOCK_STALE > time(NULL))
		return 0;
	log_warn("removing the lock %s, left on the server by a workstation that stopped", lock);
	sftp_rmdir(s, lock);	/* or another client did */
	return 1;
}

/*
 * Upload i found its folder gone: when another workstation renamed the
 * folder (conflict_moved_folder), send it there, or next to the file
 * there as a conflict copy when that changed since.  0 (p->err says how
 * it went), or -ENOTCONN when the connection died.
 */
static int
batch_moved(struct batch *b, struct sftp *s, size_t i)
{
	struct sftp_put *p = &b->put[i];
	struct base v;
	char *moved = NULL, *path, *tmp, *lock;
	int e;

	memset(&v, 0, sizeof v);
	v.size = p->expect_size;
	v.mtime = p->expect_mtime;
	v.mode = p->expect_mode;
	v.valid = 1;
	if ((e = conflict_moved_folder(b->fs, s, b->rec[i].path, &v, &moved)) <= 0)
		return e == -ENOTCONN || remote_is_transport_error(e) ? -ENOTCONN : 0;
	path = remote_path(b->fs->bg, moved);
	tmp = path ? replay_tmp_name(b->fs, path, &b->rec[i]) : NULL;
	lock = path ? replay_lock_name(path) : NULL;
	if (tmp == NULL || lock == NULL) {
		free(path);
		free(tmp);
		free(lock);
		free(moved);
		return 0;
	}
	if (e == 2) {
		/* The file changed there since: ours goes next to it. */
		struct db_txn t;

		log_warn("%s: its folder was renamed on another workstation, and the file changed "
		    "there since; this workstation's version is kept next to it as \"%s\"",
		    b->rec[i].path, moved);
		if (db_begin(b->fs->db, &t, 1) == 0) {
			conflict_note(b->fs, &t, CONFLICT_COPY, b->rec[i].path, moved,
			    "its folder renamed and the file changed on another workstation");
			db_commit(&t);
		}
		p->expect_absent = 1;
	} else {
		log_info("%s: its folder was renamed on another workstation; the change goes to %s, "
		    "where the server has the version it started from", b->rec[i].path, moved);
	}
	free((char *)p->path);
	free((char *)p->tmp);
	free((char *)p->lock);
	p->path = path;
	p->tmp = tmp;
	p->lock = lock;
	free(moved);
	if ((e = sftp_put_many(s, p, 1, 1)) < 0)
		return e;
	return p->err == -ENOTCONN || remote_is_transport_error(p->err) ? -ENOTCONN : 0;
}

/*
 * After the batch: a file whose folder is gone goes again once the folder
 * is made again; one that found another version at its name is decided by
 * conflict.c.  0, or -ENOTCONN when the connection died.
 */
static int
batch_settle(struct batch *b, struct sftp *s, size_t i)
{
	struct sftp_put *p = &b->put[i];
	int e;

	/* A change of a file whose folder another workstation renamed:
	 * where the server has the version it started from. */
	if (p->err == -ENOENT && p->check && !p->expect_absent &&
	    (e = batch_moved(b, s, i)) < 0)
		return e;
	if (p->err == -ENOENT) {
		/* Why the folder cannot be made is the reason to give.  Made
		 * by another file of the batch: this one goes again too. */
		if ((e = conflict_parents(b->fs, s, b->rec[i].path)) >= 0 &&
		    (e = sftp_put_many(s, p, 1, 1)) < 0)
			return e;
		if (e < 0)
			p->err = e;
	}
	if (p->busy && replay_lock_stale(s, p->lock) && (e = sftp_put_many(s, p, 1, 1)) < 0)
		return e;	/* a lock left by a client that died: broken, once more */
	if (p->busy) {
		log_debug("%s: another workstation is replacing it now; sent again soon",
		    b->rec[i].path);
		b->busy[i] = 1;
		return 0;
	}
	if (p->kept) {
		p->kept = 0;
		p->err = conflict_store(b->fs, s, &b->rec[i], p, b->racy[i]);
	}
	/* Sent within the second of its mtime: others may follow with the
	 * same size and mtime, which the next upload tells by this hash. */
	if (p->err == 0 && version_is_racy(p->mtime))
		b->out[i].base.racy = replay_sent_hash(b->fs, s, b->rec[i].ino, p->fd, p->path,
		    p->sent, b->wmark[i]);
	return p->err == -ENOTCONN || remote_is_transport_error(p->err) ? -ENOTCONN : 0;
}

/*
 * A SQLite database goes whole, with its -wal or -journal (unit.h): one
 * among the prepared files is left out, for replay_unit.  Its first bytes
 * are read once every file of the batch has asked for its own (a cold
 * cache disk reads them together).
 */
static void
batch_databases(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->send[i] && unit_header(b->put[i].fd, b->size[i])) {
			log_debug("%s: a SQLite database; it goes alone, with its -wal or -journal",
			    b->rec[i].path);
			b->send[i] = 0;
			b->alone[i] = 1;
			b->bytes -= b->size[i];
		}
}

/* Upload the prepared files over the replayer's connection s. */
static int
batch_send(struct batch *b, struct sftp *s)
{
	struct sftp_put puts[BATCH_MAX];
	size_t i, k = 0, map[BATCH_MAX];
	int e;

	for (i = 0; i < b->n; i++)
		if (b->send[i]) {
			map[k] = i;
			puts[k++] = b->put[i];
		}
	/* Those that send nothing: what the server holds of theirs. */
	for (i = 0, e = 0; i < b->n && e == 0; i++)
		if (!b->send[i] && !b->gone[i] && !b->alone[i]) {
			char *path = remote_path(b->fs->bg, b->rec[i].path);

			e = path ? replay_unsent(b->fs, s, &b->rec[i], path, &b->out[i]) : -ENOMEM;
			free(path);
		}
	if (e < 0)
		return e == -ENOMEM ? e : -ENOTCONN;
	if (k == 0)
		return 0;
	sftp_set_meter(s, &b->fs->progress.sent_bytes);
	replay_step(b->fs, k, b->bytes);
	e = sftp_put_many(s, puts, k, 1);
	replay_step(b->fs, 0, 0);
	for (i = 0; i < k; i++)
		b->put[map[i]] = puts[i];
	for (i = 0; i < b->n && e == 0; i++)
		if (b->send[i])
			e = batch_settle(b, s, i);
	return e;
}

/*
 * The connection died during the batch: each file sent may be on the
 * server under its name (the rename went, its reply did not come), or
 * not, and its temporary file and lock may be left there.  Note both
 * versions as this workstation's (own.h), and the names to sweep.
 */
static void
batch_cut(struct batch *b)
{
	struct db_txn t;
	struct base v;
	size_t i;

	if (db_begin(b->fs->db, &t, 1) < 0)
		return;
	for (i = 0; i < b->n; i++) {
		const struct sftp_put *p = &b->put[i];

		if (!b->send[i] || b->gone[i])
			continue;
		replay_leftover(b->fs, p->tmp, p->check ? p->lock : NULL);
		memset(&v, 0, sizeof v);
		v.size = b->size[i];
		v.mtime = p->mtime;
		v.mode = b->out[i].base.mode;
		v.valid = 1;
		/* Written to meanwhile: what was sent is not known, and its
		 * size and mtime alone name it. */
		v.racy = version_is_racy(p->mtime) && b->wmark[i] != UINT64_MAX ?
		    version_hash(p->fd, v.size) : 0;
		if (v.racy && nodes_write_mark(b->fs->nodes, b->rec[i].ino) != b->wmark[i])
			v.racy = 0;
		own_maybe(&t, b->rec[i].path, &v);
	}
	db_commit(&t);
}

int
replay_batch(struct roamfs *fs)
{
	struct batch *b = calloc(1, sizeof *b);
	struct db_txn t;
	struct sftp *s;
	size_t i;
	int e;

	if (b == NULL)
		return -ENOMEM;
	b->fs = fs;
	if ((e = db_begin(fs->db, &t, 0)) == 0) {
		b->t = &t;
		e = journal_scan(&t, batch_collect, b);
		b->t = NULL;
		db_abort(&t);
	}
	if (e >= 0 && b->n == 0)
		e = 0;	/* the head cannot go in a batch: the caller replays it alone */
	else if (e >= 0 && (e = remote_acquire(fs->bg, &s)) == 0) {
		replay_sweep(fs, s);
		/* Connected first: records marked started while offline could
		 * no longer be cancelled, and later writes would journal a
		 * second upload of the same files. */
		if ((e = batch_begin(b)) == 0) {
			for (i = 0; i < b->n && e == 0; i++)
				if (!b->gone[i])
					e = batch_prepare(b, i);
			if (e == 0)
				batch_databases(b);
			if (e == 0)
				e = batch_send(b, s);
		}
		remote_release(fs->bg, e);
		if (e == -ENOTCONN || remote_is_transport_error(e))
			batch_cut(b);
		if (e == 0)
			e = batch_end(b);
		for (i = 0; i < b->n && e == 0; i++)
			if (b->busy[i])
				e = -EAGAIN;	/* once the other workstation is done */
		if (e == 0) {
			if (b->n > 1)
				log_debug("replayed %zu uploads together", b->n);
			else
				log_debug("replayed store %s", b->rec[0].path);
			e = 1;
		}
	}
	batch_free(b);
	free(b);
	return e;
}
