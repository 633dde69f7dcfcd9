/*
 * main: start roamfs: check the options and the cache, reach the server,
 * mount, run until unmounted, then send what is left of the journal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "roam/path.h"
#include "control.h"
#include "detach.h"
#include "evict.h"
#include "fetch.h"
#include "flush.h"
#include "fs.h"
#include "notify.h"
#include "opts.h"
#include "prefetch.h"
#include "replay.h"
#include "secret.h"
#include "roamfs.h"
#include "siteconf.h"

#define MAP_SIZE	CACHE_MAP_SIZE	/* LMDB address space (cache.h) */
#define LOG_FILE_MAX	((off_t)1 << 20)	/* DIR/roamfs.log, then roamfs.log.1 */
#define LOGIN_RETRY_SECONDS 30	/* a handshake the server cut, at login */
#define WARM_RETRY_SECONDS 3	/* the same with a cache that has the home */

/* The budgets of the cached contents (evict.h), from the options. */
static struct evict_conf evict_conf;
/* The working set's bounds (prefetch.h), from the options. */
static struct prefetch_conf prefetch_conf;

/* Make a path absolute: roamfs changes to / when it becomes a daemon. */
static int
absolutise(char **p)
{
	char cwd[PATH_MAX], *n;

	if (*p == NULL || **p == '/')
		return 0;
	if (getcwd(cwd, sizeof cwd) == NULL || asprintf(&n, "%s/%s", cwd, *p) < 0)
		return -errno;
	free(*p);
	*p = n;
	return 0;
}

/*
 * The password from standard input (pam_mount and sshfs's password_stdin),
 * in a locked page left out of core dumps (secret.h).
 */
static char *
read_password(void)
{
	char *cause = NULL, *warn = NULL, *pw = secret_read_line(0, &cause, &warn);

	if (warn)
		log_warn("%s", warn);
	free(warn);
	if (pw == NULL)
		fatal("password_stdin: %s", cause ? cause : "out of memory");
	return pw;
}

static char *
local_user(void)
{
	struct passwd *pw = getpwuid(getuid());

	return pw ? strdup(pw->pw_name) : NULL;
}

static void
load_exclusions(struct roamfs *fs, const struct opts *o)
{
	const char *path = o->exclude ? o->exclude : exclude_default_path();
	char *cause = NULL;

	if (path == NULL)
		return;
	if (exclude_load(path, &fs->exclude, &cause) < 0)
		fatal("%s", cause ? cause : "cannot read the exclusion list");
	log_debug("exclusion list: %s", path);
}

/* Undo the octal escapes of a path in /proc/self/mountinfo (\040...), in place. */
static void
mountinfo_unescape(char *p)
{
	char *q = p;

	for (; *p; p++, q++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*q = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
			p += 3;
		} else
			*q = *p;
	}
	*q = '\0';
}

/*
 * The type of the file system mounted right on path (a canonical path),
 * the last one when several are stacked, or NULL.  Each line of
 * mountinfo is "id parent dev root MOUNTPOINT options [tags] - TYPE ...".
 */
static char *
mounted_at(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *type = NULL, *p, *e;
	size_t cap = 0;
	int i;

	if (f == NULL)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		for (p = line, i = 0; i < 4 && p; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		if (p == NULL || (e = strchr(p, ' ')) == NULL)
			continue;
		*e++ = '\0';
		mountinfo_unescape(p);
		if (strcmp(p, path) != 0 || (e = strstr(e, " - ")) == NULL)
			continue;
		e += 3;
		free(type);
		if ((type = strndup(e, strcspn(e, " \n"))) == NULL)
			fatal("out of memory");
	}
	free(line);
	fclose(f);
	return type;
}

/* Whether an executable fusermount3 is where libfuse looks: its path, then $PATH. */
static int
have_fusermount(void)
{
	const char *path = getenv("PATH");
	char *dirs, *d, *save = NULL, *f;
	int found;

	if (access(FUSERMOUNT_PATH, X_OK) == 0)
		return 1;
	if (path == NULL || (dirs = strdup(path)) == NULL)
		return 0;
	for (found = 0, d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&f, "%s/fusermount3", *d ? d : ".") < 0)
			fatal("out of memory");
		found = access(f, X_OK) == 0;
		free(f);
	}
	free(dirs);
	return found;
}

