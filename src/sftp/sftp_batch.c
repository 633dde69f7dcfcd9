/*
 * sftp_batch: many whole-file uploads at once (sftp_put_many), each file a
 * small state machine of three stages driven by its replies, all sharing
 * one queue of requests in flight (sftp_queue.c).
 *
 * The stages of a file: (1) OPEN the temporary name and wait for the
 * handle; (2) send the WRITEs, FSETSTAT, [fsync] and CLOSE on the handle
 * back to back and wait for all their replies (the server runs the
 * requests on one handle in order), with an LSTAT of the target when the
 * caller checks what it replaces; (3) only if all of them were OK (and the
 * target is what the caller expects), posix-rename over the target.  A failed file gets a REMOVE of its
 * temporary name once the file exists.  As in sftp_upload, the WRITEs
 * cover only the data ranges of a sparse file, and the FSETSTAT also sets
 * the size when the file ends in a hole.
 *
 * A file holds a slot from its OPEN until its last reply.  There are more
 * slots than requests may be in flight, since a file waiting for replies
 * sends nothing; the queue bounds the requests and bytes in flight.  A slot
 * that has a request to send waits in a FIFO ring; the ring is served
 * before a new file is started, so files that are under way finish first.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "sftp_int.h"

#define BATCH_SLOTS SFTP_BATCH_SLOTS

/* The stage a file is in: what its requests in flight are. */
enum put_stage {
	PS_OPEN,	/* OPEN of tmp */
	PS_DATA,	/* WRITEs, FSETSTAT, [fsync], [LSTAT of path], CLOSE on the handle */
	PS_RENAME,	/* posix-rename tmp over path */
	PS_REMOVE,	/* REMOVE tmp after a failure */
	PS_UNLOCK,	/* RMDIR the lock */
	PS_DONE,
};

/* The requests of a file; sent holds a bit (1 << req) for each one of
 * the current stage that is sent. */
enum put_req {
	RQ_NONE, RQ_OPEN, RQ_WRITE, RQ_FSYNC, RQ_FSETSTAT, RQ_CLOSE, RQ_RENAME,
	RQ_REMOVE, RQ_LSTAT, RQ_LOCK, RQ_UNLOCK,
};
#define SENT(rq) (1u << (rq))

/* One file under way. */
struct put_slot {
	struct sftp_put *p;
	struct sftp_handle h;
	uint64_t size;		/* bytes to send (fstat at start) */
	uint64_t off;		/* next offset to send: in data, or at size */
	uint64_t end;		/* end of the data range off is in */
	int set_size;		/* the file ends in a hole: FSETSTAT sets the size */
	unsigned nreq;		/* requests outstanding */
	unsigned sent;		/* SENT() of the requests of this stage */
	enum put_stage stage;
	int queued;		/* in the ring */
	int locked;		/* its lock is ours: RMDIR it at the end */
};

struct batch {
	struct sftp *s;
	struct sftp_put *puts;
	size_t n, next;			/* files, next file to start */
	int do_fsync;
	int unsupported;		/* the server lacks posix-rename (or fsync) */
	struct sftp_queue q;
	struct put_slot slot[BATCH_SLOTS];
	unsigned free[BATCH_SLOTS], nfree;	/* free slot indexes */
	unsigned ring[BATCH_SLOTS], head, nready; /* slots with a request to send */
};

/* Put a slot at the end of the ring unless it is there already. */
static void
ring_push(struct batch *b, struct put_slot *sl)
{
	if (sl->queued)
		return;
	sl->queued = 1;
	b->ring[(b->head + b->nready++) % BATCH_SLOTS] = (unsigned)(sl - b->slot);
}

/* Take the first slot out of the ring. */
static struct put_slot *
ring_pop(struct batch *b)
{
	struct put_slot *sl = &b->slot[b->ring[b->head]];

	b->head = (b->head + 1) % BATCH_SLOTS;
	b->nready--;
	sl->queued = 0;
	return sl;
}

/* Keep the first error of a file. */
static void
put_fail(struct put_slot *sl, int err)
{
	if (sl->p->err == 0)
		sl->p->err = err;
}

/* Give a finished file's slot back. */
static void
slot_release(struct batch *b, struct put_slot *sl)
{
	if (sl->queued || sl->nreq)
		fatal("sftp batch: a finished file still has work (broken invariant)");
	sl->p = NULL;
	b->free[b->nfree++] = (unsigned)(sl - b->slot);
}

