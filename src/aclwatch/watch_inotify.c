/*
 * watch_inotify: one inotify watch per directory of every share.
 *
 * Each watch descriptor maps to (share, path below the root).  A directory
 * is watched when a scan reaches it and listed right after, so nothing
 * created in between is missed.  When the watch limit is reached the
 * engine is told, and the tree is rescanned periodically instead.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "roam/log.h"
#include "engine.h"
#include "walk.h"

#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR | IN_EXCL_UNLINK)

struct node {
	int wd;			/* 0: free slot */
	size_t share;
	char *rel;
};

struct inw {
	int fd;
	struct node *tab;	/* open addressing, linear probing */
	size_t cap, used;
};

/* The slot for wd: where it is, or the free slot where it would go. */
static size_t
slot(struct inw *w, int wd)
{
	size_t i = ((size_t)wd * 2654435761u) & (w->cap - 1);

	while (w->tab[i].wd != 0 && w->tab[i].wd != wd)
		i = (i + 1) & (w->cap - 1);
	return i;
}

/* Double the table. */
static void
grow(struct inw *w)
{
	struct node *old = w->tab;
	size_t oldcap = w->cap;

	w->cap = oldcap ? oldcap * 2 : 1024;
	if (!(w->tab = calloc(w->cap, sizeof *w->tab)))
		fatal("out of memory");
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].wd)
			w->tab[slot(w, old[i].wd)] = old[i];
	free(old);
}

/* Record (or update) what wd stands for. */
static void
node_set(struct inw *w, int wd, size_t share, const char *rel)
{
	struct node *n;

	if ((w->used + 1) * 2 > w->cap)
		grow(w);
	n = &w->tab[slot(w, wd)];
	if (n->wd == wd && n->share == share && strcmp(n->rel, rel) == 0)
		return;
	if (n->wd == 0)
		w->used++;
	free(n->rel);
	n->wd = wd;
	n->share = share;
	if (!(n->rel = strdup(rel)))
		fatal("out of memory");
}

/* Forget wd (backward-shift deletion keeps probing chains intact). */
static void
node_del(struct inw *w, int wd)
{
	size_t i = slot(w, wd), j = i;

	if (w->tab[i].wd == 0)
		return;
	free(w->tab[i].rel);
	w->tab[i].wd = 0;
	w->used--;
	for (;;) {
		size_t k;

		j = (j + 1) & (w->cap - 1);
		if (w->tab[j].wd == 0)
			return;
		k = ((size_t)w->tab[j].wd * 2654435761u) & (w->cap - 1);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			w->tab[i] = w->tab[j];
			w->tab[j].wd = 0;
			w->tab[j].rel = NULL;
			i = j;
		}
	}
}

static int
inw_start(struct engine *e)
{
	struct inw *w = calloc(1, sizeof *w);

	if (!w)
		fatal("out of memory");
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	grow(w);
	e->w = w;
	return 0;
}

static int
inw_fd(struct engine *e)
{
	return ((struct inw *)e->w)->fd;
}

static int
inw_dir_seen(struct engine *e, size_t share, int fd, const char *rel)
{
	struct inw *w = e->w;
	char path[32];
	int wd = inotify_add_watch(w->fd, walk_fd_path(fd, path, sizeof path), WATCH_MASK);

	if (wd >= 0) {
		node_set(w, wd, share, rel);
		return 0;
	}
	if (errno == ENOSPC) {
		if (!e->limit_logged)
			log_warn("the inotify watch limit is reached (%zu watches): directories beyond it are rescanned every %d s; raise it with 'sysctl fs.inotify.max_user_watches=N' or use 'backend = fanotify'",
			    w->used, e->conf->rescan_interval);
		e->limit_logged = 1;
		return 1;
	}
	if (errno != ENOENT)
		log_warn("%s/%s: cannot watch: %s", e->conf->shares[share].name, rel, strerror(errno));
	return 0;
}

/* Handle one event. */
static void
inw_event(struct engine *e, const struct inotify_event *ev)
{
	struct inw *w = e->w;
	struct node *n;
	char *rel;
	size_t share;

	if (ev->mask & IN_Q_OVERFLOW) {
		e->need_rescan = 1;
		return;
	}
	if (ev->mask & IN_IGNORED) {
		node_del(w, ev->wd);
		return;
	}
	n = &w->tab[slot(w, ev->wd)];
	if (n->wd != ev->wd)
		return;
	e->n.events++;
	share = n->share;
	if (ev->len == 0 || ev->name[0] == '\0') {
		if (!(rel = strdup(n->rel)))
			fatal("out of memory");
		engine_fix_path(e, share, rel, 0);
	} else {
		if (asprintf(&rel, "%s%s%s", n->rel, *n->rel ? "/" : "", ev->name) < 0)
			fatal("out of memory");
		/* A new or moved-in directory: watch and scan all of it. */
		engine_fix_path(e, share, rel,
		    (ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)));
	}
	free(rel);
}

static void
inw_handle(struct engine *e)
{
	struct inw *w = e->w;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	while ((len = read(w->fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			inw_event(e, ev);
			p += sizeof *ev + ev->len;
		}
	}
}

static void
inw_stop(struct engine *e)
{
	struct inw *w = e->w;

	if (!w)
		return;
	close(w->fd);
	for (size_t i = 0; i < w->cap; i++)
		free(w->tab[i].rel);
	free(w->tab);
	free(w);
	e->w = NULL;
}

const struct watch_ops watch_inotify_ops = {
	.name = "inotify",
	.start = inw_start,
	.fd = inw_fd,
	.handle = inw_handle,
	.dir_seen = inw_dir_seen,
	.stop = inw_stop,
};
