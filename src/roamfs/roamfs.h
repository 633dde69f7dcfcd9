/*
 * roamfs: the state of one mounted home, shared by the FUSE handlers
 * (fs.c), the listing and download code (fetch.c), the flusher (flush.c),
 * the kernel notifications (notify.c) and the replayer (replay.c).  Each
 * of them exports its functions in a header of its own.
 */
#ifndef ROAMFS_ROAMFS_H
#define ROAMFS_ROAMFS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cache.h"
#include "exclude.h"
#include "journal.h"
#include "meta.h"
#include "node.h"
#include "remote.h"

/* Errno for "not cached and the server cannot be reached". */
#define EOFFLINE	EHOSTUNREACH
/* Prefix of the temporary names uploads use on the server. */
#define REMOTE_TMP_PREFIX ".roamfs-tmp."
/* The longest such name (replay_tmp_name): the prefix, the inode number
 * mixed with the cache's salt, in hex (16 digits at most: two caches on one
 * home never upload to one name), ".", the journal seq in decimal (20 at
 * most). */
#define REMOTE_TMP_NAME_MAX (sizeof REMOTE_TMP_PREFIX - 1 + 16 + 1 + 20)
/* The longest path the server takes: PATH_MAX - 1 for OpenSSH's
 * sftp-server on Linux, which hands the paths to the system calls as sent. */
#define REMOTE_PATH_MAX 4095

struct control;
struct detach;
struct evictor;
struct prefetch;
struct flusher;
struct notify;
struct replay;

/*
 * What the replayer has sent since the mount, for roamctl: read and
 * written with __atomic builtins, never under a lock.
 */
struct replay_progress {
	uint64_t sent_bytes;	/* data bytes the server took (the SFTP meter) */
	uint64_t sent_changes;	/* journal records done */
	uint64_t step_files;	/* uploads under way now (0: none) */
	uint64_t step_bytes;	/* their size */
	uint64_t step_start;	/* sent_bytes when they began */
};

struct roamfs {
	struct db *db;
	struct cache *cache;
	struct nodes *nodes;
	struct exclude *exclude;	/* NULL: nothing excluded */
	struct remote *fg;		/* listings and downloads for applications */
	struct remote *bg;		/* the replayer's connection */
	struct remote *pf;		/* the prefetcher's (pinned files, working set) */
	struct fuse_session *se;
	struct flusher *flusher;	/* flush.c */
	struct notify *notify;		/* notify.c */
	struct replay *replay;		/* replay.c */
	struct control *control;	/* control.c: roamctl's socket */
	struct detach *detach;		/* detach.c: the mount's watcher */
	struct evictor *evictor;	/* evict.c: the budgets of the contents */
	struct prefetch *prefetch;	/* prefetch.c: pins, working set, offline misses */
	struct replay_progress progress;
	const char *source;		/* user@host:path, as mounted */
	const char *mountpoint;
	time_t mounted_at;
	struct fetches *fetches;	/* downloads in progress (fetch.c) */
	uid_t uid;
	gid_t gid;
	unsigned dir_ttl;		/* seconds before a directory is listed again */
	unsigned attr_ttl;		/* seconds before an open asks the server again */
	unsigned sync_interval;		/* seconds between durable commits */
	unsigned flush_timeout;		/* seconds to keep trying the server at unmount */
	double timeout;			/* FUSE entry and attribute timeout */
	char workstation[65];		/* its name in conflict copies and its marker */
	uint64_t tmp_salt;		/* meta_cache_salt, for temporary names */
	int pending_mark;		/* pending.c, replayer only: our marker's state */
	time_t pending_empty_since;	/* pending.c, replayer only */
	pthread_mutex_t pending_lock;	/* for pending_elsewhere and open_elsewhere */
	char *pending_elsewhere;	/* "\nNAME\n...": workstations seen with unsent changes */
	char *open_elsewhere;		/* "\nNAME\n...": workstations seen with the home open */
	time_t session_marked;		/* pending.c, replayer only: our session marker renewed then */
	int debug;
};

#endif
