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
