/*
 * evict: keep the cached contents within their budgets.
 *
 * The contents of files (DIR/data and the downloads in DIR/tmp) count
 * against two budgets: the cache's own (cache_max) and the machine's over
 * all caches under the cache root (cache_total).  Running roamfs processes
 * share the machine's budget: each publishes the size of its contents in
 * the cache root (ROOT/.usage.NAME, see evict.c) and takes what the others
 * leave.  Caches not in use are trimmed by roamctl gc.
 *
 * When a budget is exceeded, a thread drops the contents of clean files,
 * least recently opened first, down to 90% of it.  Their metadata stays:
 * listings and stat work offline, and the next open fetches them again.
 * Never dropped: files with changes not on the server (or set aside),
 * files created here, local-only (excluded) files, pinned files and files
 * open now.  Opens mark a file used with the access time of its contents
 * file (evict_touch).
 */
#ifndef ROAMFS_EVICT_H
#define ROAMFS_EVICT_H

#include <stdint.h>

#include "roam/ctl.h"
#include "roam/db.h"
#include "roamfs.h"

struct evict_conf {
	uint64_t max;		/* the cache's budget in bytes; 0: none */
	uint64_t total;		/* the machine's budget over the cache root; 0: none */
	const char *root;	/* the cache root; NULL: the cache is not under it */
};

/* What one eviction pass did (roamctl evict, roamctl gc). */
struct evict_count {
	uint64_t files, bytes;		/* dropped */
	uint64_t kept_files, kept_bytes;	/* could not be: changed, open, pinned, local */
};

int evict_start(struct roamfs *fs, const struct evict_conf *c);
/* Stop the thread; removes the published usage. */
void evict_stop(struct roamfs *fs);
/* Contents grew by bytes (a download, writes): may wake the thread. */
void evict_grew(struct roamfs *fs, uint64_t bytes);
/*
 * The cache's disk is full: drop clean contents now, least recently used
 * first, until want bytes are free on it, and some more.  Returns the
 * bytes freed, or want when the room is there already (another write made
 * it); 0 when nothing could go, or a walk a moment ago found nothing.
 */
uint64_t evict_make_room(struct roamfs *fs, uint64_t want);
/* Whether bytes more stay within 90% of the budget, and leave a tenth of
 * the cache's disk free, with no full disk in the last minutes (for the
 * working set). */
int evict_room(struct roamfs *fs, uint64_t bytes);
/* An open of a contents file: the file counts as used now. */
void evict_touch(int fd);
/*
 * Opens and truncations read whether a file is cached and open its
 * contents under the read side of this lock, so that a file is never
 * dropped between the two; the thread takes the write side.
 */
void evict_read_lock(struct roamfs *fs);
void evict_read_unlock(struct roamfs *fs);
/* roamctl evict: drop the contents of ino (a whole tree for a directory) now. */
int evict_tree(struct roamfs *fs, uint64_t ino, struct evict_count *n);
/* The budget and what eviction did, for roamctl status. */
int evict_status(struct roamfs *fs, struct ctl_record *c);

/*
 * Trim a cache no roamfs runs on (roamctl gc, which holds its lock) to
 * budget bytes of contents: cache_dir with its database open for writing.
 * *used gets the contents' size before.
 */
int evict_trim_idle(const char *cache_dir, struct db *db, uint64_t budget, uint64_t *used,
    struct evict_count *n);
/* The size of a cache's contents (DIR/data and DIR/tmp) in bytes. */
uint64_t evict_contents_size(const char *cache_dir);

#endif
