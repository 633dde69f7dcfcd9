/*
 * walk: symlink-proof opens and tree walks from a trusted directory.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/log.h"
#include "walk.h"

const char *
walk_fd_path(int fd, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "/proc/self/fd/%d", fd);
	return buf;
}

/* openat(dirfd, name, flags) and fstat the result into st; fd or -errno. */
static int
open_stat(int dirfd, const char *name, int flags, struct stat *st)
{
	int fd = openat(dirfd, name, flags | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Open one component name below dirfd without following it. */
static int
open_one(int dirfd, const char *name, size_t n, struct stat *st)
{
	char comp[256];
	int fd;

	if (n == 0 || n >= sizeof comp)
		return n ? -ENAMETOOLONG : -EINVAL;
	memcpy(comp, name, n);
	comp[n] = '\0';
	if (strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0)
		return -EINVAL;
	if ((fd = open_stat(dirfd, comp, O_PATH | O_NOFOLLOW, st)) < 0)
		return fd;
	if (S_ISLNK(st->st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

int
walk_open(int rootfd, const char *rel, struct stat *st)
{
	int fd = open_stat(rootfd, ".", O_PATH | O_DIRECTORY, st);

	if (fd < 0)
		return fd;
	while (*rel) {
		const char *e = strchrnul(rel, '/');
		int next;

		if (!S_ISDIR(st->st_mode)) {
			close(fd);
			return -ENOTDIR;
		}
		next = open_one(fd, rel, (size_t)(e - rel), st);
		close(fd);
		if (next < 0)
			return next;
		fd = next;
		rel = *e ? e + 1 : e;
	}
	return fd;
}

int
walk_open_abs(const char *abs)
{
	struct stat st;
	int root, fd;

	if (abs[0] != '/')
		return -EINVAL;
	if ((root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	fd = walk_open(root, abs + 1, &st);
	close(root);
	if (fd >= 0 && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/* Join rel and name into out; -ENAMETOOLONG if it does not fit. */
static int
join(char *out, const char *rel, const char *name)
{
	int n = *rel ? snprintf(out, WALK_PATH_MAX, "%s/%s", rel, name)
	    : snprintf(out, WALK_PATH_MAX, "%s", name);

	return n < 0 || n >= WALK_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Visit the entries of the directory fd (already seen by fn). */
static int
walk_children(int fd, const char *rel, walk_fn fn, void *arg)
{
	int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *child;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (lfd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!(d = fdopendir(lfd))) {
		close(lfd);
		return -errno;
	}
	if (!(child = malloc(WALK_PATH_MAX)))
		fatal("out of memory");
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		int cfd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (join(child, rel, de->d_name) < 0) {
			log_warn("%s/%s: path too long, skipped", rel, de->d_name);
			continue;
		}
		cfd = openat(fd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;	/* gone since readdir */
		if (fstat(cfd, &st) == 0) {
			r = S_ISDIR(st.st_mode) ? walk_tree(cfd, &st, child, fn, arg)
			    : fn(cfd, &st, child, arg);
			if (r > 0)
				r = 0;
		}
		close(cfd);
	}
	free(child);
	closedir(d);
	return r;
}

int
walk_tree(int fd, const struct stat *st, const char *rel, walk_fn fn, void *arg)
{
	int r = fn(fd, st, rel, arg);

	if (r != 0)
		return r < 0 ? r : 0;
	if (!S_ISDIR(st->st_mode))
		return 0;
	return walk_children(fd, rel, fn, arg);
}
