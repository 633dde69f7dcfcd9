/*
 * own: the server versions this workstation's replay produced itself.
 *
 * The replay sends the journal in order, one record after another, so
 * what it left at a server path when a record ends is exactly what the
 * server holds there unless another workstation changed it since.  Each
 * record that puts an object at a path (an upload, mkdir, symlink, link,
 * rename, change of mode or times) notes the version it left there; each
 * that removes one forgets it.  A conflict check that finds at a path the
 * version noted there knows it is its own, whatever the record it checks
 * was based on: a record made while an earlier upload of the same name
 * was still on its way, or whose object is gone from the cache since,
 * carries no usable base of its own.
 *
 * The notes live in DB_META under "own/PATH" and are written in the same
 * transaction as the end of the record.  Once the journal is empty every
 * object in the cache carries the version the server has of it, and the
 * records made from then on carry it too: the notes are dropped then, so
 * that they never outgrow the changes on their way.  Paths longer than
 * OWN_PATH_MAX are not noted (LMDB's key limit); their checks rely on the
 * records' bases alone.
 *
 * An upload whose connection died before its reply leaves the server
 * with the new version or the old one; both are noted until a later
 * record of the path tells which.
 */
#ifndef ROAMFS_OWN_H
#define ROAMFS_OWN_H

#include "meta.h"
#include "roam/db.h"

#define OWN_PATH_MAX	480

/* Note that the replay left version b at rel (b not valid: nothing known). */
void own_put(struct db_txn *t, const char *rel, const struct base *b);
/*
 * An upload of version b to rel was cut off (the connection died): the
 * server may hold it or the version noted before.  Both are noted.
 */
void own_maybe(struct db_txn *t, const char *rel, const struct base *b);
/* The versions noted at rel, the last one first, at most max: how many. */
int own_list(struct db_txn *t, const char *rel, struct base *b, int max);
/* The version the replay left at rel last: 0, or -ENOENT when none is noted. */
int own_get(struct db_txn *t, const char *rel, struct base *b);
/* The replay removed what was at rel, and below it. */
void own_del(struct db_txn *t, const char *rel);
/* The replay renamed from over to: the notes of from and below it move. */
void own_move(struct db_txn *t, const char *from, const char *to);
/* The journal is empty: forget every note. */
void own_clear(struct db_txn *t);
#endif