/* The request a slot sends next, or RQ_NONE when it has nothing to send
 * until the replies of its stage are in. */
static enum put_req
slot_next(const struct batch *b, const struct put_slot *sl)
{
	switch (sl->stage) {
	case PS_OPEN:
		return sl->sent ? RQ_NONE : RQ_OPEN;
	case PS_DATA:
		if (sl->sent & SENT(RQ_CLOSE))
			return RQ_NONE;
		if (sl->p->err)
			return RQ_CLOSE;	/* the handle must go; nothing else */
		if (sl->off < sl->size)
			return RQ_WRITE;
		/* Mode and times before the fsync, so that it covers them too. */
		if (!(sl->sent & SENT(RQ_FSETSTAT)))
			return RQ_FSETSTAT;
		if (b->do_fsync && !(sl->sent & SENT(RQ_FSYNC)))
			return RQ_FSYNC;
		/* As late as can be: one round trip before the rename, and
		 * after the lock, which the server makes first. */
		if (sl->p->check && sl->p->lock && !(sl->sent & SENT(RQ_LOCK)))
			return RQ_LOCK;
		if (sl->p->check && !(sl->sent & SENT(RQ_LSTAT)))
			return RQ_LSTAT;
		return RQ_CLOSE;
	case PS_RENAME:
		return sl->sent ? RQ_NONE : RQ_RENAME;
	case PS_REMOVE:
		return sl->sent ? RQ_NONE : RQ_REMOVE;
	case PS_UNLOCK:
		return sl->sent ? RQ_NONE : RQ_UNLOCK;
	default:
		return RQ_NONE;
	}
}

/*
 * Move a slot over the hole at sl->off to the next data (a hole needs no
 * WRITE: the server keeps it); sent counts it.  At a hole that ends the
 * file, sl->off becomes the size and the FSETSTAT will set it.
 */
static void
slot_seek(struct put_slot *sl)
{
	uint64_t start;

	if (sl->off < sl->end || sl->off >= sl->size)
		return;
	if (!sftp_data_range(sl->p->fd, sl->off, &sl->size, &start, &sl->end)) {
		start = sl->end = sl->size;
		sl->set_size = sl->off < sl->size;
	}
	if (start > sl->off)
		sl->p->sent += start - sl->off;
	sl->off = start;
}

/* Whether the rename may replace what the LSTAT found at path. */
static int
put_may_replace(const struct sftp_put *p)
{
	const struct sftp_attr *f = &p->found;
	const uint32_t all = SFTP_ATTR_PERMISSIONS | SFTP_ATTR_SIZE | SFTP_ATTR_ACMODTIME;

	if (!p->check || f->flags == 0)
		return 1;
	return !p->expect_absent && (f->flags & all) == all &&
	    (f->mode & S_IFMT) == (p->expect_mode & S_IFMT) && f->size == p->expect_size &&
	    f->mtime == p->expect_mtime;
}

/* Every reply of the current stage is in: choose the next stage. */
static void
slot_advance(struct batch *b, struct put_slot *sl)
{
	int failed = sl->p->err != 0, may;

	switch (sl->stage) {
	case PS_OPEN:
		/* Refused OPENs give their own error first (a read-only
		 * server); a file that cannot be renamed into place stops. */
		if (!failed && b->unsupported)
			put_fail(sl, -ENOTSUP);
		sl->stage = failed ? PS_DONE : PS_DATA;
		if (!failed)
			slot_seek(sl);
		break;
	case PS_DATA:
		if (failed || sl->p->busy) {
			sl->stage = PS_REMOVE;
		} else if (!(may = put_may_replace(sl->p)) ||
		    (sl->p->verify && (sl->p->matched = sl->p->check && sl->p->found.flags != 0))) {
			sl->p->kept = 1;	/* the caller decides */
			sl->p->held = sl->locked && sl->p->verify;
			sl->stage = sl->locked && !sl->p->held ? PS_UNLOCK : PS_DONE;
		} else {
			sl->stage = PS_RENAME;
		}
		break;
	case PS_RENAME:
		sl->stage = failed ? PS_REMOVE : sl->locked ? PS_UNLOCK : PS_DONE;
		break;
	case PS_REMOVE:
		sl->stage = sl->locked ? PS_UNLOCK : PS_DONE;
		break;
	default:
		sl->stage = PS_DONE;
		break;
	}
	sl->sent = 0;
	if (sl->stage == PS_DONE)
		slot_release(b, sl);
	else
		ring_push(b, sl);
}

