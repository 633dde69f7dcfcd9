/*
 * cache: checks, lock and content files of the cache directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "roam/log.h"
#include "cache.h"

/* The reserve: 1/64 of the cache's filesystem, from 1 to 8 MiB (reserve_size). */
#define RESERVE_MIN	((int64_t)1 << 20)
#define RESERVE_MAX	((int64_t)8 << 20)

struct cache {
	char *dir;
	char *dbdir;
	int dirfd, datafd, tmpfd, lockfd;
	unsigned tmpseq;
};

/* What to do about an error of the cache's disk, as the end of a message. */
static const char *
cache_hint(int err)
{
	switch (-err) {
	case ENOSPC:
	case EDQUOT:
		return ": free space on its disk, or choose another with -o cache=DIR";
	case EROFS:
		return ": mount its file system read-write, or choose another cache with "
		    "-o cache=DIR";
	case EIO:
		return ": its disk may be failing (see dmesg); choose another cache with "
		    "-o cache=DIR";
	default:
		return "";
	}
}

/* *cause = fmt with the cache directory and strerror(-err), then the hint. */
static int
cache_fail(char **cause, int err, const char *fmt, const char *dir)
{
	char *m;

	if (asprintf(&m, fmt, dir, strerror(-err)) < 0)
		m = NULL;
	if (m == NULL || asprintf(cause, "%s%s", m, cache_hint(err)) < 0)
		*cause = NULL;
	free(m);
	return err;
}

/* The reserve for a file system: 1/64 of it, from 1 to 8 MiB. */
static int64_t
reserve_size(const struct statvfs *vfs)
{
	int64_t size = (int64_t)vfs->f_blocks * (int64_t)vfs->f_frsize / 64;

	return size < RESERVE_MIN ? RESERVE_MIN : size > RESERVE_MAX ? RESERVE_MAX : size;
}

char *
cache_default_dir(const char *user)
{
	char *d;

	if (asprintf(&d, "%s/cache/roamfs/%s", LOCALSTATEDIR, user) < 0)
		return NULL;
	return d;
}

static int
cache_mkdir(const char *dir, char **cause)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT)
		return cache_fail(cause, -errno, "cannot create the cache directory %s: %s "
		    "(create its parent, or choose another with -o cache=DIR)", dir);
	return cache_fail(cause, -errno, "cannot create the cache directory %s: %s", dir);
}

/*
 * A new cache (one without a database yet) is only made where it has room
 * to work: its reserve and as much again, as cache_reserve_keep() asks.
 * A cache on a disk that filled up since still opens, so that the user can
 * delete files.  Called before anything is created; checks the disk of
 * the cache directory, or of its parent when it does not exist yet.
 */
static int
cache_new_room(const char *dir, char **cause)
{
	struct statvfs vfs;
	struct stat st;
	int64_t need, avail;
	char *p, *slash;
	int r;

	if (asprintf(&p, "%s/db/data.mdb", dir) < 0)
		return -ENOMEM;
	r = stat(p, &st) < 0 ? -errno : 0;
	free(p);
	if (r != -ENOENT)
		return 0;	/* there is a database, or the next steps say what is wrong */
	if ((p = strdup(dir)) == NULL)
		return -ENOMEM;
	if (stat(dir, &st) < 0 && (slash = strrchr(p, '/')) != NULL)
		slash[slash == p] = '\0';	/* the parent; "/" for "/x" */
	r = statvfs(p, &vfs);
	free(p);
	if (r < 0)
		return 0;	/* the next steps say what is wrong */
	need = 2 * reserve_size(&vfs);
	avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	if (avail >= need)
		return 0;
	if (asprintf(cause, "no room for a new cache in %s: its disk has %" PRId64 " KiB free "
	    "and a cache needs %" PRId64 " KiB; free space there, or choose another disk "
	    "with -o cache=DIR", dir, avail >> 10, need >> 10) < 0)
		*cause = NULL;
	return -ENOSPC;
}

static int
cache_check(int fd, const char *dir, uid_t uid, char **cause)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return cache_fail(cause, -errno, "cannot examine the cache directory %s: %s", dir);
	if (st.st_uid != uid) {
		if (asprintf(cause, "the cache directory %s belongs to uid %u, not to you "
		    "(uid %u): use your own with -o cache=DIR, or have an admin chown it",
		    dir, (unsigned)st.st_uid, (unsigned)uid) < 0)
			*cause = NULL;
		return -EPERM;
	}
	if (st.st_mode & 077) {
		if (asprintf(cause, "the cache directory %s is open to other users "
		    "(mode %03o): run chmod 700 %s", dir, st.st_mode & 0777, dir) < 0)
			*cause = NULL;
		return -EPERM;
	}
	return 0;
}

