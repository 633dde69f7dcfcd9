/*
 * version: the server's version of an object, as the cache records it.
 */
#ifndef ROAMFS_VERSION_H
#define ROAMFS_VERSION_H

#include <stdint.h>

#include "meta.h"
#include "sftp/sftp.h"

/* The mode of an object from the server's attributes (no mode: a regular file). */
uint32_t attr_mode(const struct sftp_attr *a);
/* The base version recorded for attributes the server gave, the same way
 * for listings and for replies to the replay. */
void base_from_attr(struct base *b, const struct sftp_attr *a);

/*
 * SFTP version 3 gives whole seconds: a version seen before its mtime's
 * second (and this many seconds more, for clocks a little apart) has ended
 * can be followed by another of the same size and mtime.  Such a base is
 * racy: its hash is kept, and the next upload over it compares contents,
 * the next open fetches it again.
 */
#define VERSION_RACY_SLACK	1
/* Whether a version of this mtime seen now is racy. */
int version_is_racy(int64_t mtime);
/* A hash of the first size bytes of fd, never 0; 0 when they cannot be read. */
uint64_t version_hash(int fd, uint64_t size);

struct roamfs;

/* Whether an object has local changes the server has not seen. */
int version_local_changes(struct roamfs *fs, struct db_txn *t, const struct inode *in);
/*
 * The server holds version a of in, which has no local changes: take it
 * into in (the caller saves it), dropping a cached copy of other contents.
 * 0 when in had that version already, 1 when it changed, 2 when it is a
 * regular file whose size or mtime changed: the kernel must take a new
 * inode for it (notify_renew), as it trusts its own size and mtime.
 */
int version_take(struct roamfs *fs, struct inode *in, const struct sftp_attr *a);

#endif
