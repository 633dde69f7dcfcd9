/*
 * unit: a SQLite database and its -wal or -journal travel and conflict as
 * one (unit.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "conflict.h"
#include "listing.h"
#include "own.h"
#include "unit.h"
#include "version.h"

#define UNIT_FILES	3
#define TRIES		100	/* to find an instant without writes, 10 ms apart */

/* The database, its write-ahead log, its rollback journal. */
static const char *const suffix[UNIT_FILES] = { "", "-wal", "-journal" };

enum { EX_ANY, EX_ABSENT, EX_VERSION };

struct member {
	char *rel;		/* relative to the home */
	char *path;		/* on the server */
	char *tmp;		/* its upload's temporary name, once sent there */
	uint64_t ino;		/* 0: no such file here */
	struct inode in;
	int send;		/* changed here: its contents go */
	int snap;		/* its contents at the unit's instant (a copy), or -1 */
	uint64_t mark;		/* nodes_write_mark at that instant */
	int64_t mtime;
	int expect;		/* what the server should hold: EX_* */
	struct base exp;
	struct sftp_attr found;	/* what it holds */
	struct base sent;	/* what went there */
	int removed;		/* gone here: removed from the server too */
};

struct unit {
	struct roamfs *fs;
	const struct jrec *r;
	char *mrel;		/* the database's path */
	int k0;			/* r's file */
	int cut;		/* the connection died while ours replaced the server's */
	struct member m[UNIT_FILES];
};

/* The member a name is (its suffix), 0 for the database's own name. */
static int
suffix_of(const char *rel)
{
	size_t n = strlen(rel), k;

	for (k = 1; k < UNIT_FILES; k++) {
		size_t l = strlen(suffix[k]);

		if (n > l && strcmp(rel + n - l, suffix[k]) == 0 && rel[n - l - 1] != '/')
			return (int)k;
	}
	return 0;
}

/* Whether the cache file of ino starts as a SQLite database does. */
static int
is_sqlite(struct roamfs *fs, uint64_t ino)
{
	struct stat st;
	int fd = cache_file_open(fs->cache, ino, O_RDONLY), yes;

	if (fd < 0)
		return 0;
	yes = fstat(fd, &st) == 0 && unit_header(fd, (uint64_t)st.st_size);
	close(fd);
	return yes;
}

int
unit_known(const char *rel, const struct inode *in)
{
	return S_ISREG(in->mode) && (suffix_of(rel) != 0 || (in->flags & I_SQLITE));
}

int
unit_header(int fd, uint64_t size)
{
	static const char magic[16] = "SQLite format 3";
	char buf[16];

	/* A database is whole pages of 512 bytes or more. */
	return size >= 512 && size % 512 == 0 &&
	    pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf &&
	    memcmp(buf, magic, sizeof magic) == 0;
}

int
unit_maybe(struct roamfs *fs, const char *rel, const struct inode *in)
{
	if (unit_known(rel, in))
		return 1;
	return S_ISREG(in->mode) && in->size >= 512 && in->size % 512 == 0 &&
	    (in->flags & I_CACHED) && is_sqlite(fs, in->ino);
}

/* The oldest pending removal of a path: the version it expects there. */
struct removal {
	const char *rel;
	int found;
	struct base b;
};

static int
removal_one(void *arg, struct jrec *r)
{
	struct removal *f = arg;

	if (r->type == J_UNLINK && strcmp(r->path, f->rel) == 0) {
		f->found = 1;
		f->b = r->base;
	}
	jrec_free(r);
	return f->found;
}

static int
node_dirty(struct roamfs *fs, uint64_t ino, int64_t *mtime)
{
	struct node *n;
	int dirty;

	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, ino);
	if ((dirty = n && n->dirty))
		*mtime = n->mtime.tv_sec;
	nodes_unlock(fs->nodes);
	return dirty;
}

static void
unit_free(struct unit *u)
{
	int k;

	for (k = 0; k < UNIT_FILES; k++) {
		struct member *m = &u->m[k];

		if (m->snap >= 0)
			close(m->snap);
		free(m->rel);
		free(m->path);
		free(m->tmp);
		if (m->ino)
			inode_free(&m->in);
	}
	free(u->mrel);
}