/*
 * What a FUSE mount needs besides the mount point: /dev/fuse that the
 * user may open (libfuse opens it in roamfs itself) and, for a user other
 * than root, fusermount3, which does the mount.  Checked before the
 * server is reached, so that the message names what is wrong.
 */
static void
check_fuse(void)
{
	struct stat st;

	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		if (errno == ENOENT)
			fatal("/dev/fuse is missing: load the fuse module (modprobe fuse)");
		if (errno == EACCES && stat("/dev/fuse", &st) == 0)
			fatal("you may not open /dev/fuse (mode %03o, owner uid %u): an admin must "
			    "make it 0666 (chmod 666 /dev/fuse), as Debian's udev rule does",
			    st.st_mode & 0777, (unsigned)st.st_uid);
		fatal("cannot use /dev/fuse: %s; check that the fuse module is loaded "
		    "(modprobe fuse)", strerror(errno));
	}
	if (geteuid() != 0 && !have_fusermount())
		fatal("cannot run fusermount3, which mounts FUSE file systems for users (not "
		    "at %s nor in PATH, or not executable): install fuse3 (apt-get install fuse3)",
		    FUSERMOUNT_PATH);
}

/*
 * Check the mount point before the cache is made and the server is
 * reached: a typo then costs no connection (nor its time-out), and the
 * message names the mount point.  The kernel checks ownership at mount;
 * a user must be able to write to it (fusermount3 asks that).
 */