/* How long a lock held by no running roamfs (roamctl gc's) is waited for. */
#define LOCK_WAIT_MS	30000
#define LOCK_POLL_MS	100

/* 1 if process pid has exited and waits to be reaped (a roamfs no more). */
static int
zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* "PID (COMM) STATE ...": COMM may hold anything, so the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2] == 'Z' || p[2] == 'X';
}

/* The pid in the lock file, into pid (size n); 1 if that process runs. */
static int
lock_holder(int fd, char *pid, size_t n)
{
	ssize_t r = pread(fd, pid, n - 1, 0);
	long v;
	char *end;

	pid[r > 0 ? r : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	v = strtol(pid, &end, 10);
	if (*pid == '\0' || *end != '\0' || v <= 0 || v == (long)getpid())
		return 0;
	if (kill((pid_t)v, 0) < 0 && errno != EPERM)
		return 0;
	return !zombie((pid_t)v);
}

/*
 * Take the cache's lock.  A roamfs running on the cache (the pid the lock
 * holds is alive) refuses at once.  A lock held by anything else is
 * roamctl gc looking at an idle cache: that takes seconds, and a login
 * must not fail for it, so it is waited for.  -EAGAIN: gc removed the
 * cache meanwhile (the lock file is gone); open it again from the start.
 */
static int
cache_lock(struct cache *c, char **cause)
{
	char pid[32];
	struct stat st;
	int waited = 0, told = 0;

	c->lockfd = openat(c->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lockfd < 0)
		return cache_fail(cause, -errno, "cannot create the lock file in %s: %s", c->dir);
	while (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (lock_holder(c->lockfd, pid, sizeof pid) || waited >= LOCK_WAIT_MS) {
			if (asprintf(cause, "the cache %s is in use by another roamfs (pid %s): "
			    "unmount that one first, or use another -o cache=DIR",
			    c->dir, *pid ? pid : "unknown") < 0)
				*cause = NULL;
			return -EBUSY;
		}
		if (!told++)
			log_notice("the cache %s is locked by a program that is not a running "
			    "roamfs (roamctl gc?): waiting up to %d s for it", c->dir,
			    LOCK_WAIT_MS / 1000);
		usleep(LOCK_POLL_MS * 1000);
		waited += LOCK_POLL_MS;
	}
	if (told && fstat(c->lockfd, &st) == 0 && st.st_nlink == 0) {
		log_notice("the cache %s was removed while waiting for its lock: making it anew",
		    c->dir);
		return -EAGAIN;
	}
	return 0;
}

void
cache_write_pid(struct cache *c)
{
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());

	/* Over the old pid, then cut: on a full disk the block is kept. */
	if (pwrite(c->lockfd, pid, n, 0) == n && ftruncate(c->lockfd, n) < 0)
		return;
}

static int
cache_subdir(struct cache *c, const char *name, int *fd, char **cause)
{
	if (mkdirat(c->dirfd, name, 0700) < 0 && errno != EEXIST)
		return cache_fail(cause, -errno, "cannot create a directory in the cache %s: %s", c->dir);
	*fd = openat(c->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return cache_fail(cause, -errno, "cannot open a directory in the cache %s: %s", c->dir);
	return 0;
}

static int cache_open_once(const char *, uid_t, struct cache **, char **);

int
cache_open(const char *dir, uid_t uid, struct cache **out, char **cause)
{
	int r, tries = 0;

	while ((r = cache_open_once(dir, uid, out, cause)) == -EAGAIN && ++tries < 3)
		;
	if (r == -EAGAIN && *cause == NULL &&
	    asprintf(cause, "the cache %s was removed again and again while opening it: "
	    "stop what removes it (roamctl gc?) and log in again", dir) < 0)
		*cause = NULL;
	return r;
}

static int
cache_open_once(const char *dir, uid_t uid, struct cache **out, char **cause)
{
	struct cache *c;
	int r, junk;

	*cause = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -ENOMEM;
	c->dirfd = c->datafd = c->tmpfd = c->lockfd = -1;
	c->dir = strdup(dir);
	if (c->dir == NULL || asprintf(&c->dbdir, "%s/db", dir) < 0) {
		cache_close(c);
		return -ENOMEM;
	}
	if ((r = cache_new_room(dir, cause)) < 0 || (r = cache_mkdir(dir, cause)) < 0)
		goto fail;
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (c->dirfd < 0) {
		r = cache_fail(cause, -errno, "cannot open the cache directory %s: %s "
		    "(it must be a directory, not a symbolic link)", dir);
		goto fail;
	}
	if ((r = cache_check(c->dirfd, dir, uid, cause)) < 0 ||
	    (r = cache_lock(c, cause)) < 0 ||
	    (r = cache_subdir(c, "data", &c->datafd, cause)) < 0 ||
	    (r = cache_subdir(c, "tmp", &c->tmpfd, cause)) < 0 ||
	    (r = cache_subdir(c, "db", &junk, cause)) < 0)
		goto fail;
	close(junk);
	cache_write_pid(c);
	*out = c;
	return 0;
fail:
	cache_close(c);
	return r;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->datafd >= 0)
		close(c->datafd);
	if (c->tmpfd >= 0)
		close(c->tmpfd);
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	free(c->dbdir);
	free(c);
}

