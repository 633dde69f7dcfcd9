/*
 * ctl: encoding, decoding and transport of control requests and replies.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roam/ctl.h"

/* ---- requests ---- */

void
ctl_request_free(struct ctl_request *q)
{
	size_t i;

	for (i = 0; i < q->argc; i++)
		free(q->argv[i]);
	free(q->argv);
	free(q->cmd);
	memset(q, 0, sizeof *q);
}

int
ctl_request_make(struct ctl_request *q, const char *cmd, char *const *argv, size_t argc)
{
	size_t i;

	memset(q, 0, sizeof *q);
	if ((q->cmd = strdup(cmd)) == NULL ||
	    (argc && (q->argv = calloc(argc, sizeof *q->argv)) == NULL))
		goto oom;
	for (i = 0; i < argc; i++, q->argc++)
		if ((q->argv[i] = strdup(argv[i])) == NULL)
			goto oom;
	return 0;
oom:
	ctl_request_free(q);
	return -ENOMEM;
}

/* Start a frame: room for its length, then the version. */
static int
frame_begin(struct buf *b, size_t *at)
{
	*at = b->len;
	return buf_put_u32(b, 0) ? -ENOMEM : buf_put_u8(b, CTL_VERSION);
}

static int
frame_end(struct buf *b, size_t at)
{
	size_t n = b->len - at - 4;

	if (n > CTL_MAX)
		return -EMSGSIZE;
	return buf_poke_u32(b, at, (uint32_t)n);
}

int
ctl_request_encode(const struct ctl_request *q, struct buf *b)
{
	size_t at, i;
	int e;

	if ((e = frame_begin(b, &at)) < 0 || (e = buf_put_cstr(b, q->cmd)) < 0 ||
	    (e = buf_put_u32(b, (uint32_t)q->argc)) < 0)
		return e;
	for (i = 0; i < q->argc; i++)
		if ((e = buf_put_cstr(b, q->argv[i])) < 0)
			return e;
	return frame_end(b, at);
}

/* The version byte every frame body starts with. */
static int
frame_version(struct buf *b)
{
	uint8_t v;

	if (buf_get_u8(b, &v) < 0)
		return -EBADMSG;
	return v == CTL_VERSION ? 0 : -EPROTONOSUPPORT;
}

/* A count that the bytes left could hold, min_each bytes per item. */
static int
get_count(struct buf *b, size_t min_each, uint32_t *n)
{
	if (buf_get_u32(b, n) < 0 || *n > CTL_MAX_ITEMS || (size_t)*n * min_each > buf_avail(b))
		return -EBADMSG;
	return 0;
}

int
ctl_request_decode(const void *p, size_t n, struct ctl_request *q)
{
	struct buf b;
	uint32_t argc, i;
	int e;

	memset(q, 0, sizeof *q);
	buf_wrap(&b, p, n);
	if ((e = frame_version(&b)) < 0)
		return e;
	if ((e = buf_get_cstr(&b, &q->cmd)) < 0 || (e = get_count(&b, 4, &argc)) < 0)
		goto fail;
	if (argc && (q->argv = calloc(argc, sizeof *q->argv)) == NULL) {
		e = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < argc; i++, q->argc++)
		if ((e = buf_get_cstr(&b, &q->argv[i])) < 0)
			goto fail;
	if (buf_avail(&b)) {
		e = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	ctl_request_free(q);
	return e == -ENOMEM ? e : -EBADMSG;
}

/* ---- replies ---- */

static void
record_free(struct ctl_record *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->f[i].name);
		free(c->f[i].s);
	}
	free(c->f);
	memset(c, 0, sizeof *c);
}

void
ctl_reply_free(struct ctl_reply *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		record_free(&r->rec[i]);
	free(r->rec);
	free(r->msg);
	memset(r, 0, sizeof *r);
}

int
ctl_reply_fail(struct ctl_reply *r, int err, const char *fmt, ...)
{
	va_list ap;
	char *m;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&m, fmt, ap);
	va_end(ap);
	r->status = (uint32_t)(err < 0 ? -err : err);
	if (n < 0)
		return -ENOMEM;
	free(r->msg);
	r->msg = m;
	return 0;
}

struct ctl_record *
ctl_reply_record(struct ctl_reply *r)
{
	struct ctl_record *c;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4;

		if (cap > CTL_MAX_ITEMS || (c = realloc(r->rec, cap * sizeof *c)) == NULL)
			return NULL;
		r->rec = c;
		r->cap = cap;
	}
	c = &r->rec[r->n++];
	memset(c, 0, sizeof *c);
	return c;
}

