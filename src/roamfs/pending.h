/*
 * pending: the marker a workstation leaves in the server home while it
 * holds changes that have not reached the server.
 */
#ifndef ROAMFS_PENDING_H
#define ROAMFS_PENDING_H

#include <stddef.h>

#include "roamfs.h"

/* Names at the home's root that start so are markers: never listed, never replayed. */
#define PENDING_PREFIX ".roamfs-pending."
#define SESSION_PREFIX ".roamfs-session."

/*
 * Called by the replayer: write our marker when the journal holds records
 * and it is not there yet; remove it once the journal has been empty for a
 * few seconds, or at once when draining.  Uses the replayer's connection
 * when it is up; never waits for one.
 */
void pending_update(struct roamfs *fs, int draining);
/*
 * A listing of the root met the marker name (its attributes a) of another
 * workstation that holds unsent changes: add it to *list ("\nNAME\tSINCE\n
 * ...", allocated) and log it, once each per mount.  Our own marker is
 * left out.  0 or -ENOMEM.
 */
int pending_seen(struct roamfs *fs, char **list, const char *name, const struct sftp_attr *a);
/*
 * A listing of the root ended with the markers list (NULL: none): keep it
 * in DB_META "pending_elsewhere" for roamctl status, so that a workstation
 * whose changes have arrived since drops out of it.
 */
void pending_listed(struct roamfs *fs, const char *list);

/*
 * The session marker (an empty folder): made 20 seconds after the mount,
 * its mtime renewed every minute (the replayer calls this at each turn),
 * removed by session_end at the unmount.  Uses a live connection, never
 * waits for one.
 */
void session_update(struct roamfs *fs);
void session_end(struct roamfs *fs);
/* A listing of the root met another workstation's session marker: as
 * pending_seen, unless the marker is stale (that workstation stopped). */
int session_seen(struct roamfs *fs, char **list, const char *name, const struct sftp_attr *a);
/* As pending_listed, in DB_META "open_elsewhere". */
void session_listed(struct roamfs *fs, const char *list);

#endif
