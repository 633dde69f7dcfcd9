/*
 * node: the in-memory inode table, from the kernel's inode number to the
 * state only a running roamfs holds: the kernel's lookup count, open
 * handles, and unsaved size/mtime of files being written.  Persistent
 * state is in LMDB (meta.h).  All fields are protected by the table lock.
 */
#ifndef ROAMFS_NODE_H
#define ROAMFS_NODE_H

#include <stdint.h>
#include <time.h>

struct node {
	uint64_t ino;
	uint64_t nlookup;	/* kernel references (lookup/forget) */
	uint32_t nopen;		/* open file handles */
	int dirty;		/* written since the last journal flush */
	uint32_t saving;	/* file: saves of its size and mtime under way (flush.c) */
	int listed;		/* directory listed (or checked) since the mount */
	int stale;		/* directory: its cached listing was served, the server not asked */
	int verified;		/* file: cache size checked (fetch_verify) */
	uint64_t size;		/* valid when dirty or saving */
	struct timespec mtime;	/* valid when dirty or saving */
	uint64_t gen;		/* generation the kernel knows the inode by (from 1) */
	uint64_t wbase;		/* file: size of its cache file when first opened */
	uint64_t wcut;		/* a write failed: the cache file ends at most here */
	int werr;		/* that write's errno, 0: none failed */
	time_t confirmed;	/* file: when the server last confirmed its version */
	time_t renew_at;	/* file: new generation for the open that retries (fs_open) */
	int renew_later;	/* file: new generation once the last handle closes */
	int racy;		/* file: base.refetch was set (fetch_commit, check_needed): opens read the inode */
	uint64_t wlast;		/* file: number of the last write to its cache file (nodes_write_begin) */
	struct timespec entry_until; /* the kernel keeps the entry given last without asking (CLOCK_MONOTONIC) */
	uint32_t writing;	/* file: writes to its cache file under way */
	struct node *hnext;	/* hash chain */
};

struct nodes;

struct nodes *nodes_new(void);
void nodes_free(struct nodes *t);
void nodes_lock(struct nodes *t);
void nodes_unlock(struct nodes *t);
/* Find a node (table locked by the caller), or NULL. */
struct node *nodes_find(struct nodes *t, uint64_t ino);
/* Find or create a node (table locked by the caller); NULL when out of memory. */
struct node *nodes_get(struct nodes *t, uint64_t ino);
/* Drop a node that has no references left (table locked by the caller). */
void nodes_drop_if_unused(struct nodes *t, struct node *n);
/*
 * The flusher takes a node's dirty mark and counts the save under way
 * (n->saving): until its transaction is committed, the node's size and
 * mtime are the file's, not the inode's.  nodes_saved ends one (table
 * locked by the caller) and counts it here.  A reader that read an inode,
 * then finds its node neither dirty nor saving, asks whether a save ended
 * in between (nodes_saves before the read): then what it read may be
 * older than the size the node held.
 */
void nodes_saved(struct nodes *t, struct node *n);
uint64_t nodes_saves(struct nodes *t);
/* Whether the node's size and mtime are the file's (dirty, or being saved). */
#define NODE_HELD(n)	((n)->dirty || (n)->saving)
/* Call fn for every dirty node (table locked by the caller). */
void nodes_foreach_dirty(struct nodes *t, void (*fn)(void *arg, struct node *n), void *arg);
/* Call fn for every node with open handles (table locked by the caller). */
void nodes_foreach_open(struct nodes *t, void (*fn)(void *arg, struct node *n), void *arg);
/*
 * A write (or truncation) of ino's cache file begins, and ends: the replay
 * tells by nodes_write_mark whether the contents it sent and hashed are
 * what the file held all along (each takes the lock).
 */
void nodes_write_begin(struct nodes *t, uint64_t ino);
void nodes_write_end(struct nodes *t, uint64_t ino);
/* The number of the last write to ino's cache file (0: none since the
 * node was made), or UINT64_MAX while one is under way. */
uint64_t nodes_write_mark(struct nodes *t, uint64_t ino);
/* Whether a file is open or has writes not journaled yet (takes the lock). */
int nodes_busy(struct nodes *t, uint64_t ino);
/* Mark a directory served from its cached listing (table locked by the caller). */
void nodes_set_stale(struct nodes *t, struct node *n);
/* Call fn for every node marked stale and clear the mark (table locked by the caller). */
void nodes_take_stale(struct nodes *t, void (*fn)(void *arg, struct node *n), void *arg);
/* For nodes_foreach_dirty, nodes_foreach_open and nodes_take_stale: append n's inode number
 * to the struct buf buf (buf_put_u64). */
void nodes_put_ino(void *buf, struct node *n);

#endif
