/*
 * control: the thread that answers roamctl on CACHE/control.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "roam/registry.h"
#include "control.h"
#include "aside.h"
#include "evict.h"
#include "prefetch.h"
#include "flush.h"
#include "replay.h"
#include "roamfs.h"
#include "summary.h"

/* How long one client may take to send its request or read the reply. */
#define CLIENT_MS	2000

struct control {
	pthread_t thread;
	int started;
	int lfd;		/* the listening socket */
	int wake[2];		/* control_stop writes here */
	int dirfd;		/* the cache directory (O_PATH), for unlinkat */
	struct stat bound;	/* the socket file we made, to remove only that */
	char *entry;		/* our link in the registry (roam/registry.h), or NULL */
	time_t register_at;	/* without one: when to try again */
};

/* Try again this often to register, while the user has no runtime directory yet. */
#define REGISTER_RETRY	10

/*
 * Leave our cache in the registry, for roamctl.  pam_mount may start
 * roamfs before the session's runtime directory exists (pam_systemd comes
 * later in the stack): then again every REGISTER_RETRY seconds.
 */
static void
register_cache(struct roamfs *fs, struct control *c)
{
	int e;

	if (c->entry || time(NULL) < c->register_at)
		return;
	if ((e = registry_add(cache_dir(fs->cache), &c->entry)) < 0) {
		if (c->register_at == 0)
			log_debug("roamctl finds this roamfs by its cache directory only for now "
			    "(cannot register it in the runtime directory: %s)", strerror(-e));
		c->register_at = time(NULL) + REGISTER_RETRY;
	}
}

/* The connection's state as roamctl names it. */
static void
put_connection(struct roamfs *fs, struct ctl_record *c, int *e)
{
	struct remote_status fg, bg;
	struct replay_state rs;
	const char *state;
	time_t since = 0;

	remote_status(fs->fg, &fg);
	remote_status(fs->bg, &bg);
	replay_state(fs, &rs);
	/* The replayer's view first: it is the one that must reach the server. */
	if (bg.disabled) {
		state = "offline-by-request";
		since = bg.down_since;
	} else if (rs.offline_since) {
		state = "offline";
		since = rs.offline_since;
	} else if (fg.up || bg.up) {
		state = "connected";
	} else if (bg.last_err < 0 || fg.last_err < 0) {
		state = "offline";
		since = bg.down_since ? bg.down_since : fg.down_since;
	} else {
		state = "idle";	/* nothing to send, no connection open */
	}
	*e |= ctl_put_str(c, "connection", state);
	*e |= ctl_put_i64(c, "offline_since", since);
	*e |= ctl_put_str(c, "connection_error", bg.last_err < 0 ? bg.cause :
	    fg.last_err < 0 ? fg.cause : "");
	*e |= ctl_put_i64(c, "last_attempt", bg.last_attempt > fg.last_attempt ?
	    bg.last_attempt : fg.last_attempt);
	*e |= ctl_put_i64(c, "replay_last_attempt", bg.last_attempt);
	*e |= ctl_put_u64(c, "replay_attempts", bg.attempts);
	*e |= ctl_put_u64(c, "replay_last_failed", bg.last_err < 0);
	*e |= ctl_put_i64(c, "replay_offline_since", rs.offline_since);
	*e |= ctl_put_str(c, "state", rs.draining ? "unmounted-flushing" : "mounted");
	free(fg.cause);
	free(bg.cause);
}

