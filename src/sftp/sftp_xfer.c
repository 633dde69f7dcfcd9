/*
 * sftp_xfer: pipelined whole-file upload and download.
 *
 * Like OpenSSH's sftp-client.c: a queue of READ or WRITE requests in
 * flight (sftp_queue.c: window, bytes in flight, reply matching).  Short
 * reads are re-requested.
 *
 * An upload sends only the data ranges of the local file (SEEK_DATA and
 * SEEK_HOLE): the server's file system keeps a hole where the WRITEs skip
 * one.  A hole at the end has no WRITE to make the file long enough, so
 * an FSETSTAT with the size goes after the last WRITE, in the same queue
 * (the server runs the requests of a handle in order, and ftruncate makes
 * the hole).  That costs one request only for such files, where writing
 * the last byte instead would allocate a block and send bytes.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "sftp_int.h"

struct xfer {
	struct sftp *s;
	struct sftp_handle h;
	int fd;
	struct sftp_queue q;	/* requests outstanding */
	uint64_t off;		/* next offset to request */
	uint64_t done;		/* bytes finished */
	int err;		/* first error; stop sending new requests */
	int set_size;		/* upload: the file ends in a hole: FSETSTAT the size */
	int dense;		/* upload: write the holes too (a rewrite in place) */
	sftp_progress_fn progress;
	void *arg;
	struct sftp_attr attr;	/* download: the FSTAT reply */
	int have_attr;
	/* download: ranges stored beyond done (after a short read), by offset */
	struct { uint64_t off, end; } ahead[SFTP_MAX_REQUESTS];
	unsigned nahead;
};

int
sftp_data_range(int fd, uint64_t off, uint64_t *size, uint64_t *start, uint64_t *end)
{
	struct stat st;
	off_t d, h;

	if (off >= *size)
		return 0;
	if ((d = lseek(fd, (off_t)off, SEEK_DATA)) < 0 && errno != ENXIO) {
		*start = off;	/* no SEEK_DATA here: all data */
		*end = *size;
		return 1;
	}
	if (d < 0 || (uint64_t)d >= *size) {
		/* A hole up to *size, or the file ends before it. */
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < *size)
			*size = (uint64_t)st.st_size;
		return 0;
	}
	if ((h = lseek(fd, d, SEEK_HOLE)) <= d || (uint64_t)h > *size)
		h = (off_t)*size;	/* (also an error: the rest as data) */
	*start = (uint64_t)d;
	*end = (uint64_t)h;
	return 1;
}

/* Download: the size from FSTAT, past which no READ is needed. */
static int
xfer_past_end(const struct xfer *x, uint64_t off)
{
	return x->have_attr && (x->attr.flags & SFTP_ATTR_SIZE) && off >= x->attr.size;
}

/* Room for one more request of len data bytes, pkt bytes on the wire? */
static int
xfer_can_send(struct xfer *x, uint32_t len, size_t pkt)
{
	return x->err == 0 && sftp_queue_room(x->s, &x->q, len, pkt);
}

/* Record a request just sent. */
static void
xfer_push(struct xfer *x, uint8_t type, uint32_t id, uint64_t off, uint32_t len)
{
	struct sftp_req r = { .id = id, .type = type, .off = off, .len = len };

	sftp_queue_push(x->s, &x->q, &r);
}

/* Account finished bytes and ask the progress callback. */
static void
xfer_progress(struct xfer *x, uint64_t n)
{
	int r;

	x->done += n;
	if (x->progress && x->err == 0 && (r = x->progress(x->arg, x->done)) != 0)
		x->err = r;
}

