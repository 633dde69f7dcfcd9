/*
 * sftp_int: what the files of the SFTP client share (not for other modules):
 * the connection struct, the packet I/O over the channel (sftp_io.c) and
 * the SSH session set-up (ssh_conn.c, ssh_hostkey.c, ssh_auth.c).
 */
#ifndef ROAMFS_SFTP_INT_H
#define ROAMFS_SFTP_INT_H

#include <libssh/libssh.h>

#include "roam/buf.h"
#include "sftp.h"
#include "sftp_proto.h"

/* Server extensions we use, from the VERSION reply. */
#define SFTP_EXT_POSIX_RENAME	0x01u
#define SFTP_EXT_HARDLINK	0x02u
#define SFTP_EXT_FSYNC		0x04u
#define SFTP_EXT_STATVFS	0x08u
#define SFTP_EXT_LIMITS		0x10u
#define SFTP_EXT_LSETSTAT	0x20u

/* Transfer tuning (see sftp.h for the reasoning). */
#define SFTP_MAX_REQUESTS	64		/* READ/WRITE requests in flight */
#define SFTP_MAX_INFLIGHT	(8u << 20)	/* bytes in flight */
#define SFTP_DEFAULT_CHUNK	32768u		/* without limits@openssh.com */
#define SFTP_MAX_CHUNK		(255u * 1024u)	/* with it, at most */
#define SFTP_REPLY_TIMEOUT_MS	60000		/* a silent server is gone */

/*
 * A handshake the server cuts before authentication (sshd's MaxStartups,
 * when a class logs in at once) is tried again after a random pause of
 * half to all of SSH_CONN_PAUSE_MS, doubling up to SSH_CONN_PAUSE_MAX_MS,
 * for up to sftp_opts.retry_dropped seconds from the first try.
 */
#define SSH_CONN_PAUSE_MS	200
#define SSH_CONN_PAUSE_MAX_MS	3000

/* Requests sent without waiting for their status (sftp_io_close_handle_later). */
#define SFTP_MAX_SKIP 8

/*
 * Batch uploads (sftp_batch.c), measured with 4 KiB and 100-byte files over
 * loopback and a 20 ms link: more requests in flight help on the link, but
 * more bytes queued at the server cost it much more CPU than they save
 * (perf: page faults, munmap and memset in sshd as its buffers grow), so
 * data in flight is bounded far lower than for one big transfer.  Slots
 * stay well below the server's handle limit (OpenSSH: its open-file
 * limit, often 1024).
 */
#define SFTP_BATCH_REQUESTS	1024		/* requests in flight */
#define SFTP_BATCH_INFLIGHT	(512u << 10)	/* data bytes in flight */
#define SFTP_BATCH_SLOTS	512		/* files under way (handles open) */

struct sftp {
	ssh_session session;
	ssh_channel channel;
	uint32_t next_id;
	unsigned ext;			/* SFTP_EXT_* */
	uint32_t read_chunk, write_chunk; /* bytes per READ / WRITE */
	int dead;			/* the connection failed: ENOTCONN */
	int connecting;			/* in sftp_start: the cause says why */
	int started;			/* the SFTP channel is open (sftp_start) */
	char why[256];			/* why it died, for messages */
	struct buf tx;			/* packet being sent */
	struct buf rx;			/* bytes received, not yet consumed */
	uint32_t rx_pkt;		/* length of the packet at rx.off, 0: none */
	uint32_t skip[SFTP_MAX_SKIP];	/* ids whose status reply nobody waits for */
	unsigned nskip;
	uint32_t limits_id;		/* limits@openssh.com sent, reply not read; 0: none */
	struct sftp_stats stats;
	uint64_t *meter;		/* sftp_set_meter, or NULL */
};

/* Count n data bytes the server took into the meter, if any. */
static inline void
sftp_meter_add(struct sftp *s, uint64_t n)
{
	if (s->meter)
		__atomic_fetch_add(s->meter, n, __ATOMIC_RELAXED);
}

/* A file or directory handle, copied out of the reply. */
#define SFTP_MAX_HANDLE 256
struct sftp_handle {
	uint8_t h[SFTP_MAX_HANDLE];
	uint32_t len;
};

/* One request in flight of a pipelined exchange (sftp_queue.c). */
struct sftp_req {
	uint32_t id;
	uint32_t tag;		/* the caller's: which file of a batch */
	uint8_t type;		/* SSH_FXP_* that was sent */
	uint64_t off;		/* READ/WRITE: file offset */
	uint32_t len;		/* READ/WRITE: data bytes, counted in flight */
};

/*
 * Requests in flight, matched to replies by id.  The window starts at one
 * request and grows by one per reply up to its max; at most max_inflight
 * data bytes are outstanding (one request is always allowed when none
 * is); while requests are outstanding, a packet is only sent when the
 * channel's remote window can take it whole, so that ssh_channel_write
 * never blocks while replies wait to be read.
 */
struct sftp_queue {
	struct sftp_req q[SFTP_BATCH_REQUESTS];
	unsigned n;		/* requests outstanding */
	unsigned window;	/* how many may be outstanding now */
	unsigned max;		/* the window grows up to this */
	uint64_t inflight;	/* data bytes outstanding */
	uint64_t max_inflight;	/* at most this many (SFTP_MAX_INFLIGHT) */
};

/* An empty queue with a window of one request, growing up to max (at most
 * SFTP_BATCH_REQUESTS), and at most SFTP_MAX_INFLIGHT data bytes in flight. */
