/*
 * conflict: changes that meet another workstation's change on the server.
 *
 * Every journal record, and every inode, carries the server version its
 * change was based on (size, mtime and type: what SFTP v3 offers).  The
 * replay checks it right before it replaces or removes anything, and when
 * the server holds another version, no saved version is lost:
 *
 * - an upload (STORE) whose name holds another version: the server's
 *   version keeps the name, ours goes next to it under its conflict name
 *   (conflict_name), on the server and in the cache, so that every
 *   workstation sees both.  Not when the server's file is ours (a record
 *   replayed again after a crash) or has the same bytes.
 * - a removal that meets a changed object keeps it; the directory is
 *   listed again so that it shows here too.
 * - a rename onto a name that holds an object the rename did not replace
 *   here (created or changed elsewhere): ours takes the conflict name.
 *
 * The check is one round trip before the change (SFTP has no atomic
 * compare-and-replace); a change made on the server in that window can
 * still be overwritten.  Each decision is logged in one line, counted, and
 * recorded in DB_CONFLICT for roamctl.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "conflict.h"
#include "listing.h"
#include "notify.h"
#include "own.h"
#include "version.h"

#define CONFLICT_VERSION	1
#define NAME_MAX_BYTES		255
#define EXT_MAX			32	/* a longer "extension" is part of the name */

char *
conflict_name(const char *name, const char *workstation, time_t when)
{
	const char *dot = strrchr(name, '.');
	char stamp[32], *out;
	size_t stem, ext, suffix;
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%d %H%M%S", &tm) == 0)
		snprintf(stamp, sizeof stamp, "%lld", (long long)when);
	if (dot == NULL || dot == name || dot[1] == '\0' || strlen(dot) > EXT_MAX)
		dot = name + strlen(name);	/* no extension */
	stem = (size_t)(dot - name);
	ext = strlen(dot);
	suffix = strlen(" (conflict  )") + strlen(workstation) + strlen(stamp);
	if (stem + suffix + ext > NAME_MAX_BYTES) {
		stem = NAME_MAX_BYTES > suffix + ext ? NAME_MAX_BYTES - suffix - ext : 0;
		while (stem > 0 && ((unsigned char)name[stem] & 0xc0) == 0x80)
			stem--;		/* not inside a UTF-8 character */
	}
	if (asprintf(&out, "%.*s (conflict %s %s)%s", (int)stem, name, workstation, stamp, dot) < 0)
		return NULL;
	return out;
}

char *
conflict_path(const char *rel, const char *workstation, time_t when)
{
	const char *slash = strrchr(rel, '/');
	char *name, *out;
	int dl = slash ? (int)(slash - rel + 1) : 0;

	if ((name = conflict_name(rel + dl, workstation, when)) == NULL)
		return NULL;
	if (asprintf(&out, "%.*s%s", dl, rel, name) < 0)
		out = NULL;
	free(name);
	return out;
}

int
conflict_encode(const struct conflict *c, struct buf *b)
{
	int e = 0;

	e |= buf_put_u8(b, CONFLICT_VERSION);
	e |= buf_put_u8(b, c->kind);
	e |= buf_put_u64(b, (uint64_t)c->when);
	e |= buf_put_cstr(b, c->path ? c->path : "");
	e |= buf_put_cstr(b, c->copy ? c->copy : "");
	e |= buf_put_cstr(b, c->workstation ? c->workstation : "");
	e |= buf_put_cstr(b, c->why ? c->why : "");
	return e ? -ENOMEM : 0;
}

void
conflict_free(struct conflict *c)
{
	free(c->path);
	free(c->copy);
	free(c->workstation);
	free(c->why);
	memset(c, 0, sizeof *c);
}

int
conflict_decode(const void *p, size_t n, struct conflict *c)
{
	struct buf b;
	uint8_t ver;
	uint64_t when;
	int e = 0;

	memset(c, 0, sizeof *c);
	buf_wrap(&b, p, n);
	if (buf_get_u8(&b, &ver) < 0 || ver != CONFLICT_VERSION)
		return -EBADMSG;
	e |= buf_get_u8(&b, &c->kind);
	e |= buf_get_u64(&b, &when);
	if (e == 0)
		e |= buf_get_cstr(&b, &c->path);
	if (e == 0)
		e |= buf_get_cstr(&b, &c->copy);
	if (e == 0)
		e |= buf_get_cstr(&b, &c->workstation);
	if (e == 0)
		e |= buf_get_cstr(&b, &c->why);
	if (e != 0 || c->kind < CONFLICT_COPY || c->kind > CONFLICT_ASIDE) {
		conflict_free(c);
		return -EBADMSG;
	}
	c->when = (int64_t)when;
	if (*c->copy == '\0') {
		free(c->copy);
		c->copy = NULL;
	}
	return 0;
}

int
conflict_put(struct db_txn *t, const struct conflict *c)
{
	unsigned long long id = 0, count = 0;
	uint8_t k[8];
	struct buf b;
	int e;

	if (db_meta_get_u64(t, "conflict_next", &id) < 0 && t->ret)
		return t->ret;
	if (db_meta_get_u64(t, "conflicts", &count) < 0 && t->ret)
		return t->ret;
	db_meta_put_u64(t, "conflict_next", id + 1);
	db_meta_put_u64(t, "conflicts", count + 1);
	be_put_u64(k, id);
	buf_init(&b, 0);
	if ((e = conflict_encode(c, &b)) < 0)
		db_fail(t, e);
	else
		db_put(t, DB_CONFLICT, k, 8, b.data, b.len);
	buf_free(&b);
	return t->ret;
}

