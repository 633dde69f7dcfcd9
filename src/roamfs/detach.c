/*
 * detach: see detach.h.  The thread waits on /proc/self/mountinfo, which
 * polls with POLLPRI each time this mount namespace's table changes, and
 * looks for the mount it found at the start (by its mount ID, which a
 * move keeps and a new mount never shares).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/log.h"
#include "roamfs.h"
#include "detach.h"

struct detach {
	pthread_t thread;
	pthread_t loop;		/* the thread in fuse_session_loop_mt */
	int mfd;		/* /proc/self/mountinfo, polled */
	int wake[2];		/* detach_stop */
	long id;		/* our mount's ID */
	char *escaped;		/* the mount point as mountinfo writes it */
	volatile int detached;
};

/* A path as /proc/self/mountinfo writes it: space, tab, newline and
 * backslash in octal. */
static char *
escape(const char *p)
{
	char *e = malloc(strlen(p) * 4 + 1), *q = e;

	if (e == NULL)
		return NULL;
	for (; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
			q += sprintf(q, "\\%03o", (unsigned char)*p);
		else
			*q++ = *p;
	}
	*q = '\0';
	return e;
}

/*
 * Read the mount table: with want < 0, the ID of the last roamfs mount on
 * our mount point (or -1); else whether the mount want is still there
 * (1, 0, or -1 when the table cannot be read).
 */
static long
scan(const struct detach *d, long want)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *sep, mp[PATH_MAX * 4 + 1], type[64];
	size_t cap = 0;
	long id, found = want < 0 ? -1 : 0;

	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%ld %*d %*s %*s %4096s", &id, mp) != 2)
			continue;
		if (want >= 0) {
			if (id == want) {
				found = 1;
				break;
			}
			continue;
		}
		if ((sep = strstr(line, " - ")) == NULL || sscanf(sep + 3, "%63s", type) != 1)
			continue;
		if (strcmp(mp, d->escaped) == 0 && strcmp(type, "fuse.roamfs") == 0)
			found = id;
	}
	free(line);
	fclose(f);
	return found;
}

/* The files programs hold open here (roamfs's table), into inos (8-byte
 * numbers; buf_free it). */
static void
open_inos(struct roamfs *fs, struct buf *inos)
{
	buf_init(inos, 0);
	nodes_lock(fs->nodes);
	nodes_foreach_open(fs->nodes, nodes_put_ino, inos);
	nodes_unlock(fs->nodes);
}

/*
 * What the programs holding files wrote may still be only in the kernel's
 * page cache (the writeback cache): have the kernel write it to us now,
 * while the loop still serves, before the connection goes.
 */
static void
write_back(struct roamfs *fs)
{
	struct buf inos;
	size_t i;

	open_inos(fs, &inos);
	for (i = 0; i + 8 <= inos.len; i += 8)
		(void)fuse_lowlevel_notify_inval_inode(fs->se, be_get_u64(inos.data + i), 0, 0);
	buf_free(&inos);
}

/* The kernel has ended the FUSE connection: the file system is gone for
 * good (the device polls POLLERR), and the loop ends by itself. */