static void
check_mountpoint(const char *mp)
{
	struct stat st;
	char *real, *type;

	if (stat(mp, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			fatal("mount point %s is not a directory: mount on a directory", mp);
		if ((real = realpath(mp, NULL)) != NULL && (type = mounted_at(real)) != NULL)
			fatal("mount point %s already has a file system mounted on it (%s): "
			    "unmount that first (%s %s), or mount elsewhere", mp, type,
			    strncmp(type, "fuse", 4) == 0 ? "fusermount3 -u" : "umount", mp);
		free(real);
		if (getuid() != 0 && access(mp, W_OK) < 0)
			fatal("you may not write to the mount point %s: mount on a directory "
			    "of yours", mp);
		return;
	}
	if (errno == ENOENT)
		fatal("mount point %s does not exist: create it (mkdir %s) or check its name", mp, mp);
	if (errno == ENOTCONN)
		fatal("mount point %s is the mount of a roamfs that has stopped: "
		    "unmount it first (fusermount3 -u %s)", mp, mp);
	fatal("cannot use mount point %s: %s", mp, strerror(errno));
}

/*
 * Files roamfs opens after the mount (the cache) or names itself (the
 * exclusion list) must not lie under the mount point: roamfs would wait on
 * itself.  The SSH files are checked by sftp_files_load.
 */
static void
check_outside(const struct opts *o)
{
	if (o->cache && path_within(o->cache, o->mountpoint))
		fatal("cache=%s lies under the mount point %s: choose a cache directory outside "
		    "it (the default is %s/cache/roamfs/USER)", o->cache, o->mountpoint, LOCALSTATEDIR);
	if (o->exclude && path_within(o->exclude, o->mountpoint))
		fatal("exclude=%s lies under the mount point %s, which roamfs cannot read once "
		    "mounted: keep the exclusion list outside it (as %s/roamfs/exclude.local)",
		    o->exclude, o->mountpoint, SYSCONFDIR);
}

/* ${XDG_CACHE_HOME:-$HOME/.cache}/roamfs/USER@HOST, or NULL. */
static char *
user_cache_dir(const struct opts *o)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char *dir = NULL;
	int n;

	if (xdg && xdg[0] == '/')
		n = asprintf(&dir, "%s/roamfs/%s@%s", xdg, o->user, o->host);
	else {
		if ((home == NULL || home[0] != '/') && (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || home[0] != '/')
			return NULL;
		n = asprintf(&dir, "%s/.cache/roamfs/%s@%s", home, o->user, o->host);
	}
	return n < 0 ? NULL : dir;
}

/* mkdir -p of the parents of path, 0700. */
static void
make_parents(const char *path)
{
	char *p = strdup(path), *s;

	for (s = p ? p + 1 : NULL; s && (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		(void)mkdir(p, 0700);
		*s = '/';
	}
	free(p);
}

/*
 * Without -o cache: USER under the cache root, which root makes for the
 * user with roamctl prepare (the PAM session runs it before pam_mount).
 * A user who runs roamfs by hand where it was never made, and may not
 * make it (the root is root's), gets a cache of their own under
 * $XDG_CACHE_HOME (~/.cache) instead, when that lies outside the mount.
 */
static void
default_cache(struct opts *o)
{
	struct stat st;
	char *own;

	if (o->cache)
		return;
	if (asprintf(&o->cache, "%s/%s", o->cache_root, o->user) < 0)
		fatal("out of memory");
	if (getuid() == 0 || lstat(o->cache, &st) == 0 || errno != ENOENT ||
	    access(o->cache_root, W_OK) == 0)
		return;	/* there, or roamfs makes it, or says what is wrong with it */
	if ((own = user_cache_dir(o)) == NULL || path_within(own, o->mountpoint))
		fatal("you have no cache under %s: root makes it (roamctl prepare %s, which the "
		    "PAM session runs at login); or give a cache directory outside %s with "
		    "-o cache=DIR", o->cache_root, o->user, o->mountpoint);
	log_info("no cache for you under %s (root makes it with roamctl prepare): using %s",
	    o->cache_root, own);
	make_parents(own);
	free(o->cache);
	o->cache = own;
}

/*
 * Read the site configuration (-o config=FILE, or the default file when
 * it exists) into the options the command line left unset.  A file that
 * cannot be used stops roamfs before anything is mounted or made.
 */
static void
load_site_config(struct opts *o)
{
	const char *path = o->config ? o->config : siteconf_default_path();
	struct siteconf sc;
	char *cause = NULL;

	if (siteconf_load(path, o->config != NULL, &sc, &cause) < 0)
		fatal("%s", cause ? cause : "out of memory");
	if (opts_apply_siteconf(o, &sc) < 0)
		fatal("out of memory");
	siteconf_free(&sc);
	log_debug("site configuration %s: cache root %s", path, o->cache_root);
}

/* Take the home directory's own attributes from the server, unless changed here. */
static void
root_from_server(struct roamfs *fs, const struct sftp_attr *a)
{
	struct db_txn t;
	struct inode root;

	if (db_begin(fs->db, &t, 1) < 0)
		return;
	if (meta_inode_get(&t, INO_ROOT, &root) == 0) {
		if (journal_pending_ino(&t, INO_ROOT) == 0) {
			root.mode = S_IFDIR | (a->mode & 07777);
			root.size = a->size;
			root.mtime_s = root.ctime_s = a->mtime;
			root.mtime_ns = root.ctime_ns = 0;
			root.base.size = a->size;
			root.base.mtime = a->mtime;
			root.base.mode = a->mode;
			root.base.valid = 1;
			meta_inode_put(&t, &root);
		}
		inode_free(&root);
	}
	db_commit(&t);
}

/* The server path of the home as the cache recorded it, or NULL. */
static char *
cached_root(struct roamfs *fs)
{
	struct db_txn t;
	MDB_val v;
	char *root = NULL;

	if (db_begin(fs->db, &t, 0) == 0) {
		if (db_get(&t, DB_META, "root", 4, &v) == 0)
			root = strndup(v.mv_data, v.mv_size);
		db_abort(&t);
	}
	return root;
}

/* What to do when the home on the server cannot be used. */
static const char *
home_hint(int err)
{
	switch (-err) {
	case ENOENT:
		return ": check the path, or ask the server's admin to create it";
	case ENOTDIR:
		return ": check the path";
	case EACCES:
	case EPERM:
		return " (you may not list or enter it): ask the server's admin to "
		    "give it to you (chown and chmod 700 on the server)";
	default:
		return "";
	}
}

/*
 * Find the server path of the home.  A cache that has listed the home
 * already knows it (the cache is tied to one user, server and path): the
 * login then spends no round trip on it.  Otherwise ask the server, or
 * fail when it is unreachable.
 */
static void
resolve_root(struct roamfs *fs, const struct opts *o, int warm, int online)
{
	struct db_txn t;
	struct sftp *s;
	struct sftp_attr a;
	char *root = NULL;
	int r;

	if (warm)
		root = cached_root(fs);
	if (root == NULL && online && remote_acquire(fs->fg, &s) == 0) {
		/* The STAT also checks that the user may list and enter the
		 * home, in the same round trip: otherwise every access would
		 * fail with EACCES after a mount that seemed to work. */
		r = sftp_realpath(s, *o->path ? o->path : ".", &root);
		if (r == 0)
			r = sftp_stat_dir(s, root, &a);
		remote_release(fs->fg, r);
		if (r < 0)
			fatal("cannot use %s on %s as the home: %s%s",
			    root ? root : *o->path ? o->path : "the login directory", o->host,
			    strerror(-r), home_hint(r));
		if (db_begin(fs->db, &t, 1) == 0) {
			db_put(&t, DB_META, "root", 4, root, strlen(root));
			db_commit(&t);
		}
		root_from_server(fs, &a);
	}
	if (root == NULL)
		fatal("the server path of the home is unknown and the server is unreachable");
	remote_set_root(fs->fg, root);
	remote_set_root(fs->bg, root);
	remote_set_root(fs->pf, root);
	free(root);
}

/*
 * Keep a log in the cache directory, DIR/roamfs.log, in the foreground as
 * in the background: where no syslog daemon runs, it is the only record
 * of what a daemonised roamfs did.  Opened before the mount, as soon as
 * the cache directory is known to be the user's own.
 */
static void
open_log(struct roamfs *fs, const struct opts *o)
{
	char *path;
	int r;

	if (asprintf(&path, "%s/roamfs.log", cache_dir(fs->cache)) < 0)
		fatal("out of memory");
	if ((r = log_open_file(path, LOG_FILE_MAX)) < 0)
		log_warn("cannot write the log file %s: %s; messages go to %s only", path,
		    strerror(-r), o->foreground ? "standard error" : "syslog");
	free(path);
}

/*
 * The login password does not open the encrypted cache's key: a mistyped
 * password, or one changed on the server since.  Ask the server: it
 * refuses the first (its refusal is what the user sees); then the cache
 * is opened for the new password (cache.h, password_changed).
 */
static void
check_new_password(const struct sftp_opts *so, const char *why)
{
	struct sftp *s = NULL;
	char *cause = NULL;
	int r;

	if ((r = sftp_login(so, &s, &cause)) == 0) {
		sftp_close(s);
		return;
	}
	if (remote_is_transport_error(r))
		fatal("%s, and the server cannot be reached to check your password (%s): if you "
		    "changed it, log in once while the server can be reached", why,
		    cause ? cause : strerror(-r));
	fatal("%s", cause ? cause : strerror(-r));
}

/*
 * Whether nothing of the cache exists only here, now that the journal
 * drained: no change set aside (refused by the server), no local-only
 * file (an excluded path: the trash, say).  Such a cache may be dropped.
 */
static int
nothing_only_here(struct roamfs *fs)
{
	struct db_txn t;
	size_t n = 1;
	int only = 1;

	if (db_begin(fs->db, &t, 0) == 0) {
		if (db_count(&t, DB_ASIDE, &n) < 0)
			n = 1;
		only = meta_local_only(&t);
		db_abort(&t);
	}
	return n == 0 && only == 0;
}

/* Open the cache and its database; fatal on any problem. */
static void
open_cache(struct roamfs *fs, struct opts *o, const struct sftp_opts *so, const char *password)
{
	struct cache_opts co = { o->cache_encrypt, password, 0 };
	char *cause = NULL, *src;
	int r;

	if (o->cache == NULL && (o->cache = cache_default_dir(o->user)) == NULL)
		fatal("out of memory");
	if ((r = cache_open(o->cache, fs->uid, &co, &fs->cache, &cause)) == -EKEYREJECTED) {
		check_new_password(so, cause ? cause : "your password does not open the cache");
		free(cause);
		cause = NULL;
		co.password_changed = 1;
		r = cache_open(o->cache, fs->uid, &co, &fs->cache, &cause);
	}
	if (r < 0)
		fatal("%s", cause ? cause : strerror(-r));
	open_log(fs, o);
	cache_log_notes(fs->cache);
	/* Percentages are of the cache's file system, which is there now. */
	evict_conf.max = size_opt_resolve(&o->cache_max, o->cache);
	evict_conf.total = size_opt_resolve(&o->cache_total, o->cache);
	evict_conf.root = o->cache_root;
	prefetch_conf.workingset_files = o->workingset_files;
	prefetch_conf.workingset_bytes = o->workingset_bytes;
	/* On a disk that filled up since the last mount, the reserve makes
	 * room for the database's lock file or its first commit. */
	while ((r = db_open(cache_db_dir(fs->cache), MAP_SIZE, &fs->db, &cause)) < 0 &&
	    cache_reserve_release(fs->cache, r)) {
		free(cause);
		cause = NULL;
	}
	if (r < 0)
		fatal("%s", cause ? cause : strerror(-r));
	if (asprintf(&src, "%s@%s:%u:%s", o->user, o->host, o->port ? o->port : 22, o->path) < 0)
		fatal("out of memory");
	while ((r = meta_init(fs->db, src, 0755, &cause)) < 0 && cause == NULL &&
	    cache_reserve_release(fs->cache, r))
		;
	if (r < 0 && cause)
		fatal("%s", cause);
	if (r < 0)
		fatal("cannot write to the cache database in %s: %s%s", cache_dir(fs->cache),
		    strerror(-r), cache_disk_hint(fs->cache, r));
	free(src);
	fs->tmp_salt = meta_cache_salt(fs->db);
	cache_reserve_keep(fs->cache);	/* without room it is made later */
}

/*
 * Connect, or start offline from a cache that has the home (warm) when the
 * server cannot be reached.  A refusal (password, key, host key) always
 * stops the mount: the user must not work on, believing the home is synced.
 */
static int
connect_server(struct roamfs *fs, int warm)
{
	char *cause = NULL;
	int r;

	/* A cache that knows the home needs nothing from the server before
	 * the mount: the SFTP channel opens in the background (replay.c). */
	r = warm ? remote_login(fs->fg, &cause) : remote_connect(fs->fg, &cause);

	if (r == 0)
		return 1;
	if (!remote_is_transport_error(r) || !warm)
		fatal("%s", cause ? cause : strerror(-r));
	log_warn("%s; working offline from the cache until the server is back",
	    cause ? cause : strerror(-r));
	free(cause);
	return 0;
}

static struct fuse_session *
mount_fs(struct roamfs *fs, const struct opts *o, const char *argv0)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	char *mo;

	if (asprintf(&mo, "fsname=%s,subtype=roamfs,default_permissions%s%s", o->source,
	    o->fuse_opts ? "," : "", o->fuse_opts ? o->fuse_opts : "") < 0)
		fatal("out of memory");
	if (fuse_opt_add_arg(&args, argv0) || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, mo) || (o->debug > 1 && fuse_opt_add_arg(&args, "-d")))
		fatal("out of memory");
	free(mo);
	se = fuse_session_new(&args, &fs_ops, sizeof fs_ops, fs);
	fuse_opt_free_args(&args);
	if (se == NULL)
		fatal("cannot start the FUSE session (see the message above)");
	if (fuse_set_signal_handlers(se) < 0)
		fatal("cannot install signal handlers");
	if (fuse_session_mount(se, o->mountpoint) < 0)
		fatal("cannot mount on %s (see the message above): check that it is a "
		    "directory you own and that fuse3 is installed", o->mountpoint);
	return se;
}