/* A new field at the end of c, its name copied. */
static struct ctl_field *
field_add(struct ctl_record *c, const char *name, uint8_t type)
{
	struct ctl_field *f;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		if (cap > CTL_MAX_ITEMS || (f = realloc(c->f, cap * sizeof *f)) == NULL)
			return NULL;
		c->f = f;
		c->cap = cap;
	}
	f = &c->f[c->n];
	memset(f, 0, sizeof *f);
	if ((f->name = strdup(name)) == NULL)
		return NULL;
	f->type = type;
	c->n++;
	return f;
}

int
ctl_put_u64(struct ctl_record *c, const char *name, uint64_t v)
{
	struct ctl_field *f = field_add(c, name, CTL_U64);

	if (f == NULL)
		return -ENOMEM;
	f->u = v;
	return 0;
}

int
ctl_put_i64(struct ctl_record *c, const char *name, int64_t v)
{
	struct ctl_field *f = field_add(c, name, CTL_I64);

	if (f == NULL)
		return -ENOMEM;
	f->i = v;
	return 0;
}

int
ctl_put_str(struct ctl_record *c, const char *name, const char *v)
{
	struct ctl_field *f = field_add(c, name, CTL_STR);

	if (f == NULL)
		return -ENOMEM;
	if ((f->s = strdup(v ? v : "")) == NULL) {
		free(f->name);
		c->n--;
		return -ENOMEM;
	}
	return 0;
}

int
ctl_reply_encode(const struct ctl_reply *r, struct buf *b)
{
	const struct ctl_field *f;
	size_t at, i, j;
	int e;

	if ((e = frame_begin(b, &at)) < 0 || (e = buf_put_u32(b, r->status)) < 0 ||
	    (e = buf_put_cstr(b, r->msg ? r->msg : "")) < 0 ||
	    (e = buf_put_u32(b, (uint32_t)r->n)) < 0)
		return e;
	for (i = 0; i < r->n; i++) {
		if ((e = buf_put_u32(b, (uint32_t)r->rec[i].n)) < 0)
			return e;
		for (j = 0; j < r->rec[i].n; j++) {
			f = &r->rec[i].f[j];
			if ((e = buf_put_cstr(b, f->name)) < 0 || (e = buf_put_u8(b, f->type)) < 0)
				return e;
			switch (f->type) {
			case CTL_U64: e = buf_put_u64(b, f->u); break;
			case CTL_I64: e = buf_put_u64(b, (uint64_t)f->i); break;
			default: e = buf_put_cstr(b, f->s ? f->s : ""); break;
			}
			if (e < 0)
				return e;
		}
	}
	return frame_end(b, at);
}

static int
field_decode(struct buf *b, struct ctl_record *c)
{
	struct ctl_field *f;
	char *name;
	uint8_t type;
	uint64_t v;
	int e;

	if ((e = buf_get_cstr(b, &name)) < 0)
		return e;
	if ((e = buf_get_u8(b, &type)) < 0 || type < CTL_U64 || type > CTL_STR) {
		free(name);
		return -EBADMSG;
	}
	f = field_add(c, name, type);
	free(name);
	if (f == NULL)
		return -ENOMEM;
	if (type == CTL_STR)
		return buf_get_cstr(b, &f->s);
	if ((e = buf_get_u64(b, &v)) < 0)
		return e;
	if (type == CTL_U64)
		f->u = v;
	else
		f->i = (int64_t)v;
	return 0;
}

