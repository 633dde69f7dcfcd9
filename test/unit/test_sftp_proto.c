/*
 * test_sftp_proto: the SFTP wire format decoders on good, malformed and
 * truncated packets, the encoders, and the status-to-errno table.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roam/buf.h"
#include "sftp_proto.h"
#include "../tap.h"

/* Build a packet body: type, id, then the rest given by the caller. */
static void
body(struct buf *b, uint8_t type, uint32_t id)
{
	buf_reset(b);
	buf_put_u8(b, type);
	if (type != SSH_FXP_VERSION)
		buf_put_u32(b, id);
}

/* Every strict prefix of a valid body must decode as -EBADMSG or be a
 * valid shorter packet (STATUS without message); never crash. */
static int
all_prefixes_fail(const struct buf *b, size_t allowed_ok)
{
	struct sftp_msg m;
	size_t n;
	int bad = 0;

	for (n = 0; n < b->len; n++) {
		/* a private copy so ASan sees any read past the end */
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, b->data, n);
		if (sftp_proto_decode(p, n, &m) == 0 && n != allowed_ok)
			bad++;
		free(p);
	}
	return bad;
}

static void
test_frame(void)
{
	uint8_t p[8] = { 0, 0, 0, 3, 101, 0, 0 };
	uint32_t len = 0;

	is_int(sftp_proto_frame(p, 0, &len), -EAGAIN, "frame: empty needs more");
	is_int(sftp_proto_frame(p, 3, &len), -EAGAIN, "frame: 3 bytes need more");
	is_int(sftp_proto_frame(p, 6, &len), -EAGAIN, "frame: partial body needs more");
	is_int(sftp_proto_frame(p, 7, &len), 0, "frame: complete packet");
	is_int(len, 3, "frame: length read");
	memset(p, 0, 4);
	is_int(sftp_proto_frame(p, 8, &len), -EBADMSG, "frame: zero length is bad");
	be_put_u32(p, SFTP_MAX_PACKET + 1);
	is_int(sftp_proto_frame(p, 8, &len), -EBADMSG, "frame: oversized length is bad");
	be_put_u32(p, 0xffffffffu);
	is_int(sftp_proto_frame(p, 8, &len), -EBADMSG, "frame: 4 GiB length is bad");
}

static void
test_status(void)
{
	struct sftp_msg m;
	struct buf b;

	buf_init(&b, 0);
	body(&b, SSH_FXP_STATUS, 7);
	buf_put_u32(&b, SSH_FX_NO_SUCH_FILE);
	buf_put_cstr(&b, "No such file");
	ok(sftp_proto_decode(b.data, b.len, &m) == 0, "status: decodes");
	is_int(m.type, SSH_FXP_STATUS, "status: type");
	is_int(m.id, 7, "status: id");
	is_int(m.status, SSH_FX_NO_SUCH_FILE, "status: code");
	ok(m.len == 12 && memcmp(m.str, "No such file", 12) == 0, "status: message");
	/* type+id+code alone (9 bytes) is an accepted short STATUS */
	is_int(all_prefixes_fail(&b, 9), 0, "status: truncated packets rejected");

	body(&b, SSH_FXP_STATUS, 1);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 1000);	/* message length past the end */
	buf_put(&b, "abc", 3);
	is_int(sftp_proto_decode(b.data, b.len, &m), -EBADMSG, "status: lying length rejected");
	buf_free(&b);
}

static void
test_handle_data(void)
{
	struct sftp_msg m;
	struct buf b;

	buf_init(&b, 0);
	body(&b, SSH_FXP_HANDLE, 3);
	buf_put_str(&b, "\0\0\0\1", 4);
	ok(sftp_proto_decode(b.data, b.len, &m) == 0 && m.len == 4 && m.id == 3,
	    "handle: decodes");
	is_int(all_prefixes_fail(&b, (size_t)-1), 0, "handle: truncated packets rejected");

	body(&b, SSH_FXP_DATA, 9);
	buf_put_str(&b, "hello", 5);
	ok(sftp_proto_decode(b.data, b.len, &m) == 0 && m.len == 5 &&
	    memcmp(m.str, "hello", 5) == 0, "data: decodes");
	is_int(all_prefixes_fail(&b, (size_t)-1), 0, "data: truncated packets rejected");

	body(&b, 99, 1);
	is_int(sftp_proto_decode(b.data, b.len, &m), -EBADMSG, "unknown type rejected");
	body(&b, SSH_FXP_OPEN, 1);
	is_int(sftp_proto_decode(b.data, b.len, &m), -EBADMSG, "a request type as reply rejected");
	buf_free(&b);
}