/*
 * Go to the background.  The parent returns only once the child has
 * recorded its pid in the cache's lock file, so whoever started roamfs
 * finds the right pid there as soon as the mount command returns.  An
 * LMDB environment must not cross fork(): the child opens its own.
 */
static void
daemonize(struct roamfs *fs)
{
	int pipefd[2], fd;
	char ok = 0, *cause = NULL;
	pid_t pid;

	db_close(fs->db);
	fs->db = NULL;
	if (pipe(pipefd) < 0 || (pid = fork()) < 0)
		fatal("cannot run in the background: %s", strerror(errno));
	if (pid > 0) {
		close(pipefd[1]);
		_exit(read(pipefd[0], &ok, 1) == 1 && ok == 1 ? 0 : 1);
	}
	close(pipefd[0]);
	if (setsid() < 0 || chdir("/") < 0)
		fatal("cannot run in the background: %s", strerror(errno));
	cache_write_pid(fs->cache);
	if (db_open(cache_db_dir(fs->cache), MAP_SIZE, &fs->db, &cause) < 0)
		fatal("%s", cause ? cause : "cannot open the metadata database");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	log_use_syslog(1);
	ok = 1;
	if (write(pipefd[1], &ok, 1) != 1)
		_exit(1);
	close(pipefd[1]);
}