static int
conn_ended(struct roamfs *fs)
{
	struct pollfd p = { fuse_session_fd(fs->se), 0, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* Whether programs hold files open here (roamfs's table of open files). */
static int
files_open(struct roamfs *fs)
{
	struct buf inos;
	int any;

	open_inos(fs, &inos);
	any = inos.len > 0;
	buf_free(&inos);
	return any;
}

/*
 * How the mount left the table.  An unmount of a file system nothing uses
 * ends the kernel's connection, hence the loop, however long the loop
 * takes to see it on a busy machine.  A lazy one keeps the connection
 * while programs still use the file system: with files open here, that
 * is plain after a short grace; with none, after a longer one (a
 * program's current directory or open directory, or a copy of the mount
 * in another mount namespace, holds it).
 */
enum gone { GONE_UNMOUNTED, GONE_FILES_OPEN, GONE_IN_USE };

#define GONE_TICK_US		50000
#define GONE_FILES_TICKS	10	/* 0.5 s */
#define GONE_IN_USE_TICKS	100	/* 5 s */

static enum gone
gone_how(struct roamfs *fs)
{
	int i;

	for (i = 0;; i++) {
		if (fuse_session_exited(fs->se) || conn_ended(fs))
			return GONE_UNMOUNTED;
		if (i >= GONE_FILES_TICKS && files_open(fs))
			return GONE_FILES_OPEN;
		if (i >= GONE_IN_USE_TICKS)
			return GONE_IN_USE;
		usleep(GONE_TICK_US);
	}
}

static void
wake_loop(int sig)
{
	(void)sig;	/* only interrupts the loop's sem_wait */
}

static void *
detach_thread(void *arg)
{
	struct roamfs *fs = arg;
	struct detach *d = fs->detach;
	struct pollfd p[2] = { { d->mfd, POLLPRI, 0 }, { d->wake[0], POLLIN, 0 } };
	enum gone how;
	int n;

	for (;;) {
		n = poll(p, 2, d->detached ? 200 : -1);
		if (n < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (d->detached) {
			/* Until the loop has seen it (a signal can come just
			 * before its wait). */
			pthread_kill(d->loop, SIGUSR1);
			continue;
		}
		if (n <= 0 || !(p[0].revents & (POLLPRI | POLLERR)) || scan(d, d->id) != 0)
			continue;
		if ((how = gone_how(fs)) == GONE_UNMOUNTED)
			break;
		if (how == GONE_FILES_OPEN)
			log_info("%s was unmounted while programs still held files open there "
			    "(fusermount -z): sending the last changes, then ending; those programs "
			    "get ENOTCONN", fs->mountpoint);
		else
			log_info("%s was unmounted while the kernel kept it in use (fusermount -z; a "
			    "program's current directory or open directory there, or a copy in "
			    "another mount namespace): sending the last changes, then ending; those "
			    "programs get ENOTCONN", fs->mountpoint);
		write_back(fs);
		d->detached = 1;
		fuse_session_exit(fs->se);
		pthread_kill(d->loop, SIGUSR1);
	}
	return NULL;
}

int
detach_start(struct roamfs *fs)
{
	struct detach *d = calloc(1, sizeof *d);
	struct sigaction sa;
	int e;

	if (d == NULL)
		return -ENOMEM;
	d->mfd = d->wake[0] = d->wake[1] = -1;
	d->loop = pthread_self();
	if ((d->escaped = escape(fs->mountpoint)) == NULL) {
		e = -ENOMEM;
		goto fail;
	}
	if ((d->id = scan(d, -1)) < 0) {
		e = -ENOENT;
		log_warn("cannot find the mount on %s in /proc/self/mountinfo: a lazy unmount "
		    "(fusermount -u -z) will not end roamfs while files are open", fs->mountpoint);
		goto fail;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = wake_loop;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	if ((d->mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) < 0 ||
	    pipe2(d->wake, O_CLOEXEC) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0) {
		e = -errno;
		goto fail;
	}
	fs->detach = d;
	if ((e = pthread_create(&d->thread, NULL, detach_thread, fs)) != 0) {
		e = -e;
		fs->detach = NULL;
		goto fail;
	}
	return 0;
fail:
	if (d->mfd >= 0)
		close(d->mfd);
	if (d->wake[0] >= 0) {
		close(d->wake[0]);
		close(d->wake[1]);
	}
	free(d->escaped);
	free(d);
	return e;
}

int
detach_stop(struct roamfs *fs)
{
	struct detach *d = fs->detach;
	int detached;

	if (d == NULL)
		return 0;
	if (write(d->wake[1], "x", 1) < 0)
		log_warn("cannot stop the mount watcher: %s", strerror(errno));
	pthread_join(d->thread, NULL);
	detached = d->detached;
	close(d->mfd);
	close(d->wake[0]);
	close(d->wake[1]);
	free(d->escaped);
	free(d);
	fs->detach = NULL;
	return detached;
}

void
detach_release(struct roamfs *fs)
{
	int fd = fuse_session_fd(fs->se), p[2];

	/*
	 * Closing the device drops the connection (the kernel gives the
	 * programs still holding files ENOTCONN).  In its place goes a pipe
	 * with no reader, which polls POLLERR: libfuse's unmount takes that
	 * as "already unmounted", closes it, and leaves the mount point
	 * alone.
	 */
	if (fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return;
	close(p[0]);
	if (dup2(p[1], fd) < 0)
		log_warn("cannot drop the FUSE connection: %s", strerror(errno));
	close(p[1]);
}
