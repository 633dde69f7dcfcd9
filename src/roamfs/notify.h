/*
 * notify: tell the kernel what changed under its caches of the mount.
 */
#ifndef ROAMFS_NOTIFY_H
#define ROAMFS_NOTIFY_H

#include <stdint.h>

struct roamfs;

/* Start the thread that sends the notices (once mounted); 0 or -errno. */
int notify_start(struct roamfs *fs);
/* Stop it; notices queued after that are dropped. */
void notify_stop(struct roamfs *fs);
/* Have the kernel forget a name in a directory (parent's inode number). */
void notify_entry(struct roamfs *fs, uint64_t parent, const char *name);
/* Have the kernel forget an inode's cached attributes and pages. */
void notify_inode(struct roamfs *fs, uint64_t ino);
/*
 * The kernel trusts its own size and mtime of a regular file (writeback
 * cache): for a new version, the inode gets a new generation and its
 * names are dropped from the kernel, whose next lookup then makes a new
 * kernel inode (the old one is retired).  While the file is open, this
 * waits for its last close (fs_release).  t: a transaction, for its names.
 */
struct db_txn;
void notify_renew(struct roamfs *fs, struct db_txn *t, uint64_t ino);

#endif
