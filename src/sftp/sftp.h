/*
 * sftp: an SFTP version 3 client over one libssh channel, with many
 * requests in flight, and the OpenSSH extensions roamfs uses.
 *
 * A connection (struct sftp) is one SSH session with one "sftp" subsystem
 * channel.  A connection is NOT thread-safe: callers serialise all calls on
 * one connection (roamfs keeps one connection per thread that needs one).
 *
 * Every function returns 0 on success or a negative errno.  SFTP status
 * codes are translated to errno in one table inside sftp.c (NO_SUCH_FILE ->
 * ENOENT, PERMISSION_DENIED -> EACCES, FAILURE -> EIO unless the request
 * tells better, e.g. rmdir of a non-empty directory -> ENOTEMPTY when the
 * server says so, OP_UNSUPPORTED -> ENOTSUP, connection lost -> ENOTCONN).
 * After ENOTCONN the connection is dead: sftp_close() it and connect again.
 * Paths are server paths, absolute or relative to the login directory.
 *
 * What OpenSSH's sftp-server sends and what callers get:
 *  - FAILURE carries no detail, so after a FAILURE the client LSTATs the
 *    path once to tell better: mkdir, link and symlink over an existing
 *    name -> EEXIST; rmdir of a non-empty directory -> ENOTEMPTY (of a
 *    non-directory -> ENOTDIR); remove of a directory -> EISDIR; rename
 *    onto a directory -> ENOTEMPTY (from a directory) or EISDIR; other
 *    failures stay EIO.
 *  - BAD_MESSAGE (e.g. a name over 255 bytes, ENAMETOOLONG on the server)
 *    -> EBADMSG; ENOTDIR and ELOOP on the server arrive as ENOENT.
 *  - A server silent for 60 seconds, a closed channel or a malformed
 *    packet -> ENOTCONN (a lost network never hangs a caller for longer).
 *
 * Connection set-up decisions:
 *  - libssh's ssh_config processing (SSH_OPTIONS_PROCESS_CONFIG) is OFF:
 *    what roamfs does must follow from its own options alone, the same under
 *    pam_mount as in a shell, and libssh understands only part of
 *    ssh_config, so reading it would half-apply a user's file (a Host alias,
 *    a different IdentityFile, ...) in ways ssh(1) would not.
 *  - Host keys: known_hosts is opts->known_hosts (default ~/.ssh/known_hosts)
 *    plus opts->global_known_hosts (default /etc/ssh/ssh_known_hosts), as
 *    in ssh(1), read by sftp_files_load; libssh itself is given no file.
 *    Hashed names and patterns work as in ssh(1); @cert-authority and
 *    @revoked lines are ignored.  Nothing is ever added to them.
 *  - Authentication: identity_file, else the agent and the default keys;
 *    then, if password is set, "password" and "keyboard-interactive".
 *    Neither the password nor anything derived from it is logged.
 *  - Only SFTP version 3 servers; OpenSSH's reversed SYMLINK argument order
 *    is assumed (as OpenSSH's sftp and sshfs do).
 */
#ifndef ROAMFS_SFTP_H
#define ROAMFS_SFTP_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/statvfs.h>

struct sftp;

struct sftp_files;

/* Where and how to connect.  Strings may be NULL for the defaults. */
struct sftp_opts {
	const char *host;
	const char *user;		/* NULL: the local user name */
	unsigned port;			/* 0: 22 */
	const char *identity_file;	/* NULL: the agent and ~/.ssh/id_{ed25519,ecdsa,rsa} */
	const char *known_hosts;	/* NULL: ~/.ssh/known_hosts */
	const char *global_known_hosts;	/* NULL: /etc/ssh/ssh_known_hosts */
	const char *password;		/* NULL: no password authentication */
	int timeout;			/* connect timeout in seconds, 0: 10 */
	int verbose;			/* libssh log level for -d */
	const struct sftp_files *files;	/* from sftp_files_load; NULL: read at each connection */
	/*
	 * Seconds to keep trying a handshake that the server cut after taking
	 * the connection, before authentication (sshd's MaxStartups when a
	 * class logs in at once), with jittered pauses; 0: fail at once.  For
	 * the login only: a reconnection later never makes an application or
	 * the unmount wait, and its backoff tries again anyway.
	 */
	int retry_dropped;
};

