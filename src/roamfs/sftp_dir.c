/*
 * sftp_dir: list a server directory (OPENDIR, READDIR until EOF, CLOSE).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Read one batch of entries; *more stays 1 until EOF.  Returns 0, -errno or fn's value. */
static int
dir_batch(struct sftp *s, const struct sftp_handle *h, sftp_dirent_fn fn,
    void *arg, int *more)
{
	struct sftp_msg m;
	struct buf b;
	uint8_t *copy;
	int r;

	if (sftp_io_begin_handle(s, SSH_FXP_READDIR, sftp_io_id(s), h) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_call(s, &m)) < 0)
		return r;
	if (m.type == SSH_FXP_STATUS && m.status == SSH_FX_EOF) {
		*more = 0;
		return 0;
	}
	if ((r = sftp_io_expect(s, &m, SSH_FXP_NAME)) < 0)
		return r;
	/* A copy, so that fn may use the connection. */
	if ((copy = malloc(m.len ? m.len : 1)) == NULL)
		fatal("out of memory");
	memcpy(copy, m.str, m.len);
	buf_wrap(&b, copy, m.len);
	r = dir_entries(s, &b, m.count, fn, arg);
	free(copy);
	return r;
}

int
sftp_readdir(struct sftp *s, const char *path, sftp_dirent_fn fn, void *arg)
{
	struct sftp_handle h;
	int r = 0, rc, more = 1;

	if (sftp_proto_begin(&s->tx, SSH_FXP_OPENDIR, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, path) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENAMETOOLONG;
	if ((r = sftp_io_call_handle(s, &h)) < 0)
		return r;
	while (more && r == 0)
		r = dir_batch(s, &h, fn, arg, &more);
	if (s->dead)
		return -ENOTCONN;
	rc = sftp_io_close_handle(s, &h);
	return r ? r : rc;
}
