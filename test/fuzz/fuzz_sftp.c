/*
 * fuzz_sftp: decode any bytes as the stream of replies an SFTP server sends.
 *
 * The input is cut into packets with sftp_proto_frame as sftp_io.c does;
 * each body is copied to an allocation of its exact size (so a read past
 * the packet is caught even when more of the stream follows) and decoded
 * with sftp_proto_decode, then walked with the decoder its type calls for.
 * Checks, beyond "no crash, no leak": borrowed pointers stay inside the
 * packet, decoded attributes keep only the v3 flags and survive
 * sftp_proto_put_attr and a second decoding unchanged.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "sftp_proto.h"
#include "fuzz.h"

#define V3_FLAGS (SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID | SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME)

/* Abort unless [s, s + len) lies inside [p, p + n). */
static void
check_inside(const uint8_t *p, size_t n, const uint8_t *s, size_t len)
{
	if (len == 0)
		return;
	if (s == NULL || s < p || s > p + n || len > (size_t)(p + n - s))
		abort();
}

/* Abort unless two decodings of attributes agree on every valid field. */
static void
check_attr_equal(const struct sftp_attr *a, const struct sftp_attr *b)
{
	if (a->flags != b->flags ||
	    ((a->flags & SFTP_ATTR_SIZE) && a->size != b->size) ||
	    ((a->flags & SFTP_ATTR_UIDGID) && (a->uid != b->uid || a->gid != b->gid)) ||
	    ((a->flags & SFTP_ATTR_PERMISSIONS) && a->mode != b->mode) ||
	    ((a->flags & SFTP_ATTR_ACMODTIME) && (a->atime != b->atime || a->mtime != b->mtime)))
		abort();
}

/* Abort unless decoded attributes are v3 ones and survive re-encoding. */
static void
check_attr(const struct sftp_attr *a)
{
	struct sftp_attr again;
	struct buf b;

	if (a->flags & ~V3_FLAGS)
		abort();
	buf_init(&b, 0);
	if (sftp_proto_put_attr(&b, a) != 0)
		abort();
	b.off = 0;
	if (sftp_proto_get_attr(&b, &again) != 0 || buf_avail(&b) != 0)
		abort();
	check_attr_equal(a, &again);
	buf_free(&b);
}

/* Walk the entries of a NAME body (at most count, as sftp_dir.c does). */
static void
walk_names(const uint8_t *p, size_t n, uint32_t count)
{
	const uint8_t *name;
	struct sftp_attr a;
	uint32_t nlen, i;
	struct buf b;

	buf_wrap(&b, p, n);
	for (i = 0; i < count; i++) {
		if (sftp_proto_name_next(&b, &name, &nlen, &a) != 0)
			break;
		check_inside(p, n, name, nlen);
		check_attr(&a);
	}
}

/* Walk name/data pairs (VERSION extensions); they must end cleanly or fail. */
static void
walk_exts(const uint8_t *p, size_t n)
{
	const uint8_t *name, *data;
	uint32_t nlen, dlen;
	struct buf b;
	int r;

	buf_wrap(&b, p, n);
	while ((r = sftp_proto_ext_next(&b, &name, &nlen, &data, &dlen)) == 1) {
		check_inside(p, n, name, nlen);
		check_inside(p, n, data, dlen);
	}
	if (r != 0 && r != -EBADMSG)
		abort();
	if (r == 0 && buf_avail(&b) != 0)
		abort();
}

/* Decode an EXTENDED_REPLY body every way roamfs reads one. */
static void
walk_extended(const uint8_t *p, size_t n)
{
	struct statvfs st;
	struct sftp_attr a;
	struct buf b;
	uint64_t v;

	if (sftp_proto_statvfs(p, n, &st) == 0 && n < 88)
		abort();
	buf_wrap(&b, p, n);
	if (sftp_proto_get_attr(&b, &a) == 0)
		check_attr(&a);
	buf_wrap(&b, p, n);	/* limits@openssh.com: four u64 */
	while (buf_get_u64(&b, &v) == 0)
		;
	walk_exts(p, n);
}

/* Decode one packet body and walk what it carries. */
static void
decode_packet(const uint8_t *p, size_t n)
{
	struct sftp_msg m;

	if (sftp_proto_decode(p, n, &m) != 0)
		return;
	check_inside(p, n, m.str, m.len);
	if (sftp_proto_type_name(m.type) == NULL)
		abort();
	switch (m.type) {
	case SSH_FXP_VERSION:
		walk_exts(m.str, m.len);
		break;
	case SSH_FXP_STATUS:
		if (sftp_status_errno(m.status) < 0)
			abort();
		break;
	case SSH_FXP_NAME:
		walk_names(m.str, m.len, m.count);
		break;
	case SSH_FXP_ATTRS:
		check_attr(&m.attr);
		break;
	case SSH_FXP_EXTENDED_REPLY:
		walk_extended(m.str, m.len);
		break;
	case SSH_FXP_HANDLE:
	case SSH_FXP_DATA:
		break;
	default:
		abort();	/* a type the decoder should have refused */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len;
	uint8_t *body;
	int r;

	while ((r = sftp_proto_frame(data, size, &len)) == 0) {
		if (len == 0 || len > SFTP_MAX_PACKET || len > size - 4)
			abort();
		if ((body = malloc(len)) == NULL)
			abort();
		memcpy(body, data + 4, len);
		decode_packet(body, len);
		free(body);
		data += 4 + (size_t)len;
		size -= 4 + (size_t)len;
	}
	if (r != -EAGAIN && r != -EBADMSG)
		abort();
	return 0;
}
