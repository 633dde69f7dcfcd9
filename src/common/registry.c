/*
 * registry: see registry.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/registry.h"

#define ROOT_REGISTRY	"/run/roamfs"

/* Whether dir is a directory of uid that no one else may write to. */
static int
private_dir(const char *dir, uid_t uid)
{
	struct stat st;

	return dir[0] == '/' && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == uid && (st.st_mode & 022) == 0;
}

/* The calling user's registry directory into buf; -ENOENT when it has none. */
static int
registry_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t uid = getuid();
	char run[64];
	int n;

	if (uid == 0)
		n = snprintf(buf, len, "%s", ROOT_REGISTRY);
	else if (xdg && private_dir(xdg, uid))
		n = snprintf(buf, len, "%s/roamfs", xdg);
	else {
		snprintf(run, sizeof run, "/run/user/%lu", (unsigned long)uid);
		if (!private_dir(run, uid))
			return -ENOENT;
		n = snprintf(buf, len, "%s/roamfs", run);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
registry_add(const char *cache, char **entry)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int r;

	*entry = NULL;
	if ((r = registry_dir(dir, sizeof dir)) < 0)
		return r;
	if (mkdir(dir, getuid() == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
		return -errno;
	if (!private_dir(dir, getuid()))
		return -EPERM;	/* not ours, or open to others: never used */
	if ((size_t)snprintf(path, sizeof path, "%s/%ld", dir, (long)getpid()) >= sizeof path)
		return -ENAMETOOLONG;
	(void)unlink(path);	/* a stale link of a process that had this pid */
	if (symlink(cache, path) < 0)
		return -errno;
	if ((*entry = strdup(path)) == NULL) {
		unlink(path);
		return -ENOMEM;
	}
	return 0;
}

void
registry_remove(char *entry)
{
	if (entry == NULL)
		return;
	(void)unlink(entry);
	free(entry);
}

/* Whether process pid exists (a zombie too: it is about to go). */
static int
alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Every valid link of the registry dir, owned by uid. */
static void
scan_dir(const char *dir, uid_t uid, void (*fn)(void *arg, const char *cache), void *arg)
{
	char path[PATH_MAX], cache[PATH_MAX], *end;
	struct stat st, cst;
	struct dirent *d;
	ssize_t n;
	long pid;
	DIR *dp;

	if (!private_dir(dir, uid) || (dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		errno = 0;
		pid = strtol(d->d_name, &end, 10);
		if (d->d_name[0] == '.' || *end || errno ||
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir, d->d_name) >= sizeof path ||
		    lstat(path, &st) < 0 || !S_ISLNK(st.st_mode) || st.st_uid != uid)
			continue;
		if (!alive(pid)) {
			if (uid == getuid() || getuid() == 0)
				(void)unlink(path);
			continue;
		}
		if ((n = readlink(path, cache, sizeof cache - 1)) <= 0)
			continue;
		cache[n] = '\0';
		if (cache[0] == '/' && stat(cache, &cst) == 0 && S_ISDIR(cst.st_mode) &&
		    cst.st_uid == uid)
			fn(arg, cache);
	}
	closedir(dp);
}

void
registry_scan(void (*fn)(void *arg, const char *cache), void *arg)
{
	char dir[PATH_MAX];
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if (registry_dir(dir, sizeof dir) == 0)
		scan_dir(dir, getuid(), fn, arg);
	if (getuid() != 0 || (dp = opendir("/run/user")) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.' ||
		    (size_t)snprintf(dir, sizeof dir, "/run/user/%s", d->d_name) >= sizeof dir ||
		    lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid == 0)
			continue;
		if ((size_t)snprintf(dir, sizeof dir, "/run/user/%s/roamfs", d->d_name) < sizeof dir)
			scan_dir(dir, st.st_uid, fn, arg);
	}
	closedir(dp);
}
