/*
 * version: the server's version of an object, as the cache records it.
 *
 * Every inode and every journal record carries the base version (size,
 * mtime, mode) of what it was made from.  Listings, downloads and the
 * replay all read it from the attributes the server gives, in one way.
 */
#include "config.h"

#include <sys/stat.h>

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
}

