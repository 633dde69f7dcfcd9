/*
 * buf: growable byte buffer with big-endian encoding and a size limit.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
	b->owned = 1;
}

void
buf_wrap(struct buf *b, const void *data, size_t len)
{
	memset(b, 0, sizeof *b);
	b->data = (uint8_t *)data;
	b->len = b->cap = len;
	b->max = len;
}

void
buf_free(struct buf *b)
{
	if (b->owned)
		free(b->data);
	b->data = NULL;
	b->len = b->off = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = b->off = 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (n > SIZE_MAX - b->len)
		return -EMSGSIZE;
	want = b->len + n;
	if (b->max && want > b->max)
		return -EMSGSIZE;
	if (want <= b->cap)
		return 0;
	if (!b->owned)
		return -EMSGSIZE;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if (b->max && cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

size_t
buf_avail(const struct buf *b)
{
	return b->len - b->off;
}

const uint8_t *
buf_cur(const struct buf *b)
{
	return b->data + b->off;
}

int
buf_put(struct buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4];

	be_put_u32(t, v);
	return buf_put(b, t, 4);
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t t[8];

	be_put_u64(t, v);
	return buf_put(b, t, 8);
}

int
buf_put_str(struct buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return -EMSGSIZE;
	if ((r = buf_reserve(b, 4 + n)) < 0)
		return r;
	buf_put_u32(b, (uint32_t)n);
	return buf_put(b, p, n);
}

int
buf_put_cstr(struct buf *b, const char *s)
{
	return buf_put_str(b, s, strlen(s));
}

int
buf_poke_u32(struct buf *b, size_t at, uint32_t v)
{
	if (at > b->len || b->len - at < 4)
		return -EINVAL;
	be_put_u32(b->data + at, v);
	return 0;
}

int
buf_get(struct buf *b, void *p, size_t n)
{
	if (buf_avail(b) < n)
		return -EBADMSG;
	if (n)
		memcpy(p, b->data + b->off, n);
	b->off += n;
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	if (buf_avail(b) < 4)
		return -EBADMSG;
	*v = be_get_u32(b->data + b->off);
	b->off += 4;
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	if (buf_avail(b) < 8)
		return -EBADMSG;
	*v = be_get_u64(b->data + b->off);
	b->off += 8;
	return 0;
}

int
buf_get_str(struct buf *b, const uint8_t **p, uint32_t *n)
{
	uint32_t len;

	if (buf_avail(b) < 4)
		return -EBADMSG;
	len = be_get_u32(b->data + b->off);
	if (buf_avail(b) - 4 < len)
		return -EBADMSG;
	*p = b->data + b->off + 4;
	*n = len;
	b->off += 4 + (size_t)len;
	return 0;
}

int
buf_get_cstr(struct buf *b, char **out)
{
	const uint8_t *p;
	uint32_t n;
	char *s;
	int r;

	if ((r = buf_get_str(b, &p, &n)) < 0)
		return r;
	if (n && memchr(p, '\0', n) != NULL) {
		b->off -= 4 + (size_t)n;
		return -EBADMSG;	/* a C string cannot hold it */
	}
	if ((s = malloc((size_t)n + 1)) == NULL)
		return -ENOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	*out = s;
	return 0;
}

int
buf_skip(struct buf *b, size_t n)
{
	if (buf_avail(b) < n)
		return -EBADMSG;
	b->off += n;
	return 0;
}

void
be_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
be_put_u64(uint8_t *p, uint64_t v)
{
	be_put_u32(p, (uint32_t)(v >> 32));
	be_put_u32(p + 4, (uint32_t)v);
}

uint32_t
be_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t
be_get_u64(const uint8_t *p)
{
	return (uint64_t)be_get_u32(p) << 32 | be_get_u32(p + 4);
}