void sftp_queue_init(struct sftp_queue *q, unsigned max);
/* Bound the data bytes in flight of q to max_inflight instead. */
void sftp_queue_set_inflight(struct sftp_queue *q, uint64_t max_inflight);
/* May a request of len data bytes, pkt bytes on the wire, be sent now? */
int sftp_queue_room(struct sftp *s, const struct sftp_queue *q, uint32_t len,
    size_t pkt);
/* Record a request just sent (counts max_in_flight). */
void sftp_queue_push(struct sftp *s, struct sftp_queue *q, const struct sftp_req *r);
/* Read the next reply into m, take out the request it answers into out and
 * widen the window; -ENOTCONN (connection marked dead) on a read failure or
 * when no such request is outstanding. */
int sftp_queue_recv(struct sftp *s, struct sftp_queue *q, struct sftp_msg *m,
    struct sftp_req *out);

/* Allocate a request id. */
uint32_t sftp_io_id(struct sftp *s);
/* Send the packet in s->tx (finished with sftp_proto_end); counts it. */
int sftp_io_send(struct sftp *s);
/*
 * Wait for the next packet and decode it into *m; its bytes stay valid until
 * the next sftp_io_recv.  Returns -ENOTCONN (and marks the connection dead)
 * on a lost channel, a timeout or a malformed packet.
 */
int sftp_io_recv(struct sftp *s, struct sftp_msg *m);
/* Send s->tx and wait for the reply with its id (other replies: protocol error). */
int sftp_io_call(struct sftp *s, struct sftp_msg *m);
/* Send s->tx and expect a STATUS reply: 0 or -errno. */
int sftp_io_call_status(struct sftp *s);
/* The errno of a reply expected to be of type want (a STATUS gives its code). */
int sftp_io_expect(struct sftp *s, const struct sftp_msg *m, uint8_t want);
/* Mark the connection dead and return -ENOTCONN. */
int sftp_io_fail(struct sftp *s, const char *why);
/* Send s->tx (an OPEN or OPENDIR) and copy the handle of the reply. */
int sftp_io_call_handle(struct sftp *s, struct sftp_handle *h);
/* Begin a request of type whose first argument is the handle h. */
int sftp_io_begin_handle(struct sftp *s, uint8_t type, uint32_t id,
    const struct sftp_handle *h);
/* Close a handle (one request); returns the status as -errno. */
int sftp_io_close_handle(struct sftp *s, const struct sftp_handle *h);
/*
 * Close a handle without waiting: its status reply is dropped when it
 * comes (a failed CLOSE is only logged).  For handles whose close cannot
 * lose data, such as directories.  Falls back to sftp_io_close_handle when
 * too many replies are pending already.
 */
int sftp_io_close_handle_later(struct sftp *s, const struct sftp_handle *h);
/*
 * Uploads send only the data of a sparse local file (sftp_xfer.c): the
 * first data at or after off and before *size, as [*start, *end); 0 when
 * only a hole is left up to *size, which is then lowered to the file's
 * current size if it shrank.  A file system without SEEK_DATA, or any
 * error, answers the whole rest as data.  Moves fd's file offset.
 */
int sftp_data_range(int fd, uint64_t off, uint64_t *size, uint64_t *start, uint64_t *end);

/* Take the READ/WRITE lengths from the limits@openssh.com reply m (sftp.c). */
void sftp_limits_reply(struct sftp *s, const struct sftp_msg *m);

/* One line of a known hosts file, as sftp_files_load read it. */
struct kh_line {
	const char *file;	/* the file it came from (user_kh or global_kh) */
	unsigned no;		/* its line number there */
	char *text;
};

/* What sftp_files_load read (ssh_files.c). */
struct sftp_files {
	char *user_kh;		/* the user's known hosts file read, or NULL */
	int user_default;	/* user_kh is the default ~/.ssh/known_hosts */
	char *global_kh;	/* the system-wide one read, or NULL */
	char *kh_problem;	/* why a known hosts file could not be read, or NULL */
	struct kh_line *lines;
	size_t nlines;
	ssh_key *keys;		/* private keys to offer, in order */
	char **key_paths;	/* the file of each */
	size_t nkeys;
	int identity;		/* keys[0] is the IdentityFile given */
	int agent;		/* offer the SSH agent's keys */
};

/* The host as known_hosts spells it: "host" or "[host]:port", lower case. */
void ssh_files_host_name(const struct sftp_opts *o, char *out, size_t n);
/* Whether line l is about host name: 1 and its key in *key (to free), else 0. */
int ssh_files_match(const struct kh_line *l, const char *name, ssh_key *key);
/*
 * The host key algorithms to ask for, as SSH_OPTIONS_HOSTKEYS takes them:
 * those of the keys known for name first.  1 when some key is known.
 */
int ssh_files_hostkeys(const struct sftp_files *f, const char *name, char *out, size_t n);

/* Open and set up the SSH session: connect, host key, authentication. */
int ssh_conn_open(const struct sftp_opts *o, ssh_session *out, char **cause);
/* Check the server's host key against the known hosts of f; -EPERM with a cause. */
int ssh_hostkey_check(ssh_session ss, const struct sftp_opts *o, const struct sftp_files *f,
    char **cause);
/* Authenticate with a key, the agent or a password; -EACCES with a cause. */
int ssh_auth_login(ssh_session ss, const struct sftp_opts *o, const struct sftp_files *f,
    char **cause);
/* Set *cause (if not NULL) to a formatted malloc'd line. */
void sftp_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
