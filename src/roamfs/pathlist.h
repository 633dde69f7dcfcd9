/*
 * pathlist: the lists of paths roamfs keeps in the home itself, so that
 * they roam: the pin list (.config/roamfs/pins, written by roamctl pin)
 * and the working set (.config/roamfs/workingset, written by roamfs at
 * logout).  Both are text: one path per line, relative to the home, "#"
 * starts a comment line; a backslash escapes a newline ("\n"), a carriage
 * return ("\r") or itself ("\\"), so that any name can be listed (a path
 * that starts with "#" is written "./#...").  A path is kept normalised: no
 * leading "/" or "./", no empty, "." or ".." component, no trailing "/".
 * Lines that are not such a path are counted and skipped, never fatal.
 */
#ifndef ROAMFS_PATHLIST_H
#define ROAMFS_PATHLIST_H

#include <stddef.h>

#include "roam/buf.h"

#define PATHLIST_DIR		".config/roamfs"
#define PATHLIST_PINS		".config/roamfs/pins"
#define PATHLIST_WORKINGSET	".config/roamfs/workingset"
#define PATHLIST_MAX_BYTES	(4u << 20)	/* a larger file is read this far */
#define PATHLIST_MAX_PATHS	100000

struct pathlist {
	char **v;
	size_t n, cap;
	unsigned bad;		/* lines skipped */
	unsigned first_bad;	/* the first of them (1-based), 0: none */
};

/* Parse text (any bytes) into l (emptied first): 0 or -ENOMEM. */
int pathlist_parse(const char *text, size_t len, struct pathlist *l);
/* Read fd (from its current offset, at most PATHLIST_MAX_BYTES) and
 * parse it into l: 0, -ENOMEM or the read's -errno. */
int pathlist_read_fd(int fd, struct pathlist *l);
/* Normalise a path of len bytes: 0 and *out (malloc'd), or -EINVAL. */
int pathlist_norm(const char *p, size_t len, char **out);
/* Add a normalised copy of path: 1 added, 0 already there, -EINVAL, -ENOMEM. */
int pathlist_add(struct pathlist *l, const char *path);
/* Remove path (normalised first): 1 removed, 0 not there, -EINVAL. */
int pathlist_remove(struct pathlist *l, const char *path);
/* The entry path equals or lies under, or NULL. */
const char *pathlist_covers(const struct pathlist *l, const char *path);
/* Write l as a file: header (comment lines, may be NULL), then the paths. */
int pathlist_format(const struct pathlist *l, const char *header, struct buf *out);
void pathlist_free(struct pathlist *l);

#endif
