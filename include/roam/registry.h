/*
 * registry: how roamctl finds every running roamfs of its user, wherever
 * its cache is (-o cache=DIR outside the cache root included).
 *
 * Each roamfs, once mounted, leaves a symbolic link named after its pid
 * to its cache directory in the registry of its user:
 *   root:        /run/roamfs/PID
 *   other users: $XDG_RUNTIME_DIR/roamfs/PID, else /run/user/UID/roamfs/PID
 *                (the runtime directory must belong to the user and be
 *                closed to others; without one there is no registry)
 * and removes it when it exits.  A link whose process is gone is stale:
 * it is skipped, and removed by whoever may.  The cache directory holds
 * the mount point (CACHE/mountpoint) and the control socket.
 */
#ifndef ROAM_REGISTRY_H
#define ROAM_REGISTRY_H

#include <sys/types.h>

/*
 * Register the running process's cache directory (absolute).  On success
 * *entry gets (malloc'd) the link to give registry_remove.  -ENOENT: no
 * registry directory for this user; other -errno.
 */
int registry_add(const char *cache, char **entry);
/* Remove the link registry_add made, and free entry (NULL: nothing). */
void registry_remove(char *entry);
/*
 * Call fn with the cache directory of every running roamfs in the
 * calling user's registry; root also walks every user's.  A link counts
 * only when its cache directory belongs to the owner of the link.
 */
void registry_scan(void (*fn)(void *arg, const char *cache), void *arg);

#endif
