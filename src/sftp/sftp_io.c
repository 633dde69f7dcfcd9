/*
 * sftp_io: SFTP packets over the libssh channel, and request/reply matching
 * for single requests.
 *
 * Received bytes collect in s->rx, read in large pieces; each packet is
 * decoded in place and stays valid until the next receive.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/log.h"
#include "sftp_int.h"

#define RX_READ_SIZE	(256u * 1024u)

uint32_t
sftp_io_id(struct sftp *s)
{
	return ++s->next_id;
}

int
sftp_io_fail(struct sftp *s, const char *why)
{
	if (!s->dead) {
		snprintf(s->why, sizeof s->why, "%s", why);
		if (!s->connecting)
			log_warn("SFTP connection lost: %s; reconnect to go on", why);
	}
	s->dead = 1;
	return -ENOTCONN;
}

/*
 * A libssh call on the channel failed.  A channel the server has closed or
 * ended is named so whichever call met it first (libssh's own words for it
 * differ between the read and the write side and with timing).
 */
static int
channel_fail(struct sftp *s)
{
	if (ssh_channel_is_eof(s->channel) || ssh_channel_is_closed(s->channel))
		return sftp_io_fail(s, "the server closed the SFTP channel");
	return sftp_io_fail(s, ssh_get_error(s->session));
}

/* Count one request in the statistics. */
static void
count_request(struct sftp *s, uint8_t type)
{
	s->stats.requests++;
	switch (type) {
	case SSH_FXP_OPENDIR: s->stats.opendir++; break;
	case SSH_FXP_READDIR: s->stats.readdir++; break;
	case SSH_FXP_OPEN: s->stats.open++; break;
	case SSH_FXP_READ: s->stats.read++; break;
	case SSH_FXP_WRITE: s->stats.write++; break;
	case SSH_FXP_STAT: case SSH_FXP_LSTAT: case SSH_FXP_FSTAT:
		s->stats.stat++;
		break;
	case SSH_FXP_CLOSE: s->stats.close++; break;
	case SSH_FXP_SETSTAT: s->stats.setstat++; break;
	case SSH_FXP_EXTENDED: s->stats.extended++; break;
	case SSH_FXP_REMOVE: s->stats.remove++; break;
	}
}

int
sftp_io_send(struct sftp *s)
{
	int n;

	if (s->dead)
		return -ENOTCONN;
	if (s->tx.len < 5)
		return -EINVAL;
	count_request(s, s->tx.data[4]);
	log_debug("send %s (%zu bytes)", sftp_proto_type_name(s->tx.data[4]),
	    s->tx.len);
	n = ssh_channel_write(s->channel, s->tx.data, (uint32_t)s->tx.len);
	if (n == SSH_ERROR)
		return channel_fail(s);
	if ((size_t)n != s->tx.len)	/* libssh's timeout waiting for window */
		return sftp_io_fail(s, "the server stopped accepting data");
	return 0;
}

/* Drop the consumed packet and move what is left to the front when useful. */
static void
rx_consume(struct sftp *s)
{
	if (s->rx_pkt) {
		s->rx.off += 4 + (size_t)s->rx_pkt;
		s->rx_pkt = 0;
	}
	if (s->rx.off == s->rx.len) {
		buf_reset(&s->rx);
	} else if (s->rx.off > RX_READ_SIZE) {
		memmove(s->rx.data, s->rx.data + s->rx.off, s->rx.len - s->rx.off);
		s->rx.len -= s->rx.off;
		s->rx.off = 0;
	}
}

/* Read more bytes from the channel into s->rx. */
static int
rx_fill(struct sftp *s)
{
	int n;

	if (buf_reserve(&s->rx, RX_READ_SIZE) < 0)
		return sftp_io_fail(s, "out of memory");
	n = ssh_channel_read_timeout(s->channel, s->rx.data + s->rx.len,
	    RX_READ_SIZE, 0, SFTP_REPLY_TIMEOUT_MS);
	if (n > 0) {
		s->rx.len += (size_t)n;
		return 0;
	}
	if (n == SSH_ERROR || ssh_channel_is_eof(s->channel) || ssh_channel_is_closed(s->channel))
		return channel_fail(s);
	return sftp_io_fail(s, "no reply from the server within 60 seconds");
}

/*
 * The reply m answers a request nobody waits for: the limits@openssh.com
 * request of the connect (taken in), or a close sent with
 * sftp_io_close_handle_later (forgotten).
 */
