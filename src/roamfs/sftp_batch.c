/*
 * sftp_batch: many whole-file uploads at once (sftp_put_many), each file a
 * small state machine driven by its replies, all sharing one queue of
 * requests in flight (sftp_queue.c).
 *
 * A file holds a slot from its OPEN until its last reply; there are as
 * many slots as requests may be in flight, which also bounds the handles
 * open on the server.  A slot that has a request to send waits in a FIFO
 * ring; the ring is served before a new file is started, so files that
 * are under way finish first.  Each step of a file is sent only after the
 * reply to the step before (the WRITEs of one file are pipelined).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "sftp_int.h"

#define BATCH_SLOTS SFTP_BATCH_REQUESTS

/* The step a file is at: the request it sends next or waits for. */
enum put_state {
	PS_OPEN, PS_WRITE, PS_FSYNC, PS_CLOSE, PS_SETSTAT, PS_RENAME,
	PS_REMOVE, PS_DONE,
};

/* One file under way. */
struct put_slot {
	struct sftp_put *p;
	struct sftp_handle h;
	uint64_t size;		/* bytes to send (fstat at start) */
	uint64_t off;		/* next offset to send */
	unsigned nreq;		/* requests outstanding */
	enum put_state state;
	int queued;		/* in the ring */
};

struct batch {
	struct sftp *s;
	struct sftp_put *puts;
	size_t n, next;			/* files, next file to start */
	int do_fsync;
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

/* The current step is over (its replies are in): choose the next one. */
static void
slot_advance(struct batch *b, struct put_slot *sl)
{
	int failed = sl->p->err != 0;

	switch (sl->state) {
	case PS_OPEN:
		sl->state = failed ? PS_DONE : PS_WRITE;
		break;
	case PS_WRITE:
		if (sl->nreq > 0)
			return;		/* the last WRITE replies will call again */
		sl->state = !failed && b->do_fsync ? PS_FSYNC : PS_CLOSE;
		break;
	case PS_FSYNC:
		sl->state = PS_CLOSE;
		break;
	case PS_CLOSE:
		sl->state = failed ? PS_REMOVE : PS_SETSTAT;
		break;
	case PS_SETSTAT:
		sl->state = failed ? PS_REMOVE : PS_RENAME;
		break;
	case PS_RENAME:
		sl->state = failed ? PS_REMOVE : PS_DONE;
		break;
	default:
		sl->state = PS_DONE;
		break;
	}
	if (sl->state == PS_DONE)
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
		    .state = PS_OPEN };
		ring_push(b, sl);
		return 1;
	}
	return 0;
}

/* Bytes of the next WRITE of a slot. */
static uint32_t
slot_write_len(const struct batch *b, const struct put_slot *sl)
{
	uint64_t left = sl->size - sl->off;

	if (sl->state != PS_WRITE || sl->off >= sl->size || sl->p->err)
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
slot_send(struct batch *b, struct put_slot *sl, uint8_t type, uint32_t id,
    uint32_t len)
{
	struct sftp_req r = { .id = id, .tag = (uint32_t)(sl - b->slot),
	    .type = type, .off = sl->off, .len = len };
	int e;

	if ((e = sftp_io_send(b->s)) < 0)
		return e;
	sftp_queue_push(b->s, &b->q, &r);
	sl->nreq++;
	return 0;
}

/* Build the request of a step without data: 0, or -ENAMETOOLONG when the
 * names do not fit in a packet. */
static int
slot_build(struct sftp *s, struct put_slot *sl, uint32_t id)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS, .mode = sl->p->mode & 07777 };
	struct buf *tx = &s->tx;
	int bad;

	switch (sl->state) {
	case PS_OPEN:
		bad = sftp_proto_begin(tx, SSH_FXP_OPEN, id) < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0 ||
		    buf_put_u32(tx, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC) < 0 ||
		    sftp_proto_put_attr(tx, &a) < 0;
		break;
	case PS_FSYNC:
		bad = sftp_proto_begin(tx, SSH_FXP_EXTENDED, id) < 0 ||
		    buf_put_cstr(tx, "fsync@openssh.com") < 0 ||
		    buf_put_str(tx, sl->h.h, sl->h.len) < 0;
		break;
	case PS_CLOSE:
		bad = sftp_io_begin_handle(s, SSH_FXP_CLOSE, id, &sl->h) < 0;
		break;
	case PS_SETSTAT:
		a.flags |= SFTP_ATTR_ACMODTIME;
		a.atime = a.mtime = sl->p->mtime;
		bad = sftp_proto_begin(tx, SSH_FXP_SETSTAT, id) < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0 || sftp_proto_put_attr(tx, &a) < 0;
		break;
	case PS_RENAME:
		bad = sftp_proto_begin(tx, SSH_FXP_EXTENDED, id) < 0 ||
		    buf_put_cstr(tx, "posix-rename@openssh.com") < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0 || buf_put_cstr(tx, sl->p->path) < 0;
		break;
	case PS_REMOVE:
		bad = sftp_proto_begin(tx, SSH_FXP_REMOVE, id) < 0 ||
		    buf_put_cstr(tx, sl->p->tmp) < 0;
		break;
	default:
		fatal("sftp batch: no request for state %d (broken invariant)", sl->state);
	}
	return bad || sftp_proto_end(tx) < 0 ? -ENAMETOOLONG : 0;
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
	do
		n = pread(sl->p->fd, s->tx.data + s->tx.len, len, (off_t)sl->off);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {			/* an error, or the file shrank: stop here */
		if (n < 0)
			put_fail(sl, -errno);
		sl->size = sl->off;
		slot_advance(b, sl);
		return 0;
	}
	s->tx.len += (size_t)n;
	if (buf_poke_u32(&s->tx, at, (uint32_t)n) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = slot_send(b, sl, SSH_FXP_WRITE, id, (uint32_t)n)) < 0)
		return r;
	sl->off += (uint64_t)n;
	if (sl->off < sl->size)
		ring_push(b, sl);	/* more to send, after the others' turn */
	return 0;
}

