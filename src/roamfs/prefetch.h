/*
 * prefetch: the files fetched before anyone opens them, and what the
 * session opened.
 *
 * Pins: the pin list (PATHLIST_PINS in the home, written by roamctl pin)
 * names files and trees to keep for offline use.  A thread fetches them
 * after the mount, over a connection of its own and only while no
 * application waits for a download, and again when the list changes.
 * Eviction keeps them (prefetch_pins_copy).
 *
 * The working set: roamfs counts the files opened in the session and at
 * the end writes the most recent of them (workingset_files, at most
 * workingset_bytes) to PATHLIST_WORKINGSET on the server.  The next mount,
 * on any workstation, fetches them in the background after the pins, as
 * far as the cache's budget goes.
 *
 * Offline misses: a file that could not be opened because it is not
 * cached and the server is unreachable is remembered for roamctl status.
 */
#ifndef ROAMFS_PREFETCH_H
#define ROAMFS_PREFETCH_H

#include <stdint.h>

#include "roam/ctl.h"
#include "pathlist.h"
#include "roamfs.h"

struct prefetch_conf {
	unsigned workingset_files;	/* 0: no working set */
	uint64_t workingset_bytes;	/* 0: no bound on bytes */
};

int prefetch_start(struct roamfs *fs, const struct prefetch_conf *c);
/* Stop the thread (the session's record stays for prefetch_save_workingset). */
void prefetch_stop(struct roamfs *fs);
void prefetch_free(struct roamfs *fs);
/* Read the pin list again and fetch what it names (roamctl pin). */
void prefetch_kick(struct roamfs *fs);
/* A regular file was opened: it joins the working set. */
void prefetch_opened(struct roamfs *fs, uint64_t ino);
/* Whether the caller is the prefetch thread. */
int prefetch_thread(void);
/* An open failed offline on a file not cached (rel: its path). */
void prefetch_offline_miss(struct roamfs *fs, const char *rel);
/* A copy of the pin list (empty when none), for eviction: 0 or -ENOMEM. */
int prefetch_pins_copy(struct roamfs *fs, struct pathlist *out);
/* Whether a path must stay cached: pinned, or one of roamfs's own lists. */
int prefetch_keep(const struct pathlist *pins, const char *rel);
/* For roamctl status and roamctl pins. */
int prefetch_status(struct roamfs *fs, struct ctl_record *c);
int prefetch_pins_reply(struct roamfs *fs, struct ctl_reply *r);
/*
 * At the end of the session, with the journal sent: write the working set
 * to the server (over the replayer's connection).  Quietly does nothing
 * when offline or when changes still wait.
 */
void prefetch_save_workingset(struct roamfs *fs);

#endif