/* status (usage: with the cache's disk usage, which takes a walk). */
static int
answer_status(struct roamfs *fs, struct ctl_reply *r, int usage)
{
	struct replay_progress *p = &fs->progress;
	struct ctl_record *c = ctl_reply_record(r);
	struct summary s = { 0 };
	struct passwd pw, *pwp = NULL;
	struct db_txn t;
	char pwbuf[1024], *last;
	uint64_t sent, files, start;
	time_t last_at;
	int e = 0;

	if (c == NULL)
		return -ENOMEM;
	if ((e = db_begin(fs->db, &t, 0)) == 0) {
		e = summary_read(&t, &s);
		db_abort(&t);
	}
	if (e < 0) {
		summary_free(&s);
		return ctl_reply_fail(r, -e, "cannot read the cache database in %s (%s); see the "
		    "log file there", cache_dir(fs->cache), strerror(-e));
	}
	getpwuid_r(fs->uid, &pw, pwbuf, sizeof pwbuf, &pwp);
	e |= ctl_put_str(c, "version", PACKAGE_VERSION);
	e |= ctl_put_u64(c, "pid", (uint64_t)getpid());
	e |= ctl_put_u64(c, "uid", fs->uid);
	e |= ctl_put_str(c, "user", pwp ? pwp->pw_name : "");
	e |= ctl_put_str(c, "server", fs->source);
	e |= ctl_put_str(c, "mountpoint", fs->mountpoint);
	e |= ctl_put_str(c, "cache", cache_dir(fs->cache));
	e |= ctl_put_str(c, "workstation", fs->workstation);
	e |= ctl_put_i64(c, "mounted_at", fs->mounted_at);
	put_connection(fs, c, &e);
	e |= summary_put(&s, c);
	summary_free(&s);
	/* Read the step before the meter: a step that starts between the two
	 * shows nothing done yet, never more than its size. */
	files = __atomic_load_n(&p->step_files, __ATOMIC_ACQUIRE);
	start = __atomic_load_n(&p->step_start, __ATOMIC_RELAXED);
	sent = __atomic_load_n(&p->sent_bytes, __ATOMIC_RELAXED);
	e |= ctl_put_u64(c, "sent_bytes", sent);
	e |= ctl_put_u64(c, "sent_changes", __atomic_load_n(&p->sent_changes, __ATOMIC_RELAXED));
	e |= ctl_put_u64(c, "uploading_files", files);
	e |= ctl_put_u64(c, "uploading_bytes", files ? __atomic_load_n(&p->step_bytes,
	    __ATOMIC_RELAXED) : 0);
	e |= ctl_put_u64(c, "uploading_done", files && sent > start ? sent - start : 0);
	if (usage)
		e |= ctl_put_u64(c, "cache_bytes", summary_disk_usage(cache_dir(fs->cache)));
	e |= evict_status(fs, c);
	e |= prefetch_status(fs, c);
	last = log_last(&last_at);
	e |= ctl_put_str(c, "last_error", last);
	e |= ctl_put_i64(c, "last_error_at", last_at);
	free(last);
	return e ? -ENOMEM : 0;
}

/* A table listed from a read transaction. */
static int
answer_list(struct roamfs *fs, struct ctl_reply *r, int (*fn)(struct db_txn *, struct ctl_reply *))
{
	struct db_txn t;
	int e;

	if ((e = db_begin(fs->db, &t, 0)) < 0)
		return ctl_reply_fail(r, -e, "cannot read the cache database in %s: %s",
		    cache_dir(fs->cache), strerror(-e));
	e = fn(&t, r);
	db_abort(&t);
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		return ctl_reply_fail(r, -e, "cannot read the cache database in %s: %s",
		    cache_dir(fs->cache), strerror(-e));
	return 0;
}

/*
 * evict PATH...: paths relative to the home's root.  One record each:
 * what was dropped, what had to stay, or "error" when the path is not there.
 */
static int
answer_evict(struct roamfs *fs, const struct ctl_request *q, struct ctl_reply *r)
{
	struct evict_count n;
	struct ctl_record *c;
	struct db_txn t;
	uint64_t ino;
	size_t i;
	int e, bad;

	for (i = 0; i < q->argc; i++) {
		if ((c = ctl_reply_record(r)) == NULL || ctl_put_str(c, "path", q->argv[i]) < 0)
			return -ENOMEM;
		if ((e = db_begin(fs->db, &t, 0)) == 0) {
			e = meta_lookup(&t, q->argv[i], &ino);
			db_abort(&t);
		}
		if (e == 0)
			e = evict_tree(fs, ino, &n);
		if (e < 0) {
			bad = ctl_put_str(c, "error", e == -ENOENT ? "no such file in the home" :
			    strerror(-e));
		} else {
			bad = ctl_put_u64(c, "files", n.files) | ctl_put_u64(c, "bytes", n.bytes) |
			    ctl_put_u64(c, "kept_files", n.kept_files) |
			    ctl_put_u64(c, "kept_bytes", n.kept_bytes);
		}
		if (bad)
			return -ENOMEM;
	}
	return 0;
}