/*
 * Read the files a connection needs, once: the known hosts files (the
 * user's, then the system-wide one) and the private keys (identity_file,
 * else the default keys; the agent is asked at each connection).  Nothing
 * is read from them afterwards, so that a process mounted on the home
 * never opens a path under its own mount point.  keep_out (may be NULL)
 * is that mount point: a file named in o under it is refused (-EINVAL
 * with a cause); a default file or agent socket under it is left out, and
 * the log says so.  An identity file that cannot be used fails here with
 * the cause sftp_connect would give.  Store the result in o->files.
 */
int sftp_files_load(const struct sftp_opts *o, const char *keep_out, struct sftp_files **out,
    char **cause);
void sftp_files_free(struct sftp_files *f);

/* Attributes as SFTP v3 gives them; flags says which fields are valid. */
#define SFTP_ATTR_SIZE		0x00000001u
#define SFTP_ATTR_UIDGID	0x00000002u
#define SFTP_ATTR_PERMISSIONS	0x00000004u
#define SFTP_ATTR_ACMODTIME	0x00000008u
struct sftp_attr {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid;
	uint32_t mode;		/* type and permission bits (S_IFREG | 0644) */
	uint32_t atime, mtime;	/* whole seconds */
	/* Not in SFTP v3's attributes: the link count a listing's entry
	 * shows in its "ls -l" long name (sftp_readdir), else 0. */
	uint32_t nlink;
};

/*
 * Connect, verify the host key, authenticate, start the sftp subsystem.
 * On failure returns a negative errno and, when cause is not NULL, sets
 * *cause to one malloc'd line for the user that says what happened and what
 * to do (e.g. the host key is unknown: its SHA256 fingerprint and how to
 * accept it; authentication refused; host unreachable).  Host key check:
 * unknown or changed key is always refused (-EPERM); there is no override.
 */
int sftp_connect(const struct sftp_opts *o, struct sftp **out, char **cause);
/*
 * sftp_connect in two steps.  sftp_login connects and authenticates (host
 * key check, key or password): every refusal a user must see happens here.
 * sftp_start then opens the channel and the SFTP subsystem, the slow part of
 * a login on OpenSSH (its post-authentication fork), and may run later, in
 * another process after fork() or another thread.  Until it succeeds the
 * connection serves no request; after a failure sftp_close() it.
 */
int sftp_login(const struct sftp_opts *o, struct sftp **out, char **cause);
int sftp_start(struct sftp *s, const char *host, char **cause);
int sftp_started(const struct sftp *s);
/* Close the channel and the session and free everything. */
void sftp_close(struct sftp *s);
/* Server's idea of a path (SSH_FXP_REALPATH), e.g. "." -> "/home/ann". */
int sftp_realpath(struct sftp *s, const char *path, char **out);

int sftp_stat(struct sftp *s, const char *path, struct sftp_attr *a);
int sftp_lstat(struct sftp *s, const char *path, struct sftp_attr *a);
/* Set the attributes whose flags are set (SIZE truncates). */
int sftp_setstat(struct sftp *s, const char *path, const struct sftp_attr *a);

/*
 * Called once per entry except "." and ".." (entries whose names hold '/'
 * or NUL are skipped with a warning); a non-zero return stops the listing
 * and is returned.  The callback must not use the same connection: the
 * next READDIR is already in flight while it runs.
 */
