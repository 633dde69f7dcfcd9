/*
 * recover: roamctl recover LOCKED, for the owner of an encrypted cache
 * whose password changed while it held changes not on the server.
 * roamfs kept its encrypted parts and key in CACHE/locked-DATE-TIME
 * (cache.h) and made a new cache.  With the old password and the new one
 * (two lines on standard input), recover opens the kept key with the old
 * one, wraps it with the new one, and puts the kept cache back in place
 * of the new cache, which must hold nothing that is not on the server
 * (its state clean).  The next login replays the kept changes, as after
 * an offline session: an edit the server also changed since becomes a
 * conflict copy.  No roamfs may run on the cache meanwhile (its lock).
 */
#ifndef ROAMCTL_RECOVER_H
#define ROAMCTL_RECOVER_H

/* roamctl's exit status: 0 done, 1 refused or failed (said why), 2 bad use. */
int recover_run(const char *locked);

#endif
