/*
 * aside: what becomes of a change the server refused for good (set aside,
 * listed by roamctl set-aside), on the admin's or the user's word.
 */
#ifndef ROAMFS_ASIDE_H
#define ROAMFS_ASIDE_H

#include <stdint.h>

struct roamfs;

/*
 * Send it again (the cause fixed on the server): an upload goes as the
 * file is now, other changes as they were.  0, -ENOENT (no such entry),
 * or -errno.  *path (allocated) names what it changed.
 */
int aside_retry(struct roamfs *fs, uint64_t id, char **path);
/*
 * Drop it: the server's version comes back (a file never on the server
 * leaves the home at its directory's next listing).  -EBUSY while the
 * file is open.  Returns and *path as aside_retry.
 */
int aside_discard(struct roamfs *fs, uint64_t id, char **path);

#endif