/* Open path with flags and attributes into x->h. */
static int
xfer_open(struct xfer *x, const char *path, uint32_t flags, const struct sftp_attr *a)
{
	struct sftp *s = x->s;

	if (sftp_proto_begin(&s->tx, SSH_FXP_OPEN, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, path) < 0 || buf_put_u32(&s->tx, flags) < 0 ||
	    sftp_proto_put_attr(&s->tx, a) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENAMETOOLONG;
	return sftp_io_call_handle(s, &x->h);
}

/* Close the handle unless the connection is dead; keep the first error. */
static int
xfer_close(struct xfer *x)
{
	int r;

	if (x->s->dead)
		return -ENOTCONN;
	r = sftp_io_close_handle(x->s, &x->h);
	return x->err ? x->err : r;
}

/* Send one WRITE with up to len bytes of the local file at x->off. */
static int
upload_send(struct xfer *x, uint32_t len)
{
	struct sftp *s = x->s;
	uint32_t id = sftp_io_id(s);
	size_t at;
	ssize_t n;
	int r;

	if (sftp_io_begin_handle(s, SSH_FXP_WRITE, id, &x->h) < 0 ||
	    buf_put_u64(&s->tx, x->off) < 0 || buf_put_u32(&s->tx, 0) < 0 ||
	    buf_reserve(&s->tx, len) < 0)
		return -ENOMEM;
	at = s->tx.len - 4;
	do
		n = pread(x->fd, s->tx.data + s->tx.len, len, (off_t)x->off);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : 1;	/* 1: the file ended early */
	s->tx.len += (size_t)n;
	if (buf_poke_u32(&s->tx, at, (uint32_t)n) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	xfer_push(x, SSH_FXP_WRITE, id, x->off, (uint32_t)n);
	x->off += (uint64_t)n;
	return 0;
}

/* Wait for one WRITE reply. */
static int
upload_reply(struct xfer *x)
{
	struct sftp_req rq;
	struct sftp_msg m;
	int r;

	if ((r = sftp_queue_recv(x->s, &x->q, &m, &rq)) < 0)
		return r;
	if (m.type != SSH_FXP_STATUS)
		return sftp_io_fail(x->s, "the server answered WRITE or FSETSTAT with the wrong "
		    "packet type");
	if (m.status != SSH_FX_OK) {
		if (x->err == 0)
			x->err = -sftp_status_errno(m.status);
		return 0;
	}
	x->s->stats.bytes_up += rq.len;
	sftp_meter_add(x->s, rq.len);
	xfer_progress(x, rq.len);
	return 0;
}

/*
 * At the end of a data range: move x->off over the hole that follows to
 * the next data, whose end *end gets.  A hole counts as done: the server
 * has it without a WRITE.  A hole at the end leaves x->off at *size and
 * asks for the FSETSTAT.
 */
static void
upload_skip_hole(struct xfer *x, uint64_t *size, uint64_t *end)
{
	uint64_t start;

	if (!sftp_data_range(x->fd, x->off, size, &start, end)) {
		start = *end = *size;
		x->set_size = x->off < *size;
	}
	if (start > x->off)
		xfer_progress(x, start - x->off);
	x->off = start;
}

/* Build an FSETSTAT of a on the open handle in s->tx (not sent). */
static int
xfer_fsetstat_req(struct xfer *x, uint32_t id, const struct sftp_attr *a)
{
	struct sftp *s = x->s;

	if (sftp_io_begin_handle(s, SSH_FXP_FSETSTAT, id, &x->h) < 0 ||
	    sftp_proto_put_attr(&s->tx, a) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	return 0;
}

/* FSETSTAT the size on the handle: a hole at the end of the file. */
static int
upload_set_size(struct xfer *x, uint64_t size)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_SIZE, .size = size };
	struct sftp *s = x->s;
	uint32_t id = sftp_io_id(s);
	int r;

	if ((r = xfer_fsetstat_req(x, id, &a)) < 0)
		return r;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	xfer_push(x, SSH_FXP_FSETSTAT, id, size, 0);
	return 0;
}

/* Keep WRITE requests in flight until the file is sent or an error. */
static int
upload_loop(struct xfer *x, uint64_t size)
{
	uint32_t chunk = x->s->write_chunk, len, pkt;
	uint64_t end = 0;	/* end of the data range being sent */
	int r;

	for (;;) {
		while (x->off < size) {
			if (x->off >= end && x->dense)
				end = size;
			else if (x->off >= end) {
				upload_skip_hole(x, &size, &end);
				continue;
			}
			len = end - x->off < chunk ? (uint32_t)(end - x->off) : chunk;
			pkt = len + 64 + x->h.len;
			if (!xfer_can_send(x, len, pkt))
				break;
			if ((r = upload_send(x, len)) < 0)
				x->err = r;
			if (r != 0)
				size = x->off;	/* stop sending */
		}
		if (x->set_size && x->off == size && xfer_can_send(x, 0, 64 + x->h.len)) {
			x->set_size = 0;
			if ((r = upload_set_size(x, size)) < 0)
				x->err = r;
		}
		if (x->q.n == 0)
			return 0;
		if ((r = upload_reply(x)) < 0)
			return r;
	}
}

/* fsync@openssh.com on the open handle. */
static int
upload_fsync(struct xfer *x)
{
	struct sftp *s = x->s;

	if (!(s->ext & SFTP_EXT_FSYNC))
		return -ENOTSUP;
	if (sftp_proto_begin(&s->tx, SSH_FXP_EXTENDED, sftp_io_id(s)) < 0 ||
	    buf_put_cstr(&s->tx, "fsync@openssh.com") < 0 ||
	    buf_put_str(&s->tx, x->h.h, x->h.len) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	return sftp_io_call_status(s);
}

/*
 * Open path with flags (and open_a), send the whole local file, then
 * FSETSTAT after (with the size sent) when not NULL, fsync when do_fsync,
 * and close.  *written (may be NULL) gets the bytes sent.
 */
static int
upload_file(struct xfer *x, const char *path, uint32_t flags, const struct sftp_attr *open_a,
    const struct sftp_attr *after, int do_fsync, uint64_t *written)
{
	struct sftp_attr a;
	struct stat st;
	int r;

	sftp_queue_init(&x->q, SFTP_MAX_REQUESTS);
	if (written)
		*written = 0;
	if (fstat(x->fd, &st) < 0)
		return -errno;
	if ((r = xfer_open(x, path, flags, open_a)) < 0)
		return r;
	if ((r = upload_loop(x, (uint64_t)st.st_size)) < 0)
		return r;	/* connection dead */
	if (x->err == 0 && after) {
		a = *after;
		a.flags |= SFTP_ATTR_SIZE;
		a.size = x->done;
		if ((x->err = xfer_fsetstat_req(x, sftp_io_id(x->s), &a)) == 0)
			x->err = sftp_io_call_status(x->s);
	}
	if (x->err == 0 && do_fsync)
		x->err = upload_fsync(x);
	if (written)
		*written = x->done;
	return xfer_close(x);
}

int
sftp_upload(struct sftp *s, int fd, const char *path, uint32_t mode,
    int do_fsync, sftp_progress_fn progress, void *arg, uint64_t *written)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS, .mode = mode & 07777 };
	struct xfer x = { .s = s, .fd = fd, .progress = progress, .arg = arg };

	return upload_file(&x, path, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC, &a, NULL,
	    do_fsync, written);
}