/* Read what the cache knows of the unit of r: 1 when r's file is not a
 * database's, 0, or -errno. */
static int
unit_load(struct unit *u, struct db_txn *t)
{
	struct roamfs *fs = u->fs;
	const struct jrec *r = u->r;
	size_t n = strlen(r->path);
	int k, dirty;

	u->k0 = suffix_of(r->path);
	if ((u->mrel = strndup(r->path, n - strlen(suffix[u->k0]))) == NULL)
		return -ENOMEM;
	for (k = 0; k < UNIT_FILES; k++) {
		struct member *m = &u->m[k];
		uint64_t ino;

		if (asprintf(&m->rel, "%s%s", u->mrel, suffix[k]) < 0) {
			m->rel = NULL;
			return -ENOMEM;
		}
		if ((m->path = remote_path(fs->bg, m->rel)) == NULL)
			return -ENOMEM;
		if (meta_lookup(t, m->rel, &ino) == 0 && meta_inode_get(t, ino, &m->in) == 0) {
			if (S_ISREG(m->in.mode) && m->in.nlink > 0 && !(m->in.flags & I_EXCLUDED))
				m->ino = ino;
			else
				inode_free(&m->in);
		}
	}
	/* The database is here, whole, and one; r's file is the one at its path. */
	if (u->m[0].ino == 0 || !(u->m[0].in.flags & I_CACHED) || u->m[0].in.nlink > 1 ||
	    replay_in_place(&u->m[0].in) ||
	    u->m[u->k0].ino != r->ino || !is_sqlite(fs, u->m[0].ino))
		return 1;
	for (k = 0; k < UNIT_FILES; k++) {
		struct member *m = &u->m[k];

		if (m->ino == 0) {
			/* Removed here, not yet on the server: the version its
			 * removal expects there.  Never seen here: none. */
			struct removal f = { m->rel, 0, { 0 } };

			journal_scan(t, removal_one, &f);
			m->expect = !f.found ? EX_ABSENT : f.b.valid ? EX_VERSION : EX_ANY;
			m->exp = f.b;
			continue;
		}
		if (!(m->in.flags & I_REMOTE))
			m->expect = EX_ABSENT;
		else if (m->in.base.valid)
			m->expect = EX_VERSION, m->exp = m->in.base;
		else
			m->expect = EX_ANY;
		m->mtime = m->in.mtime_s;
		dirty = node_dirty(fs, m->ino, &m->mtime);
		m->send = (k == u->k0 || m->in.pending_store || (m->in.flags & I_LOCALNEW) || dirty) &&
		    (m->in.flags & I_CACHED);
	}
	return 0;
}

/* A copy of ino's cache file, at offset 0: in the cache's tmp folder, in
 * memory when the disk is full.  An fd or -errno. */
static int
copy_of(struct roamfs *fs, uint64_t ino)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n;
	int src, dst, e = 0, inmem = 0;

	if ((src = cache_file_open(fs->cache, ino, O_RDONLY)) < 0)
		return src;
	dst = openat(cache_tmp_fd(fs->cache), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
again:
	if (dst < 0 && (dst = memfd_create("roamfs-unit", MFD_CLOEXEC)) >= 0)
		inmem = 1;
	if (dst < 0) {
		e = -errno;
		close(src);
		return e;
	}
	for (off = 0;; off += n) {
		if ((n = pread(src, buf, sizeof buf, off)) <= 0)
			break;
		if (pwrite(dst, buf, (size_t)n, off) != n) {
			n = -1;
			break;
		}
	}
	if (n < 0) {
		e = -errno;
		close(dst);
		dst = -1;
		if ((e == -ENOSPC || e == -EDQUOT) && !inmem)
			goto again;
		close(src);
		return e;
	}
	close(src);
	return dst;
}

/*
 * Copy the files to send at one instant: no write to any file of the unit
 * under way, none between the first copy and the last.  0, or -EBUSY when
 * they are being written all the time.
 */
