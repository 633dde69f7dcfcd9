/*
 * replay_int: what replay.c shares with replay_batch.c.
 */
#ifndef ROAMFS_REPLAY_INT_H
#define ROAMFS_REPLAY_INT_H

#include "replay.h"
#include "roamfs.h"

/*
 * A record waits this long (seconds) before it is sent, so that a file
 * being written travels once, and a file created and removed at once never
 * travels.  Draining at unmount does not wait.  Two: an upload then comes
 * after the second of its file's mtime and VERSION_RACY_SLACK, so that it
 * is seldom racy (version.h) and the next upload need not read it back.
 */
#define REPLAY_SETTLE	2

/* What replaying one record did to the object on the server. */
struct outcome {
	int set_base;
	struct base base;
	int foreign;	/* base has another size than ours: someone else's contents */
	int replaced;	/* the record was replaced by another under its seq (conflict.h) */
};

/*
 * Whether an upload of a file rewrites it in place on the server rather
 * than renaming a new file over it: several names share it, here or on
 * the server (I_LINKED), and a rename over one would split them.
 */
static inline int
replay_in_place(const struct inode *in)
{
	return (in->nlink > 1 || (in->flags & I_LINKED)) && (in->flags & I_REMOTE);
}

/* Whether a record is still settling. */
int replay_settling(struct roamfs *fs, const struct jrec *r);
/*
 * Whether the upload of r can wait because its file has writes not yet
 * flushed: the flush that comes (at close, or within sync_interval)
 * journals a new upload, so the file is sent once it has been quiet for a
 * moment, not while it is still being written.  Not when later records of
 * the same file (a hard link, a rename) need it on the server first.
 */
int replay_being_written(struct roamfs *fs, const struct jrec *r);
/*
 * Before sending a record: the object may exist on the server from now on.
 * 1 when the record was cancelled (or changed) since it was read: skip it.
 */
int replay_begin_txn(struct db_txn *t, const struct jrec *r);
/* After sending a record: drop it (or set it aside) and note the new base. */
void replay_end_txn(struct roamfs *fs, struct db_txn *t, struct jrec *r, int err,
    const struct outcome *o);
/* The temporary server name an upload of r uses, next to path (malloc'd);
 * its name has at most REMOTE_TMP_NAME_MAX bytes, which fs.c counts on. */
char *replay_tmp_name(struct roamfs *fs, const char *path, const struct jrec *r);
/* The lock an upload to path takes on the server while it checks and
 * replaces path (sftp_put lock): shorter than REMOTE_TMP_NAME_MAX too. */
char *replay_lock_name(const char *path);
/* Whether the lock at path was left by a client that died (older than a
 * minute); then it is removed, with a warning. */
int replay_lock_stale(struct sftp *s, const char *lock);
/*
 * The racy hash of what an upload of ino (cache file fd) sent to path,
 * size bytes: the hash of the cache file, unless it was written to since
 * wmark (its nodes_write_mark before the upload) was taken, when only the
 * server's copy, read back, tells.  0 when it cannot be had.
 */
uint64_t replay_sent_hash(struct roamfs *fs, struct sftp *s, uint64_t ino, int fd,
    const char *path, uint64_t size, uint64_t wmark);
/* A store that sends nothing: the server's version, when noted as ours,
 * becomes the file's base (o).  0, or a transport error. */
int replay_unsent(struct roamfs *fs, struct sftp *s, const struct jrec *r, const char *path,
    struct outcome *o);
/* An upload was cut off: its temporary file (and lock, may be NULL) may be
 * left on the server; replay_sweep removes them once connected again. */
void replay_leftover(struct roamfs *fs, const char *tmp, const char *lock);
void replay_sweep(struct roamfs *fs, struct sftp *s);
/*
 * Send the uploads at the head of the journal together, many files in
 * flight: 1 when a batch of two or more went, 0 when the head is not such
 * a run (replay it alone), -errno to retry later.
 */
int replay_batch(struct roamfs *fs);

#endif
