/*
 * fetch: bring a file's contents and a link's target into the cache.
 */
#ifndef ROAMFS_FETCH_H
#define ROAMFS_FETCH_H

#include "roamfs.h"

struct fetching;

/* Download a file's contents unless cached; 0 or -errno. */
int fetch_file(struct roamfs *fs, uint64_t ino);
/* The same over another connection (the prefetcher's). */
int fetch_file_via(struct roamfs *fs, uint64_t ino, struct remote *via);
/* How many downloads applications wait for now (not prefetches). */
int fetch_busy(struct roamfs *fs);
/* The registry of downloads; fetch_stop cancels those still running and waits for them. */
int fetch_init(struct roamfs *fs);
void fetch_stop(struct roamfs *fs);
/* Make the downloads under way, and any started from now on, fail (the unmount). */
void fetch_cancel(struct roamfs *fs);
/*
 * For a read-only open of ino, whose inode says size bytes: like
 * fetch_file, except that a file of 1 MiB or more is not waited for.  Then
 * *out gets the download (to pass to fetch_wait before each read and to
 * fetch_release at the end) and *fd a descriptor of the file being
 * written; *out stays NULL when the file was fetched whole (or was cached).
 */
int fetch_stream(struct roamfs *fs, uint64_t ino, uint64_t size, int *fd, struct fetching **out);
/*
 * Wait until bytes [0, end) of a streamed file are there: 0, -EIO if its
 * download failed, or -EINTR once req (may be NULL) is interrupted; the
 * interrupt callback calls fetch_wake.
 */
int fetch_wait(struct roamfs *fs, struct fetching *f, uint64_t end, fuse_req_t req);
void fetch_wake(struct roamfs *fs);
void fetch_release(struct roamfs *fs, struct fetching *f);
/*
 * Before the first open of a clean cached file since its node was made:
 * a cache file whose size differs from the inode's (a download cut short
 * by a crash of the machine) is marked uncached; returns 1 then, else 0.
 */
int fetch_verify(struct roamfs *fs, uint64_t ino);
/*
 * Close-to-open, before an open of ino: when the server has not confirmed
 * its version for attr_ttl seconds (nor a listing of its directory), ask
 * it (one LSTAT; never when offline or busy: the cache serves).  A new
 * version of a clean file is taken (the cached copy dropped); 1 when the
 * kernel must then retry the open on a new inode (fs_open answers ESTALE,
 * fs_lookup makes the kernel drop the old one); 1 also when the server
 * removed it (its name is gone here too): the kernel's retry looks the
 * name up again, so that an open with O_CREAT makes a new file, as POSIX
 * says, and one without says ENOENT.  Else 0.
 */
int fetch_check(struct roamfs *fs, uint64_t ino);
/*
 * Whether the server removed ino, a name the kernel checks before it
 * makes one there (mkdir, ln, ln -s, O_EXCL, a rename's target: fs_lookup
 * tells them by a lookup that comes before the entry's timeout): one
 * LSTAT, unless the server confirmed it within attr_ttl, or it has
 * changes of ours, or the connection is busy or down.  When it is gone
 * its directory is listed again, which removes it here: 1, so that the
 * kernel looks the name up again and finds it free, as POSIX says.
 */
int fetch_gone(struct roamfs *fs, uint64_t ino);
/* The target of a symbolic link, fetched when not known yet. */
int fetch_link(struct roamfs *fs, uint64_t ino, char **target);

#endif