static void
test_attrs(void)
{
	struct sftp_attr in = { .flags = SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID |
	    SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME, .size = 1ull << 40,
	    .uid = 1000, .gid = 100, .mode = S_IFREG | 0640, .atime = 5, .mtime = 6 };
	struct sftp_msg m;
	struct buf b;

	buf_init(&b, 0);
	body(&b, SSH_FXP_ATTRS, 4);
	sftp_proto_put_attr(&b, &in);
	ok(sftp_proto_decode(b.data, b.len, &m) == 0, "attrs: decodes");
	ok(m.attr.flags == in.flags && m.attr.size == in.size && m.attr.uid == in.uid &&
	    m.attr.gid == in.gid && m.attr.mode == in.mode && m.attr.atime == in.atime &&
	    m.attr.mtime == in.mtime, "attrs: round trip of every field");
	is_int(all_prefixes_fail(&b, (size_t)-1), 0, "attrs: truncated packets rejected");

	/* extended attributes are skipped */
	body(&b, SSH_FXP_ATTRS, 4);
	buf_put_u32(&b, SFTP_ATTR_SIZE | SSH_FILEXFER_ATTR_EXTENDED);
	buf_put_u64(&b, 42);
	buf_put_u32(&b, 2);
	buf_put_cstr(&b, "a@x"); buf_put_cstr(&b, "1");
	buf_put_cstr(&b, "b@x"); buf_put_cstr(&b, "");
	ok(sftp_proto_decode(b.data, b.len, &m) == 0 && m.attr.size == 42 &&
	    m.attr.flags == SFTP_ATTR_SIZE, "attrs: extended pairs skipped");
	is_int(all_prefixes_fail(&b, (size_t)-1), 0, "attrs: truncated extended rejected");

	body(&b, SSH_FXP_ATTRS, 4);
	buf_put_u32(&b, SSH_FILEXFER_ATTR_EXTENDED);
	buf_put_u32(&b, 0x7fffffff);	/* claims 2^31 pairs */
	is_int(sftp_proto_decode(b.data, b.len, &m), -EBADMSG, "attrs: huge extended count rejected");
	buf_free(&b);
}

static void
test_name(void)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS, .mode = S_IFDIR | 0755 }, got;
	const uint8_t *name;
	uint32_t nlen;
	struct sftp_msg m;
	struct buf b, e;

	buf_init(&b, 0);
	body(&b, SSH_FXP_NAME, 2);
	buf_put_u32(&b, 2);
	buf_put_cstr(&b, "dir"); buf_put_cstr(&b, "drwxr-xr-x dir");
	sftp_proto_put_attr(&b, &a);
	buf_put_str(&b, "n\n\xff", 3); buf_put_cstr(&b, "");
	sftp_proto_put_attr(&b, &a);
	ok(sftp_proto_decode(b.data, b.len, &m) == 0 && m.count == 2, "name: decodes header");
	buf_wrap(&e, m.str, m.len);
	ok(sftp_proto_name_next(&e, &name, &nlen, &got) == 0 && nlen == 3 &&
	    memcmp(name, "dir", 3) == 0 && got.mode == a.mode, "name: first entry");
	ok(sftp_proto_name_next(&e, &name, &nlen, &got) == 0 && nlen == 3 &&
	    memcmp(name, "n\n\xff", 3) == 0, "name: second entry with odd bytes");
	is_int(sftp_proto_name_next(&e, &name, &nlen, &got), -EBADMSG, "name: past the end rejected");
	/* a NAME body truncated anywhere must not decode all of its entries */
	for (size_t n = 0; n < m.len; n++) {
		struct buf t;
		int r = 0;

		buf_wrap(&t, m.str, n);
		r |= sftp_proto_name_next(&t, &name, &nlen, &got);
		r |= sftp_proto_name_next(&t, &name, &nlen, &got);
		if (r == 0) {
			ok(0, "name: truncated body at %zu decoded", n);
			break;
		}
	}
	ok(1, "name: truncated bodies never decode fully");
	buf_free(&b);
}

