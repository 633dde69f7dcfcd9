/*
 * detach: notice that the mount was detached (a lazy unmount) while
 * files were still open, and end the FUSE loop as an unmount would.
 *
 * At logout, processes of the user that outlive the session (systemd
 * --user, dbus, gvfs) often hold files open in the home: a plain
 * `fusermount3 -u` then fails with EBUSY and roamfs would run on for
 * ever.  `fusermount3 -u -z` detaches the mount at once, but the kernel
 * keeps the filesystem alive, and roamfs's loop running, until the last
 * of those files is closed.  The watcher sees the mount leave the mount
 * table and ends the loop: roamfs then sends the last changes and exits,
 * and the processes that still hold files get ENOTCONN.  A plain unmount
 * ends the kernel's connection (the device polls POLLERR), and the loop by
 * itself, however late it sees it: the watcher then does nothing.
 */
#ifndef ROAMFS_DETACH_H
#define ROAMFS_DETACH_H

struct roamfs;

/* Start watching, once mounted, from the thread that runs the FUSE loop;
 * roamfs works on without the watcher (0 or -errno). */
int detach_start(struct roamfs *fs);
/* Stop the watcher; nonzero when it saw the mount detached. */
int detach_stop(struct roamfs *fs);
/*
 * After the loop: drop the kernel connection without touching the mount
 * point, where something else may be mounted by now (the next login), so
 * that the session's unmount only closes.  Call before
 * fuse_session_unmount, only when detach_stop said so.
 */
void detach_release(struct roamfs *fs);

#endif