static int
snapshot(struct unit *u)
{
	struct roamfs *fs = u->fs;
	int k, t, ok, e;

	for (t = 0; t < TRIES; t++) {
		ok = 1;
		for (k = 0; k < UNIT_FILES; k++)
			if (u->m[k].ino && (u->m[k].mark = nodes_write_mark(fs->nodes, u->m[k].ino)) ==
			    UINT64_MAX)
				ok = 0;
		for (k = 0; k < UNIT_FILES && ok; k++)
			if (u->m[k].send) {
				if ((e = copy_of(fs, u->m[k].ino)) < 0)
					return e;
				u->m[k].snap = e;
			}
		for (k = 0; k < UNIT_FILES && ok; k++)
			if (u->m[k].ino && nodes_write_mark(fs->nodes, u->m[k].ino) != u->m[k].mark)
				ok = 0;
		if (ok)
			return 0;
		for (k = 0; k < UNIT_FILES; k++)
			if (u->m[k].snap >= 0) {
				close(u->m[k].snap);
				u->m[k].snap = -1;
			}
		usleep(10000);
	}
	return -EBUSY;
}

/* The files not sent, copied for a conflict copy: the same instant, if no
 * write came since.  0, or -EBUSY. */
static int
snapshot_rest(struct unit *u)
{
	struct roamfs *fs = u->fs;
	int k, e;

	for (k = 0; k < UNIT_FILES; k++) {
		struct member *m = &u->m[k];

		if (m->ino == 0 || m->snap >= 0 || !(m->in.flags & I_CACHED))
			continue;
		if (nodes_write_mark(fs->nodes, m->ino) != m->mark)
			return -EBUSY;
		if ((e = copy_of(fs, m->ino)) < 0)
			return e;
		m->snap = e;
		if (nodes_write_mark(fs->nodes, m->ino) != m->mark)
			return -EBUSY;
	}
	return 0;
}

static int
transport(int e)
{
	return e == -ENOTCONN || remote_is_transport_error(e);
}

/* Send member m's copy to its temporary name on the server. */
static int
upload(struct unit *u, struct sftp *s, struct member *m)
{
	struct sftp_attr a;
	struct jrec fr = *u->r;
	uint64_t sent = 0;
	int e;

	fr.ino = m->ino;
	if ((m->tmp = replay_tmp_name(u->fs, m->path, &fr)) == NULL)
		return -ENOMEM;
	lseek(m->snap, 0, SEEK_SET);
	e = sftp_upload(s, m->snap, m->tmp, m->in.mode & 07777, 1, NULL, NULL, &sent);
	if (e == 0) {
		memset(&a, 0, sizeof a);
		a.flags = SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME;
		a.mode = m->in.mode & 07777;
		a.atime = a.mtime = (uint32_t)m->mtime;
		e = sftp_setstat(s, m->tmp, &a);
	}
	if (e < 0) {
		if (transport(e))
			replay_leftover(u->fs, m->tmp, NULL);
		else
			sftp_remove(s, m->tmp);
		free(m->tmp);
		m->tmp = NULL;
		return e;
	}
	m->sent.size = sent;
	m->sent.mtime = m->mtime;
	m->sent.mode = m->in.mode;
	m->sent.valid = 1;
	m->sent.racy = version_is_racy(m->mtime) ? version_hash(m->snap, sent) : 0;
	return 0;
}

/* Remove the temporary files left on the server (after a failure). */
static void
drop_tmps(struct unit *u, struct sftp *s, int e)
{
	int k;

	for (k = 0; k < UNIT_FILES; k++)
		if (u->m[k].tmp) {
			if (transport(e))
				replay_leftover(u->fs, u->m[k].tmp, NULL);
			else
				sftp_remove(s, u->m[k].tmp);
			free(u->m[k].tmp);
			u->m[k].tmp = NULL;
		}
}

/* The database's lock on the server (sftp_put's): 0, -EAGAIN when another
 * workstation holds it, or -errno. */
static int
lock(struct sftp *s, const char *lockpath)
{
	int e = sftp_mkdir(s, lockpath, 0700);

	if (e == -EEXIST && replay_lock_stale(s, lockpath))
		e = sftp_mkdir(s, lockpath, 0700);
	return e == -EEXIST ? -EAGAIN : e;
}

