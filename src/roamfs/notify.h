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

#endif
