/*
 * roamfs: the state of one mounted home, shared by the FUSE handlers
 * (fs.c), the listing and download code (fetch.c), the flusher (flush.c)
 * and the replayer (replay.c).
 */
#ifndef ROAMFS_ROAMFS_H
#define ROAMFS_ROAMFS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

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
/* The longest such name (replay_tmp_name): the prefix, the inode number in
 * hex (16 digits at most), ".", the journal seq in decimal (20 at most). */
#define REMOTE_TMP_NAME_MAX (sizeof REMOTE_TMP_PREFIX - 1 + 16 + 1 + 20)
/* The longest path the server takes: PATH_MAX - 1 for OpenSSH's
 * sftp-server on Linux, which hands the paths to the system calls as sent. */
#define REMOTE_PATH_MAX 4095

struct notify;
struct replay;

struct fetching;

struct roamfs {
	struct db *db;
	struct cache *cache;
	struct nodes *nodes;
	struct exclude *exclude;	/* NULL: nothing excluded */
	struct remote *fg;		/* listings and downloads for applications */
	struct remote *bg;		/* the replayer's connection */
	struct fuse_session *se;
	struct notify *notify;
	struct replay *replay;
	struct fetches *fetches;	/* downloads in progress (fetch.c) */
	uid_t uid;
	gid_t gid;
	unsigned dir_ttl;		/* seconds before a directory is listed again */
	unsigned sync_interval;		/* seconds between durable commits */
	unsigned flush_timeout;		/* seconds to keep trying the server at unmount */
	double timeout;			/* FUSE entry and attribute timeout */
	int debug;
};

/* fs.c */
extern const struct fuse_lowlevel_ops fs_ops;
/* Fill a struct stat from an inode and its in-memory node (may be NULL). */
void fs_stat(const struct roamfs *fs, const struct inode *in, const struct node *n, struct stat *st);
/* Whether a path relative to the root is excluded. */
int fs_excluded(const struct roamfs *fs, const char *rel, int is_dir);
/* Journal an upload of in's contents unless one is pending (write transaction). */
void fs_journal_store(struct db_txn *t, struct inode *in);
/* Remove an unreferenced inode with no names left, and its contents. */
void fs_reap(struct roamfs *fs, uint64_t ino);
/* Close the files the kernel never released (after the FUSE loop ended). */
void fs_close_handles(struct roamfs *fs);
/* Remove inodes left with no name by a crash (start-up). */
int fs_reap_orphans(struct roamfs *fs);

/* fetch.c: bring server state into the cache. */
/*
 * List a directory from the server unless fresh enough.  A directory the
 * cache has already listed is only revalidated when the connection is at
 * hand, unless wait is set.  1 when listed now, 0 when the cache serves
 * it, or -errno.
 */
int fetch_dir(struct roamfs *fs, uint64_t ino, int wait);
/*
 * List again the directories whose cached listing was served while the
 * server was busy or not connected yet (a warm login), so that what other
 * workstations changed shows soon.  Never waits for the connection.
 */
void fetch_refresh_stale(struct roamfs *fs);
/* The base version recorded for attributes the server gave, the same way
 * for listings and for replies to the replay (no mode: a regular file). */
void base_from_attr(struct base *b, const struct sftp_attr *a);
/* Download a file's contents unless cached; 0 or -errno. */
int fetch_file(struct roamfs *fs, uint64_t ino);
/* The registry of downloads; fetch_stop cancels those still running and waits for them. */
int fetch_init(struct roamfs *fs);
void fetch_stop(struct roamfs *fs);
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
/* The target of a symbolic link, fetched when not known yet. */
int fetch_link(struct roamfs *fs, uint64_t ino, char **target);

/* flush.c: durable commits, journal records for written files, kernel notifications. */
int flush_start(struct roamfs *fs);
void flush_stop(struct roamfs *fs);
/* Journal the unsaved size/mtime of one written file (STORE record). */
int flush_node(struct roamfs *fs, uint64_t ino);
/* At close: flush_node, unless a STORE is pending and the tick may save it. */
int flush_close(struct roamfs *fs, uint64_t ino);
/*
 * At start: a crash can lose the size a written file had in memory; for
 * files with a STORE in the journal, take it from the cache file.
 */
int flush_recover(struct roamfs *fs);
/* Journal every written file and make everything durable. */
int flush_all(struct roamfs *fs);
/* Ask the kernel to forget a name or an inode's cached data, from a safe thread. */
void notify_entry(struct roamfs *fs, uint64_t parent, const char *name);
void notify_inode(struct roamfs *fs, uint64_t ino);

/* replay.c: the journal replayer. */
int replay_start(struct roamfs *fs);
/* Wake the replayer: the journal has new records. */
void replay_wake(struct roamfs *fs);
/* At unmount: replay until the journal is empty or the server stays away; 0 if empty. */
int replay_drain(struct roamfs *fs);
void replay_stop(struct roamfs *fs);

#endif
