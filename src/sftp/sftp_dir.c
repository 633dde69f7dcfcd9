/*
 * sftp_dir: list a server directory (OPENDIR, READDIR until EOF with two
 * requests in flight, CLOSE without waiting), and check that one may be
 * listed and entered.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roam/log.h"
#include "sftp_int.h"

/* Call fn for each entry of one NAME reply body (a private copy). */
static int
dir_entries(struct sftp *s, struct buf *b, uint32_t count, sftp_dirent_fn fn,
    void *arg)
{
	struct sftp_attr a;
	const uint8_t *name;
	uint32_t nlen, i;
	char *z;
	int r;

	for (i = 0; i < count; i++) {
		if (sftp_proto_name_next(b, &name, &nlen, &a) < 0)
			return sftp_io_fail(s, "malformed READDIR reply");
		if ((nlen == 1 && name[0] == '.') ||
		    (nlen == 2 && name[0] == '.' && name[1] == '.'))
			continue;
		if (memchr(name, '\0', nlen) || memchr(name, '/', nlen)) {
			log_warn("skipping a server directory entry with a NUL or '/' in its name");
			continue;
		}
		if ((z = strndup((const char *)name, nlen)) == NULL)
			fatal("out of memory");
		r = fn(arg, z, &a);
		free(z);
		if (r)
			return r;
	}
	return 0;
}

/* Send one READDIR on h; its id goes to *id. */
static int
dir_ask(struct sftp *s, const struct sftp_handle *h, uint32_t *id)
{
	*id = sftp_io_id(s);
	if (sftp_io_begin_handle(s, SSH_FXP_READDIR, *id, h) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	return sftp_io_send(s);
}

/*
 * Read the replies of the READDIRs in flight (ids in ask[0..*n)); when both
 * brought entries, ask for the next two, until EOF.  Returns 0, -errno or fn's value;
 * every reply is read even after an error, so the connection stays in step.
 */
static int
dir_read(struct sftp *s, const struct sftp_handle *h, uint32_t *ask, unsigned *n,
    sftp_dirent_fn fn, void *arg)
{
	struct sftp_msg m;
	struct buf b;
	unsigned i;
	int r = 0, rr, eof = 0;

	while (*n > 0) {
		if ((rr = sftp_io_recv(s, &m)) < 0)
			return rr;
		for (i = 0; i < *n && ask[i] != m.id; i++)
			;
		if (i == *n)
			return sftp_io_fail(s, "the server answered a request it was not asked");
		ask[i] = ask[--*n];
		if (m.type == SSH_FXP_STATUS && m.status == SSH_FX_EOF) {
			eof = 1;
			continue;
		}
		if ((rr = sftp_io_expect(s, &m, SSH_FXP_NAME)) < 0) {
			if (s->dead)
				return rr;
			r = r ? r : rr;
			continue;
		}
		if (r == 0) {
			buf_wrap(&b, (uint8_t *)m.str, m.len);
			r = dir_entries(s, &b, m.count, fn, arg);
		}
		/* The next pair once both came back: a short directory ends with
		 * its second reply, and a long one gets two batches a round trip. */
		if (r == 0 && !eof && *n == 0) {
			if ((rr = dir_ask(s, h, &ask[(*n)++])) < 0 ||
			    (rr = dir_ask(s, h, &ask[(*n)++])) < 0)
				return rr;
		}
	}
	return r;
}

int
sftp_readdir(struct sftp *s, const char *path, sftp_dirent_fn fn, void *arg)
{
	struct sftp_handle h;
	uint32_t ask[2];
	unsigned n = 0;
	int r;

	if (sftp_proto_begin(&s->tx, SSH_FXP_OPENDIR, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, path) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENAMETOOLONG;
	if ((r = sftp_io_call_handle(s, &h)) < 0)
		return r;
	/* Two in flight: the batch after the last one is EOF, known one round trip earlier. */
	while (n < 2 && (r = dir_ask(s, &h, &ask[n])) == 0)
		n++;
	if (r == 0)
		r = dir_read(s, &h, ask, &n, fn, arg);
	if (s->dead)
		return -ENOTCONN;
	return sftp_io_close_handle_later(s, &h) < 0 && r == 0 ? -ENOTCONN : r;
}

/* Build and send a request of type with one path; its id goes to *id. */
static int
dir_send_path(struct sftp *s, uint8_t type, const char *path, uint32_t *id)
{
	*id = sftp_io_id(s);
	if (sftp_proto_begin(&s->tx, type, *id) < 0 || buf_put_cstr(&s->tx, path) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENAMETOOLONG;
	return sftp_io_send(s);
}

int
sftp_stat_dir(struct sftp *s, const char *path, struct sftp_attr *a)
{
	static const uint8_t type[3] = { SSH_FXP_STAT, SSH_FXP_OPENDIR, SSH_FXP_LSTAT };
	static const uint8_t want[3] = { SSH_FXP_ATTRS, SSH_FXP_HANDLE, SSH_FXP_ATTRS };
	struct sftp_handle h = { .len = 0 };
	struct sftp_msg m;
	uint32_t id[3];
	int r[3] = { 0, 0, 0 }, n, i, rr;
	char *p;

	/* "path/." resolves only with search permission on path. */
	if (asprintf(&p, "%s%s.", path, *path && path[strlen(path) - 1] == '/' ? "" : "/") < 0)
		fatal("out of memory");
	for (n = 0; n < 3; n++)
		if ((r[n] = dir_send_path(s, type[n], n < 2 ? path : p, &id[n])) < 0)
			break;
	free(p);
	if (s->dead)
		return -ENOTCONN;
	/* Every reply is read, even after an error, so the connection stays in step. */
	for (i = 0; i < n; i++) {
		if ((rr = sftp_io_recv(s, &m)) < 0)
			return rr;
		if (m.id != id[i])
			return sftp_io_fail(s, "the server answered a request it was not asked");
		if ((r[i] = sftp_io_expect(s, &m, want[i])) < 0) {
			if (s->dead)
				return -ENOTCONN;
		} else if (i == 0) {
			*a = m.attr;
		} else if (i == 1) {
			if (m.len == 0 || m.len > SFTP_MAX_HANDLE)
				return sftp_io_fail(s, "the server sent a handle of a bad length");
			memcpy(h.h, m.str, m.len);
			h.len = m.len;
		}
	}
	if (h.len && sftp_io_close_handle_later(s, &h) < 0 && s->dead)
		return -ENOTCONN;
	for (i = 0; i < 3; i++) {
		if (r[i] < 0)
			return r[i];
		if (i == 0 && !S_ISDIR(a->mode))
			return -ENOTDIR;
	}
	return 0;
}