/* Whether the server holds what member m should be there: 1, 0, or -errno. */
static int
check(struct unit *u, struct sftp *s, struct member *m)
{
	int e;

	memset(&m->found, 0, sizeof m->found);
	if ((e = sftp_lstat(s, m->path, &m->found)) < 0 && e != -ENOENT)
		return e;
	if (e == -ENOENT)
		memset(&m->found, 0, sizeof m->found);
	switch (m->expect) {
	case EX_ABSENT:
		return m->found.flags == 0 || conflict_own(u->fs, s, m->rel, m->path, &m->found);
	case EX_VERSION:
		return m->found.flags != 0 &&
		    conflict_found_is(u->fs, s, m->rel, m->path, &m->found, &m->exp);
	default:
		return 1;
	}
}

/* Every file matches: ours replace the server's, a file removed here goes. */
static int
replace(struct unit *u, struct sftp *s)
{
	int k, e;

	/* The log or journal first: a database never meets another's. */
	for (k = UNIT_FILES - 1; k >= 0; k--) {
		struct member *m = &u->m[k];

		if (m->ino == 0 && m->found.flags != 0) {
			if ((e = sftp_remove(s, m->path)) < 0 && e != -ENOENT)
				return e;
			m->removed = 1;
		}
	}
	for (k = UNIT_FILES - 1; k >= 0; k--) {
		struct member *m = &u->m[k];

		if (m->tmp == NULL)
			continue;
		if ((e = sftp_rename(s, m->tmp, m->path)) < 0)
			return e;
		free(m->tmp);
		m->tmp = NULL;
	}
	return 0;
}

/* Another workstation changed the database: ours, every file of it, goes
 * to its conflict copy, on the server and in the cache. */
static int
keep_ours(struct unit *u, struct sftp *s, char **crel)
{
	struct roamfs *fs = u->fs;
	char *copy[UNIT_FILES] = { NULL }, *cm;
	int k, e = 0;

	if ((cm = conflict_path(u->mrel, fs->workstation, time(NULL))) == NULL)
		return -ENOMEM;
	for (k = 0; k < UNIT_FILES && e == 0; k++) {
		struct member *m = &u->m[k];
		char *cpath;

		if (m->ino == 0 || m->snap < 0)
			continue;
		if (asprintf(&copy[k], "%s%s", cm, suffix[k]) < 0) {
			copy[k] = NULL;
			e = -ENOMEM;
			break;
		}
		if (m->tmp == NULL && (e = upload(u, s, m)) < 0)
			break;
		if ((cpath = remote_path(fs->bg, copy[k])) == NULL) {
			e = -ENOMEM;
			break;
		}
		e = sftp_rename(s, m->tmp, cpath);
		free(cpath);
		if (e == 0) {
			free(m->tmp);
			m->tmp = NULL;
		}
	}
	for (k = 0; k < UNIT_FILES && e == 0; k++)
		if (copy[k])
			e = conflict_divert_file(fs, u->r, u->m[k].ino, u->m[k].rel, copy[k],
			    &u->m[k].found, "a database changed here and on the server");
	for (k = 0; k < UNIT_FILES; k++) {
		if (e == 0 && copy[k]) {
			free(u->m[k].rel);
			u->m[k].rel = copy[k];
			copy[k] = NULL;
		}
		free(copy[k]);
	}
	*crel = cm;
	return e;
}

/* In the cache: the files of the unit sent with r's are on the server as
 * sent; a file removed here is gone there. */
static int
settle(struct unit *u)
{
	struct roamfs *fs = u->fs;
	struct db_txn t;
	struct inode in;
	int k, e;

	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	for (k = 0; k < UNIT_FILES; k++) {
		struct member *m = &u->m[k];

		if (k == u->k0)
			continue;	/* replay_end_txn, from the outcome */
		if (m->removed)
			own_del(&t, m->rel);
		if (m->ino == 0 || !m->sent.valid)
			continue;
		if (meta_inode_get(&t, m->ino, &in) == 0) {
			in.base = m->sent;
			in.flags |= I_REMOTE;
			in.flags &= ~(I_LOCALNEW | I_ASIDE);
			meta_inode_put(&t, &in);
			inode_free(&in);
		}
		own_put(&t, m->rel, &m->sent);
		journal_rebase_ino(&t, m->ino, u->r->seq, &m->sent);
	}
	return db_commit(&t);
}

