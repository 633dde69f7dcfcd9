/*
 * engine: the daemon's state and the work that events lead to.
 *
 * The engine holds the configuration, a trusted O_PATH descriptor per share
 * root and the counters.  Event backends (watch_inotify.c, watch_fanotify.c)
 * turn kernel events into (share, path below the root) and call
 * engine_fix_path(); everything is reached again from the share root, so a
 * stale or forged path can only ever lead to an object inside a share.
 */
#ifndef ACLWATCH_ENGINE_H
#define ACLWATCH_ENGINE_H

#include <stddef.h>
#include <sys/stat.h>

#include "conf.h"

struct engine;

/* An event backend. */
struct watch_ops {
	const char *name;
	/* Set up; returns 0 or -errno (then the engine may try another). */
	int (*start)(struct engine *e);
	/* The descriptor to poll for events. */
	int (*fd)(struct engine *e);
	/* Read and handle the pending events. */
	void (*handle)(struct engine *e);
	/* A directory was reached by a scan: watch it; 1 if it cannot be watched. */
	int (*dir_seen)(struct engine *e, size_t share, int fd, const char *rel);
	/* Tear down. */
	void (*stop)(struct engine *e);
};

extern const struct watch_ops watch_inotify_ops;
extern const struct watch_ops watch_fanotify_ops;

struct engine_counters {
	unsigned long long events, fixes, rescans, skipped, errors;
};

struct engine {
	struct conf *conf;
	int *rootfd;			/* O_PATH descriptor per share */
	const struct watch_ops *ops;	/* the backend in use */
	void *w;			/* the backend's state */
	struct engine_counters n;
	int need_rescan;		/* set on queue overflow */
	char **unwatched;		/* "share\0rel": trees rescanned periodically */
	size_t nunwatched;
	int limit_logged;		/* the watch limit message was logged */
};

/* Open the share roots of c.  Returns 0 or -errno (logged). */
int engine_init(struct engine *e, struct conf *c);

/* Close the roots and free the lists (not the configuration). */
void engine_fini(struct engine *e);

/* Start a backend: forced (CONF_BACKEND_*) or, for auto, fanotify then inotify. */
int engine_start(struct engine *e, int backend);

/*
 * Check and repair share/rel.  With tree, a directory is handled with
 * everything below it (each directory passed to the backend first).
 */
void engine_fix_path(struct engine *e, size_t share, const char *rel, int tree);

/* Rescan every share completely. */
void engine_rescan_all(struct engine *e, const char *why);

/* Remember a tree the backend cannot watch (the watch limit was reached). */
void engine_add_unwatched(struct engine *e, size_t share, const char *rel);

/* Rescan the trees that could not be watched. */
void engine_rescan_unwatched(struct engine *e);

/* Log the counters. */
void engine_log_counters(struct engine *e, const char *when);

#endif