typedef int (*sftp_dirent_fn)(void *arg, const char *name, const struct sftp_attr *a);
/*
 * List a directory: opendir, then readdir until EOF with two requests in
 * flight (attributes are lstat-like), then a close whose reply is not
 * waited for.  Two round trips for a directory of a few hundred entries.
 */
int sftp_readdir(struct sftp *s, const char *path, sftp_dirent_fn fn, void *arg);
/*
 * STAT of a directory that must also be readable and searchable by the
 * user: STAT, OPENDIR and an LSTAT of "path/." (which resolves only with
 * search permission) sent together, one round trip; the directory's handle
 * is closed without waiting.  *a gets the STAT's attributes.  Returns 0,
 * the first error of the three (-ENOENT, -EACCES...), or -ENOTDIR when
 * path is not a directory.
 */
int sftp_stat_dir(struct sftp *s, const char *path, struct sftp_attr *a);

int sftp_mkdir(struct sftp *s, const char *path, uint32_t mode);
/*
 * MKDIR and an LSTAT of the same path sent together: one round trip.
 * Returns what MKDIR did (-EEXIST when the name was taken); *a gets the
 * attributes of what is at path afterwards, or no flags when the LSTAT
 * failed.
 */
int sftp_mkdir_lstat(struct sftp *s, const char *path, uint32_t mode, struct sftp_attr *a);
/* SETSTAT and an LSTAT sent together, the same way. */
int sftp_setstat_lstat(struct sftp *s, const char *path, const struct sftp_attr *set,
    struct sftp_attr *a);
/*
 * lsetstat@openssh.com: SETSTAT of a symbolic link itself, not of what it
 * points to (SETSTAT follows links on OpenSSH, so it would change the
 * target, or fail with ENOENT when the link dangles).  On Linux a link has
 * no mode of its own: set only times.  Without the extension -ENOTSUP and
 * nothing is sent.  The _lstat form sends an LSTAT with it, as above.
 */
int sftp_lsetstat(struct sftp *s, const char *path, const struct sftp_attr *a);
int sftp_lsetstat_lstat(struct sftp *s, const char *path, const struct sftp_attr *set,
    struct sftp_attr *a);
int sftp_rmdir(struct sftp *s, const char *path);
int sftp_remove(struct sftp *s, const char *path);
/* Create a symbolic link at linkpath pointing to target (argument order as
 * symlink(2); OpenSSH's reversed wire order is handled inside). */
int sftp_symlink(struct sftp *s, const char *target, const char *linkpath);
int sftp_readlink(struct sftp *s, const char *path, char **target);
/* posix-rename@openssh.com: atomic, replaces an existing target.  Without
 * the extension: -ENOTSUP (never a non-atomic fallback). */
int sftp_rename(struct sftp *s, const char *from, const char *to);
/* hardlink@openssh.com (-ENOTSUP without it). */
int sftp_link(struct sftp *s, const char *from, const char *to);
/* statvfs@openssh.com (-ENOTSUP without it). */
int sftp_statvfs(struct sftp *s, const char *path, struct statvfs *st);

/*
 * Progress callback for transfers: bytes done so far; non-zero aborts with
 * that value.  For a download, done is the length of the prefix of the
 * file already written to fd, with no gap.
 */
typedef int (*sftp_progress_fn)(void *arg, uint64_t done);

/*
 * Upload: write the whole local file fd (from offset 0, its current size)
 * to path, created or truncated with mode (permission bits), keeping many
 * WRITE requests in flight (window grows like OpenSSH's sftp-client.c, with
 * a bound on bytes in flight), then fsync@openssh.com the handle when
 * do_fsync, then close.  Does not rename; the caller uploads to a temporary
 * name and renames.  Only the data of a sparse file travels: the WRITEs
 * skip its holes (SEEK_DATA/SEEK_HOLE on fd, whose file offset moves), the
 * server keeps holes there, and a file that ends in a hole gets its size
 * with an FSETSTAT after the last WRITE.  *written (may be NULL) gets the
 * size the server file got: the bytes sent and the holes skipped (the
 * bytes_up counter counts only what was sent); progress counts the same.
 * The server applies its umask to mode on creation; an existing file keeps
 * its mode (setstat afterwards when the mode matters).  Requests carry
 * up to 255 KiB each when the server announces limits@openssh.com (32 KiB
 * otherwise); at most 64 requests and 8 MiB are in flight, and a WRITE is
 * only sent while others are outstanding when the channel window can take
 * it, so the client never blocks in a write while replies wait.  do_fsync
 * without fsync@openssh.com: -ENOTSUP.  progress may be NULL.
 */