/* Send a slot's next request (or move it on when it has none). */
static int
slot_step(struct batch *b, struct put_slot *sl)
{
	uint32_t id, len;
	int r;

	if (sl->state == PS_WRITE) {
		if ((len = slot_write_len(b, sl)) > 0)
			return slot_write(b, sl, len);
		slot_advance(b, sl);	/* all sent, or failed: once the replies are in */
		return 0;
	}
	id = sftp_io_id(b->s);
	if ((r = slot_build(b->s, sl, id)) < 0) {
		put_fail(sl, r);
		slot_advance(b, sl);
		return 0;
	}
	return slot_send(b, sl, b->s->tx.data[4], id, 0);
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

/* Wait for one reply and move its file on. */
static int
batch_reply(struct batch *b)
{
	struct put_slot *sl;
	struct sftp_req rq;
	struct sftp_msg m;
	int r, err;

	if ((r = sftp_io_recv(b->s, &m)) < 0 ||
	    (r = sftp_queue_pop(b->s, &b->q, m.id, &rq)) < 0)
		return r;
	sl = &b->slot[rq.tag];
	sl->nreq--;
	if (rq.type == SSH_FXP_OPEN)
		return reply_open(b, sl, &m);
	if (m.type != SSH_FXP_STATUS)
		return sftp_io_fail(b->s, "the server answered with the wrong packet type");
	if ((err = -sftp_status_errno(m.status)) != 0) {
		log_debug("%s %s: server status %u: %.*s", sftp_proto_type_name(rq.type),
		    sl->p->tmp, m.status, (int)m.len, (const char *)m.str);
		put_fail(sl, err);
		if (rq.type == SSH_FXP_REMOVE)
			log_warn("cannot remove the temporary file %s on the server (%s); "
			    "remove it by hand", sl->p->tmp, strerror(-err));
	} else if (rq.type == SSH_FXP_WRITE) {
		sl->p->sent += rq.len;
		b->s->stats.bytes_up += rq.len;
	}
	if (rq.type != SSH_FXP_WRITE || (sl->nreq == 0 && slot_write_len(b, sl) == 0))
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
	}
	if (s->dead)
		return -ENOTCONN;
	if (!(s->ext & SFTP_EXT_POSIX_RENAME) || (do_fsync && !(s->ext & SFTP_EXT_FSYNC))) {
		for (k = 0; k < n; k++)
			puts[k].err = -ENOTSUP;
		return 0;
	}
	if ((b = calloc(1, sizeof *b)) == NULL)
		return -ENOMEM;
	b->s = s;
	b->puts = puts;
	b->n = n;
	b->do_fsync = do_fsync;
	sftp_queue_init(&b->q, SFTP_BATCH_REQUESTS);
	for (i = 0; i < BATCH_SLOTS; i++)
		b->free[b->nfree++] = BATCH_SLOTS - 1 - i;
	r = batch_run(b);
	free(b);
	return r;
}
