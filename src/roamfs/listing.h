/*
 * listing: bring the server's directory listings into the cache.
 */
#ifndef ROAMFS_LISTING_H
#define ROAMFS_LISTING_H

#include <stdint.h>

struct roamfs;

/*
 * List a directory from the server unless fresh enough.  A directory the
 * cache has already listed is only revalidated when the connection is at
 * hand, unless wait is set.  1 when listed now, 0 when the cache serves
 * it, or -errno.
 */
int listing_update(struct roamfs *fs, uint64_t ino, int wait);
/*
 * List again the directories whose cached listing was served while the
 * server was busy or not connected yet (a warm login), so that what other
 * workstations changed shows soon.  Never waits for the connection.
 */
void listing_refresh_stale(struct roamfs *fs);
/* The next lookup or listing of directory dir asks the server again. */
void listing_expire(struct roamfs *fs, uint64_t dir);
/* listing_expire for the directory holding rel (relative to the home), if
 * the cache has it: 0 and *dir (may be NULL) then, else -errno. */
struct db_txn;
int listing_expire_parent(struct roamfs *fs, struct db_txn *t, const char *rel, uint64_t *dir);

/*
 * The replay is about to commit the end of record r (its change is on the
 * server): a listing taken before may miss it, and must not be merged as
 * if it were newer (called inside the replay's end transaction).
 */
struct jrec;
void listing_replayed(const struct jrec *r);
/* How many records the replay has ended: noted before asking the server
 * about an object, so that listing_replayed_since tells whether a record
 * ended since at rel, in it, or at a folder above it (an answer of the
 * server then may predate our own change: it is not taken). */
uint64_t listing_gen(void);
int listing_replayed_since(uint64_t gen, const char *rel);
/* Whether in (or a folder above it) was renamed by a record still to be
 * sent: the server has another object at its path until then. */
struct inode;
int listing_moving(struct db_txn *t, const struct inode *in);

#endif
