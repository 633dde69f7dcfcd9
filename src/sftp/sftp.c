/*
 * sftp: the SFTP connection (session, subsystem channel, version exchange)
 * and the single-request operations of sftp.h.
 *
 * Transfers are in sftp_xfer.c, batch uploads in sftp_batch.c, the queue of
 * requests in flight in sftp_queue.c, packet I/O in sftp_io.c, the wire
 * format in sftp_proto.c, the SSH session set-up in ssh_*.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roam/log.h"
#include "sftp_int.h"

void
sftp_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	free(*cause);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
}

/* Note one extension of the VERSION reply that we use. */
static void
sftp_note_ext(struct sftp *s, const uint8_t *name, uint32_t nlen,
    const uint8_t *data, uint32_t dlen)
{
	static const struct { const char *name, *version; unsigned bit; } known[] = {
		{ "posix-rename@openssh.com", "1", SFTP_EXT_POSIX_RENAME },
		{ "hardlink@openssh.com", "1", SFTP_EXT_HARDLINK },
		{ "fsync@openssh.com", "1", SFTP_EXT_FSYNC },
		{ "statvfs@openssh.com", "2", SFTP_EXT_STATVFS },
		{ "limits@openssh.com", "1", SFTP_EXT_LIMITS },
		{ "lsetstat@openssh.com", "1", SFTP_EXT_LSETSTAT },
	};
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (nlen == strlen(known[i].name) &&
		    memcmp(name, known[i].name, nlen) == 0 &&
		    dlen == strlen(known[i].version) &&
		    memcmp(data, known[i].version, dlen) == 0)
			s->ext |= known[i].bit;
}

/* Send INIT, read VERSION and its extensions. */
static int
sftp_init(struct sftp *s)
{
	const uint8_t *name, *data;
	uint32_t nlen, dlen;
	struct sftp_msg m;
	struct buf b;
	int r;

	if (sftp_proto_begin(&s->tx, SSH_FXP_INIT, 0) < 0 ||
	    buf_put_u32(&s->tx, 3) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_send(s)) < 0 || (r = sftp_io_recv(s, &m)) < 0)
		return r;
	if (m.type != SSH_FXP_VERSION || m.count < 3)
		return sftp_io_fail(s, "the server does not speak SFTP version 3");
	buf_wrap(&b, m.str, m.len);
	while ((r = sftp_proto_ext_next(&b, &name, &nlen, &data, &dlen)) > 0)
		sftp_note_ext(s, name, nlen, data, dlen);
	if (r < 0)
		return sftp_io_fail(s, "malformed SFTP VERSION reply");
	return 0;
}

/*
 * Ask limits@openssh.com for the largest READ and WRITE lengths without
 * waiting: the reply is taken by the next read of a reply (sftp_io.c), at
 * the latest before the first transfer's data, since the server answers
 * in order.  Until then the chunks are the defaults.
 */