int
ctl_reply_decode(const void *p, size_t n, struct ctl_reply *r)
{
	struct ctl_record *c;
	uint32_t nrec, nf, i, j;
	struct buf b;
	int e;

	memset(r, 0, sizeof *r);
	buf_wrap(&b, p, n);
	if ((e = frame_version(&b)) < 0)
		return e;
	if ((e = buf_get_u32(&b, &r->status)) < 0 || (e = buf_get_cstr(&b, &r->msg)) < 0 ||
	    (e = get_count(&b, 4, &nrec)) < 0)
		goto fail;
	for (i = 0; i < nrec; i++) {
		/* A field takes 13 bytes at least: name, type and value. */
		if ((e = get_count(&b, 13, &nf)) < 0)
			goto fail;
		if ((c = ctl_reply_record(r)) == NULL) {
			e = -ENOMEM;
			goto fail;
		}
		for (j = 0; j < nf; j++)
			if ((e = field_decode(&b, c)) < 0)
				goto fail;
	}
	if (buf_avail(&b)) {
		e = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	ctl_reply_free(r);
	return e == -ENOMEM ? e : -EBADMSG;
}

const struct ctl_field *
ctl_get(const struct ctl_record *c, const char *name)
{
	size_t i;

	for (i = 0; c && i < c->n; i++)
		if (strcmp(c->f[i].name, name) == 0)
			return &c->f[i];
	return NULL;
}

uint64_t
ctl_get_u64(const struct ctl_record *c, const char *name, uint64_t dflt)
{
	const struct ctl_field *f = ctl_get(c, name);

	return f && f->type == CTL_U64 ? f->u : dflt;
}

int64_t
ctl_get_i64(const struct ctl_record *c, const char *name, int64_t dflt)
{
	const struct ctl_field *f = ctl_get(c, name);

	return f && f->type == CTL_I64 ? f->i : dflt;
}

const char *
ctl_get_str(const struct ctl_record *c, const char *name, const char *dflt)
{
	const struct ctl_field *f = ctl_get(c, name);

	return f && f->type == CTL_STR ? f->s : dflt;
}

/* ---- transport ---- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int
ctl_send(int fd, const struct buf *b, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t off = 0;
	ssize_t w;
	int e;

	while (off < b->len) {
		if ((e = wait_fd(fd, POLLOUT, deadline)) < 0)
			return e;
		w = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (w > 0)
			off += (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes into p before the deadline. */
static int
read_full(int fd, void *p, size_t n, long long deadline)
{
	size_t off = 0;
	ssize_t r;
	int e;

	while (off < n) {
		if ((e = wait_fd(fd, POLLIN, deadline)) < 0)
			return e;
		r = recv(fd, (char *)p + off, n - off, MSG_DONTWAIT);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (r > 0)
			off += (size_t)r;
	}
	return 0;
}

int
ctl_recv(int fd, struct buf *b, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	uint8_t len[4];
	uint32_t n;
	int e;

	buf_reset(b);
	if ((e = read_full(fd, len, sizeof len, deadline)) < 0)
		return e;
	if ((n = be_get_u32(len)) > CTL_MAX)
		return -EMSGSIZE;
	if (buf_reserve(b, n) < 0)
		return -ENOMEM;
	if ((e = read_full(fd, b->data, n, deadline)) < 0)
		return e;
	b->len = n;
	return 0;
}

int
ctl_address(const char *dir, struct sockaddr_un *sa, int *dirfd)
{
	int n;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, CTL_SOCKET);
	if (n >= 0 && (size_t)n < sizeof sa->sun_path)
		return 0;
	if ((*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, CTL_SOCKET);
	if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
		close(*dirfd);
		*dirfd = -1;
		return -ENAMETOOLONG;
	}
	return 0;
}

int
ctl_connect(const char *dir, int timeout_ms)
{
	struct sockaddr_un sa;
	int fd, dfd, e;

	if ((e = ctl_address(dir, &sa, &dfd)) < 0)
		return e;
	/* Non-blocking, a UNIX connect never waits on the peer: the kernel
	 * queues it, or says EAGAIN when the backlog is full (a hung roamfs). */
	(void)timeout_ms;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		e = -errno;
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = errno == EAGAIN ? -EBUSY : -errno;
		close(fd);
	} else {
		e = fd;
	}
	if (dfd >= 0)
		close(dfd);
	return e;
}

int
ctl_call(const char *dir, const struct ctl_request *q, struct ctl_reply *r, int timeout_ms)
{
	long long start = now_ms();
	struct buf b;
	int fd, e, left;

	memset(r, 0, sizeof *r);
	if ((fd = ctl_connect(dir, timeout_ms)) < 0)
		return fd;
	buf_init(&b, (size_t)CTL_MAX + 4);
	if ((e = ctl_request_encode(q, &b)) == 0 && (e = ctl_send(fd, &b, timeout_ms)) == 0) {
		left = timeout_ms - (int)(now_ms() - start);
		e = ctl_recv(fd, &b, left > 0 ? left : 1);
	}
	if (e == 0)
		e = ctl_reply_decode(b.data, b.len, r);
	buf_free(&b);
	close(fd);
	return e;
}