int
replay_unit(struct roamfs *fs, struct sftp *s, const struct jrec *r, const struct inode *in,
    struct outcome *o)
{
	struct unit u;
	struct db_txn t;
	char *lockpath = NULL, *crel = NULL;
	uint64_t files = 0, bytes = 0;
	int k, e, match = 1, locked = 0;

	/* A file with several names is rewritten in place, alone. */
	if (in->nlink > 1 || replay_in_place(in) || !unit_maybe(fs, r->path, in))
		return 1;
	memset(&u, 0, sizeof u);
	u.fs = fs;
	u.r = r;
	for (k = 0; k < UNIT_FILES; k++)
		u.m[k].snap = -1;
	if ((e = db_begin(fs->db, &t, 0)) == 0) {
		e = unit_load(&u, &t);
		db_abort(&t);
	}
	if (e != 0)
		goto out;
	if ((e = snapshot(&u)) < 0) {
		/* Written all the time: its flush journals the upload again. */
		e = e == -EBUSY ? 2 : e;
		goto out;
	}
	for (k = 0; k < UNIT_FILES; k++)
		if (u.m[k].snap >= 0) {
			files++;
			bytes += u.m[k].in.size;
		}
	replay_step(fs, files, bytes);
	for (k = 0; k < UNIT_FILES && e == 0; k++)
		if (u.m[k].snap >= 0)
			e = upload(&u, s, &u.m[k]);
	replay_step(fs, 0, 0);
	if (e == 0 && (lockpath = replay_lock_name(u.m[0].path)) == NULL)
		e = -ENOMEM;
	if (e == 0 && (e = lock(s, lockpath)) == 0)
		locked = 1;
	for (k = 0; k < UNIT_FILES && e == 0; k++)
		if ((e = check(&u, s, &u.m[k])) >= 0) {
			if (e == 0)
				log_debug("%s: the server has %s (%llu bytes, mtime %u); expected %s "
				    "(%llu bytes, mtime %lld)", u.m[k].rel,
				    u.m[k].found.flags ? "a file" : "nothing",
				    (unsigned long long)u.m[k].found.size, u.m[k].found.mtime,
				    u.m[k].expect == EX_ABSENT ? "nothing" : "a version",
				    (unsigned long long)u.m[k].exp.size, (long long)u.m[k].exp.mtime);
			match = match && e == 1;
			e = 0;
		}
	if (e == 0 && match) {
		e = replace(&u, s);
		u.cut = transport(e);
	} else if (e == 0) {
		e = snapshot_rest(&u);
		if (e == 0)
			e = keep_ours(&u, s, &crel);
		else if (e == -EBUSY)
			e = 2;	/* being written: sent again after its flush */
	}
	if (e != 0)
		drop_tmps(&u, s, e);
	if (u.cut && db_begin(fs->db, &t, 1) == 0) {
		/* Each file may be ours on the server or still theirs (own.h). */
		for (k = 0; k < UNIT_FILES; k++)
			if (u.m[k].sent.valid)
				own_maybe(&t, u.m[k].rel, &u.m[k].sent);
		db_commit(&t);
	}
	if (locked) {
		int l = sftp_rmdir(s, lockpath);

		if (l < 0 && !transport(l))
			log_warn("cannot remove the lock %s on the server (%s); remove it by hand",
			    lockpath, strerror(-l));
	}
	if (e == 0) {
		if (!match)
			log_warn("%s: the database was changed here and on another workstation; "
			    "the server's keeps its name, this workstation's is kept whole as \"%s\" "
			    "(with its -wal or -journal under the same name)", u.mrel, crel);
		else
			log_debug("%s: the database's files went together", u.mrel);
		o->set_base = 1;
		o->base = u.m[u.k0].sent;
		e = settle(&u);
		if (!match && db_begin(fs->db, &t, 1) == 0) {
			listing_expire_parent(fs, &t, u.mrel, NULL);
			db_commit(&t);
		}
	}
out:
	free(lockpath);
	free(crel);
	unit_free(&u);
	return e;
}