/* The link count in a listing's long name ("ls -l", as OpenSSH writes it). */
static void
test_name_nlink(void)
{
	static const struct {
		const char *longname;
		uint32_t nlink;
	} cases[] = {
		{ "-rw-r--r--    2 pupil    pupils        10 Dec  7 21:30 report.txt", 2 },
		{ "-rw-r--r--    1 pupil    pupils        10 Dec  7 21:30 one.txt", 1 },
		{ "drwxr-xr-x   12 pupil    pupils      4096 Dec  7 21:30 dir", 12 },
		{ "-rw-r--r--+ 3 pupil pupils 10 Dec  7 21:30 acl.txt", 3 },
		{ "drwxr-xr-x dir", 0 },	/* no count */
		{ "", 0 },
		{ "-rw-r--r--", 0 },
		{ "rw 2 x", 0 },		/* not a mode string */
		{ "-rw-r--r-- 99999999999 a b", 0 },	/* absurd */
		{ "-rw-r--r-- 2", 0 },		/* nothing after the count */
	};
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS, .mode = S_IFREG | 0644 }, got;
	const uint8_t *name;
	uint32_t nlen;
	struct sftp_msg m;
	struct buf b, e;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_init(&b, 0);
		body(&b, SSH_FXP_NAME, 2);
		buf_put_u32(&b, 1);
		buf_put_cstr(&b, "f"); buf_put_cstr(&b, cases[i].longname);
		sftp_proto_put_attr(&b, &a);
		ok(sftp_proto_decode(b.data, b.len, &m) == 0, "nlink: decodes (%zu)", i);
		buf_wrap(&e, m.str, m.len);
		ok(sftp_proto_name_next(&e, &name, &nlen, &got) == 0 && got.nlink == cases[i].nlink &&
		    got.mode == a.mode, "nlink: \"%s\" gives %u", cases[i].longname,
		    (unsigned)cases[i].nlink);
		buf_free(&b);
	}
}

static void
test_version_ext(void)
{
	const uint8_t *n, *d;
	uint32_t nl, dl;
	struct sftp_msg m;
	struct buf b, e;

	buf_init(&b, 0);
	body(&b, SSH_FXP_VERSION, 0);
	buf_put_u32(&b, 3);
	buf_put_cstr(&b, "posix-rename@openssh.com"); buf_put_cstr(&b, "1");
	buf_put_cstr(&b, "statvfs@openssh.com"); buf_put_cstr(&b, "2");
	ok(sftp_proto_decode(b.data, b.len, &m) == 0 && m.count == 3, "version: decodes");
	buf_wrap(&e, m.str, m.len);
	is_int(sftp_proto_ext_next(&e, &n, &nl, &d, &dl), 1, "version: first extension");
	ok(nl == 24 && memcmp(n, "posix-rename@openssh.com", 24) == 0 && dl == 1,
	    "version: first extension name and data");
	is_int(sftp_proto_ext_next(&e, &n, &nl, &d, &dl), 1, "version: second extension");
	is_int(sftp_proto_ext_next(&e, &n, &nl, &d, &dl), 0, "version: end of extensions");
	buf_wrap(&e, m.str, m.len - 1);
	sftp_proto_ext_next(&e, &n, &nl, &d, &dl);
	is_int(sftp_proto_ext_next(&e, &n, &nl, &d, &dl), -EBADMSG, "version: truncated extension rejected");
	is_int(sftp_proto_decode(b.data, 3, &m), -EBADMSG, "version: truncated version rejected");
	buf_free(&b);
}