/* Start the next file that can be started in a free slot; 0 when none. */
static int
batch_start(struct batch *b)
{
	struct put_slot *sl;
	struct sftp_put *p;
	struct stat st;

	while (b->next < b->n && b->nfree > 0) {
		p = &b->puts[b->next++];
		if (p->tmp == NULL || p->path == NULL) {
			p->err = -EINVAL;
			continue;
		}
		if (fstat(p->fd, &st) < 0) {
			p->err = -errno;
			continue;
		}
		sl = &b->slot[b->free[--b->nfree]];
		*sl = (struct put_slot){ .p = p, .size = (uint64_t)st.st_size,
		    .stage = PS_OPEN };
		ring_push(b, sl);
		return 1;
	}
	return 0;
}

/* Bytes of a slot's next request when it is a WRITE, else 0. */
static uint32_t
slot_write_len(const struct batch *b, const struct put_slot *sl)
{
	uint64_t left = sl->end - sl->off;

	if (slot_next(b, sl) != RQ_WRITE)
		return 0;
	return left < b->s->write_chunk ? (uint32_t)left : b->s->write_chunk;
}

/* An upper bound of the size on the wire of a slot's next request. */
static size_t
slot_pkt(const struct batch *b, const struct put_slot *sl)
{
	return 128 + sl->h.len + strlen(sl->p->tmp) + strlen(sl->p->path) +
	    slot_write_len(b, sl);
}

/* Send the request in s->tx for a slot and record it in the queue. */
static int
slot_send(struct batch *b, struct put_slot *sl, uint32_t id, uint32_t len)
{
	struct sftp_req r = { .id = id, .tag = (uint32_t)(sl - b->slot),
	    .type = b->s->tx.data[4], .off = sl->off, .len = len };
	int e;

	if ((e = sftp_io_send(b->s)) < 0)
		return e;
	sftp_queue_push(b->s, &b->q, &r);
	sl->nreq++;
	return 0;
}

/* Build a slot's request rq (not a WRITE) in s->tx: 0, or -ENAMETOOLONG
 * when the names do not fit in a packet. */
static int
slot_build(struct sftp *s, struct put_slot *sl, enum put_req rq, uint32_t id)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS, .mode = sl->p->mode & 07777 };
	struct buf *tx = &s->tx;
	int bad;

	switch (rq) {
	case RQ_OPEN:
		bad = sftp_proto_begin(tx, SSH_FXP_OPEN, id) < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0 ||
		    buf_put_u32(tx, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC) < 0 ||
		    sftp_proto_put_attr(tx, &a) < 0;
		break;
	case RQ_FSYNC:
		bad = sftp_proto_begin(tx, SSH_FXP_EXTENDED, id) < 0 ||
		    buf_put_cstr(tx, "fsync@openssh.com") < 0 ||
		    buf_put_str(tx, sl->h.h, sl->h.len) < 0;
		break;
	case RQ_FSETSTAT:
		a.flags |= SFTP_ATTR_ACMODTIME;
		a.atime = a.mtime = sl->p->mtime;
		if (sl->set_size) {
			a.flags |= SFTP_ATTR_SIZE;
			a.size = sl->size;
		}
		bad = sftp_io_begin_handle(s, SSH_FXP_FSETSTAT, id, &sl->h) < 0 ||
		    sftp_proto_put_attr(tx, &a) < 0;
		break;
	case RQ_CLOSE:
		bad = sftp_io_begin_handle(s, SSH_FXP_CLOSE, id, &sl->h) < 0;
		break;
	case RQ_RENAME:
		bad = sftp_proto_begin(tx, SSH_FXP_EXTENDED, id) < 0 ||
		    buf_put_cstr(tx, "posix-rename@openssh.com") < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0 || buf_put_cstr(tx, sl->p->path) < 0;
		break;
	case RQ_REMOVE:
		bad = sftp_proto_begin(tx, SSH_FXP_REMOVE, id) < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0;
		break;
	case RQ_LSTAT:
		bad = sftp_proto_begin(tx, SSH_FXP_LSTAT, id) < 0 ||
		    buf_put_cstr(tx, sl->p->path) < 0;
		break;
	case RQ_LOCK:
		a.mode = 0700;
		bad = sftp_proto_begin(tx, SSH_FXP_MKDIR, id) < 0 ||
		    buf_put_cstr(tx, sl->p->lock) < 0 || sftp_proto_put_attr(tx, &a) < 0;
		break;
	case RQ_UNLOCK:
		bad = sftp_proto_begin(tx, SSH_FXP_RMDIR, id) < 0 ||
		    buf_put_cstr(tx, sl->p->lock) < 0;
		break;
	default:
		fatal("sftp batch: no request %d to build (broken invariant)", (int)rq);
	}
	return bad || sftp_proto_end(tx) < 0 ? -ENAMETOOLONG : 0;
}