/*
 * CACHE/mountpoint: where this cache was mounted last, one line, so that
 * roamctl finds the cache of a mount point (also after the unmount, while
 * the last changes go, and after a crash).
 */
static void
record_mountpoint(struct roamfs *fs)
{
	char *tmp = NULL, *path = NULL;
	FILE *f;

	if (asprintf(&tmp, "%s/mountpoint.tmp", cache_dir(fs->cache)) < 0 ||
	    asprintf(&path, "%s/mountpoint", cache_dir(fs->cache)) < 0) {
		free(tmp);
		return;
	}
	if ((f = fopen(tmp, "we")) != NULL) {
		fprintf(f, "%s\n", fs->mountpoint);
		if (fclose(f) != 0 || rename(tmp, path) < 0) {
			log_warn("cannot record the mount point in %s (%s): roamctl finds this "
			    "home by its cache directory only", path, strerror(errno));
			unlink(tmp);
		}
	}
	free(tmp);
	free(path);
}

/* The mount point as the mount table will show it (detach.c looks for
 * it there); resolved before the mount, when that touches no FUSE. */
static void
canonical_mountpoint(struct opts *o)
{
	char *rp = realpath(o->mountpoint, NULL);

	if (rp != NULL) {
		free(o->mountpoint);
		o->mountpoint = rp;
	}
}

