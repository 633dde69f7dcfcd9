/*
 * fixture: small helpers the cases share to make files and describe them.
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
#include "posix.h"

int
fix_put(const char *path, const char *data)
{
	size_t len = strlen(data);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		err = errno;
		rep_setup(path, err);
		return -err;
	}
	if (write(fd, data, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (close(fd) < 0 && err == 0)
		err = errno;
	if (err != 0)
		rep_setup(path, err);
	return -err;
}

void
fix_show_content(const char *step, const char *path)
{
	char buf[256], esc[1024];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		rep(step, "open(%s) = -1 %s", path, errname(errno));
		return;
	}
	n = read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		rep(step, "read(%s) = -1 %s", path, errname(errno));
	} else {
		escape_bytes(buf, n, esc, sizeof esc);
		rep(step, "content \"%s\"", esc);
	}
	close(fd);
}

void
fix_show_pread(const char *step, int fd, size_t len, off_t off)
{
	char buf[256], esc[1024];
	ssize_t n;

	if (len > sizeof buf)
		len = sizeof buf;
	n = pread(fd, buf, len, off);
	if (n < 0) {
		rep(step, "pread(%zu@%lld) = -1 %s", len, (long long)off, errname(errno));
		return;
	}
	escape_bytes(buf, n, esc, sizeof esc);
	rep(step, "pread(%zu@%lld) = %zd \"%s\"", len, (long long)off, n, esc);
}

/* Short name of the file type in MODE. */
static const char *
fix_type(mode_t mode)
{
	if (S_ISREG(mode))
		return "reg";
	if (S_ISDIR(mode))
		return "dir";
	if (S_ISLNK(mode))
		return "lnk";
	if (S_ISFIFO(mode))
		return "fifo";
	if (S_ISSOCK(mode))
		return "sock";
	return "dev";
}

void
fix_describe(const struct stat *st, char *buf, size_t bufsz)
{
	const char *uid = st->st_uid == geteuid() ? "me" : "other";
	const char *gid = st->st_gid == getegid() ? "me" : "other";

	if (S_ISDIR(st->st_mode))
		snprintf(buf, bufsz, "type dir mode %04o owner %s/%s",
		    (unsigned)(st->st_mode & 07777), uid, gid);
	else
		snprintf(buf, bufsz, "type %s mode %04o nlink %lu size %lld owner %s/%s",
		    fix_type(st->st_mode), (unsigned)(st->st_mode & 07777),
		    (unsigned long)st->st_nlink, (long long)st->st_size, uid, gid);
}

void
fix_show_stat(const char *step, const char *path, int follow)
{
	struct stat st;
	char desc[160];
	int rc;

	rc = follow ? stat(path, &st) : lstat(path, &st);
	if (rc < 0) {
		rep(step, "%s = -1 %s", follow ? "stat" : "lstat", errname(errno));
		return;
	}
	fix_describe(&st, desc, sizeof desc);
	rep(step, "%s", desc);
}

void
fix_show_fstat(const char *step, int fd)
{
	struct stat st;
	char desc[160];

	if (fstat(fd, &st) < 0) {
		rep(step, "fstat = -1 %s", errname(errno));
		return;
	}
	fix_describe(&st, desc, sizeof desc);
	rep(step, "%s", desc);
}

static int
fix_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NAME, or a fixed stand-in for libfuse's ".fuse_hiddenNNNN" names of files
 * unlinked while open, whose counter differs from run to run. */
static const char *
fix_normal_name(const char *name)
{
	if (strncmp(name, ".fuse_hidden", 12) == 0)
		return ".fuse_hidden<id>";
	return name;
}

/* Read the names in PATH into a sorted array; returns the count or -errno. */
static int
fix_names(const char *path, char ***namesp)
{
	struct dirent *de;
	char **names = NULL;
	int n = 0;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strdup(fix_normal_name(de->d_name))) == NULL)
			fatal("posixsuite: out of memory");
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, fix_cmp);
	*namesp = names;
	return n;
}

void
fix_show_listing(const char *step, const char *path)
{
	char **names = NULL, line[8192], esc[1100];
	size_t len = 0;
	int i, n, w;

	n = fix_names(path, &names);
	if (n < 0) {
		rep(step, "opendir = -1 %s", errname(-n));
		return;
	}
	line[0] = '\0';
	for (i = 0; i < n; i++) {
		escape_name(names[i], esc, sizeof esc);
		w = snprintf(line + len, sizeof line - len, "%s\"%s\"",
		    i ? " " : "", esc);
		free(names[i]);
		if (w < 0 || (size_t)w >= sizeof line - len)
			len = sizeof line - 1;
		else
			len += w;
	}
	free(names);
	rep(step, "[%s]", line);
}

int
fix_in_listing(const char *path, const char *name)
{
	char **names = NULL;
	int i, n, found = 0;

	n = fix_names(path, &names);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			found = 1;
		free(names[i]);
	}
	free(names);
	return found;
}