/* Read up to len bytes of a slot's file at sl->off into s->tx: the bytes
 * read, 0 at the end of the file, or -errno. */
static ssize_t
slot_read(struct sftp *s, struct put_slot *sl, uint32_t len)
{
	ssize_t n;

	do
		n = pread(sl->p->fd, s->tx.data + s->tx.len, len, (off_t)sl->off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Send the next WRITE of a slot (len > 0 bytes at sl->off). */
static int
slot_write(struct batch *b, struct put_slot *sl, uint32_t len)
{
	struct sftp *s = b->s;
	uint32_t id = sftp_io_id(s);
	size_t at;
	ssize_t n;
	int r;

	if (sftp_io_begin_handle(s, SSH_FXP_WRITE, id, &sl->h) < 0 ||
	    buf_put_u64(&s->tx, sl->off) < 0 || buf_put_u32(&s->tx, 0) < 0 ||
	    buf_reserve(&s->tx, len) < 0)
		return -ENOMEM;
	at = s->tx.len - 4;
	if ((n = slot_read(s, sl, len)) <= 0) {
		if (n < 0)			/* a read error: close, then remove */
			put_fail(sl, (int)n);
		sl->size = sl->off;		/* or the file shrank: stop here */
		return 0;
	}
	s->tx.len += (size_t)n;
	if (buf_poke_u32(&s->tx, at, (uint32_t)n) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = slot_send(b, sl, id, (uint32_t)n)) < 0)
		return r;
	sl->off += (uint64_t)n;
	slot_seek(sl);
	return 0;
}

/* Send a slot's next request, then put it back in the ring if it has more
 * to send. */
static int
slot_step(struct batch *b, struct put_slot *sl)
{
	enum put_req rq = slot_next(b, sl);
	uint32_t id;
	int r;

	if (rq == RQ_WRITE) {
		if ((r = slot_write(b, sl, slot_write_len(b, sl))) < 0)
			return r;
	} else {
		id = sftp_io_id(b->s);
		if ((r = slot_build(b->s, sl, rq, id)) < 0) {
			put_fail(sl, r);	/* names too long: nothing was sent */
			if (sl->nreq == 0)
				slot_advance(b, sl);
			return 0;
		}
		if ((r = slot_send(b, sl, id, 0)) < 0)
			return r;
		sl->sent |= SENT(rq);
	}
	if (slot_next(b, sl) != RQ_NONE)
		ring_push(b, sl);
	return 0;
}

/* Send requests while the queue has room and some file has one to send. */
static int
batch_pump(struct batch *b)
{
	struct put_slot *sl;
	int r;

	for (;;) {
		if (b->nready == 0 && !batch_start(b))
			return 0;
		sl = &b->slot[b->ring[b->head]];
		if (!sftp_queue_room(b->s, &b->q, slot_write_len(b, sl), slot_pkt(b, sl)))
			return 0;
		ring_pop(b);
		if ((r = slot_step(b, sl)) < 0)
			return r;
	}
}

/* The reply to an OPEN: keep the handle, or the error. */
static int
reply_open(struct batch *b, struct put_slot *sl, const struct sftp_msg *m)
{
	int r;

	if ((r = sftp_io_expect(b->s, m, SSH_FXP_HANDLE)) < 0) {
		if (b->s->dead)
			return r;
		put_fail(sl, r);
	} else if (m->len == 0 || m->len > SFTP_MAX_HANDLE) {
		return sftp_io_fail(b->s, "the server sent a handle of a bad length");
	} else {
		memcpy(sl->h.h, m->str, m->len);
		sl->h.len = m->len;
	}
	slot_advance(b, sl);
	return 0;
}

/* A STATUS reply to a request of a file: count it, keep its error. */
static int
reply_status(struct batch *b, struct put_slot *sl, const struct sftp_req *rq,
    const struct sftp_msg *m)
{
	int err;

	if (m->type != SSH_FXP_STATUS)
		return sftp_io_fail(b->s, "the server answered with the wrong packet type");
	err = -sftp_status_errno(m->status);
	if (rq->type == SSH_FXP_MKDIR) {
		if (err == 0)
			sl->locked = 1;
		else if (err == -EIO || err == -EEXIST)
			sl->p->busy = 1;	/* another client replaces path now */
		else
			put_fail(sl, err);
		return 0;
	}
	if (rq->type == SSH_FXP_RMDIR) {
		if (err != 0)
			log_warn("cannot remove the lock %s on the server (%s); remove it by hand",
			    sl->p->lock, strerror(-err));
		return 0;
	}
	if (err != 0) {
		log_debug("%s %s: server status %u: %.*s", sftp_proto_type_name(rq->type),
		    sl->p->tmp, m->status, (int)m->len, (const char *)m->str);
		put_fail(sl, err);
		if (rq->type == SSH_FXP_REMOVE)
			log_warn("cannot remove the temporary file %s on the server (%s); "
			    "remove it by hand", sl->p->tmp, strerror(-err));
	} else if (rq->type == SSH_FXP_WRITE) {
		sl->p->sent += rq->len;
		b->s->stats.bytes_up += rq->len;
		sftp_meter_add(b->s, rq->len);
	}
	return 0;
}

/* The reply to the LSTAT of path: what is there, or nothing. */
static int
reply_lstat(struct batch *b, struct put_slot *sl, const struct sftp_msg *m)
{
	int r;

	memset(&sl->p->found, 0, sizeof sl->p->found);
	if ((r = sftp_io_expect(b->s, m, SSH_FXP_ATTRS)) == 0)
		sl->p->found = m->attr;
	else if (b->s->dead)
		return r;
	else if (r != -ENOENT)
		put_fail(sl, r);
	return 0;
}

/* Wait for one reply and move its file on once its stage is complete. */
static int
batch_reply(struct batch *b)
{
	struct put_slot *sl;
	struct sftp_req rq;
	struct sftp_msg m;
	int r;

	if ((r = sftp_queue_recv(b->s, &b->q, &m, &rq)) < 0)
		return r;
	sl = &b->slot[rq.tag];
	sl->nreq--;
	if (rq.type == SSH_FXP_OPEN)
		return reply_open(b, sl, &m);
	if (rq.type == SSH_FXP_LSTAT)
		r = reply_lstat(b, sl, &m);
	else
		r = reply_status(b, sl, &rq, &m);
	if (r < 0)
		return r;
	if (slot_next(b, sl) != RQ_NONE)
		ring_push(b, sl);	/* e.g. a failed WRITE: its CLOSE goes next */
	else if (sl->nreq == 0)
		slot_advance(b, sl);
	return 0;
}

/* Run the batch until every file is done. */
static int
batch_run(struct batch *b)
{
	int r;

	for (;;) {
		if ((r = batch_pump(b)) < 0)
			return r;
		if (b->q.n == 0) {
			if (b->nfree != BATCH_SLOTS || b->next != b->n)
				fatal("sftp batch: stalled with files under way (broken invariant)");
			return 0;
		}
		if ((r = batch_reply(b)) < 0)
			return r;
	}
}

int
sftp_put_many(struct sftp *s, struct sftp_put *puts, size_t n, int do_fsync)
{
	struct batch *b;
	unsigned i;
	size_t k;
	int r;

	for (k = 0; k < n; k++) {
		puts[k].err = 0;
		puts[k].sent = 0;
		puts[k].kept = 0;
		puts[k].busy = 0;
		puts[k].matched = 0;
		puts[k].held = 0;
		memset(&puts[k].found, 0, sizeof puts[k].found);
	}
	if (s->dead)
		return -ENOTCONN;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return -ENOMEM;
	b->unsupported = !(s->ext & SFTP_EXT_POSIX_RENAME) ||
	    (do_fsync && !(s->ext & SFTP_EXT_FSYNC));
	b->s = s;
	b->puts = puts;
	b->n = n;
	b->do_fsync = do_fsync;
	sftp_queue_init(&b->q, SFTP_BATCH_REQUESTS);
	sftp_queue_set_inflight(&b->q, SFTP_BATCH_INFLIGHT);
	/* No slow start: the bytes in flight are bounded already, and a
	 * logout's last few files should all go in the first round trip. */
	b->q.window = b->q.max;
	for (i = 0; i < BATCH_SLOTS; i++)
		b->free[b->nfree++] = BATCH_SLOTS - 1 - i;
	r = batch_run(b);
	free(b);
	return r;
}
