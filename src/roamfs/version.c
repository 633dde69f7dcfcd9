/*
 * version: the server's version of an object, as the cache records it.
 *
 * Every inode and every journal record carries the base version (size,
 * mtime, mode) of what it was made from.  Listings, downloads and the
 * replay all read it from the attributes the server gives, in one way.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "roamfs.h"
#include "version.h"

uint32_t
attr_mode(const struct sftp_attr *a)
{
	uint32_t m = (a->flags & SFTP_ATTR_PERMISSIONS) ? a->mode : S_IFREG | 0644;

	if ((m & S_IFMT) == 0)
		m |= S_IFREG;
	return m;
}

void
base_from_attr(struct base *b, const struct sftp_attr *a)
{
	b->size = a->size;
	b->mtime = a->mtime;
	b->mode = attr_mode(a);
	b->valid = 1;
	b->racy = 0;
	b->refetch = 0;
}

int
version_is_racy(int64_t mtime)
{
	return (int64_t)time(NULL) <= mtime + VERSION_RACY_SLACK;
}

uint64_t
version_hash(int fd, uint64_t size)
{
	/* FNV-1a over 8-byte words (the tail zero-padded), then mixed: no
	 * defence against crafted input is needed, only against chance. */
	uint64_t h = 0xcbf29ce484222325ULL ^ size, w;
	unsigned char buf[65536];
	uint64_t off = 0;
	ssize_t n;
	size_t i;

	while (off < size) {
		n = pread(fd, buf, size - off < sizeof buf ? (size_t)(size - off) : sizeof buf,
		    (off_t)off);
		if (n <= 0)
			return 0;
		for (i = 0; i < (size_t)n; i += 8) {
			w = 0;
			memcpy(&w, buf + i, (size_t)n - i < 8 ? (size_t)n - i : 8);
			h = (h ^ w) * 0x100000001b3ULL;
			h ^= h >> 29;
		}
		off += (uint64_t)n;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}


int
version_local_changes(struct roamfs *fs, struct db_txn *t, const struct inode *in)
{
	struct node *n;
	int dirty;

	if (in->flags & (I_LOCALNEW | I_EXCLUDED | I_ASIDE))
		return 1;
	nodes_lock(fs->nodes);
	n = nodes_find(fs->nodes, in->ino);
	dirty = n && (NODE_HELD(n) || (n->nopen && S_ISREG(in->mode) && in->pending_store));
	nodes_unlock(fs->nodes);
	return dirty || journal_pending_ino(t, in->ino) != 0;
}

int
version_take(struct roamfs *fs, struct inode *in, const struct sftp_attr *a)
{
	struct base nb;
	int renew;

	base_from_attr(&nb, a);
	if (in->base.valid && in->base.size == nb.size && in->base.mtime == nb.mtime &&
	    in->base.mode == nb.mode)
		return 0;
	renew = S_ISREG(in->mode) && (in->size != nb.size || in->mtime_s != nb.mtime);
	in->mode = nb.mode;
	in->size = nb.size;
	in->mtime_s = nb.mtime;
	in->mtime_ns = 0;
	in->flags |= I_REMOTE;
	if (S_ISREG(in->mode) && (in->flags & I_CACHED) && in->base.valid &&
	    (in->base.size != nb.size || in->base.mtime != nb.mtime)) {
		in->flags &= ~I_CACHED;
		cache_file_unlink(fs->cache, in->ino);
	}
	if (S_ISLNK(in->mode) && in->base.valid && in->base.mtime != nb.mtime) {
		free(in->target);
		in->target = NULL;
	}
	in->base = nb;
	return renew ? 2 : 1;
}
