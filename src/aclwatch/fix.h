/*
 * fix: compare one object's ACLs with what its share wants, and repair them.
 *
 * The object is given as an O_PATH|O_NOFOLLOW descriptor.  The access ACL
 * is written with acl_set_fd() on a descriptor reopened through
 * /proc/self/fd (the same inode, checked); the default ACL of a directory
 * is written through /proc/self/fd/N of the verified O_PATH descriptor, a
 * magic link the kernel resolves to that very directory, never by a name.
 */
#ifndef ACLWATCH_FIX_H
#define ACLWATCH_FIX_H

#include <stddef.h>
#include <sys/stat.h>

#include "conf.h"

enum fix_mode { FIX_CHECK, FIX_REPAIR };

enum fix_status {
	FIX_RIGHT = 0,		/* the ACLs are as configured */
	FIX_WRONG = 1,		/* they differ (and were repaired in FIX_REPAIR) */
	FIX_SKIP_TYPE = 2,	/* not a regular file or directory: ignored */
	FIX_SKIP_LINKS = 3,	/* a regular file with several hard links: untrusted */
};

/*
 * Check (and in FIX_REPAIR mode repair) the object fd with stat st in
 * share sh.  words (size wsz) receives what is wrong in plain words, empty
 * when right; words may be NULL (describing costs group lookups).  Returns an enum fix_status or -errno.
 */
int fix_object(const struct conf_share *sh, int fd, const struct stat *st,
    int mode, char *words, size_t wsz);

#endif
