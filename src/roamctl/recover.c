/*
 * recover: see recover.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachekey.h"
#include "recover.h"
#include "secret.h"

static const char *const parts[] = { "db", "data", "tmp" };
#define NPARTS	(sizeof parts / sizeof parts[0])

static int
say(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "roamctl: recover: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* The small file dirfd/name as a string (at most 4 KiB), or NULL. */
static char *
read_text(int dirfd, const char *name)
{
	char *b = malloc(4097);
	ssize_t n;
	int fd;

	if (b == NULL || (fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		free(b);
		return NULL;
	}
	n = read(fd, b, 4096);
	close(fd);
	if (n < 0) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	return b;
}

/* Write dirfd/name whole (a temporary file, fsync, rename), 0600. */
static int
write_text(int dirfd, const char *name, const char *text)
{
	char tmp[64];
	size_t len = strlen(text);
	int fd, r = 0;

	snprintf(tmp, sizeof tmp, ".%s.new", name);
	(void)unlinkat(dirfd, tmp, 0);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = -EIO;
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

/* Remove dirfd/name and all it holds (no key needed). */
static int
remove_all(int dirfd, const char *name, int depth)
{
	char path[PATH_MAX];
	int fd, r = 0;
	struct stat st;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (depth > 8 || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return -EPERM;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	{
		int dfd = dup(fd);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		struct dirent *e;

		if (d == NULL) {
			if (dfd >= 0)
				close(dfd);
			close(fd);
			return -ENOMEM;
		}
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			    (size_t)snprintf(path, sizeof path, "%s", e->d_name) < sizeof path &&
			    remove_all(fd, path, depth + 1) < 0)
				r = -EIO;
		closedir(d);
	}
	close(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && r == 0)
		r = -errno;
	return r;
}

int
recover_run(const char *locked)
{
	char cache[PATH_MAX], *slash, *old = NULL, *new = NULL, *cause = NULL, *warn = NULL;
	char *text = NULL, *state = NULL, *wrapped = NULL, path[PATH_MAX];
	const char *name;
	uint8_t key[CACHEKEY_SIZE];
	struct stat st;
	int cfd = -1, lfd = -1, lockfd = -1, r = 1;
	size_t i;

	if (realpath(locked, cache) == NULL)
		return say("%s: %s", locked, strerror(errno));
	if ((slash = strrchr(cache, '/')) == NULL || strncmp(slash + 1, "locked-", 7) != 0)
		return say("%s is not a cache kept when a password changed (CACHE/locked-DATE-TIME)%s",
		    locked, "");
	name = locked + (strrchr(locked, '/') ? strrchr(locked, '/') - locked + 1 : 0);
	*slash = '\0';
	if ((cfd = open(cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (lfd = openat(cfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = say("cannot open %s: %s", locked, strerror(errno));
		goto out;
	}
	if (fstat(cfd, &st) < 0 || st.st_uid != getuid()) {
		r = say("the cache %s is not yours: run recover as its user%s", cache, "");
		goto out;
	}
	/* No roamfs on the cache meanwhile. */
	if ((lockfd = openat(cfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = say("%s is not in a roamfs cache (it has no lock file)%s", locked, "");
		goto out;
	}
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = say("the cache %s is in use (a roamfs runs on it): log out first, then run "
		    "recover again%s", cache, "");
		goto out;
	}
	if ((text = read_text(lfd, "key")) == NULL) {
		r = say("%s holds no key: it is not a cache kept when a password changed%s", locked,
		    "");
		goto out;
	}
	/* What the new cache holds must all be on the server: it goes. */
	state = read_text(cfd, "state");
	if (state == NULL || strcmp(state, "clean\n") != 0) {
		r = say("the cache %s holds changes that may not be on the server yet: log in once, "
		    "let them go (roamctl flush --wait), log out, then run recover again%s", cache, "");
		goto out;
	}
	fprintf(stderr, "roamctl: recover: give the old password, then the new one (a line each)\n");
	if ((old = secret_read_line(0, &cause, &warn)) == NULL ||
	    (free(warn), warn = NULL, new = secret_read_line(0, &cause, &warn)) == NULL) {
		r = say("%s%s", cause ? cause : "no password could be read", "");
		goto out;
	}
	if ((r = cachekey_unwrap(old, text, key)) < 0) {
		r = say(r == -EKEYREJECTED ? "the old password does not open %s%s" :
		    "the key of %s is damaged%s", locked, "");
		goto out;
	}
	r = cachekey_wrap(new, key, &cachekey_default, &wrapped);
	explicit_bzero(key, sizeof key);
	if (r < 0) {
		r = say("cannot wrap the key with the new password: %s%s", strerror(-r), "");
		goto out;
	}
	/* First the kept key, opened by the new password from now on (in
	 * place: a failure below leaves it whole, for recover again with the
	 * new password twice). */
	if (write_text(lfd, "key", wrapped) < 0) {
		r = say("cannot write the key of %s: %s", locked, strerror(errno));
		goto out;
	}
	/* The new cache goes (all of it is on the server), the kept one comes back. */
	for (i = 0; i < NPARTS; i++)
		if (remove_all(cfd, parts[i], 0) < 0) {
			r = say("cannot clear %s/%s: remove it by hand, then run recover again", cache,
			    parts[i]);
			goto out;
		}
	for (i = 0; i < NPARTS; i++) {
		snprintf(path, sizeof path, "%s/%s", slash + 1, parts[i]);
		if (renameat(cfd, path, cfd, parts[i]) < 0 && errno != ENOENT) {
			r = say("cannot put %s back in place: %s", path, strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof path, "%s/key", slash + 1);
	if (renameat(cfd, path, cfd, "key") < 0 || write_text(cfd, "state", "dirty\n") < 0) {
		r = say("cannot put the key of %s in place: %s", locked, strerror(errno));
		goto out;
	}
	(void)unlinkat(cfd, slash + 1, AT_REMOVEDIR);
	printf("%s is back in place in %s, opened by the new password: its changes go to the "
	    "server at the next login (an edit the server also changed since becomes a conflict "
	    "copy)\n", name, cache);
	r = 0;
out:
	secret_free(old);
	secret_free(new);
	free(warn);
	free(cause);
	free(text);
	free(state);
	free(wrapped);
	if (lockfd >= 0)
		close(lockfd);
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	return r;
}