int sftp_upload(struct sftp *s, int fd, const char *path, uint32_t mode,
    int do_fsync, sftp_progress_fn progress, void *arg, uint64_t *written);
/*
 * Rewrite the existing file at path in place with the whole local file fd:
 * OPEN for writing without truncating or creating, the WRITEs (pipelined
 * as in sftp_upload), FSETSTAT with SIZE (the bytes written: a longer old
 * file is cut) and set's other attributes, fsync@openssh.com, CLOSE.
 * Holes are written as zeros: skipping one would leave the old bytes
 * there.  For a file with several hard links, whose names must stay one file: a rename
 * over one name would split them.  Readers may see the file half-written
 * meanwhile.  A path that does not exist: -ENOENT, nothing written.
 */
int sftp_rewrite(struct sftp *s, int fd, const char *path, const struct sftp_attr *set,
    uint64_t *written);
/*
 * Download: read the remote file into local fd (truncated first, written
 * from offset 0) with many READ requests in flight.  *a (may be NULL) gets
 * the attributes fstat'ed on the open handle, so the caller knows which
 * version it got: the FSTAT goes with the first READ, reading stops at the
 * size it gives (or at an earlier EOF), and short reads below it are asked
 * again.  The handle's CLOSE is not waited for.  A small file costs two
 * round trips: OPEN, then FSTAT and READ.
 */
int sftp_download(struct sftp *s, const char *path, int fd,
    struct sftp_attr *a, sftp_progress_fn progress, void *arg);

