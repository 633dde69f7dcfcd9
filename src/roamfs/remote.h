/*
 * remote: one SFTP connection to the user's server home, shared by the
 * threads that need it one at a time, reconnected on demand with backoff.
 *
 * A failure to connect makes the remote "offline" until the backoff
 * delay has passed; during that time remote_acquire() fails at once with
 * -EHOSTUNREACH instead of waiting, so that no application ever hangs on
 * the network.  roamfs keeps two: one for requests made on behalf of
 * applications (listings, downloads) and one for the replayer.
 */
#ifndef ROAMFS_REMOTE_H
#define ROAMFS_REMOTE_H

#include <stdint.h>
#include <time.h>

#include "sftp/sftp.h"

struct remote;

/* opts and its strings must outlive the remote; root is the server path of the home. */
int remote_new(const struct sftp_opts *opts, const char *name, struct remote **out);
void remote_free(struct remote *r);
/* Set the server path of the home (absolute), once known. */
int remote_set_root(struct remote *r, const char *root);
/* Connect now; on failure *cause (malloc'd) tells the user why. */
int remote_connect(struct remote *r, char **cause);
/*
 * Connect and authenticate now, leaving the SFTP channel to the first
 * remote_acquire() or remote_keepalive(), possibly in a child process after
 * fork(): a login with a warm cache does not wait for it.  Same errors and
 * *cause as remote_connect().
 */
int remote_login(struct remote *r, char **cause);
/*
 * Take the connection for exclusive use, connecting when needed.
 * Returns 0 and sets *s, or -EHOSTUNREACH while offline.  Every successful
 * acquire is paired with remote_release() and the result of the work done.
 */
int remote_acquire(struct remote *r, struct sftp **s);
/*
 * Take the connection only if it is up and nobody is using it: 0 and *s,
 * or -EAGAIN.  Never connects, never waits: for optional work such as
 * revalidating a directory the cache can already serve.
 */
int remote_try_acquire(struct remote *r, struct sftp **s);
/*
 * Connect in the background when the connection is down and the backoff
 * allows, or finish one left at its login; does nothing when someone holds
 * the connection.  For a thread that may wait on the network (the
 * replayer), never for applications.
 */
void remote_keepalive(struct remote *r);
/* Give the connection back; a transport error (-ENOTCONN...) drops it. */
void remote_release(struct remote *r, int err);
/* 1 if err means the connection, not the request, failed. */
int remote_is_transport_error(int err);
/* Server path for a path relative to the home ("" is the home itself). */
char *remote_path(const struct remote *r, const char *rel);
/* The length of remote_path(r, rel) for a rel of rel_len bytes, without making it. */
size_t remote_path_len(const struct remote *r, size_t rel_len);
/* 1 if the connection is open and was not found dead since (never waits). */
int remote_up(struct remote *r);
/* Why r serves nothing, for a message after "not in the cache and ". */
const char *remote_offline_reason(struct remote *r);
/*
 * When r connects again after a failed attempt, peer forgets its backoff
 * (the other connections of the same mount: the network is back for all).
 * Set up before any thread uses them; at most 3 peers.
 */
void remote_add_peer(struct remote *r, struct remote *peer);
/* Forget the backoff so that the next acquire tries at once. */
void remote_kick(struct remote *r);
/*
 * roamctl offline (off 1) and online (0): while off, no connection is
 * made and the open one is closed (at once when idle, else when its user
 * gives it back); every acquire fails with -EHOSTUNREACH as offline.
 */
void remote_disable(struct remote *r, int off);

/* What roamctl status shows of a connection; never waits on the network. */
struct remote_status {
	int up;			/* open and serving requests */
	int disabled;		/* remote_disable */
	time_t down_since;	/* not up since; 0: up, or never tried */
	time_t last_attempt;	/* last connection attempt, 0: none */
	uint64_t attempts;	/* connection attempts made */
	int last_err;		/* its result (0 or -errno) */
	time_t retry_at;	/* closed: next attempt not before, 0: at once */
	char *cause;		/* why the last attempt failed (malloc'd) or NULL */
};
void remote_status(struct remote *r, struct remote_status *st);

#endif