static int
run(struct roamfs *fs)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	if (cfg == NULL)
		fatal("out of memory");
	fuse_loop_cfg_set_max_threads(cfg, 16);
	control_start(fs);	/* roamfs works on without it */
	detach_start(fs);	/* also */
	if ((r = evict_start(fs, &evict_conf)) < 0 || (r = prefetch_start(fs, &prefetch_conf)) < 0)
		fatal("cannot start threads: %s", strerror(-r));
	if ((r = notify_start(fs)) < 0 || (r = flush_start(fs)) < 0 || (r = replay_start(fs)) < 0)
		fatal("cannot start threads: %s", strerror(-r));
	r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

/* The workstation's name in conflict copies: the option, or the host name
 * up to its first dot, with characters a name cannot hold replaced. */
static void
set_workstation(struct roamfs *fs, const char *name)
{
	char host[256] = "";
	size_t i;

	if (name == NULL) {
		if (gethostname(host, sizeof host - 1) < 0)
			host[0] = '\0';
		host[strcspn(host, ".")] = '\0';
		if (host[0] == '\0')
			strcpy(host, "workstation");
		name = host;
	}
	snprintf(fs->workstation, sizeof fs->workstation, "%s", name);
	for (i = 0; fs->workstation[i]; i++)
		if (!opts_workstation_char((unsigned char)fs->workstation[i]))
			fs->workstation[i] = '-';
}

