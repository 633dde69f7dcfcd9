/*
 * walk: reach objects inside a share without ever following a symbolic link.
 *
 * Every open is an O_PATH|O_NOFOLLOW openat() relative to a descriptor we
 * already trust, one component at a time, starting from the share root.  A
 * symbolic link anywhere on the way gives -ELOOP; ".." is refused.
 */
#ifndef ACLWATCH_WALK_H
#define ACLWATCH_WALK_H

#include <stddef.h>
#include <sys/stat.h>

#define WALK_PATH_MAX 16384

/*
 * Open the directory at the absolute path abs (O_PATH), refusing symbolic
 * links in any component.  Returns the descriptor or -errno.
 */
int walk_open_abs(const char *abs);

/*
 * Open rel (components separated by '/', "" for rootfd itself) below rootfd
 * with O_PATH|O_NOFOLLOW at each step; every component but the last must be
 * a directory.  Fills *st of the result.  Returns the descriptor or -errno.
 */
int walk_open(int rootfd, const char *rel, struct stat *st);

/*
 * Called by walk_tree() for each object: fd is O_PATH|O_NOFOLLOW, st its
 * fstat, rel its path below the walk's root.  Return 0 to go on (and to
 * descend into a directory), 1 to not descend, or -errno to stop.
 */
typedef int (*walk_fn)(int fd, const struct stat *st, const char *rel, void *arg);

/*
 * Call fn on the directory fd (path rel, which must fit WALK_PATH_MAX) and
 * then, depth first, on everything below it.  A directory is listed only
 * after fn has seen it (so a watch added by fn misses nothing).  Objects
 * that vanish while we walk are ignored.  Returns 0 or fn's -errno.
 */
int walk_tree(int fd, const struct stat *st, const char *rel, walk_fn fn, void *arg);

/* "/proc/self/fd/N" for fd, in buf (at least 32 bytes). */
const char *walk_fd_path(int fd, char *buf, size_t bufsz);

#endif