const char *
cache_dir(const struct cache *c)
{
	return c->dir;
}

const char *
cache_db_dir(const struct cache *c)
{
	return c->dbdir;
}

int
cache_data_fd(const struct cache *c)
{
	return c->datafd;
}

int
cache_tmp_fd(const struct cache *c)
{
	return c->tmpfd;
}

static void
cache_name(char *buf, uint64_t ino)
{
	snprintf(buf, 24, "%016" PRIx64, ino);
}

int
cache_file_open(struct cache *c, uint64_t ino, int flags)
{
	char name[24];
	int fd;

	cache_name(name, ino);
	fd = openat(c->datafd, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

int64_t
cache_file_size(struct cache *c, uint64_t ino)
{
	struct stat st;
	int fd = cache_file_open(c, ino, O_RDONLY), r = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	close(fd);
	return r < 0 ? r : (int64_t)st.st_size;
}

int
cache_file_unlink(struct cache *c, uint64_t ino)
{
	char name[24];

	cache_name(name, ino);
	if (unlinkat(c->datafd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int
cache_tmp_open(struct cache *c, uint64_t ino, char *name)
{
	int fd;

	snprintf(name, 64, "%016" PRIx64 ".%ld.%u", ino, (long)getpid(),
	    __atomic_add_fetch(&c->tmpseq, 1, __ATOMIC_RELAXED));
	fd = openat(c->tmpfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

int
cache_tmp_commit(struct cache *c, const char *name, uint64_t ino)
{
	char dst[24];

	cache_name(dst, ino);
	if (renameat(c->tmpfd, name, c->datafd, dst) < 0)
		return -errno;
	return 0;
}

void
cache_tmp_discard(struct cache *c, const char *name)
{
	unlinkat(c->tmpfd, name, 0);
}

int64_t
cache_free_bytes(struct cache *c)
{
	struct statvfs st;

	if (fstatvfs(c->datafd, &st) < 0)
		return -errno;
	return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

/*
 * The reserve is a file of zeros that holds space back, so that on a full
 * disk a deletion can still be recorded (an LMDB commit needs new pages)
 * and free the space the user asks it to free.
 */
int
cache_reserve_keep(struct cache *c)
{
	struct statvfs vfs;
	struct stat st;
	int64_t size, avail;
	int fd, r;

	if (fstatvfs(c->dirfd, &vfs) < 0)
		return -errno;
	size = reserve_size(&vfs);
	if (fstatat(c->dirfd, "reserve", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && (int64_t)st.st_blocks * 512 >= size)
		return 0;
	avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	if (avail < 2 * size)
		return -ENOSPC;
	fd = openat(c->dirfd, "reserve.new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0)
		return -errno;
	r = -posix_fallocate(fd, 0, (off_t)size);
	close(fd);
	if (r == 0 && renameat(c->dirfd, "reserve.new", c->dirfd, "reserve") < 0)
		r = -errno;
	if (r < 0)
		unlinkat(c->dirfd, "reserve.new", 0);
	return r;
}

const char *
cache_disk_hint(struct cache *c, int err)
{
	int64_t avail;

	/* LMDB reports a write cut short by the full disk as EIO. */
	if (err == -EIO && (avail = cache_free_bytes(c)) >= 0 && avail < RESERVE_MIN)
		err = -ENOSPC;
	return cache_hint(err);
}

int
cache_reserve_release(struct cache *c, int err)
{
	int64_t avail;

	/* LMDB reports a write cut short by the full disk as EIO. */
	if (err != -ENOSPC && err != -EIO)
		return 0;
	if (err == -EIO && ((avail = cache_free_bytes(c)) < 0 || avail >= RESERVE_MIN))
		return 0;
	if (unlinkat(c->dirfd, "reserve", 0) < 0)
		return 0;
	log_warn("the disk of the cache %s is full: its reserve was used so that a deletion or "
	    "an upload could be recorded; free space there, or the next changes will fail",
	    c->dir);
	return 1;
}