static int
skipped(struct sftp *s, const struct sftp_msg *m)
{
	unsigned i;

	if (s->limits_id && m->id == s->limits_id && m->type != SSH_FXP_VERSION) {
		s->limits_id = 0;
		sftp_limits_reply(s, m);
		return 1;
	}
	if (m->type != SSH_FXP_STATUS)
		return 0;
	for (i = 0; i < s->nskip; i++)
		if (s->skip[i] == m->id) {
			s->skip[i] = s->skip[--s->nskip];
			if (m->status != SSH_FX_OK)
				log_debug("a close sent earlier failed with status %u", m->status);
			return 1;
		}
	return 0;
}

int
sftp_io_recv(struct sftp *s, struct sftp_msg *m)
{
	uint32_t len;
	int r;

	do {
		if (s->dead)
			return -ENOTCONN;
		rx_consume(s);
		while ((r = sftp_proto_frame(buf_cur(&s->rx), buf_avail(&s->rx), &len)) == -EAGAIN)
			if ((r = rx_fill(s)) < 0)
				return r;
		if (r < 0)
			return sftp_io_fail(s, "the server sent a packet of a bad length");
		s->rx_pkt = len;
		if (sftp_proto_decode(buf_cur(&s->rx) + 4, len, m) < 0)
			return sftp_io_fail(s, "the server sent a malformed packet");
	} while (skipped(s, m));
	return 0;
}

int
sftp_io_call(struct sftp *s, struct sftp_msg *m)
{
	uint32_t id;
	int r;

	if (s->tx.len < 9)
		return -EINVAL;
	id = be_get_u32(s->tx.data + 5);
	if ((r = sftp_io_send(s)) < 0 || (r = sftp_io_recv(s, m)) < 0)
		return r;
	if (m->id != id || m->type == SSH_FXP_VERSION)
		return sftp_io_fail(s, "the server answered a request it was not asked");
	return 0;
}

int
sftp_io_expect(struct sftp *s, const struct sftp_msg *m, uint8_t want)
{
	if (m->type == want)
		return 0;
	if (m->type == SSH_FXP_STATUS) {
		if (m->status == SSH_FX_OK)
			return sftp_io_fail(s, "the server answered OK without the data asked for");
		if (m->len)
			log_debug("server status %u: %.*s", m->status, (int)m->len,
			    (const char *)m->str);
		return -sftp_status_errno(m->status);
	}
	return sftp_io_fail(s, "the server answered with the wrong packet type");
}

int
sftp_io_call_status(struct sftp *s)
{
	struct sftp_msg m;
	int r;

	if ((r = sftp_io_call(s, &m)) < 0)
		return r;
	if (m.type != SSH_FXP_STATUS)
		return sftp_io_fail(s, "the server answered with the wrong packet type");
	if (m.status != SSH_FX_OK && m.len)
		log_debug("server status %u: %.*s", m.status, (int)m.len,
		    (const char *)m.str);
	return -sftp_status_errno(m.status);
}

int
sftp_io_call_handle(struct sftp *s, struct sftp_handle *h)
{
	struct sftp_msg m;
	int r;

	if ((r = sftp_io_call(s, &m)) < 0 ||
	    (r = sftp_io_expect(s, &m, SSH_FXP_HANDLE)) < 0)
		return r;
	if (m.len == 0 || m.len > SFTP_MAX_HANDLE)
		return sftp_io_fail(s, "the server sent a handle of a bad length");
	memcpy(h->h, m.str, m.len);
	h->len = m.len;
	return 0;
}

int
sftp_io_begin_handle(struct sftp *s, uint8_t type, uint32_t id,
    const struct sftp_handle *h)
{
	if (sftp_proto_begin(&s->tx, type, id) < 0 ||
	    buf_put_str(&s->tx, h->h, h->len) < 0)
		return -ENOMEM;
	return 0;
}

int
sftp_io_close_handle(struct sftp *s, const struct sftp_handle *h)
{
	if (sftp_io_begin_handle(s, SSH_FXP_CLOSE, sftp_io_id(s), h) < 0 ||
	    sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	return sftp_io_call_status(s);
}

int
sftp_io_close_handle_later(struct sftp *s, const struct sftp_handle *h)
{
	uint32_t id;
	int r;

	if (s->nskip == SFTP_MAX_SKIP)
		return sftp_io_close_handle(s, h);
	id = sftp_io_id(s);
	if (sftp_io_begin_handle(s, SSH_FXP_CLOSE, id, h) < 0 || sftp_proto_end(&s->tx) < 0)
		return -ENOMEM;
	if ((r = sftp_io_send(s)) < 0)
		return r;
	s->skip[s->nskip++] = id;
	return 0;
}
