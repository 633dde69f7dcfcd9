/*
 * cache: checks, lock and content files of the cache directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "cache.h"
#include "cachekey.h"
#include "fscrypt.h"
#include "siteconf.h"

/* The reserve: 1/64 of the cache's filesystem, from 1 to 8 MiB (reserve_size). */
#define RESERVE_MIN	((int64_t)1 << 20)
#define RESERVE_MAX	((int64_t)8 << 20)

struct cache {
	char *dir;
	char *dbdir;
	int dirfd, datafd, tmpfd, lockfd;
	unsigned tmpseq;
	int encrypted;			/* its key was added: removed at close */
	uint8_t keyid[FSCRYPT_ID_SIZE];
	/* What opening it did that the log must tell (the log file opens
	 * after the cache: cache_log_notes). */
	int note_prio[2];
	char *note[2];
};

static void __attribute__((format(printf, 3, 4)))
note(struct cache *c, int prio, const char *fmt, ...)
{
	va_list ap;
	int i = c->note[0] ? 1 : 0;

	if (c->note[i])
		return;
	va_start(ap, fmt);
	if (vasprintf(&c->note[i], fmt, ap) < 0)
		c->note[i] = NULL;
	va_end(ap);
	c->note_prio[i] = prio;
}

#define KEY_FILE	"key"
#define STATE_FILE	"state"
#define KEY_TEXT_MAX	4096
/* The encrypted directories of an encrypted cache. */
static const char *const crypt_dirs[] = { "db", "data", "tmp" };
#define NCRYPT_DIRS	(sizeof crypt_dirs / sizeof crypt_dirs[0])

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

/* ---- encryption ---- */

