/*
 * prepare: see prepare.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "prepare.h"

#define ASIDE	".aside"
#define USAGE	".usage."

/* Say what was found wrong and done: standard error and syslog. */
static void
report(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "roamctl prepare: %s\n", msg);
	openlog("roamctl", LOG_PID, LOG_AUTHPRIV);
	syslog(prio, "%s", msg);
	closelog();
}

/* mkdir -p of the parents of path (0755, as root). */
static int
make_parents(const char *path)
{
	char p[PATH_MAX], *s;

	if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
		return -ENAMETOOLONG;
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/*
 * Open the cache root, made if missing; closed to writes by others.
 * Returns its fd, or -1 after saying why.
 */
static int
open_root(const char *root)
{
	struct stat st;
	int fd;

	if (root[0] != '/') {
		report(LOG_ERR, "the cache root %s is not an absolute path: fix cache_root in the "
		    "site configuration", root);
		return -1;
	}
	if ((make_parents(root) < 0 || mkdir(root, 0755) < 0) && errno != EEXIST) {
		report(LOG_ERR, "cannot make the cache root %s: %s", root, strerror(errno));
		return -1;
	}
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		report(LOG_ERR, "cannot open the cache root %s: %s (it must be a directory, not a "
		    "symbolic link)", root, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_uid != 0) {
		report(LOG_ERR, "the cache root %s belongs to uid %u, not to root: run chown root:root "
		    "%s; chmod 755 %s", root, (unsigned)st.st_uid, root, root);
		close(fd);
		return -1;
	}
	/* First, so that no one makes anything there meanwhile. */
	if ((st.st_mode & 07777) != 0755) {
		if (fchmod(fd, 0755) < 0) {
			report(LOG_ERR, "cannot close the cache root %s to other users (mode %04o): %s",
			    root, (unsigned)(st.st_mode & 07777), strerror(errno));
			close(fd);
			return -1;
		}
		if (st.st_mode & 022)
			report(LOG_NOTICE, "the cache root %s was writable by others (mode %04o): it "
			    "is 0755 now, and each user's cache is made by roamctl prepare", root,
			    (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

/* The folder of what was moved aside (root's, 0700), opened; -1 after saying why. */
static int
open_aside(int rfd, const char *root)
{
	struct stat st;
	int fd;

	if (mkdirat(rfd, ASIDE, 0700) < 0 && errno != EEXIST) {
		report(LOG_ERR, "cannot make %s/%s: %s", root, ASIDE, strerror(errno));
		return -1;
	}
	if ((fd = openat(rfd, ASIDE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0 || st.st_uid != 0 ||
	    ((st.st_mode & 077) && fchmod(fd, 0700) < 0)) {
		report(LOG_ERR, "%s/%s must be a folder of root's: remove it (it is not roamfs's)",
		    root, ASIDE);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Who owns st, for a message: "uid N (NAME)". */
static void
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "uid %u (%s)", (unsigned)uid, pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/* Move ROOT/user aside: ROOT/.aside/USER.DATE-TIME[.N].  0, or -1 after saying why. */
static int
move_aside(int rfd, const char *root, const char *user, const struct stat *st)
{
	char name[NAME_MAX + 1], stamp[32], who[128];
	time_t now = time(NULL);
	struct tm tm;
	int afd, i, r = -1;

	if ((afd = open_aside(rfd, root)) < 0)
		return -1;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(name, sizeof name, "%s.%s", user, stamp);
		else
			snprintf(name, sizeof name, "%s.%s.%d", user, stamp, i);
		if (renameat2(rfd, user, afd, name, RENAME_NOREPLACE) == 0) {
			r = 0;
			break;
		}
		if (errno != EEXIST)
			break;
	}
	owner_name(st->st_uid, who, sizeof who);
	if (r == 0)
		report(LOG_WARNING, "%s/%s was not a cache of %s (a %s of %s): moved aside to "
		    "%s/%s/%s; %s gets a new cache", root, user, user,
		    S_ISDIR(st->st_mode) ? "folder" : S_ISLNK(st->st_mode) ? "symbolic link" :
		    "file", who, root, ASIDE, name, user);
	else
		report(LOG_ERR, "cannot move %s/%s (of %s) aside: %s; remove it as root", root, user,
		    who, strerror(errno));
	close(afd);
	return r;
}

/* ROOT/USER: the user's cache, made when missing.  0, or -1 after saying why. */
static int
prepare_cache(int rfd, const char *root, const struct passwd *pw)
{
	const char *user = pw->pw_name;
	struct stat st;
	int fd;

	if (fstatat(rfd, user, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode) && st.st_uid == pw->pw_uid) {
			if ((st.st_mode & 077) == 0)
				return 0;
			if ((fd = openat(rfd, user, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
			    fchmod(fd, 0700) == 0) {
				close(fd);
				report(LOG_NOTICE, "%s/%s was open to other users (mode %04o): it is 0700 "
				    "now", root, user, (unsigned)(st.st_mode & 07777));
				return 0;
			}
			report(LOG_ERR, "cannot close %s/%s to other users: %s", root, user,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		if (move_aside(rfd, root, user, &st) < 0)
			return -1;
	} else if (errno != ENOENT) {
		report(LOG_ERR, "cannot look at %s/%s: %s", root, user, strerror(errno));
		return -1;
	}
	if (mkdirat(rfd, user, 0700) < 0 ||
	    (fd = openat(rfd, user, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		report(LOG_ERR, "cannot make the cache %s/%s: %s", root, user, strerror(errno));
		return -1;
	}
	if (fchown(fd, pw->pw_uid, pw->pw_gid) < 0 || fchmod(fd, 0700) < 0) {
		report(LOG_ERR, "cannot give the cache %s/%s to %s: %s", root, user, user,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ROOT/.usage.USER: a file of the user's, for the machine's budget.  0 or -1. */
static int
prepare_usage(int rfd, const char *root, const struct passwd *pw)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int fd;

	if ((size_t)snprintf(name, sizeof name, "%s%s", USAGE, pw->pw_name) >= sizeof name)
		return 0;	/* too long a name: its cache does not count, as before */
	if (fstatat(rfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(st.st_mode) && st.st_uid == pw->pw_uid && st.st_nlink == 1)
			return 0;
		if (unlinkat(rfd, name, 0) < 0) {
			report(LOG_ERR, "cannot remove %s/%s, which is not %s's: %s", root, name,
			    pw->pw_name, strerror(errno));
			return -1;
		}
	}
	if ((fd = openat(rfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0 ||
	    fchown(fd, pw->pw_uid, pw->pw_gid) < 0) {
		report(LOG_ERR, "cannot make %s/%s for %s: %s", root, name, pw->pw_name,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
prepare_run(const char *root, const char *user)
{
	const char *type = getenv("PAM_TYPE");
	struct passwd *pw, me;
	int rfd, r;

	if (type && strcmp(type, "open_session") != 0)
		return 0;	/* pam_exec in the session stack runs us at close too */
	if (getuid() != 0 || geteuid() != 0) {
		fprintf(stderr, "roamctl: prepare makes the users' caches: run it as root (the PAM "
		    "session stack does, before pam_mount)\n");
		return 2;
	}
	if (user == NULL && (user = getenv("PAM_USER")) == NULL) {
		fprintf(stderr, "roamctl: prepare takes a user name (or runs from pam_exec, which "
		    "gives PAM_USER)\n");
		return 2;
	}
	if (user[0] == '\0' || user[0] == '.' || strchr(user, '/') ||
	    (pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "roamctl: prepare: no user \"%s\" on this workstation\n", user);
		return 2;
	}
	if (pw->pw_uid == 0)
		return 0;	/* root's roamfs makes its own cache */
	/* getpwuid (in the messages) reuses getpwnam's storage. */
	me = *pw;
	if ((me.pw_name = strdup(pw->pw_name)) == NULL) {
		fprintf(stderr, "roamctl: out of memory\n");
		return 1;
	}
	if ((rfd = open_root(root)) < 0) {
		free(me.pw_name);
		return 1;
	}
	r = prepare_cache(rfd, root, &me) < 0 || prepare_usage(rfd, root, &me) < 0;
	close(rfd);
	free(me.pw_name);
	return r;
}