/* set-aside-retry ID, set-aside-discard ID: the record's path in "path". */
static int
answer_aside(struct roamfs *fs, const struct ctl_request *q, struct ctl_reply *r, int discard)
{
	struct ctl_record *c;
	unsigned long long id;
	char *path = NULL, *end;
	int e;

	errno = 0;
	if (q->argc != 1 || (id = strtoull(q->argv[0], &end, 10), errno) || end == q->argv[0] ||
	    *end)
		return ctl_reply_fail(r, EINVAL, "%s takes the number of one entry of roamctl "
		    "set-aside", q->cmd);
	e = discard ? aside_discard(fs, id, &path) : aside_retry(fs, id, &path);
	if (e == -ENOENT)
		return ctl_reply_fail(r, ENOENT, "no change set aside has the number %llu: roamctl "
		    "set-aside lists them", id);
	if (e == -EBUSY)
		return ctl_reply_fail(r, EBUSY, "the file of change %llu is open: close it, then "
		    "try again", id);
	if (e < 0)
		return ctl_reply_fail(r, -e, "cannot change the cache database in %s: %s",
		    cache_dir(fs->cache), strerror(-e));
	if ((c = ctl_reply_record(r)) == NULL || ctl_put_u64(c, "id", id) < 0 ||
	    ctl_put_str(c, "path", path) < 0) {
		free(path);
		return -ENOMEM;
	}
	free(path);
	return 0;
}

int
control_answer(struct roamfs *fs, const struct ctl_request *q, struct ctl_reply *r)
{
	const char *cmd = q->cmd;

	if (strcmp(cmd, "status") == 0)
		return answer_status(fs, r, 1);
	if (strcmp(cmd, "progress") == 0)
		return answer_status(fs, r, 0);
	if (strcmp(cmd, "flush") == 0) {
		/* Files still open for writing: their size goes in the journal
		 * now, not at the next tick, so that they are sent at once. */
		flush_all(fs);
		replay_flush(fs);
		return answer_status(fs, r, 0);
	}
	if (strcmp(cmd, "offline") == 0 || strcmp(cmd, "online") == 0) {
		int off = cmd[1] == 'f';

		log_notice("%s on request (roamctl %s)", off ?
		    "working offline: no network use until roamctl online" :
		    "using the network again", cmd);
		/* Every connection: applications' (listings, downloads), the
		 * replay's (with the markers and the working set), the
		 * prefetcher's (pins, working set, offline misses). */
		remote_disable(fs->fg, off);
		remote_disable(fs->bg, off);
		remote_disable(fs->pf, off);
		if (!off) {
			replay_flush(fs);
			prefetch_kick(fs);
		}
		return answer_status(fs, r, 0);
	}
	if (strcmp(cmd, "conflicts") == 0)
		return answer_list(fs, r, summary_conflicts);
	if (strcmp(cmd, "set-aside") == 0)
		return answer_list(fs, r, summary_set_aside);
	if (strcmp(cmd, "set-aside-retry") == 0 || strcmp(cmd, "set-aside-discard") == 0)
		return answer_aside(fs, q, r, strcmp(cmd, "set-aside-discard") == 0);
	if (strcmp(cmd, "evict") == 0)
		return answer_evict(fs, q, r);
	if (strcmp(cmd, "pins") == 0)
		return prefetch_pins_reply(fs, r);
	if (strcmp(cmd, "prefetch") == 0) {
		/* roamctl pin wrote the pin list: read it again. */
		prefetch_kick(fs);
		return answer_status(fs, r, 0);
	}
	return ctl_reply_fail(r, EOPNOTSUPP, "this roamfs (%s) does not know the command "
	    "\"%.64s\"; update roamfs or use a roamctl of its version", PACKAGE_VERSION, cmd);
}

