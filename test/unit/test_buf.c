/*
 * Unit tests for buf: round trips, limits and truncated input.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "roam/buf.h"
#include "../tap.h"

int
main(void)
{
	struct buf b, r;
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;
	char *s;
	const uint8_t *p;
	uint32_t n;

	buf_init(&b, 0);
	ok(buf_put_u8(&b, 7) == 0 && buf_put_u32(&b, 0x01020304) == 0 &&
	    buf_put_u64(&b, 0x1122334455667788ULL) == 0 &&
	    buf_put_cstr(&b, "hello") == 0, "puts succeed");
	is_int(b.len, 1 + 4 + 8 + 4 + 5, "length adds up");
	is_int(b.data[1], 1, "u32 is big-endian");
	buf_wrap(&r, b.data, b.len);
	ok(buf_get_u8(&r, &v8) == 0 && v8 == 7, "u8 round trip");
	ok(buf_get_u32(&r, &v32) == 0 && v32 == 0x01020304, "u32 round trip");
	ok(buf_get_u64(&r, &v64) == 0 && v64 == 0x1122334455667788ULL, "u64 round trip");
	ok(buf_get_cstr(&r, &s) == 0, "string read");
	is_str(s, "hello", "string round trip");
	free(s);
	is_int(buf_get_u8(&r, &v8), -EBADMSG, "reading past the end fails");
	buf_free(&b);

	buf_init(&b, 8);
	is_int(buf_put_u64(&b, 1), 0, "put up to the limit");
	is_int(buf_put_u8(&b, 1), -EMSGSIZE, "put past the limit fails");
	is_int(b.len, 8, "failed put leaves length");
	buf_free(&b);

	buf_init(&b, 0);
	buf_put_u32(&b, 100);
	buf_put(&b, "abc", 3);
	buf_wrap(&r, b.data, b.len);
	is_int(buf_get_str(&r, &p, &n), -EBADMSG, "string longer than input is refused");
	is_int(r.off, 0, "refused read consumes nothing");
	ok(buf_poke_u32(&b, 0, 3) == 0, "poke length");
	buf_wrap(&r, b.data, b.len);
	ok(buf_get_str(&r, &p, &n) == 0 && n == 3 && memcmp(p, "abc", 3) == 0, "poked string reads");
	buf_free(&b);

	buf_init(&b, 0);
	buf_put_str(&b, "a\0b", 3);
	buf_wrap(&r, b.data, b.len);
	is_int(buf_get_cstr(&r, &s), -EBADMSG, "a string with a NUL inside is refused");
	is_int(r.off, 0, "and nothing is consumed");
	buf_free(&b);
	return tap_done();
}
