/*
 * journal: the ordered list of changes still to be replayed to the server.
 *
 * Records live in LMDB next to the metadata, appended in the same
 * transaction as the change they describe.  Each carries the server base
 * version of its object.  Paths are relative to the home's root, as they
 * were when the change was made; replaying records in order reproduces the
 * local history on the server.  A record that fails for good is set aside
 * (DB_ASIDE) with its error, never retried forever.
 */
#ifndef ROAMFS_JOURNAL_H
#define ROAMFS_JOURNAL_H

#include <stdint.h>

#include "roam/buf.h"
#include "roam/db.h"
#include "meta.h"

enum jtype {
	J_STORE = 1,	/* upload the cached contents of ino to path */
	J_MKDIR,	/* mkdir path, mode */
	J_SYMLINK,	/* symlink path -> path2 (the target) */
	J_LINK,		/* hard link path2 to existing path */
	J_UNLINK,	/* remove file or symlink path */
	J_RMDIR,	/* remove directory path */
	J_RENAME,	/* rename path to path2, replacing what is there */
	J_SETATTR,	/* set mode and/or mtime of path */
};

#define JA_MODE		1u
#define JA_MTIME	2u

struct jrec {
	uint64_t seq;
	uint8_t type;		/* enum jtype */
	uint64_t ino;
	uint32_t attrs;		/* JA_* for J_SETATTR */
	uint32_t mode;
	int64_t mtime;
	char *path;		/* malloc'd */
	char *path2;		/* malloc'd or NULL */
	uint64_t victim;	/* J_RENAME: inode it replaced, 0 if none */
	uint8_t victim_remote;	/* that inode existed on the server then */
	struct base victim_base; /* its server version (not valid: unknown) */
	struct base base;	/* server version the change was based on */
	int64_t when;		/* wall clock time of the change */
	int32_t err;		/* set-aside records: the errno */
};

/* Fill the fields every record about in carries; path and path2 are
 * borrowed, not copied (jrec_free must not see them then). */
void jrec_init(struct jrec *r, uint8_t type, const struct inode *in, const char *path,
    const char *path2);
void jrec_free(struct jrec *r);
const char *jtype_name(uint8_t type);
/* Encode and decode one record (decode is safe on any input; -EPROTO for
 * another format; records of format 1 have no victim_base). */
int jrec_encode(const struct jrec *r, struct buf *b);
int jrec_decode(const void *p, size_t n, struct jrec *r);

/* Append a record; assigns r->seq. */
int journal_append(struct db_txn *t, struct jrec *r);
/*
 * Journal an upload of a regular file's contents (STORE) unless one is
 * pending or the file is excluded; sets in->pending_store, which the
 * caller saves with the inode.
 */
void journal_store(struct db_txn *t, struct inode *in);
/* Store a changed record again under its seq (same type and inode). */
int journal_replace(struct db_txn *t, const struct jrec *r);
/* The oldest record, or -ENOENT when the journal is empty. */
int journal_first(struct db_txn *t, struct jrec *r);
int journal_get(struct db_txn *t, uint64_t seq, struct jrec *r);
/*
 * Call fn for each pending record, oldest first; fn owns the record (it
 * must jrec_free it or keep it) and returns 0 to go on, non-zero to stop.
 */
int journal_scan(struct db_txn *t, int (*fn)(void *arg, struct jrec *r), void *arg);
/* Remove a replayed record. */
int journal_remove(struct db_txn *t, const struct jrec *r);
/* Move a record that failed for good to DB_ASIDE with its errno. */
int journal_set_aside(struct db_txn *t, struct jrec *r, int err);
/* 1 if records for ino are pending, else 0. */
int journal_pending_ino(struct db_txn *t, uint64_t ino);
/* 1 if a record for ino newer than seq is pending, else 0. */
int journal_later_ino(struct db_txn *t, uint64_t ino, uint64_t seq);
/* 1 if a record of ino of type type is pending, else 0 (or -errno). */
int journal_ino_has(struct db_txn *t, uint64_t ino, uint8_t type);
/* Sequence number the next record will get. */
int journal_next_seq(struct db_txn *t, uint64_t *seq);
/* 1 when no record is pending, else 0. */
int journal_empty(struct db_txn *t);
/* Seq of the oldest pending record, or UINT64_MAX when empty. */
uint64_t journal_head(struct db_txn *t);
/*
 * Cancellation for an object that never reached the server and is now
 * gone: drop every pending record of ino.  A rename that replaced an
 * object that is (or will be, by the time it is replayed) on the server
 * becomes the removal of that object, so its effect survives; when that
 * removal is of path (may be NULL), *tomb (may be NULL) gets its seq, for
 * a tombstone, else 0.
 */
int journal_cancel_ino(struct db_txn *t, uint64_t ino, const char *path, uint64_t *tomb);
/*
 * After record seq of ino reached the server and left it at version b:
 * the later records of ino are based on b now (so that the replay never
 * takes our own upload for another workstation's change).
 */
int journal_rebase_ino(struct db_txn *t, uint64_t ino, uint64_t seq, const struct base *b);
/*
 * Our version of ino went to another name than path (a conflict copy):
 * the later records of ino that act on path act on to instead.
 */
int journal_repath_ino(struct db_txn *t, uint64_t ino, uint64_t seq, const char *path,
    const char *to);
/*
 * Our directory at dir went to another name, to (a conflict copy): every
 * record after seq whose path or new path is dir or below it acts on the
 * same place below to instead.
 */
int journal_repath_under(struct db_txn *t, uint64_t seq, const char *dir, const char *to);

#endif
