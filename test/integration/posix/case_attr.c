/*
 * case_attr: chmod and fchmod, chown, utimensat/futimens with explicit
 * times, UTIME_OMIT and UTIME_NOW, and when mtime moves by itself.
 * Times are only ever compared with values the case set or just read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

#define T_OLD 1000000000	/* 2001-09-09: safely in the past */

/* Print whether PATH's atime and mtime equal A and M (seconds, then nanoseconds). */
static void
show_times(const char *step_sec, const char *step_nsec, const char *path,
    const struct timespec *a, const struct timespec *m, int follow)
{
	struct stat st;
	int rc;

	rc = follow ? stat(path, &st) : lstat(path, &st);
	if (rc < 0) {
		rep(step_sec, "stat = -1 %s", errname(errno));
		return;
	}
	rep(step_sec, "atime sec == set: %s, mtime sec == set: %s",
	    st.st_atim.tv_sec == a->tv_sec ? "yes" : "no",
	    st.st_mtim.tv_sec == m->tv_sec ? "yes" : "no");
	if (step_nsec != NULL)
		rep(step_nsec, "atime nsec kept: %s, mtime nsec kept: %s",
		    st.st_atim.tv_nsec == a->tv_nsec ? "yes" : "no",
		    st.st_mtim.tv_nsec == m->tv_nsec ? "yes" : "no");
}

/* Print whether PATH's mtime lies within [LO - 2 s, HI + 2 s]. */
static void
show_mtime_near(const char *step, const char *path, time_t lo, time_t hi)
{
	struct stat st;

	if (stat(path, &st) < 0)
		rep(step, "stat = -1 %s", errname(errno));
	else
		rep(step, "mtime is now: %s",
		    st.st_mtim.tv_sec >= lo - 2 && st.st_mtim.tv_sec <= hi + 2 ? "yes" : "no");
}

/* Print whether PATH's mtime is later than T_OLD (it was set to T_OLD). */
static void
show_advanced(const char *step, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		rep(step, "stat = -1 %s", errname(errno));
	else
		rep_yes(step, st.st_mtim.tv_sec > T_OLD);
}

/* Set PATH's atime and mtime to T_OLD; prints only on failure. */
static void
set_old(const char *path)
{
	struct timespec ts[2] = { { T_OLD, 0 }, { T_OLD, 0 } };

	if (utimensat(AT_FDCWD, path, ts, 0) < 0)
		rep_setup("utimensat old", errno);
}

/* chmod and fchmod, including set-id and sticky bits. */
void
case_attr_chmod(void)
{
	int fd;

	fix_put("f", "F");
	CALL("chmod-600", chmod("f", 0600));
	fix_show_stat("stat-600", "f", 0);
	CALL("chmod-000", chmod("f", 0000));
	fix_show_stat("stat-000", "f", 0);
	CALL("chmod-4755", chmod("f", 04755));
	fix_show_stat("stat-4755", "f", 0);
	CALL("chmod-2755", chmod("f", 02755));
	fix_show_stat("stat-2755", "f", 0);
	CALL("mkdir", mkdir("d", 0755));
	CALL("chmod-dir-1777", chmod("d", 01777));
	fix_show_stat("stat-dir-1777", "d", 0);
	CALL("chmod-missing", chmod("missing", 0644));
	fd = OPEN("open", open("f", O_RDONLY));
	if (fd >= 0) {
		CALL("fchmod-640", fchmod(fd, 0640));
		fix_show_fstat("fstat-640", fd);
		close(fd);
	}
	fix_show_stat("stat-640", "f", 0);
	CALL("symlink", symlink("f", "l"));
	CALL("chmod-via-link", chmod("l", 0604));
	fix_show_stat("target-mode", "f", 0);
	fix_show_stat("link-mode", "l", 0);
}

/* chown to myself and (as root) to another user; chown clears set-user-ID. */
void
case_attr_chown(void)
{
	fix_put("f", "F");
	CALL("chown-me", chown("f", geteuid(), getegid()));
	fix_show_stat("stat-me", "f", 0);
	CALL("chmod-4755", chmod("f", 04755));
	CALL("chown-other", chown("f", 65534, 65534));
	fix_show_stat("stat-other", "f", 0);
	CALL("chown-back", chown("f", geteuid(), getegid()));
	CALL("chown-keep", chown("f", (uid_t)-1, (gid_t)-1));
	fix_show_stat("stat-back", "f", 0);
}

/* Explicit times with nanoseconds, UTIME_OMIT, UTIME_NOW, futimens, symlinks. */
void
case_attr_utimens(void)
{
	struct timespec ts[2] = { { T_OLD, 123456789 }, { 1100000000, 987654321 } };
	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 1200000000, 0 } };
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct timespec ft[2] = { { 1300000000, 0 }, { 1300000000, 0 } };
	struct timespec lt[2] = { { 1400000000, 0 }, { 1400000000, 0 } };
	time_t lo;
	int fd;

	fix_put("f", "F");
	CALL("utimensat-explicit", utimensat(AT_FDCWD, "f", ts, 0));
	show_times("explicit-sec", "explicit-nsec", "f", &ts[0], &ts[1], 1);
	CALL("utimensat-omit-atime", utimensat(AT_FDCWD, "f", omit, 0));
	show_times("omit-sec", NULL, "f", &ts[0], &omit[1], 1);
	lo = time(NULL);
	CALL("utimensat-now", utimensat(AT_FDCWD, "f", now, 0));
	show_mtime_near("now-mtime", "f", lo, time(NULL));
	set_old("f");
	lo = time(NULL);
	CALL("utimensat-null", utimensat(AT_FDCWD, "f", NULL, 0));
	show_mtime_near("null-mtime", "f", lo, time(NULL));
	fd = OPEN("open", open("f", O_RDWR));
	if (fd >= 0) {
		CALL("futimens", futimens(fd, ft));
		close(fd);
	}
	show_times("futimens-sec", NULL, "f", &ft[0], &ft[1], 1);
	CALL("utimensat-missing", utimensat(AT_FDCWD, "missing", ts, 0));
	CALL("symlink", symlink("f", "l"));
	set_old("f");
	CALL("utimensat-nofollow", utimensat(AT_FDCWD, "l", lt, AT_SYMLINK_NOFOLLOW));
	show_times("nofollow-link", NULL, "l", &lt[0], &lt[1], 0);
	show_advanced("nofollow-target-changed", "f");
}

/* mtime moves on write, ftruncate and directory changes, and not on chmod. */
void
case_attr_mtime(void)
{
	int fd;

	fix_put("f", "F");
	set_old("f");
	fd = OPEN("open", open("f", O_WRONLY));
	if (fd < 0)
		return;
	CALL("write", write(fd, "more", 4));
	close(fd);
	show_advanced("advanced-after-write", "f");
	set_old("f");
	CALL("truncate", truncate("f", 1));
	show_advanced("advanced-after-truncate", "f");
	set_old("f");
	CALL("chmod", chmod("f", 0600));
	show_advanced("advanced-after-chmod", "f");
	CALL("mkdir", mkdir("d", 0755));
	set_old("d");
	fix_put("d/new", "N");
	show_advanced("dir-advanced-after-create", "d");
	set_old("d");
	CALL("unlink", unlink("d/new"));
	show_advanced("dir-advanced-after-unlink", "d");
	set_old("d");
	CALL("rename-in", rename("f", "d/f"));
	show_advanced("dir-advanced-after-rename-in", "d");
	set_old("d");
	CALL("chmod-entry", chmod("d/f", 0644));
	show_advanced("dir-advanced-after-entry-chmod", "d");
}
