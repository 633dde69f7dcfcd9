/*
 * conflict: what the replay does when the server no longer holds the
 * version a change was based on, and the table that remembers it.
 */
#ifndef ROAMFS_CONFLICT_H
#define ROAMFS_CONFLICT_H

#include <stdint.h>
#include <time.h>

#include "journal.h"
#include "roamfs.h"

/* What happened, in the DB_CONFLICT table. */
enum conflict_kind {
	CONFLICT_COPY = 1,	/* both changed: ours is kept under copy */
	CONFLICT_KEPT,		/* our removal met a change: the server's object is kept */
	CONFLICT_ASIDE,		/* the server refused the change for good */
};

/* One entry of the table, for roamctl. */
struct conflict {
	uint8_t kind;		/* enum conflict_kind */
	int64_t when;		/* wall clock time it was decided */
	char *path;		/* the name both sides changed, relative to the home */
	char *copy;		/* CONFLICT_COPY: where our version is now; else NULL */
	char *workstation;	/* this workstation's name */
	char *why;		/* one line */
};

/*
 * The name our version of name gets next to the server's:
 * "NAME (conflict WORKSTATION YYYY-MM-DD HHMMSS).EXT" in local time; the
 * extension stays last so that the file still opens in its application,
 * and the name is cut (at a character boundary) to fit in 255 bytes.
 * malloc'd, or NULL when out of memory.
 */
char *conflict_name(const char *name, const char *workstation, time_t when);
/* The same for the last component of a relative path. */
char *conflict_path(const char *rel, const char *workstation, time_t when);

/* Add an entry to the table and count it (DB_META "conflicts"). */
int conflict_put(struct db_txn *t, const struct conflict *c);
/* conflict_put of an entry made now by this workstation. */
void conflict_note(struct roamfs *fs, struct db_txn *t, uint8_t kind, const char *path,
    const char *copy, const char *why);
/* Encode and decode an entry (decode is safe on any input). */
int conflict_encode(const struct conflict *c, struct buf *b);
int conflict_decode(const void *p, size_t n, struct conflict *c);
void conflict_free(struct conflict *c);

/*
 * Whether the object the server has at rel (server path path, attributes
 * a) is the version this workstation's replay left there (own.h): 1 yes,
 * 0 no.  Size, type and mtime must match; a version noted within its
 * mtime's second (racy) must have the same contents too, read back.
 */
int conflict_own(struct roamfs *fs, struct sftp *s, const char *rel, const char *path,
    const struct sftp_attr *a);
/* The same; *which (may be NULL) gets the note that matched. */
int conflict_own_which(struct roamfs *fs, struct sftp *s, const char *rel, const char *path,
    const struct sftp_attr *a, struct base *which);
/* The racy hash (version_hash) of the server's file at path, read back,
 * when it has size bytes; 0 when it cannot be had. */
uint64_t conflict_server_hash(struct sftp *s, const char *path, uint64_t size);

/*
 * Whether the server's object at rel (server path path, attributes a) is
 * version b (the racy hash compared when it has one) or one this
 * workstation left there (conflict_own): 1 yes, 0 no.
 */
int conflict_found_is(struct roamfs *fs, struct sftp *s, const char *rel, const char *path,
    const struct sftp_attr *a, const struct base *b);
/*
 * In the cache, our file ino (a file of the database r's file belongs to,
 * unit.c) leaves name for copy and the server's object found (flags 0:
 * none) takes name; ino's later records act on copy, and the conflict is
 * noted and logged with why.  r's own record is repathed only when ino is
 * its file.  0 or -errno.
 */
int conflict_divert_file(struct roamfs *fs, const struct jrec *r, uint64_t ino, const char *name,
    const char *copy, const struct sftp_attr *found, const char *why);

/*
 * An upload of r's file found another object at its server path than the
 * one the change was based on (p->kept): decide.  Our own upload (a record
 * replayed again) or the same contents: ours replaces it.  Otherwise the
 * server's version keeps the name and ours is renamed on the server to its
 * conflict name, where the cache moves it too.  With racy (the hash of a
 * base seen within its mtime's second) and p->matched, the server's file
 * is that base only if its contents hash the same.  A lock the upload
 * left held (p->held) is removed.  0 when our version is on the server
 * (p->tmp renamed), or -errno.
 */
struct sftp_put;
int conflict_store(struct roamfs *fs, struct sftp *s, const struct jrec *r, struct sftp_put *p,
    uint64_t racy);

/*
 * A directory or symbolic link that r makes (J_MKDIR, J_SYMLINK) finds
 * another object at its name on the server, made elsewhere: the server's
 * keeps the name, ours and the later changes in it go to its conflict
 * name, in the cache and in the journal.  The server path to make ours
 * at (malloc'd), or NULL when out of memory.
 */
char *conflict_made(struct roamfs *fs, const struct jrec *r, const struct sftp_attr *found);

/*
 * Before r removes path (J_UNLINK, J_RMDIR): 1 when the server's object is
 * not the version r was based on (changed by another workstation): then it
 * is kept, the cache lists the directory again, and the decision is logged
 * and recorded; 2 when nothing is there any more; 0 to go ahead; -errno.
 */
int conflict_remove(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path);
/* After J_RMDIR failed because the server's directory is not empty
 * (err -ENOTEMPTY) or is a file now (-ENOTDIR): keep it likewise. */
void conflict_rmdir_kept(struct roamfs *fs, const struct jrec *r, int err);

/*
 * Before r renames path over path2 (J_RENAME): 0 to go ahead, or 1 when
 * path2 holds an object that the rename did not replace here (created or
 * changed by another workstation): then ours went to path2's conflict name
 * instead, on the server and in the cache; 1 also when a folder was
 * moved over an empty folder (done here).  2 when the file at path was
 * changed on the server meanwhile: it stays there, and r was replaced in
 * the journal (same seq) by the upload of ours to path2, to replay next
 * (the record must not be removed).  -errno on failure.
 */
int conflict_rename(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    const char *path2);

/*
 * r renames or links a file the server does not have at r->path (its
 * upload was cut off, or skipped as the file was gone or being written
 * then), nor at r->path2: 1 when it is gone here too (nothing to do),
 * else 2: r becomes the upload of ours to r->path2, under its seq, to
 * replay next (the record must not be removed).  -errno on failure.
 */
int conflict_resend(struct roamfs *fs, const struct jrec *r);

/*
 * An upload to rel failed with ENOENT: its folder is gone from the server
 * (renamed or removed elsewhere).  Make the missing folders again, with
 * their modes in the cache: how many were made (then try again), or -errno.
 */
/*
 * An upload to rel (a change of the version b) found a folder of its path
 * gone from the server: when exactly one sibling folder of the highest
 * missing one holds version b at the same place below it, and this cache
 * knows no file there (which would be another file, a copy of ours), that
 * folder is the one another workstation renamed, and the change goes
 * there: *moved gets that path (malloc'd), 1.  When none does, but one
 * sibling this cache never saw holds a file at that place and every name
 * the cache knew on the server in the missing folder, it is that folder
 * renamed, its file changed since: *moved gets the conflict name next to
 * that file, 2.  0 when there is no such folder, -errno (a transport
 * error).
 */
int conflict_moved_folder(struct roamfs *fs, struct sftp *s, const char *rel, const struct base *b,
    char **moved);
int conflict_parents(struct roamfs *fs, struct sftp *s, const char *rel);

#endif