int
main(int argc, char **argv)
{
	struct sftp_files *files = NULL;
	struct sftp_opts so;
	struct roamfs fs;
	struct opts o;
	char *cause = NULL, *password = NULL;
	int warm, online, detached, drained, r;

	log_init("roamfs", 0, 0);
	if (opts_parse(argc, argv, &o, &cause) < 0) {
		log_err("%s", cause ? cause : "bad arguments");
		free(cause);
		opts_free(&o);
		return 1;
	}
	if (o.help || o.version) {
		if (o.help)
			opts_usage(argv[0]);
		else
			printf("roamfs %s\n", PACKAGE_VERSION);
		return 0;
	}
	log_init("roamfs", 0, o.debug);
	load_site_config(&o);
	memset(&fs, 0, sizeof fs);
	pthread_mutex_init(&fs.pending_lock, NULL);
	fs.uid = getuid();
	fs.gid = getgid();
	fs.dir_ttl = o.dir_ttl;
	fs.sync_interval = o.sync_interval;
	fs.flush_timeout = o.flush_timeout;
	fs.attr_ttl = o.attr_ttl;
	/* The kernel asks again as often: lookups then see what listings found. */
	fs.timeout = o.attr_ttl;
	fs.debug = o.debug;
	fs.source = o.source;
	set_workstation(&fs, o.workstation);
	if (o.user == NULL && (o.user = local_user()) == NULL)
		fatal("cannot find your user name; give it as user@host:");
	if (absolutise(&o.cache) || absolutise(&o.exclude) || absolutise(&o.identity_file) ||
	    absolutise(&o.known_hosts) || absolutise(&o.global_known_hosts) ||
	    absolutise(&o.mountpoint))
		fatal("cannot find the current directory");

	memset(&so, 0, sizeof so);
	so.host = o.host;
	so.user = o.user;
	so.port = o.port;
	so.identity_file = o.identity_file;
	so.known_hosts = o.known_hosts;
	so.global_known_hosts = o.global_known_hosts;
	so.timeout = (int)o.connect_timeout;
	so.verbose = o.debug > 2 ? o.debug - 1 : 0;	/* libssh: 2 protocol, 3 packets */
	/* No core dump, and no ptrace by the user's other programs: the
	 * memory holds the password and the files of the home. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot keep roamfs out of core dumps: %s", strerror(errno));
	if (o.password_stdin)
		so.password = password = read_password();

	check_mountpoint(o.mountpoint);
	canonical_mountpoint(&o);
	check_fuse();
	check_outside(&o);
	/* Read now what connecting needs: once mounted, roamfs must never
	 * open a path under its mount point, where ~/.ssh usually is. */
	if (sftp_files_load(&so, o.mountpoint, &files, &cause) < 0)
		fatal("%s", cause ? cause : "cannot read the SSH files");
	so.files = files;
	load_exclusions(&fs, &o);
	/* Last of the checks: what is wrong with the options is said first. */
	default_cache(&o);
	open_cache(&fs, &o, &so, password);
	/* Until the end says otherwise, changes may wait here (cache.h). */
	cache_set_state(fs.cache, 0);
	if ((fs.nodes = nodes_new()) == NULL || fetch_init(&fs) < 0 ||
	    remote_new(&so, "foreground", &fs.fg) < 0 || remote_new(&so, "replay", &fs.bg) < 0 ||
	    remote_new(&so, "prefetch", &fs.pf) < 0)
		fatal("out of memory");
	/* Whichever connection finds the server back tells the other two. */
	{
		struct remote *all[] = { fs.fg, fs.bg, fs.pf };
		size_t i, j;

		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++)
				remote_add_peer(all[i], all[j]);	/* itself skipped */
	}
	warm = meta_root_listed(fs.db);	/* the cache has listed the home */
	/* The login's budget for getting in past a server that cuts
	 * handshakes (roamfs(8)); later reconnections fail at once.  A warm
	 * cache works offline meanwhile: it does not wait long. */
	so.retry_dropped = warm ? WARM_RETRY_SECONDS : LOGIN_RETRY_SECONDS;
	online = connect_server(&fs, warm);
	so.retry_dropped = 0;
	resolve_root(&fs, &o, warm, online);
	fs_reap_orphans(&fs);
	flush_recover(&fs);

	fs.se = mount_fs(&fs, &o, argv[0]);
	fs.mountpoint = o.mountpoint;
	fs.mounted_at = time(NULL);
	record_mountpoint(&fs);
	if (!o.foreground) {
		daemonize(&fs);
		if (secret_relock(password) < 0)
			log_warn("cannot lock the password in memory after going to the background: "
			    "it may reach the swap; raise the memlock limit (ulimit -l) of the session");
	}
	log_info("%s mounted on %s (cache %s)", o.source, o.mountpoint, cache_dir(fs.cache));

	r = run(&fs);
	detached = detach_stop(&fs);
	fs_close_handles(&fs);
	prefetch_stop(&fs);	/* before the downloads' registry goes */
	fetch_stop(&fs);	/* cancels downloads nobody reads any more */
	if (detached)
		detach_release(&fs);
	fuse_session_unmount(fs.se);
	log_info("unmounted from %s", o.mountpoint);
	fuse_remove_signal_handlers(fs.se);
	flush_stop(&fs);
	drained = replay_drain(&fs) == 0;
	r = !drained && r == 0 ? 0 : r;
	prefetch_save_workingset(&fs);	/* once the changes are on the server */
	/* roamctl followed the flush up to here; it reads the replayer's
	 * state, which replay_stop frees. */
	control_stop(&fs);
	evict_stop(&fs);	/* after roamctl's requests, which may evict */
	prefetch_free(&fs);
	replay_stop(&fs);
	notify_stop(&fs);	/* after every thread that queues notices */
	fuse_session_destroy(fs.se);
	remote_free(fs.fg);
	remote_free(fs.bg);
	remote_free(fs.pf);
	sftp_files_free(files);
	nodes_free(fs.nodes);
	free(fs.pending_elsewhere);
	free(fs.open_elsewhere);
	pthread_mutex_destroy(&fs.pending_lock);
	if (fs.exclude)
		exclude_free(fs.exclude);
	if (drained && nothing_only_here(&fs))
		cache_set_state(fs.cache, 1);	/* all of it is on the server */
	db_close(fs.db);
	cache_close(fs.cache);
	secret_free(password);
	opts_free(&o);
	log_close_file();
	return r ? 1 : 0;
}