/* The small file dirfd/name (at most KEY_TEXT_MAX bytes) as a string. */
int
cache_read_small(int dirfd, const char *name, char **text)
{
	char *b;
	ssize_t n;
	int fd;

	*text = NULL;
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if ((b = malloc(KEY_TEXT_MAX + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, b, KEY_TEXT_MAX);
	close(fd);
	if (n < 0) {
		free(b);
		return -errno;
	}
	b[n] = '\0';
	*text = b;
	return 0;
}

/* Write dirfd/name whole or not at all (a temporary file, fsync, rename), 0600. */
int
cache_write_small(int dirfd, const char *name, const char *text)
{
	char tmp[64];
	size_t len = strlen(text);
	int fd, r = 0;

	snprintf(tmp, sizeof tmp, ".%s.new", name);
	(void)unlinkat(dirfd, tmp, 0);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

/* Remove pfd/name and all it holds (without the key, names are opaque but removable). */
int
cache_remove_tree(int pfd, const char *name, int depth)
{
	struct dirent *d;
	int fd, e, r = 0;
	DIR *dir;

	if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > 8)
		return depth > 8 ? -ELOOP : -errno;
	if ((fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if ((dir = fdopendir(fd)) == NULL) {
		e = -errno;
		close(fd);
		return e;
	}
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") &&
		    (e = cache_remove_tree(dirfd(dir), d->d_name, depth + 1)) < 0)
			r = e;
	closedir(dir);
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Whether dirfd/name is missing or an empty directory. */
static int
missing_or_empty(int dirfd, const char *name)
{
	struct dirent *d;
	int fd, empty = 1;
	DIR *dir;

	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while (empty && (d = readdir(dir)) != NULL)
		empty = !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..");
	closedir(dir);
	return empty;
}

/* Whether DIR/state says every change of the cache reached the server. */
static int
state_clean(const struct cache *c)
{
	char *t = NULL;
	int clean = cache_read_small(c->dirfd, STATE_FILE, &t) == 0 && strcmp(t, "clean\n") == 0;

	free(t);
	return clean;
}

/* The three directories, made empty with the key's policy (or checked to have it). */
static int
crypt_dirs_ready(struct cache *c, char **cause)
{
	uint8_t id[FSCRYPT_ID_SIZE];
	size_t i;
	int fd, r;

	for (i = 0; i < NCRYPT_DIRS; i++) {
		if (mkdirat(c->dirfd, crypt_dirs[i], 0700) < 0 && errno != EEXIST)
			return cache_fail(cause, -errno, "cannot create a directory in the cache %s: %s",
			    c->dir);
		if ((fd = openat(c->dirfd, crypt_dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			return cache_fail(cause, -errno, "cannot open a directory in the cache %s: %s",
			    c->dir);
		if ((r = fscrypt_policy_of(fd, id)) == 0)
			r = fscrypt_set_policy(fd, c->keyid);
		else if (r == 1)
			r = memcmp(id, c->keyid, sizeof id) == 0 ? 0 : -EINVAL;
		close(fd);
		if (r < 0) {
			if (asprintf(cause, "the encrypted cache %s is damaged (%s/%s: %s): remove it "
			    "(rm -r %s) once its changes are on the server; a new one is made at the "
			    "next mount", c->dir, c->dir, crypt_dirs[i],
			    r == -EINVAL ? "another key" : strerror(-r), c->dir) < 0)
				*cause = NULL;
			return r;
		}
	}
	return 0;
}

/* A new encrypted cache: a random key, wrapped in DIR/key, added, the directories made. */
static int
crypt_new(struct cache *c, const char *password, char **cause)
{
	uint8_t key[CACHEKEY_SIZE];
	char *text = NULL;
	int r;

	if ((r = cachekey_random(key)) < 0 ||
	    (r = cachekey_wrap(password, key, &cachekey_default, &text)) < 0 ||
	    (r = cache_write_small(c->dirfd, KEY_FILE, text)) < 0 ||
	    (r = fscrypt_add_key(c->dirfd, key, c->keyid)) < 0) {
		explicit_bzero(key, sizeof key);
		free(text);
		(void)unlinkat(c->dirfd, KEY_FILE, 0);
		return cache_fail(cause, r, "cannot make the key of the encrypted cache %s: %s", c->dir);
	}
	explicit_bzero(key, sizeof key);
	free(text);
	c->encrypted = 1;
	note(c, LOG_INFO, "the cache %s is encrypted with a key wrapped with your login password",
	    c->dir);
	return crypt_dirs_ready(c, cause);
}

/* Open the key of DIR/key with the password and add it. */
static int
crypt_open(struct cache *c, const char *password, char **cause)
{
	uint8_t key[CACHEKEY_SIZE];
	char *text = NULL;
	int r;

	if ((r = cache_read_small(c->dirfd, KEY_FILE, &text)) < 0)
		return cache_fail(cause, r, "cannot read the key of the encrypted cache %s: %s", c->dir);
	r = cachekey_unwrap(password, text, key);
	free(text);
	if (r == -EKEYREJECTED) {
		if (asprintf(cause, "your password does not open the encrypted cache %s", c->dir) < 0)
			*cause = NULL;
		return r;
	}
	if (r == 0)
		r = fscrypt_add_key(c->dirfd, key, c->keyid);
	explicit_bzero(key, sizeof key);
	if (r < 0) {
		if (r == -EINVAL && asprintf(cause, "the key file %s/%s is damaged: remove the cache "
		    "(rm -r %s); a new one is made at the next mount", c->dir, KEY_FILE, c->dir) >= 0)
			return r;
		return cache_fail(cause, r, "cannot open the encrypted cache %s: %s", c->dir);
	}
	c->encrypted = 1;
	return crypt_dirs_ready(c, cause);
}

/*
 * The password was changed on the server: the key no longer opens.  A
 * cache whose changes all reached the server is made anew; otherwise its
 * encrypted parts go to DIR/locked-DATE-TIME, kept for the old password.
 */
static int
crypt_changed(struct cache *c, char **cause)
{
	char aside[64], stamp[32], path[96];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int r;

	if (state_clean(c)) {
		for (i = 0; i < NCRYPT_DIRS; i++)
			if ((r = cache_remove_tree(c->dirfd, crypt_dirs[i], 0)) < 0)
				return cache_fail(cause, r, "cannot clear the cache %s for your new "
				    "password: %s", c->dir);
		(void)unlinkat(c->dirfd, KEY_FILE, 0);
		note(c, LOG_NOTICE, "your password changed: the cache %s, whose changes were all on the "
		    "server, is made anew", c->dir);
		return 0;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	snprintf(aside, sizeof aside, "locked-%s", stamp);
	if (mkdirat(c->dirfd, aside, 0700) < 0)
		return cache_fail(cause, -errno, "cannot keep the old cache in %s aside: %s", c->dir);
	for (i = 0; i < NCRYPT_DIRS; i++) {
		snprintf(path, sizeof path, "%s/%s", aside, crypt_dirs[i]);
		if (renameat(c->dirfd, crypt_dirs[i], c->dirfd, path) < 0 && errno != ENOENT)
			return cache_fail(cause, -errno, "cannot keep the old cache in %s aside: %s",
			    c->dir);
	}
	snprintf(path, sizeof path, "%s/%s", aside, KEY_FILE);
	if (renameat(c->dirfd, KEY_FILE, c->dirfd, path) < 0)
		return cache_fail(cause, -errno, "cannot keep the old cache in %s aside: %s", c->dir);
	note(c, LOG_WARNING, "your password changed, and the cache %s held changes made here that may not "
	    "be on the server: they are kept in %s/%s, locked with your old password; a new "
	    "cache is made: after this session, roamctl recover %s/%s (your old password, then "
	    "the new one) puts them back, to go at the next login", c->dir, c->dir, aside,
	    c->dir, aside);
	return 0;
}

/* Set up the encryption of the cache (lock held), before its directories are opened. */
static int
cache_crypt(struct cache *c, const struct cache_opts *o, char **cause)
{
	struct stat st;
	size_t i;
	int r, fresh, can;

	if (fstatat(c->dirfd, KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (o->password == NULL) {
			if (asprintf(cause, "the cache %s is encrypted with your login password, and "
			    "this login gave none (a key login): log in with your password", c->dir) < 0)
				*cause = NULL;
			return -EACCES;
		}
		if ((r = crypt_open(c, o->password, cause)) != -EKEYREJECTED || !o->password_changed)
			return r;
		free(*cause);
		*cause = NULL;
		if ((r = crypt_changed(c, cause)) < 0)
			return r;
	}
	for (fresh = 1, i = 0; i < NCRYPT_DIRS && fresh; i++)
		fresh = missing_or_empty(c->dirfd, crypt_dirs[i]);
	if (o->encrypt == SITECONF_ENCRYPT_NO)
		return 0;
	if (!fresh) {
		/* A plain cache made before: made anew encrypted once all of it
		 * is on the server; until then it stays plain, unless required
		 * and it never can be (refused below). */
		can = o->password && fscrypt_can(c->dirfd) == 1;
		if (!can || !state_clean(c)) {
			if (o->encrypt != SITECONF_ENCRYPT_REQUIRED)
				return 0;
			if (can) {
				note(c, LOG_WARNING, "the cache %s was made before it was encrypted: "
				    "it is made anew encrypted at the first login after all of it "
				    "reached the server", c->dir);
				return 0;
			}
		} else {
			for (i = 0; i < NCRYPT_DIRS; i++)
				if ((r = cache_remove_tree(c->dirfd, crypt_dirs[i], 0)) < 0)
					return cache_fail(cause, r, "cannot clear the plain cache %s "
					    "to encrypt it: %s", c->dir);
			note(c, LOG_NOTICE, "the plain cache %s is made anew, encrypted", c->dir);
		}
	}
	if (o->password == NULL) {
		if (o->encrypt != SITECONF_ENCRYPT_REQUIRED)
			return 0;
		if (asprintf(cause, "cache_encrypt = required, and this login gave no password to "
		    "encrypt the cache %s with (a key login): log in with your password", c->dir) < 0)
			*cause = NULL;
		return -EACCES;
	}
	if ((r = fscrypt_can(c->dirfd)) != 1) {
		if (o->encrypt != SITECONF_ENCRYPT_REQUIRED)
			return 0;
		if (asprintf(cause, "cache_encrypt = required, and the file system of the cache %s "
		    "cannot encrypt%s%s: turn its encrypt feature on (ext4: tune2fs -O encrypt "
		    "DEVICE), or set cache_root on one that can", c->dir, r < 0 ? ": " : "",
		    r < 0 ? strerror(-r) : "") < 0)
			*cause = NULL;
		return -EOPNOTSUPP;
	}
	return crypt_new(c, o->password, cause);
}

/*
 * The encrypted cache open in this process: a roamfs that stops on a
 * fatal error after opening it (exit) removes its key all the same.
 */
static struct cache *open_encrypted;

static void
crypt_atexit(void)
{
	if (open_encrypted && open_encrypted->encrypted)
		(void)fscrypt_remove_key(open_encrypted->dirfd, open_encrypted->keyid);
}

void
cache_log_notes(struct cache *c)
{
	int i;

	for (i = 0; i < 2; i++)
		if (c->note[i]) {
			log_msg(c->note_prio[i], "cache_open", "%s", c->note[i]);
			free(c->note[i]);
			c->note[i] = NULL;
		}
}

int
cache_encrypted(const struct cache *c)
{
	return c->encrypted;
}

void
cache_set_state(struct cache *c, int clean)
{
	int r = cache_write_small(c->dirfd, STATE_FILE, clean ? "clean\n" : "dirty\n");

	if (r < 0)
		log_warn("cannot write %s/%s: %s", c->dir, STATE_FILE, strerror(-r));
}

static int cache_open_once(const char *, uid_t, const struct cache_opts *, struct cache **,
    char **);

int
cache_open(const char *dir, uid_t uid, const struct cache_opts *o, struct cache **out,
    char **cause)
{
	int r, tries = 0;

	while ((r = cache_open_once(dir, uid, o, out, cause)) == -EAGAIN && ++tries < 3)
		;
	if (r == -EAGAIN && *cause == NULL &&
	    asprintf(cause, "the cache %s was removed again and again while opening it: "
	    "stop what removes it (roamctl gc?) and log in again", dir) < 0)
		*cause = NULL;
	return r;
}

static int
cache_open_once(const char *dir, uid_t uid, const struct cache_opts *o, struct cache **out,
    char **cause)
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
	    (r = cache_crypt(c, o, cause)) < 0 ||
	    (r = cache_subdir(c, "data", &c->datafd, cause)) < 0 ||
	    (r = cache_subdir(c, "tmp", &c->tmpfd, cause)) < 0 ||
	    (r = cache_subdir(c, "db", &junk, cause)) < 0)
		goto fail;
	close(junk);
	cache_write_pid(c);
	if (c->encrypted) {
		static int registered;

		if (!registered && atexit(crypt_atexit) == 0)
			registered = 1;
		open_encrypted = c;
	}
	*out = c;
	return 0;
fail:
	cache_close(c);
	return r;
}

void
cache_close(struct cache *c)
{
	int r;

	if (c == NULL)
		return;
	if (open_encrypted == c)
		open_encrypted = NULL;
	if (c->datafd >= 0)
		close(c->datafd);
	if (c->tmpfd >= 0)
		close(c->tmpfd);
	/* On the cache directory, which is not encrypted itself. */
	if (c->encrypted && (r = fscrypt_remove_key(c->dirfd, c->keyid)) != 0)
		log_warn("the key of the encrypted cache %s is not removed yet (%s): its files "
		    "stay readable until they are closed", c->dir, r > 0 ? "files still open" :
		    strerror(-r));
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->note[0]);
	free(c->note[1]);
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
