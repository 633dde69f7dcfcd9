/*
 * watch_fanotify: every share's whole filesystem through one fanotify mark.
 *
 * FAN_MARK_FILESYSTEM with FAN_REPORT_DFID_NAME gives, for each creation,
 * move-in and attribute change, the handle of the parent directory and the
 * entry's name.  The directory is opened by handle, its path read back from
 * /proc/self/fd, and the object is then reached again from the share root
 * (engine_fix_path), so nothing outside a share is ever touched.  No
 * per-directory watch is needed, whatever the size of the tree.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>

#include "roam/log.h"
#include "engine.h"
#include "walk.h"

#define FAN_EVENTS (FAN_CREATE | FAN_MOVED_TO | FAN_ATTRIB | FAN_ONDIR)

struct fanw {
	int fd;
	fsid_t *fsid;		/* per share */
	int *mntfd;		/* per share: the root opened O_RDONLY, for
				   open_by_handle_at (which refuses O_PATH) */
	size_t n;
	pid_t pid;		/* ours, to ignore the events of our own writes */
};

/* Release the backend state. */
static void
fan_free(struct fanw *w)
{
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n; i++)
		if (w->mntfd[i] >= 0)
			close(w->mntfd[i]);
	free(w->mntfd);
	free(w->fsid);
	free(w);
}

static int
fan_start(struct engine *e)
{
	struct fanw *w = calloc(1, sizeof *w);
	char path[32];
	struct statfs sfs;
	int r = 0;

	if (!w || !(w->fsid = calloc(e->conf->nshares ? e->conf->nshares : 1, sizeof *w->fsid)) ||
	    !(w->mntfd = calloc(e->conf->nshares ? e->conf->nshares : 1, sizeof *w->mntfd)))
		fatal("out of memory");
	w->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
	    O_RDONLY | O_CLOEXEC | O_LARGEFILE);
	if (w->fd < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && i < e->conf->nshares; i++) {
		walk_fd_path(e->rootfd[i], path, sizeof path);
		w->mntfd[i] = openat(e->rootfd[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		w->n = i + 1;
		if (w->mntfd[i] < 0 || fstatfs(e->rootfd[i], &sfs) < 0 ||
		    fanotify_mark(w->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_EVENTS, AT_FDCWD, path) < 0)
			r = -errno;
		else
			w->fsid[i] = sfs.f_fsid;
	}
	if (r < 0) {
		fan_free(w);
		return r;
	}
	w->pid = getpid();
	e->w = w;
	return 0;
}

static int
fan_fd(struct engine *e)
{
	return ((struct fanw *)e->w)->fd;
}

/* Turn (directory handle, name) into a share and a path, and fix it. */
static void
fan_target(struct engine *e, const struct fanotify_event_info_fid *fid, int ondir_new)
{
	struct fanw *w = e->w;
	struct file_handle *fh = (struct file_handle *)fid->handle;
	const char *name = (const char *)fh->f_handle + fh->handle_bytes;
	char proc[32], dir[PATH_MAX], *rel;
	const struct conf_share *sh;
	const char *below;
	ssize_t n;
	int dfd = -1;

	for (size_t i = 0; dfd < 0 && i < e->conf->nshares; i++)
		if (!memcmp(&w->fsid[i], &fid->fsid, sizeof w->fsid[i]))
			dfd = open_by_handle_at(w->mntfd[i], fh, O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return;		/* gone, or on another filesystem */
	n = readlink(walk_fd_path(dfd, proc, sizeof proc), dir, sizeof dir - 1);
	close(dfd);
	if (n <= 0 || n >= (ssize_t)sizeof dir - 1)
		return;
	dir[n] = '\0';
	if (dir[0] != '/' || !(sh = conf_share_for(e->conf, dir, &below)))
		return;
	e->n.events++;
	if (strcmp(name, ".") == 0 || name[0] == '\0')
		rel = strdup(below);
	else if (asprintf(&rel, "%s%s%s", below, *below ? "/" : "", name) < 0)
		rel = NULL;
	if (!rel)
		fatal("out of memory");
	engine_fix_path(e, (size_t)(sh - e->conf->shares), rel, ondir_new);
	free(rel);
}

/*
 * Handle one event record: m is an aligned copy of its header, rec the
 * record itself in the read buffer (records are only 4-byte aligned there).
 */
static void
fan_event(struct engine *e, const struct fanotify_event_metadata *m, const char *rec)
{
	struct fanw *w = e->w;
	const char *p = rec + m->metadata_len;
	const char *end = rec + m->event_len;

	if (m->mask & FAN_Q_OVERFLOW) {
		e->need_rescan = 1;
		return;
	}
	/* Our own ACL writes: nothing to do (this also breaks the feedback loop). */
	if (m->pid == w->pid && !(m->mask & ~(FAN_ATTRIB | FAN_ONDIR)))
		return;
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;

		if (h->len < sizeof *h || p + h->len > end)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME)
			fan_target(e, (const void *)p,
			    (m->mask & FAN_ONDIR) && (m->mask & (FAN_CREATE | FAN_MOVED_TO)));
		p += h->len;
	}
}

static void
fan_handle(struct engine *e)
{
	struct fanw *w = e->w;
	char buf[65536] __attribute__((aligned(8)));
	ssize_t len;

	while ((len = read(w->fd, buf, sizeof buf)) > 0) {
		size_t off = 0;

		while (off + sizeof(struct fanotify_event_metadata) <= (size_t)len) {
			struct fanotify_event_metadata m;

			memcpy(&m, buf + off, sizeof m);
			if (m.event_len < sizeof m || off + m.event_len > (size_t)len)
				break;
			if (m.vers != FANOTIFY_METADATA_VERSION)
				fatal("fanotify metadata version %d is not the one aclwatch was built for", m.vers);
			if (m.fd >= 0)
				close(m.fd);
			fan_event(e, &m, buf + off);
			off += m.event_len;
		}
	}
}

static void
fan_stop(struct engine *e)
{
	struct fanw *w = e->w;

	if (!w)
		return;
	fan_free(w);
	e->w = NULL;
}

const struct watch_ops watch_fanotify_ops = {
	.name = "fanotify",
	.start = fan_start,
	.fd = fan_fd,
	.handle = fan_handle,
	.dir_seen = NULL,
	.stop = fan_stop,
};
