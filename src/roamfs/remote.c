/*
 * remote: a shared SFTP connection with reconnection and backoff.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "roam/log.h"
#include "remote.h"

#define BACKOFF_MIN	1
#define BACKOFF_MAX	30
#define MAX_PEERS	3

struct remote {
	pthread_mutex_t lock;		/* held by the user of conn */
	pthread_mutex_t state;		/* protects the fields below */
	const struct sftp_opts *opts;
	const char *name;
	struct sftp *conn;		/* under lock */
	char *root;
	time_t retry_at;		/* offline until then */
	int backoff;
	int offline_logged;
	int up;				/* conn serves requests (under state) */
	/* Under state, for remote_status(): */
	int disabled;			/* roamctl offline: no network use */
	time_t down_since;		/* not up since then; 0: up or never tried */
	time_t last_attempt;		/* last connection attempt */
	uint64_t attempts;		/* how many were made */
	int last_err;			/* its result */
	char *cause;			/* why it failed (malloc'd) or NULL */
	struct remote *peers[MAX_PEERS];	/* told when this one is back */
	int npeers;
};

int
remote_new(const struct sftp_opts *opts, const char *name, struct remote **out)
{
	struct remote *r = calloc(1, sizeof *r);

	if (r == NULL)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->state, NULL);
	r->opts = opts;
	r->name = name;
	r->backoff = BACKOFF_MIN;
	*out = r;
	return 0;
}

void
remote_free(struct remote *r)
{
	if (r == NULL)
		return;
	if (r->conn)
		sftp_close(r->conn);
	free(r->root);
	free(r->cause);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->state);
	free(r);
}

int
remote_set_root(struct remote *r, const char *root)
{
	char *c = strdup(root);

	if (c == NULL)
		return -ENOMEM;
	free(r->root);
	r->root = c;
	return 0;
}

int
remote_is_transport_error(int err)
{
	switch (-err) {
	case ENOTCONN: case ECONNRESET: case ECONNREFUSED: case ECONNABORTED:
	case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN:
	case EHOSTDOWN: case EPIPE: case ESHUTDOWN:
		return 1;
	default:
		return 0;
	}
}

void
remote_add_peer(struct remote *r, struct remote *peer)
{
	if (r->npeers < MAX_PEERS && peer != r)
		r->peers[r->npeers++] = peer;
}

/*
 * The server answers again: a peer waiting out its backoff tries at its
 * next use instead of failing for up to BACKOFF_MAX seconds more.  Only
 * the peer's state lock is taken, never while holding ours.
 */
static void
remote_tell_peers(struct remote *r)
{
	int i;

	for (i = 0; i < r->npeers; i++) {
		struct remote *p = r->peers[i];

		pthread_mutex_lock(&p->state);
		if (p->retry_at) {
			p->retry_at = 0;
			p->backoff = BACKOFF_MIN;
		}
		pthread_mutex_unlock(&p->state);
	}
}

/* Count a connection attempt for the backoff; called with r->lock held. */
static void
remote_attempted(struct remote *r, int err, time_t now, const char *cause)
{
	int back;

	pthread_mutex_lock(&r->state);
	back = err == 0 && r->last_err < 0;
	r->last_attempt = now;
	r->last_err = err;
	r->attempts++;
	if (err < 0) {
		free(r->cause);
		r->cause = strdup(cause ? cause : strerror(-err));
		if (r->down_since == 0)
			r->down_since = now;
	} else {
		r->down_since = 0;
	}
	if (err == 0) {
		r->backoff = BACKOFF_MIN;
		r->retry_at = 0;
		if (r->offline_logged)
			log_notice("%s: connected to %s again", r->name, r->opts->host);
		r->offline_logged = 0;
	} else {
		r->retry_at = now + r->backoff;
		r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
	}
	pthread_mutex_unlock(&r->state);
	if (back)
		remote_tell_peers(r);
}

/* Whether conn serves requests; called with r->lock held. */
static void
remote_set_up(struct remote *r, int up)
{
	pthread_mutex_lock(&r->state);
	r->up = up;
	if (!up && r->down_since == 0)
		r->down_since = time(NULL);
	pthread_mutex_unlock(&r->state);
}

/* Connect (or finish a connection left at its login); called with r->lock held. */
static int
remote_connect_locked(struct remote *r, char **cause)
{
	struct sftp *s;
	time_t now = time(NULL);
	int err;

	if (r->conn) {
		if ((err = sftp_start(r->conn, r->opts->host, cause)) < 0) {
			sftp_close(r->conn);
			r->conn = NULL;
		}
	} else if ((err = sftp_connect(r->opts, &s, cause)) == 0)
		r->conn = s;
	remote_attempted(r, err, now, *cause);
	remote_set_up(r, err == 0);
	return err;
}

/*
 * Whether roamctl offline asked for no network use; called with r->lock
 * held, it closes the connection that was open.
 */
static int
remote_disabled_locked(struct remote *r)
{
	int off;

	pthread_mutex_lock(&r->state);
	off = r->disabled;
	pthread_mutex_unlock(&r->state);
	if (off && r->conn) {
		log_notice("%s: disconnected from %s on request (roamctl offline)", r->name,
		    r->opts->host);
		sftp_close(r->conn);
		r->conn = NULL;
		remote_set_up(r, 0);
	}
	return off;
}

/* Whether the connection is up and serves requests; called with r->lock held. */
static int
remote_ready(const struct remote *r)
{
	return r->conn && sftp_started(r->conn);
}

