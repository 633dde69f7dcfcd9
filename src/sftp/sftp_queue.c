/*
 * sftp_queue: the requests in flight of a pipelined exchange (transfers
 * and batch uploads): window, bound on bytes in flight, reply matching.
 */
#include "config.h"

#include "sftp_int.h"

void
sftp_queue_init(struct sftp_queue *q, unsigned max)
{
	q->n = 0;
	q->window = 1;
	q->max = max < SFTP_BATCH_REQUESTS ? max : SFTP_BATCH_REQUESTS;
	q->inflight = 0;
	q->max_inflight = SFTP_MAX_INFLIGHT;
}

void
sftp_queue_set_inflight(struct sftp_queue *q, uint64_t max_inflight)
{
	q->max_inflight = max_inflight;
}

int
sftp_queue_room(struct sftp *s, const struct sftp_queue *q, uint32_t len,
    size_t pkt)
{
	if (q->n == 0)
		return 1;
	return q->n < q->window && q->inflight + len <= q->max_inflight &&
	    ssh_channel_window_size(s->channel) >= pkt;
}

void
sftp_queue_push(struct sftp *s, struct sftp_queue *q, const struct sftp_req *r)
{
	q->q[q->n++] = *r;
	q->inflight += r->len;
	if (q->n > s->stats.max_in_flight)
		s->stats.max_in_flight = q->n;
}

int
sftp_queue_recv(struct sftp *s, struct sftp_queue *q, struct sftp_msg *m,
    struct sftp_req *out)
{
	unsigned i;
	int r;

	if ((r = sftp_io_recv(s, m)) < 0)
		return r;
	for (i = 0; i < q->n; i++) {
		if (q->q[i].id != m->id)
			continue;
		*out = q->q[i];
		q->q[i] = q->q[--q->n];
		q->inflight -= out->len;
		if (q->window < q->max)
			q->window++;
		return 0;
	}
	return sftp_io_fail(s, "the server answered a request it was not asked");
}
