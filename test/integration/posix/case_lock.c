/*
 * case_lock: POSIX record locks and flock, seen from a second process
 * (SQLite databases such as browser profiles in a home depend on them).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posix.h"

/* In a child process, open PATH and try a non-blocking lock of kind HOW
 * ('r' record write lock, 'f' flock); return its errno, 0, or -1 on failure. */
static int
lock_try_in_child(const char *path, char how)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int status, fd, rc;
	pid_t pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open(path, O_RDWR)) < 0)
			_exit(200);
		rc = how == 'r' ? fcntl(fd, F_SETLK, &fl) : flock(fd, LOCK_EX | LOCK_NB);
		_exit(rc == 0 ? 0 : (errno & 0x7f));
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Print the child's attempt: "child lock = 0" or "= -1 EAGAIN". */
static void
lock_show_child(const char *step, const char *path, char how)
{
	int r = lock_try_in_child(path, how);

	if (r < 0 || r == 200)
		rep(step, "child could not run");
	else if (r == 0)
		rep(step, "child lock = 0");
	else
		rep(step, "child lock = -1 %s", errname(r));
}

/* A held lock blocks another process; released, it does not. */
void
case_lock_conflict(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	fix_put("db", "sqlite-like");
	fd = OPEN("open", open("db", O_RDWR));
	if (fd < 0)
		return;
	CALL("setlk", fcntl(fd, F_SETLK, &fl));
	lock_show_child("setlk-child-blocked", "db", 'r');
	CALL("getlk", fcntl(fd, F_GETLK, &probe));
	rep("getlk-own-lock-free", "%s", probe.l_type == F_UNLCK ? "yes" : "no");
	fl.l_type = F_UNLCK;
	CALL("unlock", fcntl(fd, F_SETLK, &fl));
	lock_show_child("setlk-child-after-unlock", "db", 'r');
	CALL("flock", flock(fd, LOCK_EX | LOCK_NB));
	lock_show_child("flock-child-blocked", "db", 'f');
	CALL("flock-unlock", flock(fd, LOCK_UN));
	lock_show_child("flock-child-after-unlock", "db", 'f');
	close(fd);
}
