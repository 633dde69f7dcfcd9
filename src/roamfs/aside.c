/*
 * aside: see aside.h.  A set-aside record sits in DB_ASIDE under its
 * journal sequence number, the id roamctl shows; an upload's inode keeps
 * I_ASIDE, so that no listing replaces what the user saved.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roam/log.h"
#include "aside.h"
#include "journal.h"
#include "listing.h"
#include "meta.h"
#include "notify.h"
#include "replay.h"
#include "roamfs.h"

/* Take entry id out of DB_ASIDE, in t: 0, -ENOENT or -errno. */
static int
take(struct db_txn *t, uint64_t id, struct jrec *r)
{
	uint8_t k[8];
	MDB_val v;
	int e;

	be_put_u64(k, id);
	if ((e = db_get(t, DB_ASIDE, k, 8, &v)) < 0)
		return e;
	if ((e = jrec_decode(v.mv_data, v.mv_size, r)) < 0)
		return e;
	r->seq = id;
	if ((e = db_del(t, DB_ASIDE, k, 8)) < 0)
		jrec_free(r);
	return e;
}

/* Finish t; on success the replayer looks at the journal again. */
static int
finish(struct roamfs *fs, struct db_txn *t, struct jrec *r, char **path, int e)
{
	if (e < 0)
		db_fail(t, e);
	if ((e = db_commit(t)) == 0) {
		*path = r->path;
		r->path = NULL;
		replay_wake(fs);
	}
	jrec_free(r);
	return e;
}

int
aside_retry(struct roamfs *fs, uint64_t id, char **path)
{
	struct db_txn t;
	struct inode in;
	struct jrec r;
	int e;

	*path = NULL;
	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	if ((e = take(&t, id, &r)) < 0) {
		db_abort(&t);
		return e;
	}
	if (r.type == J_STORE) {
		/* The file as it is now, at its name now; gone since:
		 * nothing is left to send. */
		if (meta_inode_get(&t, r.ino, &in) == 0) {
			in.flags &= ~I_ASIDE;
			if (in.nlink > 0)
				journal_store(&t, &in);
			meta_inode_put(&t, &in);
			inode_free(&in);
		}
	} else {
		r.err = 0;
		journal_append(&t, &r);
	}
	e = finish(fs, &t, &r, path, t.ret);
	if (e == 0)
		log_notice("a change set aside (%s) is sent again on request (roamctl set-aside retry)",
		    *path);
	return e;
}

int
aside_discard(struct roamfs *fs, uint64_t id, char **path)
{
	struct db_txn t;
	struct inode in;
	struct jrec r;
	uint64_t dir;
	const char *name;
	int e, renew = 0;

	*path = NULL;
	if ((e = db_begin(fs->db, &t, 1)) < 0)
		return e;
	if ((e = take(&t, id, &r)) < 0) {
		db_abort(&t);
		return e;
	}
	if (r.type == J_STORE && meta_inode_get(&t, r.ino, &in) == 0) {
		if (nodes_busy(fs->nodes, r.ino)) {
			inode_free(&in);
			db_abort(&t);
			jrec_free(&r);
			return -EBUSY;
		}
		in.flags &= ~I_ASIDE;
		if (in.nlink > 0 && journal_pending_ino(&t, in.ino) == 0) {
			if ((in.flags & I_REMOTE) && in.base.valid && S_ISREG(in.base.mode)) {
				/* Back to the server's version: fetched at the
				 * next open, which asks the server first. */
				in.size = in.base.size;
				in.mtime_s = in.ctime_s = in.base.mtime;
				in.mtime_ns = in.ctime_ns = 0;
				if (in.flags & I_CACHED) {
					in.flags &= ~I_CACHED;
					cache_file_unlink(fs->cache, in.ino);
				}
				renew = 1;
			} else {
				/* Never on the server: its directory's next
				 * listing, which does not have it, drops it. */
				in.flags |= I_REMOTE;
			}
		}
		meta_inode_put(&t, &in);
		inode_free(&in);
	}
	/* The server's side of it shows at the next listing (of both
	 * folders, for a rename). */
	if (listing_expire_parent(fs, &t, r.path, &dir) == 0) {
		name = strrchr(r.path, '/');
		notify_entry(fs, dir, name ? name + 1 : r.path);
	}
	if (r.type == J_RENAME && r.path2 && listing_expire_parent(fs, &t, r.path2, &dir) == 0) {
		name = strrchr(r.path2, '/');
		notify_entry(fs, dir, name ? name + 1 : r.path2);
	}
	if (renew)
		notify_renew(fs, &t, r.ino);
	e = finish(fs, &t, &r, path, t.ret);
	if (e == 0)
		log_notice("a change set aside (%s) was dropped on request (roamctl set-aside "
		    "discard): the server's version stands", *path);
	return e;
}