int
remote_connect(struct remote *r, char **cause)
{
	int err = 0;

	*cause = NULL;
	pthread_mutex_lock(&r->lock);
	if (!remote_ready(r))
		err = remote_connect_locked(r, cause);
	pthread_mutex_unlock(&r->lock);
	return err;
}

int
remote_login(struct remote *r, char **cause)
{
	struct sftp *s;
	int err = 0;

	*cause = NULL;
	pthread_mutex_lock(&r->lock);
	if (r->conn == NULL) {
		if ((err = sftp_login(r->opts, &s, cause)) == 0)
			r->conn = s;
		remote_attempted(r, err, time(NULL), *cause);
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

int
remote_acquire(struct remote *r, struct sftp **s)
{
	char *cause = NULL;
	int err, offline;

	pthread_mutex_lock(&r->lock);
	if (remote_disabled_locked(r)) {
		pthread_mutex_unlock(&r->lock);
		return -EHOSTUNREACH;
	}
	if (remote_ready(r)) {
		*s = r->conn;
		return 0;
	}
	pthread_mutex_lock(&r->state);
	offline = r->conn == NULL && r->retry_at && time(NULL) < r->retry_at;
	pthread_mutex_unlock(&r->state);
	if (offline) {
		pthread_mutex_unlock(&r->lock);
		return -EHOSTUNREACH;
	}
	if ((err = remote_connect_locked(r, &cause)) < 0) {
		if (!r->offline_logged)
			log_warn("%s: server unreachable, working from the cache: %s",
			    r->name, cause ? cause : strerror(-err));
		r->offline_logged = 1;
		free(cause);
		pthread_mutex_unlock(&r->lock);
		return remote_is_transport_error(err) ? -EHOSTUNREACH : err;
	}
	*s = r->conn;
	return 0;
}

void
remote_keepalive(struct remote *r)
{
	char *cause = NULL;
	int due;

	if (pthread_mutex_trylock(&r->lock) != 0)
		return;
	if (remote_disabled_locked(r)) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	pthread_mutex_lock(&r->state);
	due = (r->conn && !sftp_started(r->conn)) ||
	    (r->conn == NULL && (r->retry_at == 0 || time(NULL) >= r->retry_at));
	pthread_mutex_unlock(&r->state);
	if (due && remote_connect_locked(r, &cause) < 0 && !r->offline_logged) {
		log_warn("%s: server unreachable, working from the cache: %s", r->name,
		    cause ? cause : "cannot connect");
		r->offline_logged = 1;
	}
	free(cause);
	pthread_mutex_unlock(&r->lock);
}

int
remote_try_acquire(struct remote *r, struct sftp **s)
{
	if (pthread_mutex_trylock(&r->lock) != 0)
		return -EAGAIN;
	if (remote_disabled_locked(r) || !remote_ready(r)) {
		pthread_mutex_unlock(&r->lock);
		return -EAGAIN;
	}
	*s = r->conn;
	return 0;
}

void
remote_release(struct remote *r, int err)
{
	if (r->conn && err == -ENOTCONN) {
		log_warn("%s: connection to %s lost; reconnecting", r->name, r->opts->host);
		sftp_close(r->conn);
		r->conn = NULL;
		remote_set_up(r, 0);
	}
	pthread_mutex_unlock(&r->lock);
}

char *
remote_path(const struct remote *r, const char *rel)
{
	char *p;
	const char *root = r->root ? r->root : ".";
	size_t n = strlen(root);

	if (*rel == '\0')
		return strdup(root);
	if (asprintf(&p, "%s%s%s", root, n && root[n - 1] == '/' ? "" : "/", rel) < 0)
		return NULL;
	return p;
}

size_t
remote_path_len(const struct remote *r, size_t rel_len)
{
	const char *root = r->root ? r->root : ".";
	size_t n = strlen(root);

	if (rel_len == 0)
		return n;
	return n + (n && root[n - 1] == '/' ? 0 : 1) + rel_len;
}

int
remote_up(struct remote *r)
{
	int up;

	pthread_mutex_lock(&r->state);
	up = r->up;
	pthread_mutex_unlock(&r->state);
	return up;
}

const char *
remote_offline_reason(struct remote *r)
{
	int off;

	pthread_mutex_lock(&r->state);
	off = r->disabled;
	pthread_mutex_unlock(&r->state);
	return off ? "roamfs works offline on request (roamctl online ends it)" :
	    "the server is unreachable";
}

void
remote_kick(struct remote *r)
{
	pthread_mutex_lock(&r->state);
	r->retry_at = 0;
	pthread_mutex_unlock(&r->state);
}

void
remote_disable(struct remote *r, int off)
{
	pthread_mutex_lock(&r->state);
	r->disabled = off;
	if (!off) {
		r->retry_at = 0;
		r->backoff = BACKOFF_MIN;
	}
	pthread_mutex_unlock(&r->state);
	/* Close an idle connection now; a busy one closes at its next acquire. */
	if (off && pthread_mutex_trylock(&r->lock) == 0) {
		remote_disabled_locked(r);
		pthread_mutex_unlock(&r->lock);
	}
}

void
remote_status(struct remote *r, struct remote_status *st)
{
	pthread_mutex_lock(&r->state);
	st->up = r->up;
	st->disabled = r->disabled;
	st->down_since = r->down_since;
	st->last_attempt = r->last_attempt;
	st->attempts = r->attempts;
	st->last_err = r->last_err;
	st->retry_at = r->conn == NULL ? r->retry_at : 0;
	st->cause = r->cause ? strdup(r->cause) : NULL;
	pthread_mutex_unlock(&r->state);
}
