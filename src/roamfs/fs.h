/*
 * fs: the FUSE request handlers of a mounted home.
 */
#ifndef ROAMFS_FS_H
#define ROAMFS_FS_H

#include "roamfs.h"

extern const struct fuse_lowlevel_ops fs_ops;
/* Close the files the kernel never released (after the FUSE loop ended). */
void fs_close_handles(struct roamfs *fs);
/* Remove inodes left with no name by a crash (start-up). */
int fs_reap_orphans(struct roamfs *fs);

#endif