/* One file of a batch upload. */
struct sftp_put {
	int fd;			/* local file, read from offset 0 to its current size (fstat at start) */
	const char *tmp;	/* temporary server name, in the same directory as path */
	const char *path;	/* final server name */
	uint32_t mode;		/* permission bits, set exactly with FSETSTAT (not left to the umask) */
	uint32_t mtime;		/* set as atime and mtime */
	int err;		/* out: 0, or the negative errno of the first failing step */
	uint64_t sent;		/* out: bytes written and holes skipped (the server file's size) */
	/* With check: the rename only replaces what the caller expects at
	 * path: nothing there, or (unless expect_absent) an object of type
	 * expect_mode & S_IFMT with expect_size bytes and mtime expect_mtime. */
	int check;
	int expect_absent;
	uint32_t expect_mode;
	uint64_t expect_size;
	uint32_t expect_mtime;
	struct sftp_attr found;	/* out, with check: LSTAT of path (flags 0: nothing there) */
	int kept;		/* out: path held something else; tmp is left, not renamed */
	/* With check, may be set: a directory made (MKDIR) before the LSTAT
	 * and removed after the rename, so that of the clients that check
	 * and replace path at the same time, one goes at a time. */
	const char *lock;
	int busy;		/* out: lock was held by another: tmp removed, nothing replaced */
	/* With check, may be set: path ends kept even when it holds what is
	 * expected (then matched is set), so that the caller compares
	 * contents first (nothing there: renamed as without verify); a file
	 * that ends kept leaves the lock, when ours, held (held set) for the
	 * caller to remove with sftp_rmdir once it has decided. */
	int verify;
	int matched;		/* out, with verify: path held what the caller expects */
	int held;		/* out, with verify: the lock is still ours */
};
/*
 * Upload n files, each in three stages: (1) OPEN tmp (create, truncate,
 * write); (2) once the handle is in: the WRITEs, FSETSTAT on the handle
 * (mode, atime = mtime), [fsync@openssh.com when do_fsync, covering data,
 * mode and times] and CLOSE, sent back to back (the server runs the
 * requests on one handle in order);
 * (3) once every reply of stage 2 is OK: posix-rename tmp over path.  With
 * puts[i].check, stage 2 also sends an LSTAT of path before the CLOSE, and
 * stage 3 renames only when path holds what the caller expects; otherwise
 * the file ends with kept set and err 0, its tmp complete on the server,
 * for the caller to decide (no request more, and the check comes one round
 * trip before the rename).  With puts[i].lock, a MKDIR of lock goes before
 * that LSTAT and an RMDIR after the rename (or the decision not to): a
 * MKDIR refused means another client is replacing path now, and the file
 * ends with busy set and its tmp removed, to be sent again later.  The
 * files proceed concurrently, with many requests in flight.  A file whose
 * request fails gets puts[i].err (the first error of the file) and, where
 * its tmp was created, a REMOVE of tmp; it is never renamed; the others go
 * on.  Returns 0 when the batch ran (look at each err), or -ENOTCONN (the
 * connection is dead; results undefined), -ENOMEM.
 *
 * As with sftp_upload, the WRITEs cover only the data of a sparse file
 * (the fd's file offset moves), and its FSETSTAT also carries the size
 * when the file ends in a hole: no request more for sparse files.
 *
 * Details: once a request of stage 2 has failed, the file's WRITEs,
 * FSETSTAT and fsync not yet sent are skipped (CLOSE is always sent).  Files
 * finish in no set order: the tmp and path names of one batch must all
 * differ, and changes whose order matters (a later rename or delete of the
 * same name) belong in a later call.  At most 512 files are under way at
 * once (so at most that many handles are open on the server), started in
 * array order; files already started go first.  At most 1024 requests and
 * 512 KiB of WRITE data are in flight.  Requests per file: OPEN, one WRITE
 * per write chunk of data (none for an empty file), FSETSTAT, [fsync], [LSTAT],
 * CLOSE, posix-rename, plus REMOVE after a failure once tmp exists.  A file that
 * shrinks while it is sent is uploaded as far as it goes (sent tells).
 * A rename refused with FAILURE (e.g. path is a directory) gives -EIO.
 * Without posix-rename@openssh.com, or do_fsync without fsync@openssh.com,
 * every file whose OPEN the server grants gets -ENOTSUP, with no data sent
 * (a refused OPEN gives its own error, as on a read-only server).  A temporary file that
 * cannot be removed is logged.  The fds stay open.
 */
int sftp_put_many(struct sftp *s, struct sftp_put *puts, size_t n, int do_fsync);

/*
 * Request counters for tests and benchmarks (each SFTP request sent, by
 * type; stat counts STAT, LSTAT and FSTAT; extended counts every
 * SSH_FXP_EXTENDED: posix-rename, fsync, hardlink, statvfs, limits,
 * lsetstat).
 * max_in_flight is the largest number of requests that were outstanding at
 * once in a pipelined exchange (READs or WRITEs of one transfer; all the
 * requests of sftp_put_many): above 1 proves it is pipelined.
 */
struct sftp_stats {
	uint64_t requests, opendir, readdir, open, read, write, stat;
	uint64_t bytes_up, bytes_down;
	uint64_t max_in_flight;
	uint64_t close, setstat, extended, remove;
};
void sftp_get_stats(const struct sftp *s, struct sftp_stats *st);
/*
 * From now on, add the data bytes of every WRITE the server acknowledges
 * (uploads, rewrites, batches) to *meter, atomically, so that another
 * thread can read it with __atomic_load_n while a transfer runs (roamctl's
 * progress).  NULL stops it.
 */
void sftp_set_meter(struct sftp *s, uint64_t *meter);

#endif
