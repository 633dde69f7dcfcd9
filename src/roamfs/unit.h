/*
 * unit: a SQLite database and its -wal or -journal travel and conflict as
 * one.
 *
 * SQLite keeps a database in two files: NAME, and NAME-wal (write-ahead
 * log) or NAME-journal (rollback journal).  Neither is a database without
 * the other: a -wal laid over another workstation's NAME replays its
 * pages over pages it never saw, and the rows committed on both sides are
 * lost or the file is corrupt.  (NAME-shm, shared memory, never roams:
 * exclude.h.)  So an upload of one of them is an upload of the unit:
 *
 * - the files that changed are copied from the cache at one instant (no
 *   write to any file of the unit under way or in between), which is a
 *   state a crash could leave, which SQLite recovers;
 * - under the lock of NAME, every file of the unit on the server must be
 *   the version this workstation last knew of it (or one it left there),
 *   a -wal or -journal gone here included: then the copies replace theirs
 *   and a -wal removed here is removed there;
 * - else the whole unit is this workstation's conflict copy, every file
 *   under one stamp: NAME (conflict WS DATE TIME).EXT with its
 *   NAME (conflict WS DATE TIME).EXT-wal, which SQLite opens with every
 *   row committed here, while the server's files keep their names.
 */
#ifndef ROAMFS_UNIT_H
#define ROAMFS_UNIT_H

#include "replay_int.h"

/* Whether the upload of a file (rel, its inode in) may be one of a
 * database's: it is then replayed alone (replay_unit decides).  It reads
 * the first bytes of the cache file. */
int unit_maybe(struct roamfs *fs, const char *rel, const struct inode *in);
/* The same without reading: a -wal or -journal name, or I_SQLITE (the
 * batch found the file to be a database: replay_batch.c). */
int unit_known(const char *rel, const struct inode *in);
/* Whether fd (size bytes) starts as a SQLite database. */
int unit_header(int fd, uint64_t size);
/*
 * Replay r, an upload of in, as the upload of its database: 1 when it is
 * not a database's file (replay it as any file), 0 (o tells the version of
 * r's file sent), 2 when the database is being written all the time (its
 * flush sends it again), -EAGAIN when another workstation is replacing the
 * database now (later), or -errno.
 */
int replay_unit(struct roamfs *fs, struct sftp *s, const struct jrec *r, const struct inode *in,
    struct outcome *o);

#endif