void
conflict_note(struct roamfs *fs, struct db_txn *t, uint8_t kind, const char *path,
    const char *copy, const char *why)
{
	struct conflict c = { .kind = kind, .when = time(NULL), .path = (char *)path,
	    .copy = (char *)copy, .workstation = fs->workstation, .why = (char *)why };

	conflict_put(t, &c);
}

/* Whether the server's attributes are those of version b. */
static int
same_version(const struct sftp_attr *a, const struct base *b)
{
	struct base now;

	if (!(a->flags & SFTP_ATTR_PERMISSIONS))
		return 0;
	base_from_attr(&now, a);
	return b->valid && (now.mode & S_IFMT) == (b->mode & S_IFMT) && now.size == b->size &&
	    now.mtime == b->mtime;
}

/*
 * The version of ino the server should hold now: the inode's base when it
 * is still in the cache (the replay of its own records keeps it up to
 * date), else the one recorded with the change (*b).  0 when unknown.
 */
static int
expected(struct roamfs *fs, uint64_t ino, struct base *b)
{
	struct inode in;

	if (ino && meta_inode_read(fs->db, ino, &in) == 0) {
		if ((in.flags & I_REMOTE) && in.base.valid)
			*b = in.base;
		inode_free(&in);
	}
	return b->valid;
}

/* Whether ino still has a name in the cache. */
static int
present(struct roamfs *fs, uint64_t ino)
{
	struct inode in;
	int here = 0;

	if (meta_inode_read(fs->db, ino, &in) == 0) {
		here = in.nlink > 0;
		inode_free(&in);
	}
	return here;
}

/*
 * The server's file at path, read into memory (a memfd: a verification
 * must work on a full cache disk too), with its attributes in *a: an fd,
 * or -errno (a transport error, or the file cannot be read).
 */