/* Serve one client: read its request, answer, close. */
static void
serve(struct roamfs *fs, int fd)
{
	struct ctl_request q;
	struct ctl_reply r;
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct buf b;
	int e;

	memset(&r, 0, sizeof r);
	buf_init(&b, (size_t)CTL_MAX + 4);
	/* The request is read first, also from a caller that is refused: a
	 * reply sent over unread bytes would be lost to a reset. */
	if ((e = ctl_recv(fd, &b, CLIENT_MS)) < 0)
		goto out;	/* gone, or too slow: nothing to answer */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != fs->uid && cred.uid != 0)) {
		/* Told, not served: the socket's directory should already
		 * keep other users away. */
		ctl_reply_fail(&r, EACCES, "this roamfs belongs to user %u: only that user and "
		    "root may control it", (unsigned)fs->uid);
		log_warn("refused a roamctl request from user %d: the home belongs to user %u",
		    len == sizeof cred ? (int)cred.uid : -1, (unsigned)fs->uid);
	} else if ((e = ctl_request_decode(b.data, b.len, &q)) < 0) {
		ctl_reply_fail(&r, -e, e == -EPROTONOSUPPORT ? "this roamfs (%s) speaks another "
		    "version of the control protocol; use the roamctl of the same version" :
		    "roamfs could not read the request (roamfs %s): use the roamctl of the "
		    "same version", PACKAGE_VERSION);
	} else {
		if (control_answer(fs, &q, &r) < 0)
			ctl_reply_fail(&r, ENOMEM, "roamfs is out of memory");
		ctl_request_free(&q);
	}
	buf_reset(&b);
	if (ctl_reply_encode(&r, &b) == 0)
		ctl_send(fd, &b, CLIENT_MS);
out:
	ctl_reply_free(&r);
	buf_free(&b);
}

static void *
control_thread(void *arg)
{
	struct roamfs *fs = arg;
	struct control *c = fs->control;
	struct pollfd p[2];
	int fd;

	for (;;) {
		register_cache(fs, c);
		p[0].fd = c->lfd;
		p[0].events = POLLIN;
		p[1].fd = c->wake[0];
		p[1].events = POLLIN;
		if (poll(p, 2, c->entry ? -1 : REGISTER_RETRY * 1000) < 0) {
			if (errno == EINTR)
				continue;
			log_err("the control socket stops answering: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		if ((fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
			continue;
		serve(fs, fd);
		close(fd);
	}
	return NULL;
}

int
control_start(struct roamfs *fs)
{
	struct control *c = calloc(1, sizeof *c);
	struct sockaddr_un sa;
	int dfd = -1, e;

	if (c == NULL)
		return -ENOMEM;
	c->lfd = c->wake[0] = c->wake[1] = -1;
	if ((c->dirfd = open(cache_dir(fs->cache), O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = -errno;
		goto fail;
	}
	/* We hold the cache's lock: a socket there is a dead roamfs's. */
	unlinkat(c->dirfd, CTL_SOCKET, 0);
	if ((e = ctl_address(cache_dir(fs->cache), &sa, &dfd)) < 0)
		goto fail;
	if ((c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(c->lfd, 16) < 0 ||
	    fstatat(c->dirfd, CTL_SOCKET, &c->bound, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(c->dirfd, CTL_SOCKET, 0600, 0) < 0 || pipe2(c->wake, O_CLOEXEC) < 0) {
		e = -errno;
		goto fail;
	}
	if (dfd >= 0)
		close(dfd);
	dfd = -1;
	fs->control = c;
	if ((e = pthread_create(&c->thread, NULL, control_thread, fs)) != 0) {
		e = -e;
		fs->control = NULL;
		goto fail;
	}
	c->started = 1;
	return 0;
fail:
	log_warn("cannot open the control socket in %s (%s): roamctl cannot reach this "
	    "roamfs; the home works on", cache_dir(fs->cache), strerror(-e));
	if (dfd >= 0)
		close(dfd);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlinkat(c->dirfd, CTL_SOCKET, 0);
	}
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c);
	return e;
}

void
control_stop(struct roamfs *fs)
{
	struct control *c = fs->control;
	struct stat st;

	if (c == NULL)
		return;
	if (c->started) {
		if (write(c->wake[1], "", 1) < 0)
			log_debug("cannot wake the control thread: %s", strerror(errno));
		pthread_join(c->thread, NULL);
	}
	registry_remove(c->entry);
	/* Only the socket we made: never one a newer roamfs made since. */
	if (fstatat(c->dirfd, CTL_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == c->bound.st_ino && st.st_dev == c->bound.st_dev)
		unlinkat(c->dirfd, CTL_SOCKET, 0);
	close(c->lfd);
	close(c->wake[0]);
	close(c->wake[1]);
	close(c->dirfd);
	free(c);
	fs->control = NULL;
}
