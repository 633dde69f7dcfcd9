/*
 * ctl: the control protocol between roamctl and a running roamfs, spoken
 * over the UNIX socket CACHE/control (CTL_SOCKET) of its cache directory.
 *
 * One request, one reply, then the connection is closed.  Each is a frame:
 * a u32 length of what follows (at most CTL_MAX bytes), then a u8 version
 * (CTL_VERSION), then
 *   request: command (str), u32 count of arguments, each a str;
 *   reply:   status (u32: 0 or a positive errno), message (str: one line
 *            saying what happened and what to do, empty on success),
 *            u32 count of records, each a u32 count of fields, each a name
 *            (str), a u8 type and a value: CTL_U64 a u64, CTL_I64 a u64
 *            holding the two's complement, CTL_STR a str.
 * Strings are as in SSH: a u32 length and the bytes, no NUL inside.
 * Integers are big-endian.  A new command is a new name answering new
 * fields: an old roamctl ignores the fields it does not know, and an old
 * roamfs answers a command it does not know with EOPNOTSUPP.  A version
 * it does not speak gets EPROTONOSUPPORT.
 */
#ifndef ROAM_CTL_H
#define ROAM_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "roam/buf.h"

#define CTL_VERSION	1
#define CTL_MAX		(4u << 20)
#define CTL_SOCKET	"control"
/* Arguments of one request, fields of one record, records of one reply. */
#define CTL_MAX_ITEMS	65536

enum ctl_type {
	CTL_U64 = 1,
	CTL_I64,
	CTL_STR,
};

struct ctl_field {
	char *name;
	uint8_t type;		/* enum ctl_type */
	uint64_t u;		/* CTL_U64 */
	int64_t i;		/* CTL_I64 */
	char *s;		/* CTL_STR */
};

struct ctl_record {
	struct ctl_field *f;
	size_t n, cap;
};

struct ctl_request {
	char *cmd;
	char **argv;
	size_t argc;
};

struct ctl_reply {
	uint32_t status;	/* 0 or a positive errno */
	char *msg;		/* NULL or one line */
	struct ctl_record *rec;
	size_t n, cap;
};

/* A request with a copy of cmd and argv; -ENOMEM. */
int ctl_request_make(struct ctl_request *q, const char *cmd, char *const *argv, size_t argc);
void ctl_request_free(struct ctl_request *q);
/* The whole frame, length first, appended to b. */
int ctl_request_encode(const struct ctl_request *q, struct buf *b);
/* Decode a frame's body (after its length); safe on any input: -EBADMSG,
 * -EPROTONOSUPPORT for another version, -ENOMEM; nothing is left
 * allocated on failure. */
int ctl_request_decode(const void *p, size_t n, struct ctl_request *q);

void ctl_reply_free(struct ctl_reply *r);
/* Set the status and the message (printf format); -ENOMEM. */
int ctl_reply_fail(struct ctl_reply *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A new empty record at the end, or NULL when out of memory. */
struct ctl_record *ctl_reply_record(struct ctl_reply *r);
/* Fields added to a record; -ENOMEM.  A NULL string is sent empty. */
int ctl_put_u64(struct ctl_record *c, const char *name, uint64_t v);
int ctl_put_i64(struct ctl_record *c, const char *name, int64_t v);
int ctl_put_str(struct ctl_record *c, const char *name, const char *v);
int ctl_reply_encode(const struct ctl_reply *r, struct buf *b);
int ctl_reply_decode(const void *p, size_t n, struct ctl_reply *r);

/* The first field of c called name, or NULL. */
const struct ctl_field *ctl_get(const struct ctl_record *c, const char *name);
/* Its value, or dflt when it is missing or of another type. */
uint64_t ctl_get_u64(const struct ctl_record *c, const char *name, uint64_t dflt);
int64_t ctl_get_i64(const struct ctl_record *c, const char *name, int64_t dflt);
const char *ctl_get_str(const struct ctl_record *c, const char *name, const char *dflt);

/*
 * Frames on a socket, within timeout_ms in all (the fd may block or not):
 * send writes the whole of b; recv reads one frame into b (its body,
 * without the length).  -ETIMEDOUT, -EMSGSIZE for a frame over CTL_MAX,
 * -ECONNRESET when the peer closed before a whole frame, or -errno.
 */
int ctl_send(int fd, const struct buf *b, int timeout_ms);
int ctl_recv(int fd, struct buf *b, int timeout_ms);

/*
 * A sockaddr_un for dir/CTL_SOCKET.  A path too long for sun_path goes
 * through /proc/self/fd/DIRFD/: then *dirfd is an O_PATH descriptor of dir
 * to keep open until bind or connect is done (else -1).  -ENAMETOOLONG,
 * -errno.
 */
struct sockaddr_un;
int ctl_address(const char *dir, struct sockaddr_un *sa, int *dirfd);
/* Connect to the roamfs of cache directory dir, never waiting: a
 * non-blocking fd, or -errno (-ENOENT or -ECONNREFUSED: none running,
 * -EBUSY: it accepts no more connections, -EACCES: not yours). */
int ctl_connect(const char *dir, int timeout_ms);
/* Send q to the roamfs of dir and read its reply, within timeout_ms in all. */
int ctl_call(const char *dir, const struct ctl_request *q, struct ctl_reply *r, int timeout_ms);

#endif