static int
sftp_limits(struct sftp *s)
{
	uint32_t id;
	int r;

	s->read_chunk = s->write_chunk = SFTP_DEFAULT_CHUNK;
	if (!(s->ext & SFTP_EXT_LIMITS))
		return 0;
	id = sftp_io_id(s);
	if (sftp_proto_begin(&s->tx, SSH_FXP_EXTENDED, id) < 0 ||
	    buf_put_cstr(&s->tx, "limits@openssh.com") < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	s->limits_id = id;
	return 0;
}

void
sftp_limits_reply(struct sftp *s, const struct sftp_msg *m)
{
	uint64_t maxpkt, maxread, maxwrite;
	struct buf b;

	if (m->type != SSH_FXP_EXTENDED_REPLY)
		return;		/* keep the defaults */
	buf_wrap(&b, m->str, m->len);
	if (buf_get_u64(&b, &maxpkt) < 0 || buf_get_u64(&b, &maxread) < 0 ||
	    buf_get_u64(&b, &maxwrite) < 0) {
		log_warn("malformed limits@openssh.com reply: using %u-byte transfers",
		    SFTP_DEFAULT_CHUNK);
		return;
	}
	if (maxread >= 1024)
		s->read_chunk = maxread < SFTP_MAX_CHUNK ? (uint32_t)maxread : SFTP_MAX_CHUNK;
	if (maxwrite >= 1024)
		s->write_chunk = maxwrite < SFTP_MAX_CHUNK ? (uint32_t)maxwrite : SFTP_MAX_CHUNK;
	log_debug("chunks: read %u write %u (server max packet %llu)",
	    s->read_chunk, s->write_chunk, (unsigned long long)maxpkt);
}

/* Open the "sftp" subsystem channel on the session. */
static int
sftp_open_channel(struct sftp *s, const char *host, char **cause)
{
	if ((s->channel = ssh_channel_new(s->session)) == NULL)
		fatal("out of memory");
	if (ssh_channel_open_session(s->channel) != SSH_OK ||
	    ssh_channel_request_subsystem(s->channel, "sftp") != SSH_OK) {
		sftp_cause(cause, "%s does not offer the sftp subsystem (%s); ask "
		    "its admin to enable \"Subsystem sftp\" in sshd_config",
		    host, ssh_get_error(s->session));
		return -EPROTO;
	}
	return 0;
}

int
sftp_login(const struct sftp_opts *o, struct sftp **out, char **cause)
{
	struct sftp *s;
	int r;

	if (cause)
		*cause = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		fatal("out of memory");
	buf_init(&s->tx, SFTP_MAX_PACKET);
	buf_init(&s->rx, 0);
	if ((r = ssh_conn_open(o, &s->session, cause)) < 0) {
		sftp_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int
sftp_start(struct sftp *s, const char *host, char **cause)
{
	int r;

	if (cause)
		*cause = NULL;
	if ((r = sftp_open_channel(s, host, cause)) < 0)
		return r;
	s->connecting = 1;
	if ((r = sftp_init(s)) < 0 || (r = sftp_limits(s)) < 0) {
		sftp_cause(cause, "the SFTP server on %s failed to start: %s; ask "
		    "its admin to check the sftp subsystem (sshd_config: Subsystem, "
		    "ForceCommand) and the login shell", host,
		    s->dead ? s->why : strerror(-r));
		return r;
	}
	s->connecting = 0;
	s->started = 1;
	log_debug("connected to %s, extensions 0x%x", host, s->ext);
	return 0;
}

int
sftp_started(const struct sftp *s)
{
	return s->started;
}

int
sftp_connect(const struct sftp_opts *o, struct sftp **out, char **cause)
{
	struct sftp *s;
	int r;

	if ((r = sftp_login(o, &s, cause)) < 0)
		return r;
	if ((r = sftp_start(s, o->host, cause)) < 0) {
		sftp_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void
sftp_close(struct sftp *s)
{
	if (s == NULL)
		return;
	if (s->channel) {
		if (!s->dead)
			ssh_channel_close(s->channel);
		ssh_channel_free(s->channel);
	}
	if (s->session) {
		ssh_disconnect(s->session);
		ssh_free(s->session);
	}
	buf_free(&s->tx);
	buf_free(&s->rx);
	free(s);
}

void
sftp_get_stats(const struct sftp *s, struct sftp_stats *st)
{
	*st = s->stats;
}

void
sftp_set_meter(struct sftp *s, uint64_t *meter)
{
	s->meter = meter;
}

/* Begin a request of type with one path argument. */
static int
req_path(struct sftp *s, uint8_t type, const char *path)
{
	if (sftp_proto_begin(&s->tx, type, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, path) < 0)
		return -ENAMETOOLONG;
	return 0;
}

/* Build a whole request of type with a path and attributes (SETSTAT, MKDIR). */
static int
req_path_attr(struct sftp *s, uint8_t type, const char *path, const struct sftp_attr *a)
{
	int r;

	if ((r = req_path(s, type, path)) < 0 ||
	    sftp_proto_put_attr(&s->tx, a) < 0 || (r = sftp_proto_end(&s->tx)) < 0)
		return r < 0 ? r : -ENAMETOOLONG;
	return 0;
}

/* A whole lsetstat@openssh.com request: SETSTAT that does not follow a
 * symbolic link (the server uses the *at() calls with AT_SYMLINK_NOFOLLOW). */
static int
req_lsetstat(struct sftp *s, const char *path, const struct sftp_attr *a)
{
	if (!(s->ext & SFTP_EXT_LSETSTAT))
		return -ENOTSUP;
	if (sftp_proto_begin(&s->tx, SSH_FXP_EXTENDED, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, "lsetstat@openssh.com") < 0 ||
	    buf_put_cstr(&s->tx, path) < 0 || sftp_proto_put_attr(&s->tx, a) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENAMETOOLONG;
	return 0;
}

/* A MKDIR request for path, with mode as its only attribute. */
static int
req_mkdir(struct sftp *s, const char *path, uint32_t mode)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS, .mode = mode & 07777 };

	return req_path_attr(s, SSH_FXP_MKDIR, path, &a);
}

/* Begin an extended request with its name and one or two paths. */
static int
req_ext(struct sftp *s, const char *ext, const char *p1, const char *p2)
{
	if (sftp_proto_begin(&s->tx, SSH_FXP_EXTENDED, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, ext) < 0 || buf_put_cstr(&s->tx, p1) < 0 ||
	    (p2 && buf_put_cstr(&s->tx, p2) < 0) || sftp_proto_end(&s->tx) < 0)
		return -ENAMETOOLONG;
	return 0;
}

/* A request with one path whose reply is a STATUS. */
static int
call_path(struct sftp *s, uint8_t type, const char *path)
{
	int r;

	if ((r = req_path(s, type, path)) < 0 || (r = sftp_proto_end(&s->tx)) < 0)
		return r;
	return sftp_io_call_status(s);
}

/* Attributes request (STAT, LSTAT). */
static int
call_attrs(struct sftp *s, uint8_t type, const char *path, struct sftp_attr *a)
{
	struct sftp_msg m;
	int r;

	if ((r = req_path(s, type, path)) < 0 || (r = sftp_proto_end(&s->tx)) < 0 ||
	    (r = sftp_io_call(s, &m)) < 0 ||
	    (r = sftp_io_expect(s, &m, SSH_FXP_ATTRS)) < 0)
		return r;
	*a = m.attr;
	return 0;
}

/* First name of a NAME reply, as a new string (REALPATH, READLINK). */
static int
call_name(struct sftp *s, uint8_t type, const char *path, char **out)
{
	struct sftp_attr a;
	const uint8_t *name;
	uint32_t nlen;
	struct sftp_msg m;
	struct buf b;
	int r;

	if ((r = req_path(s, type, path)) < 0 || (r = sftp_proto_end(&s->tx)) < 0 ||
	    (r = sftp_io_call(s, &m)) < 0 ||
	    (r = sftp_io_expect(s, &m, SSH_FXP_NAME)) < 0)
		return r;
	buf_wrap(&b, m.str, m.len);
	if (m.count < 1 || sftp_proto_name_next(&b, &name, &nlen, &a) < 0)
		return sftp_io_fail(s, "malformed NAME reply");
	if ((*out = strndup((const char *)name, nlen)) == NULL)
		fatal("out of memory");
	return 0;
}

/*
 * Send the request built in s->tx and an LSTAT of path back to back, then
 * read both replies: one round trip instead of two.  The server runs the
 * requests of a channel in order, so the attributes show what the request
 * did.  Returns the request's status (0 or -errno); *ar gets the LSTAT's
 * (0 or -errno), and *a the attributes, or no flags when the LSTAT failed.
 */
static int
call_status_lstat(struct sftp *s, const char *path, struct sftp_attr *a, int *ar)
{
	struct sftp_msg m;
	uint32_t id = be_get_u32(s->tx.data + 5), id2;
	int r, st;

	a->flags = 0;
	*ar = -ENOTCONN;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	*ar = req_path(s, SSH_FXP_LSTAT, path);
	if (*ar == 0)
		*ar = sftp_proto_end(&s->tx);
	if (*ar == 0)
		*ar = sftp_io_send(s);
	id2 = *ar == 0 ? be_get_u32(s->tx.data + 5) : 0;
	if ((r = sftp_io_recv(s, &m)) < 0)
		return r;
	if (m.id != id || m.type != SSH_FXP_STATUS)
		return sftp_io_fail(s, "the server answered a request it was not asked");
	if (m.status != SSH_FX_OK && m.len)
		log_debug("server status %u: %.*s", m.status, (int)m.len, (const char *)m.str);
	st = -sftp_status_errno(m.status);
	if (*ar < 0)
		return st;
	if ((r = sftp_io_recv(s, &m)) < 0)
		return r;
	if (m.id != id2)
		return sftp_io_fail(s, "the server answered a request it was not asked");
	if ((*ar = sftp_io_expect(s, &m, SSH_FXP_ATTRS)) == 0)
		*a = m.attr;
	return st;
}

/*
 * OpenSSH answers FAILURE for most errno values; look at path to tell
 * better: want_dir 1 = "is a directory" means ENOTEMPTY (rmdir),
 * 0 = "exists" means EEXIST (mkdir, link, symlink), -1 = a directory
 * means EISDIR (remove).
 */
static int
refine_failure(struct sftp *s, int r, const char *path, int kind)
{
	struct sftp_attr a;

	if (r != -EIO || call_attrs(s, SSH_FXP_LSTAT, path, &a) < 0)
		return r;
	if (kind == 0)
		return -EEXIST;
	if ((a.flags & SFTP_ATTR_PERMISSIONS) && S_ISDIR(a.mode))
		return kind > 0 ? -ENOTEMPTY : -EISDIR;
	return kind > 0 ? -ENOTDIR : r;
}

/* After a rename FAILURE onto a directory: ENOTEMPTY (a directory moved
 * onto a non-empty one) or EISDIR (a non-directory onto a directory). */
static int
refine_rename(struct sftp *s, int r, const char *from, const char *to)
{
	struct sftp_attr a, b;

	if (r != -EIO || call_attrs(s, SSH_FXP_LSTAT, to, &b) < 0 ||
	    !S_ISDIR(b.mode) || call_attrs(s, SSH_FXP_LSTAT, from, &a) < 0)
		return r;
	return S_ISDIR(a.mode) ? -ENOTEMPTY : -EISDIR;
}

int
sftp_realpath(struct sftp *s, const char *path, char **out)
{
	return call_name(s, SSH_FXP_REALPATH, path, out);
}

int
sftp_stat(struct sftp *s, const char *path, struct sftp_attr *a)
{
	return call_attrs(s, SSH_FXP_STAT, path, a);
}

int
sftp_lstat(struct sftp *s, const char *path, struct sftp_attr *a)
{
	return call_attrs(s, SSH_FXP_LSTAT, path, a);
}

int
sftp_setstat(struct sftp *s, const char *path, const struct sftp_attr *a)
{
	int r;

	if ((r = req_path_attr(s, SSH_FXP_SETSTAT, path, a)) < 0)
		return r;
	return sftp_io_call_status(s);
}

int
sftp_mkdir(struct sftp *s, const char *path, uint32_t mode)
{
	int r;

	if ((r = req_mkdir(s, path, mode)) < 0)
		return r;
	return refine_failure(s, sftp_io_call_status(s), path, 0);
}

int
sftp_mkdir_lstat(struct sftp *s, const char *path, uint32_t mode, struct sftp_attr *a)
{
	int r, ar;

	if ((r = req_mkdir(s, path, mode)) < 0)
		return r;
	r = call_status_lstat(s, path, a, &ar);
	if (r == -EIO && ar == 0)
		r = -EEXIST;	/* OpenSSH's FAILURE, and the name is taken */
	return r;
}

int
sftp_setstat_lstat(struct sftp *s, const char *path, const struct sftp_attr *set,
    struct sftp_attr *a)
{
	int r, ar;

	if ((r = req_path_attr(s, SSH_FXP_SETSTAT, path, set)) < 0)
		return r;
	return call_status_lstat(s, path, a, &ar);
}

int
sftp_lsetstat(struct sftp *s, const char *path, const struct sftp_attr *a)
{
	int r;

	if ((r = req_lsetstat(s, path, a)) < 0)
		return r;
	return sftp_io_call_status(s);
}

int
sftp_lsetstat_lstat(struct sftp *s, const char *path, const struct sftp_attr *set,
    struct sftp_attr *a)
{
	int r, ar;

	a->flags = 0;
	if ((r = req_lsetstat(s, path, set)) < 0)
		return r;
	return call_status_lstat(s, path, a, &ar);
}

int
sftp_rmdir(struct sftp *s, const char *path)
{
	return refine_failure(s, call_path(s, SSH_FXP_RMDIR, path), path, 1);
}

int
sftp_remove(struct sftp *s, const char *path)
{
	return refine_failure(s, call_path(s, SSH_FXP_REMOVE, path), path, -1);
}

int
sftp_symlink(struct sftp *s, const char *target, const char *linkpath)
{
	int r;

	/* OpenSSH's server takes the target first, against the draft. */
	if ((r = req_path(s, SSH_FXP_SYMLINK, target)) < 0 ||
	    buf_put_cstr(&s->tx, linkpath) < 0 || (r = sftp_proto_end(&s->tx)) < 0)
		return r < 0 ? r : -ENAMETOOLONG;
	return refine_failure(s, sftp_io_call_status(s), linkpath, 0);
}

int
sftp_readlink(struct sftp *s, const char *path, char **target)
{
	return call_name(s, SSH_FXP_READLINK, path, target);
}

int
sftp_rename(struct sftp *s, const char *from, const char *to)
{
	int r;

	if (!(s->ext & SFTP_EXT_POSIX_RENAME))
		return -ENOTSUP;
	if ((r = req_ext(s, "posix-rename@openssh.com", from, to)) < 0)
		return r;
	return refine_rename(s, sftp_io_call_status(s), from, to);
}

int
sftp_link(struct sftp *s, const char *from, const char *to)
{
	int r;

	if (!(s->ext & SFTP_EXT_HARDLINK))
		return -ENOTSUP;
	if ((r = req_ext(s, "hardlink@openssh.com", from, to)) < 0)
		return r;
	return refine_failure(s, sftp_io_call_status(s), to, 0);
}

int
sftp_statvfs(struct sftp *s, const char *path, struct statvfs *st)
{
	struct sftp_msg m;
	int r;

	if (!(s->ext & SFTP_EXT_STATVFS))
		return -ENOTSUP;
	if ((r = req_ext(s, "statvfs@openssh.com", path, NULL)) < 0 ||
	    (r = sftp_io_call(s, &m)) < 0 ||
	    (r = sftp_io_expect(s, &m, SSH_FXP_EXTENDED_REPLY)) < 0)
		return r;
	if (sftp_proto_statvfs(m.str, m.len, st) < 0)
		return sftp_io_fail(s, "malformed statvfs@openssh.com reply");
	return 0;
}