static void
test_statvfs(void)
{
	struct statvfs st;
	struct buf b;
	int i;

	buf_init(&b, 0);
	for (i = 1; i <= 11; i++)
		buf_put_u64(&b, i == 10 ? 3 : (uint64_t)i * 1000);
	ok(sftp_proto_statvfs(b.data, b.len, &st) == 0, "statvfs: decodes");
	ok(st.f_bsize == 1000 && st.f_blocks == 3000 && st.f_namemax == 11000,
	    "statvfs: fields");
	ok(st.f_flag == (ST_RDONLY | ST_NOSUID), "statvfs: flags");
	is_int(sftp_proto_statvfs(b.data, b.len - 1, &st), -EBADMSG, "statvfs: truncated rejected");
	buf_free(&b);
}

static void
test_encode(void)
{
	struct buf b;
	uint32_t len;

	buf_init(&b, 0);
	ok(sftp_proto_begin(&b, SSH_FXP_OPEN, 0x01020304) == 0, "encode: begin");
	buf_put_cstr(&b, "/x");
	ok(sftp_proto_end(&b) == 0, "encode: end");
	ok(sftp_proto_frame(b.data, b.len, &len) == 0 && len == b.len - 4, "encode: length field");
	ok(b.data[4] == SSH_FXP_OPEN && be_get_u32(b.data + 5) == 0x01020304, "encode: type and id");
	sftp_proto_begin(&b, SSH_FXP_INIT, 0);
	buf_put_u32(&b, 3);
	sftp_proto_end(&b);
	is_int(b.len, 9, "encode: INIT has no id");
	buf_free(&b);
}

static void
test_errno_table(void)
{
	is_int(sftp_status_errno(SSH_FX_OK), 0, "errno: OK");
	is_int(sftp_status_errno(SSH_FX_NO_SUCH_FILE), ENOENT, "errno: NO_SUCH_FILE");
	is_int(sftp_status_errno(SSH_FX_PERMISSION_DENIED), EACCES, "errno: PERMISSION_DENIED");
	is_int(sftp_status_errno(SSH_FX_FAILURE), EIO, "errno: FAILURE");
	is_int(sftp_status_errno(SSH_FX_OP_UNSUPPORTED), ENOTSUP, "errno: OP_UNSUPPORTED");
	is_int(sftp_status_errno(SSH_FX_CONNECTION_LOST), ENOTCONN, "errno: CONNECTION_LOST");
	is_int(sftp_status_errno(18), ENOTEMPTY, "errno: DIR_NOT_EMPTY (draft 6)");
	is_int(sftp_status_errno(11), EEXIST, "errno: FILE_ALREADY_EXISTS (draft 6)");
	is_int(sftp_status_errno(12345), EIO, "errno: unknown code is EIO");
}

/* Random bytes never crash the decoders (a poor man's fuzz run). */
static void
test_random(void)
{
	uint8_t p[64];
	struct sftp_msg m;
	struct sftp_attr a;
	const uint8_t *n;
	uint32_t nl;
	struct buf b;
	int i, j, okd = 0;

	srand(1);
	for (i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand() % (int)sizeof p);
		for (j = 0; j < (int)len; j++)
			p[j] = (uint8_t)(rand() % 4 == 0 ? rand() : (rand() % 3));
		if (len)
			p[0] = (uint8_t)(101 + rand() % 5);
		if (sftp_proto_decode(p, len, &m) == 0) {
			okd++;
			if (m.type == SSH_FXP_NAME) {
				buf_wrap(&b, m.str, m.len);
				while (sftp_proto_name_next(&b, &n, &nl, &a) == 0)
					;
			}
		}
	}
	ok(1, "random: 20000 random packets decoded without a crash (%d accepted)", okd);
}

int
main(void)
{
	test_frame();
	test_status();
	test_handle_data();
	test_attrs();
	test_name();
	test_name_nlink();
	test_version_ext();
	test_statvfs();
	test_encode();
	test_errno_table();
	test_random();
	return tap_done();
}