int
sftp_rewrite(struct sftp *s, int fd, const char *path, const struct sftp_attr *set,
    uint64_t *written)
{
	/* Dense: a hole skipped would leave the old file's bytes there. */
	struct xfer x = { .s = s, .fd = fd, .dense = 1 };
	struct sftp_attr none = { 0 };

	/* No SSH_FXF_CREAT: a file that is not there has no other names. */
	return upload_file(&x, path, SSH_FXF_WRITE, &none, set, 1, written);
}

/* Send one READ of len bytes at off. */
static int
download_send(struct xfer *x, uint64_t off, uint32_t len)
{
	struct sftp *s = x->s;
	uint32_t id = sftp_io_id(s);
	int r;

	if (sftp_io_begin_handle(s, SSH_FXP_READ, id, &x->h) < 0 ||
	    buf_put_u64(&s->tx, off) < 0 || buf_put_u32(&s->tx, len) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	xfer_push(x, SSH_FXP_READ, id, off, len);
	return 0;
}

/* Write received bytes to the local file at off. */
static int
download_store(struct xfer *x, const uint8_t *p, size_t n, uint64_t off)
{
	ssize_t w;

	while (n > 0) {
		w = pwrite(x->fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/*
 * Download: bytes [off, off + n) are stored.  done counts the bytes stored
 * from offset 0 without a gap, which is what the progress callback gets:
 * a reader may use [0, done) at once.  Replies come in order but for a
 * short read, whose rest is asked again; what arrives beyond a gap waits
 * in ahead[] until the gap is filled.
 */
static void
download_progress(struct xfer *x, uint64_t off, uint64_t n)
{
	unsigned i;
	int more;

	if (off != x->done) {
		if (x->nahead < SFTP_MAX_REQUESTS) {
			x->ahead[x->nahead].off = off;
			x->ahead[x->nahead].end = off + n;
			x->nahead++;
		}
		return;
	}
	x->done += n;
	do {
		more = 0;
		for (i = 0; i < x->nahead; i++)
			if (x->ahead[i].off <= x->done) {
				if (x->ahead[i].end > x->done)
					x->done = x->ahead[i].end;
				x->ahead[i] = x->ahead[--x->nahead];
				more = 1;
				break;
			}
	} while (more);
	xfer_progress(x, 0);
}

/* Handle one READ reply; *eof is set when the server says EOF. */
static int
download_reply(struct xfer *x, int *eof)
{
	struct sftp_req rq;
	struct sftp_msg m;
	int r;

	if ((r = sftp_queue_recv(x->s, &x->q, &m, &rq)) < 0)
		return r;
	if (rq.type == SSH_FXP_FSTAT) {
		if (m.type == SSH_FXP_ATTRS) {
			x->attr = m.attr;
			x->have_attr = 1;
		} else if (x->err == 0)
			x->err = m.type == SSH_FXP_STATUS && m.status != SSH_FX_OK ?
			    -sftp_status_errno(m.status) : -EIO;
		return 0;
	}
	if (m.type == SSH_FXP_STATUS) {
		if (m.status == SSH_FX_EOF)
			*eof = 1;
		else if (x->err == 0)
			x->err = -sftp_status_errno(m.status);
		return 0;
	}
	if (m.type != SSH_FXP_DATA || m.len > rq.len)
		return sftp_io_fail(x->s, "the server answered READ with a bad packet");
	if (x->err == 0 && (r = download_store(x, m.str, m.len, rq.off)) < 0)
		x->err = r;
	x->s->stats.bytes_down += m.len;
	if (x->err == 0)
		download_progress(x, rq.off, m.len);
	/* A short read: ask again for the rest (it may just be EOF), unless
	 * FSTAT said the file ends there. */
	if (x->err == 0 && m.len < rq.len && m.len > 0 && !xfer_past_end(x, rq.off + m.len))
		return download_send(x, rq.off + m.len, rq.len - m.len);
	return 0;
}

/* Keep READ requests in flight until EOF or an error. */
static int
download_loop(struct xfer *x)
{
	uint32_t chunk = x->s->read_chunk;
	int eof = 0, r;

	for (;;) {
		while (!eof && !xfer_past_end(x, x->off) && xfer_can_send(x, chunk, 64 + x->h.len)) {
			if ((r = download_send(x, x->off, chunk)) < 0)
				return r;
			x->off += chunk;
		}
		if (x->q.n == 0)
			return 0;
		if ((r = download_reply(x, &eof)) < 0)
			return r;
	}
}

/* Send FSTAT on the open handle; its reply comes with the first READ's. */
static int
download_fstat(struct xfer *x)
{
	struct sftp *s = x->s;
	uint32_t id = sftp_io_id(s);
	int r;

	if (sftp_io_begin_handle(s, SSH_FXP_FSTAT, id, &x->h) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	xfer_push(x, SSH_FXP_FSTAT, id, 0, 0);
	return 0;
}

int
sftp_download(struct sftp *s, const char *path, int fd,
    struct sftp_attr *a, sftp_progress_fn progress, void *arg)
{
	struct sftp_attr none = { 0 };
	struct xfer x = { .s = s, .fd = fd, .progress = progress, .arg = arg };
	int r;

	sftp_queue_init(&x.q, SFTP_MAX_REQUESTS);
	x.q.window = 2;		/* FSTAT and the first READ travel together */
	if ((r = xfer_open(&x, path, SSH_FXF_READ, &none)) < 0)
		return r;
	if (ftruncate(fd, 0) < 0)
		x.err = -errno;
	if (x.err == 0 && ((r = download_fstat(&x)) < 0 || (r = download_loop(&x)) < 0))
		return r;	/* connection dead */
	if (x.err == 0 && !x.have_attr)
		x.err = -EIO;
	if (x.err == 0 && a)
		*a = x.attr;
	/* Closing a read handle loses nothing: no need to wait for it. */
	r = sftp_io_close_handle_later(s, &x.h);
	return x.err ? x.err : r;
}