static int
server_copy(struct sftp *s, const char *path, struct sftp_attr *a)
{
	int fd = memfd_create("roamfs-check", MFD_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	if ((e = sftp_download(s, path, fd, a, NULL, NULL)) < 0) {
		close(fd);
		return e;
	}
	return fd;
}

/* Whether the server's file at path has the bytes of fd (size bytes both). */
static int
same_contents(struct sftp *s, const char *path, int fd, uint64_t size)
{
	char a[65536], b[65536];
	struct sftp_attr at;
	uint64_t off = 0;
	ssize_t n, m;
	int tfd, same = 1;

	if ((tfd = server_copy(s, path, &at)) < 0)
		return 0;
	while (same && off < size) {
		n = pread(fd, a, sizeof a, (off_t)off);
		m = pread(tfd, b, sizeof b, (off_t)off);
		same = n > 0 && n == m && memcmp(a, b, (size_t)n) == 0;
		off += n > 0 ? (uint64_t)n : 0;
	}
	same = same && pread(tfd, b, 1, (off_t)size) == 0;
	close(tfd);
	return same;
}

/* Whether the server's file at path is the version whose racy hash is
 * racy: 1 yes, 0 no, -errno when it cannot be told. */
static int
server_is(struct sftp *s, const char *path, uint64_t size, uint64_t racy)
{
	struct sftp_attr a;
	uint64_t h;
	int fd;

	if ((fd = server_copy(s, path, &a)) < 0)
		return fd;
	h = a.size == size ? version_hash(fd, size) : 0;
	close(fd);
	return h != 0 && h == racy;
}

uint64_t
conflict_server_hash(struct sftp *s, const char *path, uint64_t size)
{
	struct sftp_attr a;
	uint64_t h;
	int fd;

	if ((fd = server_copy(s, path, &a)) < 0)
		return 0;
	h = a.size == size ? version_hash(fd, size) : 0;
	close(fd);
	return h;
}

/* Whether the server's object at path (attributes a) is version b: size,
 * type and mtime; within its mtime's second (racy) the contents too, read
 * back: one that cannot be read is not taken for it. */
static int
found_is(struct sftp *s, const char *path, const struct sftp_attr *a, const struct base *b)
{
	return same_version(a, b) &&
	    (!b->racy || !S_ISREG(b->mode) || server_is(s, path, b->size, b->racy) == 1);
}

int
conflict_own(struct roamfs *fs, struct sftp *s, const char *rel, const char *path,
    const struct sftp_attr *a)
{
	return conflict_own_which(fs, s, rel, path, a, NULL);
}

int
conflict_own_which(struct roamfs *fs, struct sftp *s, const char *rel, const char *path,
    const struct sftp_attr *a, struct base *which)
{
	struct base b[8];
	struct db_txn t;
	int i, n;

	if (db_begin(fs->db, &t, 0) < 0)
		return 0;
	n = own_list(&t, rel, b, 8);
	db_abort(&t);
	for (i = 0; i < n; i++)
		if (found_is(s, path, a, &b[i])) {
			if (which)
				*which = b[i];
			return 1;
		}
	for (i = 0; i < n; i++)
		log_debug("%s: noted as ours: %llu bytes, mtime %lld, mode %o, hash %llx", rel,
		    (unsigned long long)b[i].size, (long long)b[i].mtime, b[i].mode,
		    (unsigned long long)b[i].racy);
	if (n == 0)
		log_debug("%s: nothing noted as ours", rel);
	return 0;
}

/* The last component of a relative path. */
static const char *
base_name(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? slash + 1 : rel;
}

/*
 * In the cache: our object r->ino leaves name (a path relative to the
 * home) for copy, and the server's object found takes name.  The journal
 * records of r->ino from r on act on copy; with unsent, ours is not on the
 * server yet (it is going to copy).  Where the cache has already moved
 * ours away from name, only the journal changes, and the directory is
 * listed again.
 */
static int
divert(struct roamfs *fs, const struct jrec *r, const char *name, const char *copy,
    const struct sftp_attr *found, int unsent, const char *why)
{
	struct inode in, dir, srv;
	struct db_txn t;
	struct jrec now;
	uint64_t parent = 0;
	char *cur = NULL;
	int e, here = 0, have_dir = 0, isdir = 0;

	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	if (meta_inode_get(&t, r->ino, &in) == 0) {
		isdir = S_ISDIR(in.mode);
		here = meta_path(&t, r->ino, &cur) == 0 && strcmp(cur, name) == 0;
		parent = in.parent;
		if (here && meta_inode_get(&t, parent, &dir) == 0) {
			have_dir = 1;
			meta_dirent_del(&t, parent, in.name);
			free(in.name);
			in.name = strdup(base_name(copy));
			meta_dirent_put(&t, parent, base_name(copy), in.ino);
			memset(&srv, 0, sizeof srv);
			/* Nothing there on the server (a database's -wal): the
			 * name is free. */
			if ((found->flags & SFTP_ATTR_PERMISSIONS) && meta_alloc_ino(&t, &srv.ino) == 0) {
				srv.mode = attr_mode(found);
				srv.nlink = S_ISDIR(srv.mode) ? 2 : 1;
				srv.size = found->size;
				srv.mtime_s = srv.ctime_s = srv.atime_s = found->mtime;
				srv.flags = I_REMOTE;
				srv.parent = parent;
				srv.name = strdup(base_name(name));
				base_from_attr(&srv.base, found);
				if (S_ISDIR(srv.mode))
					dir.nlink++;
				meta_dirent_put(&t, parent, base_name(name), srv.ino);
				meta_inode_put(&t, &srv);
				inode_free(&srv);
			}
			meta_inode_put(&t, &dir);
			inode_free(&dir);
		}
		if (unsent) {
			in.flags &= ~I_REMOTE;
			in.base.valid = 0;
		}
		meta_inode_put(&t, &in);
		inode_free(&in);
	}
	free(cur);
	/* A replay of r after a crash goes to copy as well. */
	if (journal_get(&t, r->seq, &now) == 0) {
		char **p = r->type == J_RENAME ? &now.path2 : &now.path;

		/* Not the record of another file of a database (unit.c). */
		if (now.ino == r->ino) {
			free(*p);
			*p = strdup(copy);
			journal_replace(&t, &now);
		}
		jrec_free(&now);
	}
	own_del(&t, name);	/* another workstation's version is there */
	journal_repath_ino(&t, r->ino, r->seq, name, copy);
	if (isdir)	/* and what was made or changed in it here goes with it */
		journal_repath_under(&t, r->seq, name, copy);
	conflict_note(fs, &t, CONFLICT_COPY, name, copy, why);
	if ((e = db_commit(&t)) < 0)
		return e;
	if (have_dir) {
		notify_entry(fs, parent, base_name(name));
		notify_entry(fs, parent, base_name(copy));
	} else if (db_begin(fs->db, &t, 0) == 0) {
		listing_expire_parent(fs, &t, name, NULL);
		db_abort(&t);
	}
	log_warn("%s: %s; the server's keeps the name, this workstation's is kept as \"%s\"",
	    name, why, base_name(copy));
	return 0;
}

int
conflict_divert_file(struct roamfs *fs, const struct jrec *r, uint64_t ino, const char *name,
    const char *copy, const struct sftp_attr *found, const char *why)
{
	struct jrec f = *r;

	f.ino = ino;
	return divert(fs, &f, name, copy, found, 1, why);
}

int
conflict_found_is(struct roamfs *fs, struct sftp *s, const char *rel, const char *path,
    const struct sftp_attr *a, const struct base *b)
{
	if (found_is(s, path, a, b))
		return 1;
	return (a->flags & SFTP_ATTR_PERMISSIONS) && conflict_own(fs, s, rel, path, a);
}

/* divert() of ours at name to its conflict name, whose server path goes
 * to *cpath (malloc'd; NULL on failure).  0 or -errno. */
static int
divert_copy(struct roamfs *fs, const struct jrec *r, const char *name,
    const struct sftp_attr *found, int unsent, const char *why, char **cpath)
{
	char *copy = conflict_path(name, fs->workstation, time(NULL));
	int e;

	*cpath = copy ? remote_path(fs->bg, copy) : NULL;
	e = *cpath ? divert(fs, r, name, copy, found, unsent, why) : -ENOMEM;
	if (e < 0) {
		free(*cpath);
		*cpath = NULL;
	}
	free(copy);
	return e;
}

char *
conflict_made(struct roamfs *fs, const struct jrec *r, const struct sftp_attr *found)
{
	char *path;
	const char *why = r->type == J_MKDIR ? "a folder made here, a file on the server" :
	    (found->flags & SFTP_ATTR_PERMISSIONS) && S_ISDIR(found->mode) ?
	    "a link made here, a folder on the server" : "a link made here, another on the server";

	divert_copy(fs, r, r->path, found, 1, why, &path);
	return path;
}

int
conflict_store(struct roamfs *fs, struct sftp *s, const struct jrec *r, struct sftp_put *p,
    uint64_t racy)
{
	const struct sftp_attr *f = &p->found;
	char *path = NULL;
	int e, held;

	/* The size and second of the version ours replaces: still that
	 * version, unless its contents say otherwise.  When they cannot be
	 * read, size and mtime decide, as for other versions. */
	if (p->matched && racy && (e = server_is(s, p->path, f->size, racy)) != 0) {
		if (e < 0)
			log_debug("%s: cannot read the server's version back (%s): its size and "
			    "mtime decide", r->path, strerror(-e));
		e = remote_is_transport_error(e) || e == -ENOTCONN ? e : sftp_rename(s, p->tmp, p->path);
	/* What this workstation's replay left there itself (an upload or
	 * rename of ours that the record's base could not know of). */
	} else if (conflict_own(fs, s, r->path, p->path, f)) {
		e = sftp_rename(s, p->tmp, p->path);
	/* The same bytes: ours sent before a crash, or the same save made
	 * elsewhere.  Compared in full, as size and mtime can be equal by
	 * chance: this is the rare case. */
	} else if ((f->flags & SFTP_ATTR_PERMISSIONS) && S_ISREG(f->mode) && f->size == p->sent &&
	    same_contents(s, p->path, p->fd, p->sent)) {
		e = sftp_rename(s, p->tmp, p->path);
	} else {
		log_debug("%s: the server has %llu bytes, mtime %u, mode %o; the upload (inode "
		    "%llu) expected %llu bytes, mtime %u, matched %d, racy %llx", r->path,
		    (unsigned long long)f->size, f->mtime, f->mode, (unsigned long long)r->ino,
		    (unsigned long long)p->expect_size, p->expect_mtime, p->matched,
		    (unsigned long long)racy);
		if ((e = divert_copy(fs, r, r->path, f, 1, (f->flags & SFTP_ATTR_PERMISSIONS) &&
		    !S_ISREG(f->mode) ? "a file here, another type on the server" :
		    "changed here and on the server", &path)) == 0)
			e = sftp_rename(s, p->tmp, path);
	}
	if (e < 0 && !remote_is_transport_error(e) && e != -ENOTCONN)
		sftp_remove(s, p->tmp);
	if (p->held && (held = sftp_rmdir(s, p->lock)) < 0 && held != -ENOTCONN &&
	    !remote_is_transport_error(held))
		log_warn("cannot remove the lock %s on the server (%s); remove it by hand",
		    p->lock, strerror(-held));
	p->held = 0;
	free(path);
	return e;
}

/* In t: the server's object at r->path is kept (copy: where ours goes,
 * or NULL); record it and list its directory again. */
static void
keep_txn(struct roamfs *fs, struct db_txn *t, const struct jrec *r, const char *copy,
    const char *why)
{
	uint64_t d;

	conflict_note(fs, t, CONFLICT_KEPT, r->path, copy, why);
	if (listing_expire_parent(fs, t, r->path, &d) == 0)
		notify_entry(fs, d, base_name(r->path));
}

/* Keep the server's object at r->path: record it and list its directory again. */
static void
keep(struct roamfs *fs, const struct jrec *r, const char *why)
{
	struct db_txn t;

	if (db_begin(fs->db, &t, 1) == 0) {
		keep_txn(fs, &t, r, NULL, why);
		db_commit(&t);
	}
	log_warn("%s was changed on the server after this workstation removed it: it is kept",
	    r->path);
}

/* A maildir message of a removal, looked for under its other names. */
struct moved {
	const char *unique;	/* the name up to its ':' (the flags) */
	const struct base *b;
	char *name;		/* out: a name with our version */
};

static int
moved_one(void *arg, const char *name, const struct sftp_attr *a)
{
	struct moved *m = arg;
	size_t n = strlen(m->unique);

	if (m->name == NULL && strncmp(name, m->unique, n) == 0 &&
	    (name[n] == '\0' || name[n] == ':') && same_version(a, m->b))
		m->name = strdup(name);
	return 0;
}

/*
 * rel names a maildir message (DIR/cur/UNIQUE:2,FLAGS or DIR/new/UNIQUE):
 * *md gets "DIR/" (or ""), *unique the name up to its ':', both malloc'd.
 * 1 when it does, 0 when not, -ENOMEM.
 */
static int
maildir_split(const char *rel, char **md, char **unique)
{
	const char *name = base_name(rel);
	char *d = strdup(rel), *sl, *dir;

	*md = *unique = NULL;
	if (d == NULL)
		return -ENOMEM;
	if ((sl = strrchr(d, '/')) == NULL || sl[1] == '\0') {
		free(d);
		return 0;
	}
	*sl = '\0';	/* d: DIR/cur or DIR/new */
	dir = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
	if ((strcmp(dir, "cur") != 0 && strcmp(dir, "new") != 0) || *name == ':' || *name == '\0') {
		free(d);
		return 0;
	}
	dir[0] = '\0';	/* d: "DIR/" or "" */
	if ((*unique = strndup(name, strcspn(name, ":"))) == NULL) {
		free(d);
		return -ENOMEM;
	}
	*md = d;
	return 1;
}

/*
 * The message UNIQUE of the maildir md ("DIR/"), with our version b,
 * looked for in its cur and new folders on the server: *found gets its
 * server path (malloc'd).  1 when found, 0 when not, -errno.
 */
static int
maildir_find(struct roamfs *fs, struct sftp *s, const char *md, const char *unique,
    const struct base *b, char **found)
{
	static const char *const subs[] = { "cur", "new" };
	struct moved m = { unique, b, NULL };
	char *rel, *path;
	size_t i;
	int e = 0;

	*found = NULL;
	for (i = 0; i < 2 && m.name == NULL && e == 0; i++) {
		if (asprintf(&rel, "%s%s", md, subs[i]) < 0)
			return -ENOMEM;
		path = remote_path(fs->bg, rel);
		free(rel);
		if (path == NULL)
			return -ENOMEM;
		if ((e = sftp_readdir(s, path, moved_one, &m)) == -ENOENT)
			e = 0;
		if (m.name && asprintf(found, "%s/%s", path, m.name) < 0)
			e = -ENOMEM;
		free(path);
	}
	free(m.name);
	return e < 0 ? e : *found != NULL;
}

/*
 * The removal of a maildir message (DIR/cur/UNIQUE:2,FLAGS or
 * DIR/new/UNIQUE) whose name is gone: another workstation only renamed it
 * for a flag (or moved it from new to cur).  Find it by its unique part,
 * with our version, and remove it there: the expunge wins over a flag.
 * 1 when removed, 0 when there is no such message, -errno.
 */
static int
maildir_moved(struct roamfs *fs, struct sftp *s, const char *rel, const struct base *b)
{
	char *md, *unique, *found = NULL;
	int e;

	if ((e = maildir_split(rel, &md, &unique)) <= 0)
		return e;
	if ((e = maildir_find(fs, s, md, unique, b, &found)) > 0) {
		if ((e = sftp_remove(s, found)) == 0) {
			log_info("%s was renamed on another workstation (%s): removed there",
			    rel, base_name(found));
			e = 1;
		}
	}
	free(found);
	free(unique);
	free(md);
	return e;
}

/* The flags of a maildir name (after ":2,"), or "". */
static const char *
maildir_flags(const char *name)
{
	const char *info = strstr(name, ":2,");

	return info ? info + 3 : "";
}

/*
 * A maildir flag rename (or a move from new to cur) whose message was
 * renamed on another workstation meanwhile, for its own flags: the
 * message goes to r->path2's folder with the flags of both (a message
 * marked read there and replied here is both).  1 when done, 0 when r is
 * no such rename or the message is not found, -errno.
 */
static int
maildir_reflag(struct roamfs *fs, struct sftp *s, const struct jrec *r, const struct base *b)
{
	char *md, *unique, *md2 = NULL, *unique2 = NULL, *found = NULL, *to = NULL, *rel = NULL;
	const char *name2 = base_name(r->path2), *theirs;
	char flags[64];
	size_t n = 0;
	int e, c;

	if ((e = maildir_split(r->path, &md, &unique)) <= 0)
		return e;
	if ((e = maildir_split(r->path2, &md2, &unique2)) <= 0)
		goto out;
	/* Not the same message in the same maildir: no flag rename. */
	if (strcmp(md, md2) != 0 || strcmp(unique, unique2) != 0) {
		e = 0;
		goto out;
	}
	if ((e = maildir_find(fs, s, md, unique, b, &found)) <= 0)
		goto out;
	/* The union of the flags, in ASCII order as the maildir spec asks. */
	theirs = maildir_flags(base_name(found));
	for (c = 33; c < 127 && n < sizeof flags - 1; c++)
		if (strchr(maildir_flags(name2), c) || strchr(theirs, c))
			flags[n++] = (char)c;
	flags[n] = '\0';
	if (asprintf(&rel, "%.*s%s%s", (int)(name2 - r->path2), r->path2, unique,
	    n || strstr(name2, ":2,") ? ":2," : "") < 0 || (to = malloc(strlen(rel) + n + 1)) == NULL) {
		e = -ENOMEM;
		goto out;
	}
	strcpy(to, rel);
	strcat(to, flags);
	free(rel);
	if ((rel = remote_path(fs->bg, to)) == NULL) {
		e = -ENOMEM;
		goto out;
	}
	if ((e = sftp_rename(s, found, rel)) == 0) {
		log_info("%s was renamed on another workstation (%s): renamed to %s, with the flags "
		    "of both", r->path, base_name(found), base_name(to));
		e = 1;
	}
out:
	free(rel);
	free(to);
	free(found);
	free(unique2);
	free(md2);
	free(unique);
	free(md);
	return e;
}

int
conflict_remove(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path)
{
	struct sftp_attr a;
	struct base b = r->base;
	int e, known = expected(fs, r->ino, &b);

	if ((e = sftp_lstat(s, path, &a)) == -ENOENT)
		return known && S_ISREG(b.mode) && (e = maildir_moved(fs, s, r->path, &b)) < 0 ? e : 2;
	if (e < 0)
		return e;
	/* A version not known (a file made here that never reached the
	 * server, whose name another workstation used since) is not ours to
	 * remove. */
	if ((known && same_version(&a, &b)) || conflict_own(fs, s, r->path, path, &a))
		return 0;
	log_debug("%s: the server has %llu bytes, mtime %u, mode %o; the removal expected "
	    "%llu bytes, mtime %lld, mode %o", r->path, (unsigned long long)a.size, a.mtime,
	    a.mode, (unsigned long long)b.size, (long long)b.mtime, b.mode);
	keep(fs, r, "removed here, changed on the server");
	return 1;
}

void
conflict_rmdir_kept(struct roamfs *fs, const struct jrec *r, int err)
{
	keep(fs, r, err == -ENOTDIR ? "removed here, a file on the server" :
	    "removed here, not empty on the server");
}

/*
 * In t: r (a rename or link of in, which is not on the server) becomes
 * the upload of ours to r->path2, in r's place in the journal, so that
 * the later changes of the file (a chmod, a rename) act on ours once it
 * is there, never on whatever another workstation has at that name
 * meanwhile.  1 when it did (in is to be saved), 0 when in has no
 * contents to send.
 */
static int
to_upload(struct db_txn *t, const struct jrec *r, struct inode *in)
{
	struct jrec st;

	in->flags &= ~I_REMOTE;
	in->base.valid = 0;
	if (!(in->flags & I_CACHED) || (in->flags & I_EXCLUDED) || !S_ISREG(in->mode))
		return 0;
	jrec_init(&st, J_STORE, in, r->path2, NULL);
	st.seq = r->seq;
	st.when = r->when;
	journal_replace(t, &st);
	if (in->pending_store == 0)
		in->pending_store = r->seq;
	return 1;
}

/*
 * r renamed a file whose server copy at r->path another workstation
 * changed meanwhile: leave that one there (the cache lists it again) and
 * send ours as a new file from its name here, where an upload's own check
 * keeps what it finds.  1 (the rename is done with), 2 (it is an upload
 * now), or -errno.
 */
static int
moved_changed(struct roamfs *fs, const struct jrec *r)
{
	struct db_txn t;
	struct inode in;
	int e, upload = 0;

	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	if (meta_inode_get(&t, r->ino, &in) == 0) {
		upload = to_upload(&t, r, &in);
		meta_inode_put(&t, &in);
		inode_free(&in);
	}
	keep_txn(fs, &t, r, r->path2, "renamed here, changed on the server");
	if ((e = db_commit(&t)) < 0)
		return e;
	log_warn("%s was changed on the server after this workstation renamed it to %s: the "
	    "server's version stays, this workstation's is sent as %s", r->path, r->path2, r->path2);
	return upload ? 2 : 1;
}

int
conflict_resend(struct roamfs *fs, const struct jrec *r)
{
	struct db_txn t;
	struct inode in;
	int e, upload = 0;

	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	if (meta_inode_get(&t, r->ino, &in) == 0) {
		if (in.nlink > 0 && (upload = to_upload(&t, r, &in)) != 0)
			meta_inode_put(&t, &in);
		inode_free(&in);
	}
	if ((e = db_commit(&t)) < 0)
		return e;
	log_debug("%s: not on the server for its %s to %s: %s", r->path, jtype_name(r->type), r->path2,
	    upload ? "sent there instead" : "gone here too");
	return upload ? 2 : 1;
}

int
conflict_rename(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    const char *path2)
{
	struct sftp_attr a, src;
	struct base vb = r->victim_base, ours = r->base;
	char *cpath;
	int e, have_src, known;

	if ((e = sftp_lstat(s, path, &src)) < 0 && e != -ENOENT)
		return e;
	have_src = e == 0;
	known = expected(fs, r->ino, &ours);
	/* The file renamed here was changed on the server meanwhile: that
	 * version stays where it is, and ours is sent to its new name. */
	if (have_src && known && S_ISREG(ours.mode) && (src.flags & SFTP_ATTR_PERMISSIONS) &&
	    S_ISREG(src.mode) && !same_version(&src, &ours) && !conflict_own(fs, s, r->path, path, &src))
		return moved_changed(fs, r);
	/* A maildir message renamed elsewhere for its flags: renamed here
	 * for ours, it takes both. */
	if (!have_src && known && (e = maildir_reflag(fs, s, r, &ours)) != 0)
		return e < 0 ? e : 1;
	if ((e = sftp_lstat(s, path2, &a)) == -ENOENT)
		return have_src ? 0 : conflict_resend(fs, r);
	if (e < 0)
		return e;
	/* A folder moved over a folder: the server's is replaced only when
	 * it is empty, and then nothing of anyone's is lost, whatever its
	 * times say (they change with every name made and removed in it, by
	 * this replay too).  One that holds what another workstation put in
	 * it keeps the name. */
	if (have_src && (src.flags & SFTP_ATTR_PERMISSIONS) && S_ISDIR(src.mode) &&
	    (a.flags & SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.mode)) {
		if ((e = sftp_rename(s, path, path2)) != -ENOTEMPTY)
			return e < 0 ? e : 1;
	}
	/* What the rename replaced here.  A version not known (an upload of
	 * it had begun, say, but never ended) cannot be told from another
	 * workstation's: it is not replaced. */
	if (r->victim && expected(fs, r->victim, &vb) && same_version(&a, &vb))
		return 0;
	/* What this workstation's replay left there: a version the record
	 * could not know of (its upload was on its way when the rename was
	 * made here, or its inode is gone from the cache since). */
	if (conflict_own(fs, s, r->path2, path2, &a))
		return 0;
	/* Ours there already: the rename was made before a crash. */
	if (!have_src && known && same_version(&a, &ours))
		return 0;
	/* Ours is not on the server and is gone here too (replaced, removed):
	 * nothing is left to move. */
	if (!have_src && !present(fs, r->ino))
		return 1;
	log_debug("%s: the server has %llu bytes, mtime %u, mode %o at %s; the rename replaced "
	    "inode %llu, %llu bytes, mtime %lld, mode %o (valid %d)", r->path,
	    (unsigned long long)a.size, a.mtime, a.mode, r->path2, (unsigned long long)r->victim,
	    (unsigned long long)vb.size, (long long)vb.mtime, vb.mode, vb.valid);
	e = divert_copy(fs, r, r->path2, &a, 0, r->victim ? "renamed over here, changed on the "
	    "server" : "renamed here onto a name made on the server", &cpath);
	if (e == 0)
		e = sftp_rename(s, path, cpath);
	free(cpath);
	return e < 0 ? e : 1;
}

/* Whether the cache has a name at rel. */
static int
cached(struct roamfs *fs, const char *rel)
{
	struct db_txn t;
	uint64_t ino;
	int r = 0;

	if (db_begin(fs->db, &t, 0) == 0) {
		r = meta_lookup(&t, rel, &ino) == 0;
		db_abort(&t);
	}
	return r;
}

/* The folders of a listing, for conflict_moved_folder. */
struct folders {
	char **name;
	size_t n, cap;
};

/* Add the len bytes of name to f: 0 or -ENOMEM. */
static int
folders_add(struct folders *f, const char *name, size_t len)
{
	char **v;

	if (f->n == f->cap) {
		if ((v = realloc(f->name, (f->cap ? f->cap * 2 : 16) * sizeof *v)) == NULL)
			return -ENOMEM;
		f->name = v;
		f->cap = f->cap ? f->cap * 2 : 16;
	}
	if ((f->name[f->n] = strndup(name, len)) == NULL)
		return -ENOMEM;
	f->n++;
	return 0;
}

static int
folder_one(void *arg, const char *name, const struct sftp_attr *a)
{
	struct folders *f = arg;

	if (!(a->flags & SFTP_ATTR_PERMISSIONS) || !S_ISDIR(a->mode) || name[0] == '.' ||
	    f->n == 256)
		return 0;	/* hidden folders (roamfs's markers among them) are not looked in */
	return folders_add(f, name, strlen(name));
}

/* The names of a folder's listing on the server, for same_names. */
static int
name_one(void *arg, const char *name, const struct sftp_attr *a)
{
	(void)a;
	return folders_add(arg, name, strlen(name));
}

/* The names this cache knows in folder top that were on the server. */
struct known {
	struct db_txn *t;
	struct folders names;
};

static int
known_one(void *arg, const char *name, size_t len, uint64_t ino)
{
	struct known *k = arg;
	struct inode in;
	int r = 0;

	if (meta_inode_get(k->t, ino, &in) < 0)
		return 0;
	if ((in.flags & I_REMOTE) && k->names.n < 256)
		r = folders_add(&k->names, name, len);
	inode_free(&in);
	return r;
}

/*
 * Whether the server's folder at path (folder cand) holds every name this
 * cache knew on the server in the folder top (gone there): 1, 0, -errno.
 */
static int
same_names(struct roamfs *fs, struct sftp *s, const char *top, const char *cand)
{
	struct known k = { NULL, { NULL, 0, 0 } };
	struct folders there = { NULL, 0, 0 };
	struct db_txn t;
	uint64_t ino;
	char *path;
	size_t i, j;
	int e, all = 1;

	if ((e = db_begin(fs->db, &t, 0)) < 0)
		return e;
	k.t = &t;
	if (meta_lookup(&t, top, &ino) == 0)
		meta_dir_scan(&t, ino, known_one, &k);
	db_abort(&t);
	if ((path = remote_path(fs->bg, cand)) == NULL)
		e = -ENOMEM;
	else
		e = sftp_readdir(s, path, name_one, &there);
	free(path);
	for (i = 0; e == 0 && all && i < k.names.n; i++) {
		for (j = 0; j < there.n && strcmp(there.name[j], k.names.name[i]) != 0; j++)
			;
		all = j < there.n;
	}
	for (i = 0; i < k.names.n; i++)
		free(k.names.name[i]);
	for (i = 0; i < there.n; i++)
		free(there.name[i]);
	free(k.names.name);
	free(there.name);
	return e < 0 ? e : all && k.names.n > 0;
}

int
conflict_moved_folder(struct roamfs *fs, struct sftp *s, const char *rel, const struct base *b,
    char **moved)
{
	struct folders f = { NULL, 0, 0 };
	struct sftp_attr a;
	char *top = strdup(rel), *sl, *path, *cand = NULL, *gone = NULL;
	const char *rest;
	size_t i;
	int e = 0, found = 0;

	*moved = NULL;
	if (top == NULL)
		return -ENOMEM;
	/* The highest folder of rel that the server lacks: top. */
	for (sl = strchr(top, '/'); sl; sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		if ((path = remote_path(fs->bg, top)) == NULL)
			e = -ENOMEM;
		else
			e = sftp_lstat(s, path, &a);
		free(path);
		if (e == -ENOENT)
			break;
		*sl = '/';
		if (e < 0)
			goto out;
	}
	if (sl == NULL) {
		e = 0;	/* every folder is there */
		goto out;
	}
	rest = rel + (sl - top);	/* "/name" below top */
	/* Its siblings on the server: one holding our version there is top,
	 * renamed. */
	if ((sl = strrchr(top, '/')) != NULL)
		*sl = '\0';
	if ((path = remote_path(fs->bg, sl ? top : "")) == NULL) {
		e = -ENOMEM;
		goto out;
	}
	e = sftp_readdir(s, path, folder_one, &f);
	free(path);
	for (i = 0; e == 0 && i < f.n && found < 2; i++) {
		char *c;

		if (asprintf(&c, "%s%s%s%s", sl ? top : "", sl ? "/" : "", f.name[i], rest) < 0) {
			e = -ENOMEM;
			break;
		}
		/* A file this cache knows at that path is another file (a copy
		 * of ours, say, of the same size and second): not a rename. */
		if (cached(fs, c)) {
			free(c);
			continue;
		}
		if ((path = remote_path(fs->bg, c)) != NULL && sftp_lstat(s, path, &a) == 0 &&
		    same_version(&a, b)) {
			found++;
			free(cand);
			cand = c;
			c = NULL;
		}
		free(path);
		free(c);
	}
	if (e == 0 && found == 1) {
		*moved = cand;
		cand = NULL;
		e = 1;
	}
	/* None holds our version: one folder this cache never saw that holds
	 * a file at that place and every name it knew in top is top renamed,
	 * its file changed since; ours goes next to it as a conflict copy. */
	if (e == 0 && *moved == NULL && (gone = strndup(rel, (size_t)(rest - rel))) == NULL)
		e = -ENOMEM;
	for (i = 0, found = 0; e == 0 && *moved == NULL && i < f.n && found < 2; i++) {
		char *c = NULL, *dir = NULL;

		if (asprintf(&dir, "%s%s%s", sl ? top : "", sl ? "/" : "", f.name[i]) < 0 ||
		    asprintf(&c, "%s%s", dir, rest) < 0) {
			free(dir);
			e = -ENOMEM;
			break;
		}
		path = NULL;
		if (!cached(fs, dir) && !cached(fs, c) && (path = remote_path(fs->bg, c)) != NULL &&
		    sftp_lstat(s, path, &a) == 0 && (a.flags & SFTP_ATTR_PERMISSIONS) &&
		    S_ISREG(a.mode) && (e = same_names(fs, s, gone, dir)) == 1) {
			found++;
			free(cand);
			cand = c;
			c = NULL;
		}
		if (e == 1)
			e = 0;
		free(path);
		free(c);
		free(dir);
	}
	if (e == 0 && found == 1 && *moved == NULL) {
		*moved = conflict_path(cand, fs->workstation, time(NULL));
		e = *moved ? 2 : -ENOMEM;
	}
out:
	for (i = 0; i < f.n; i++)
		free(f.name[i]);
	free(f.name);
	free(cand);
	free(gone);
	free(top);
	return e == -ENOENT ? 0 : e;
}

int
conflict_parents(struct roamfs *fs, struct sftp *s, const char *rel)
{
	struct db_txn t;
	struct inode in;
	uint64_t ino;
	uint32_t mode;
	char *dir = strdup(rel), *sl, *path;
	int e = 0, made = 0;

	if (dir == NULL)
		return -ENOMEM;
	for (sl = strchr(dir, '/'); sl && e == 0; sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		mode = 0755;
		if (db_begin(fs->db, &t, 0) == 0) {
			if (meta_lookup(&t, dir, &ino) == 0 && meta_inode_get(&t, ino, &in) == 0) {
				mode = in.mode & 07777;
				inode_free(&in);
			}
			db_abort(&t);
		}
		if ((path = remote_path(fs->bg, dir)) == NULL)
			e = -ENOMEM;
		else if ((e = sftp_mkdir(s, path, mode)) == 0)
			made++;
		else if (e == -EEXIST)
			e = 0;
		free(path);
		*sl = '/';
	}
	if (e == 0 && made)
		log_warn("the folder of %s was gone from the server (renamed or removed on another "
		    "workstation): it is made again for what was saved in it here", rel);
	free(dir);
	return e < 0 ? e : made;
}
