/*
 * engine: fix what events point at, scan trees, keep counters.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/log.h"
#include "engine.h"
#include "fix.h"
#include "walk.h"

/* What a tree walk needs to know. */
struct scan {
	struct engine *e;
	size_t share;
	const char *nowatch;	/* a tree below which no watch is tried, or NULL */
	size_t nowatch_len;
};

int
engine_init(struct engine *e, struct conf *c)
{
	memset(e, 0, sizeof *e);
	e->conf = c;
	if (!(e->rootfd = calloc(c->nshares ? c->nshares : 1, sizeof *e->rootfd)))
		fatal("out of memory");
	for (size_t i = 0; i < c->nshares; i++) {
		int fd = walk_open_abs(c->shares[i].path);

		if (fd < 0) {
			log_err("share [%s]: cannot open %s: %s; check the path in the configuration",
			    c->shares[i].name, c->shares[i].path, strerror(-fd));
			while (i > 0)
				close(e->rootfd[--i]);
			free(e->rootfd);
			e->rootfd = NULL;
			return fd;
		}
		e->rootfd[i] = fd;
	}
	return 0;
}

void
engine_fini(struct engine *e)
{
	if (e->ops)
		e->ops->stop(e);
	e->ops = NULL;
	for (size_t i = 0; e->rootfd && i < e->conf->nshares; i++)
		close(e->rootfd[i]);
	free(e->rootfd);
	e->rootfd = NULL;
	for (size_t i = 0; i < e->nunwatched; i++)
		free(e->unwatched[i]);
	free(e->unwatched);
	e->unwatched = NULL;
	e->nunwatched = 0;
}

int
engine_start(struct engine *e, int backend)
{
	int r;

	if (backend != CONF_BACKEND_INOTIFY) {
		e->ops = &watch_fanotify_ops;
		if ((r = e->ops->start(e)) == 0)
			return 0;
		e->ops = NULL;
		if (backend == CONF_BACKEND_FANOTIFY) {
			log_err("the fanotify backend cannot start: %s; use 'backend = auto' or run as root on Linux >= 5.9",
			    strerror(-r));
			return r;
		}
		log_info("fanotify is not available (%s): using inotify", strerror(-r));
	}
	e->ops = &watch_inotify_ops;
	if ((r = e->ops->start(e)) < 0) {
		log_err("the inotify backend cannot start: %s", strerror(-r));
		e->ops = NULL;
	}
	return r;
}

/* Fix one object, count and log the outcome. */
static void
fix_one(struct engine *e, size_t share, int fd, const struct stat *st, const char *rel)
{
	const struct conf_share *sh = &e->conf->shares[share];
	char words[2048];
	int r = fix_object(sh, fd, st, FIX_REPAIR, log_debug_enabled() ? words : NULL, sizeof words);

	if (r == FIX_WRONG) {
		e->n.fixes++;
		log_debug("%s%s%s: fixed: %s", sh->name, *rel ? "/" : "", rel, words);
	} else if (r == FIX_SKIP_TYPE || r == FIX_SKIP_LINKS) {
		e->n.skipped++;
		if (r == FIX_SKIP_LINKS)
			log_warn("%s%s%s: the ACL is not as configured, but the file has %lu hard links: not trusted, left unchanged",
			    sh->name, *rel ? "/" : "", rel, (unsigned long)st->st_nlink);
	} else if (r < 0 && r != -ENOENT && r != -ESTALE) {
		e->n.errors++;
		log_warn("%s%s%s: cannot fix the ACL: %s; it will be tried again at the next event",
		    sh->name, *rel ? "/" : "", rel, strerror(-r));
	}
}

/* walk_tree() callback: fix, and let the backend watch directories. */
static int
scan_cb(int fd, const struct stat *st, const char *rel, void *arg)
{
	struct scan *s = arg;
	struct engine *e = s->e;

	fix_one(e, s->share, fd, st, rel);
	if (!S_ISDIR(st->st_mode) || !e->ops || !e->ops->dir_seen)
		return 0;
	if (s->nowatch && strncmp(rel, s->nowatch, s->nowatch_len) == 0 &&
	    (rel[s->nowatch_len] == '/' || rel[s->nowatch_len] == '\0'))
		return 0;
	if (e->ops->dir_seen(e, s->share, fd, rel) == 1) {
		/* Depth first: the previous unwatched tree, if any, is behind us. */
		engine_add_unwatched(e, s->share, rel);
		free((char *)s->nowatch);
		s->nowatch = strdup(rel);
		if (!s->nowatch)
			fatal("out of memory");
		s->nowatch_len = strlen(rel);
	}
	return 0;
}

void
engine_fix_path(struct engine *e, size_t share, const char *rel, int tree)
{
	struct scan s = { .e = e, .share = share };
	struct stat st;
	int fd = walk_open(e->rootfd[share], rel, &st);

	if (fd < 0) {
		if (fd == -ELOOP)
			log_debug("%s/%s: a symbolic link is on the way: ignored",
			    e->conf->shares[share].name, rel);
		return;
	}
	if (tree && S_ISDIR(st.st_mode))
		walk_tree(fd, &st, rel, scan_cb, &s);
	else
		fix_one(e, share, fd, &st, rel);
	free((char *)s.nowatch);
	close(fd);
}

void
engine_rescan_all(struct engine *e, const char *why)
{
	if (why)
		log_warn("rescanning all shares: %s", why);
	e->n.rescans++;
	for (size_t i = 0; i < e->conf->nshares; i++)
		engine_fix_path(e, i, "", 1);
}

void
engine_add_unwatched(struct engine *e, size_t share, const char *rel)
{
	const char *name = e->conf->shares[share].name;
	size_t n = strlen(name), m = strlen(rel);
	char *item = malloc(n + m + 2);

	if (!item || !(e->unwatched = realloc(e->unwatched, (e->nunwatched + 1) * sizeof *e->unwatched)))
		fatal("out of memory");
	memcpy(item, name, n + 1);
	memcpy(item + n + 1, rel, m + 1);
	e->unwatched[e->nunwatched++] = item;
}

void
engine_rescan_unwatched(struct engine *e)
{
	char **list = e->unwatched;
	size_t n = e->nunwatched;

	if (n == 0)
		return;
	e->unwatched = NULL;
	e->nunwatched = 0;
	e->n.rescans++;
	log_debug("rescanning %zu trees that are not watched", n);
	for (size_t i = 0; i < n; i++) {
		const char *rel = list[i] + strlen(list[i]) + 1;

		for (size_t s = 0; s < e->conf->nshares; s++)
			if (strcmp(e->conf->shares[s].name, list[i]) == 0)
				engine_fix_path(e, s, rel, 1);
		free(list[i]);
	}
	free(list);
}

void
engine_log_counters(struct engine *e, const char *when)
{
	log_info("counters %s: events %llu, fixes %llu, rescans %llu, skipped %llu, errors %llu",
	    when, e->n.events, e->n.fixes, e->n.rescans, e->n.skipped, e->n.errors);
}
