/*
 * fuzz_seeds: make the seed corpora of fuzz_sftp, fuzz_journal,
 * fuzz_opts, fuzz_ctl and fuzz_cachekey with the real encoders, and check
 * the committed ones.
 *
 * Usage: fuzz_seeds            check $top_srcdir/test/fuzz/corpus (TAP)
 *        fuzz_seeds -w DIR     write DIR/{sftp,journal,opts}/seed-*
 *
 * Every seed is valid (the generator decodes or parses each one before
 * using it), so mutations start deep inside the formats.  The check fails
 * when a committed seed no longer matches what the encoders write, e.g.
 * after a record format changed: refresh the seeds with -w then.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roam/buf.h"
#include "roam/ctl.h"
#include "roam/log.h"
#include "cachekey.h"
#include "journal.h"
#include "meta.h"
#include "opts.h"
#include "sftp_proto.h"

#ifndef FUZZ_TOP_SRCDIR
#define FUZZ_TOP_SRCDIR "."
#endif

static const char *write_dir;	/* -w DIR, or NULL to check */
static const char *check_dir;
static int test_num, failed;

/* Compare a seed with its committed file and print one TAP line. */
static void
seed_check(const char *path, const char *what, const struct buf *b)
{
	uint8_t *have = malloc(b->len + 1);
	size_t n = 0;
	FILE *f;

	if (have == NULL)
		fatal("out of memory");
	if ((f = fopen(path, "rb")) != NULL) {
		n = fread(have, 1, b->len + 1, f);
		fclose(f);
	}
	if (f != NULL && n == b->len && memcmp(have, b->data, n) == 0)
		printf("ok %d - %s\n", ++test_num, what);
	else {
		printf("not ok %d - %s: %s; refresh the seeds with "
		    "test/fuzz/fuzz_seeds -w $top_srcdir/test/fuzz/corpus\n", ++test_num,
		    what, f == NULL ? "missing" : "differs from what the encoders write now");
		failed = 1;
	}
	free(have);
}

/* Write a seed to its file. */
static void
seed_write(const char *path, const struct buf *b)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL || fwrite(b->data, 1, b->len, f) != b->len ||
	    fclose(f) != 0)
		fatal("cannot write %s: %s", path, strerror(errno));
}

/* Write or check seed NAME of corpus DIR, then free its buffer. */
static void
seed(const char *dir, const char *name, struct buf *b)
{
	char path[4096], what[256];

	snprintf(what, sizeof what, "%s/seed-%s", dir, name);
	snprintf(path, sizeof path, "%s/%s", write_dir ? write_dir : check_dir, what);
	if (write_dir != NULL)
		seed_write(path, b);
	else
		seed_check(path, what, b);
	buf_free(b);
}

/* Abort unless every packet of a reply stream frames and decodes. */
static void
sftp_valid(const struct buf *b)
{
	struct sftp_msg m;
	size_t off = 0;
	uint32_t len;

	while (off < b->len) {
		if (sftp_proto_frame(b->data + off, b->len - off, &len) != 0 ||
		    sftp_proto_decode(b->data + off + 4, len, &m) != 0)
			fatal("seed generator made an invalid SFTP reply");
		off += 4 + (size_t)len;
	}
}

/* Attributes as OpenSSH's sftp-server sends them for a file. */
static void
put_attr(struct buf *b, uint32_t mode, uint64_t size)
{
	struct sftp_attr a = {
		.flags = SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID | SFTP_ATTR_PERMISSIONS |
		    SFTP_ATTR_ACMODTIME,
		.size = size, .uid = 1000, .gid = 100, .mode = mode,
		.atime = 1700000100, .mtime = 1700000000,
	};

	sftp_proto_put_attr(b, &a);
}

/* Attributes with one extended pair, which put_attr never writes. */
static void
put_attr_extended(struct buf *b)
{
	buf_put_u32(b, SFTP_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_EXTENDED);
	buf_put_u32(b, 0100600);
	buf_put_u32(b, 1);
	buf_put_cstr(b, "acl@example.org");
	buf_put_cstr(b, "u::rw-");
}

static void
reply_version(struct buf *b)
{
	size_t at = b->len;

	buf_put_u32(b, 0);
	buf_put_u8(b, SSH_FXP_VERSION);
	buf_put_u32(b, 3);
	buf_put_cstr(b, "posix-rename@openssh.com");
	buf_put_cstr(b, "1");
	buf_put_cstr(b, "statvfs@openssh.com");
	buf_put_cstr(b, "2");
	buf_put_cstr(b, "hardlink@openssh.com");
	buf_put_cstr(b, "1");
	buf_put_cstr(b, "fsync@openssh.com");
	buf_put_cstr(b, "1");
	buf_put_cstr(b, "limits@openssh.com");
	buf_put_cstr(b, "1");
	buf_poke_u32(b, at, (uint32_t)(b->len - at - 4));
}

/* Start a reply packet of the given type in a new buffer. */
static void
reply_begin(struct buf *pkt, uint8_t type, uint32_t id)
{
	buf_init(pkt, 0);
	sftp_proto_begin(pkt, type, id);
}

/* Finish a reply and append it to the stream. */
static void
reply_end(struct buf *b, struct buf *pkt)
{
	sftp_proto_end(pkt);
	buf_put(b, pkt->data, pkt->len);
	buf_free(pkt);
}

static void
reply_status(struct buf *b, uint32_t id, uint32_t code, const char *msg)
{
	struct buf p;

	reply_begin(&p, SSH_FXP_STATUS, id);
	buf_put_u32(&p, code);
	if (msg != NULL) {
		buf_put_cstr(&p, msg);
		buf_put_cstr(&p, "");
	}
	reply_end(b, &p);
}

static void
reply_string(struct buf *b, uint8_t type, uint32_t id, const void *s, size_t n)
{
	struct buf p;

	reply_begin(&p, type, id);
	buf_put_str(&p, s, n);
	reply_end(b, &p);
}

static void
reply_name(struct buf *b, uint32_t id)
{
	static const char *const names[] = { ".", "..", "notes.txt", "Maildir" };
	static const uint32_t modes[] = { 040755, 040755, 0100644, 040700 };
	struct buf p;
	char longname[128];
	size_t i;

	reply_begin(&p, SSH_FXP_NAME, id);
	buf_put_u32(&p, 4);
	for (i = 0; i < 4; i++) {
		snprintf(longname, sizeof longname, "%s    1 ann      users        4096 Nov 14  2023 %s",
		    modes[i] & 040000 ? "drwxr-xr-x" : "-rw-r--r--", names[i]);
		buf_put_cstr(&p, names[i]);
		buf_put_cstr(&p, longname);
		if (i == 3)
			put_attr_extended(&p);
		else
			put_attr(&p, modes[i], 4096 + i);
	}
	reply_end(b, &p);
}

static void
reply_attrs(struct buf *b, uint32_t id, int extended)
{
	struct buf p;

	reply_begin(&p, SSH_FXP_ATTRS, id);
	if (extended)
		put_attr_extended(&p);
	else
		put_attr(&p, 0100644, 123456);
	reply_end(b, &p);
}

static void
reply_statvfs(struct buf *b, uint32_t id)
{
	static const uint64_t v[11] = { 4096, 4096, 1000000, 500000, 450000,
	    65536, 60000, 60000, 0x1234, 2, 255 };
	struct buf p;
	size_t i;

	reply_begin(&p, SSH_FXP_EXTENDED_REPLY, id);
	for (i = 0; i < 11; i++)
		buf_put_u64(&p, v[i]);
	reply_end(b, &p);
}

static void
reply_limits(struct buf *b, uint32_t id)
{
	struct buf p;

	reply_begin(&p, SSH_FXP_EXTENDED_REPLY, id);
	buf_put_u64(&p, 256 * 1024);
	buf_put_u64(&p, 255 * 1024);
	buf_put_u64(&p, 255 * 1024);
	buf_put_u64(&p, 0);
	reply_end(b, &p);
}

/* Every reply type alone, then a whole session's stream. */
static void
seeds_sftp(void)
{
	static const char *const names[] = { "version", "handle", "name", "status",
	    "attrs", "data", "statvfs", "limits", "status-short", "attrs-ext", "session" };
	struct buf b;
	int i;

	for (i = 0; i < 11; i++) {
		buf_init(&b, 0);
		if (i == 0 || i == 10)
			reply_version(&b);
		if (i == 1 || i == 10)
			reply_string(&b, SSH_FXP_HANDLE, 1, "\0\0\0\1", 4);
		if (i == 2 || i == 10)
			reply_name(&b, 2);
		if (i == 3 || i == 10)
			reply_status(&b, 3, SSH_FX_EOF, "End of file");
		if (i == 4 || i == 10)
			reply_attrs(&b, 4, 0);
		if (i == 5 || i == 10)
			reply_string(&b, SSH_FXP_DATA, 5, "hello, world\n", 13);
		if (i == 6 || i == 10)
			reply_statvfs(&b, 6);
		if (i == 7 || i == 10)
			reply_limits(&b, 7);
		if (i == 8 || i == 10)
			reply_status(&b, 8, SSH_FX_OK, NULL);
		if (i == 9 || i == 10)
			reply_attrs(&b, 9, 1);
		sftp_valid(&b);
		seed("sftp", names[i], &b);
	}
}

/* Encode a journal record after checking that it decodes. */
static void
seed_jrec(const char *name, const struct jrec *r)
{
	struct jrec d;
	struct buf b;

	buf_init(&b, 0);
	if (jrec_encode(r, &b) != 0 || jrec_decode(b.data, b.len, &d) != 0)
		fatal("seed generator made an invalid journal record");
	jrec_free(&d);
	seed("journal", name, &b);
}

/* Encode an inode record after checking that it decodes. */
static void
seed_inode(const char *name, const struct inode *in)
{
	struct inode d;
	struct buf b;

	buf_init(&b, 0);
	if (inode_encode(in, &b) != 0 || inode_decode(b.data, b.len, &d) != 0)
		fatal("seed generator made an invalid inode record");
	inode_free(&d);
	seed("journal", name, &b);
}

static void
seeds_journal(void)
{
	static const char *const names[] = { "", "jrec-store", "jrec-mkdir",
	    "jrec-symlink", "jrec-link", "jrec-unlink", "jrec-rmdir", "jrec-rename",
	    "jrec-setattr" };
	struct base base = { .size = 4096, .mtime = 1700000000, .mode = 0100644, .valid = 1 };
	struct inode in;
	struct jrec r;
	uint8_t t;

	for (t = J_STORE; t <= J_SETATTR; t++) {
		memset(&r, 0, sizeof r);
		r.seq = t;
		r.type = t;
		r.ino = 40 + t;
		r.path = t == J_MKDIR || t == J_RMDIR ? "Documents/2024" : "Documents/notes.txt";
		r.path2 = t == J_SYMLINK ? "../shared/notes.txt" : t == J_LINK || t == J_RENAME ?
		    "Documents/notes (copy).txt" : NULL;
		r.attrs = t == J_SETATTR ? JA_MODE | JA_MTIME : 0;
		r.mode = t == J_MKDIR ? 040750 : 0100640;
		r.mtime = 1700000300;
		r.victim = t == J_RENAME ? 77 : 0;
		r.victim_remote = t == J_RENAME;
		r.base = base;
		r.when = 1700000400;
		r.err = t == J_UNLINK ? EACCES : 0;
		seed_jrec(names[t], &r);
	}
	memset(&in, 0, sizeof in);
	in.ino = INO_ROOT;
	in.mode = 040700;
	in.nlink = 5;
	in.size = 4096;
	in.mtime_s = in.ctime_s = in.atime_s = 1700000000;
	in.mtime_ns = 123456789;
	in.flags = I_LISTED | I_REMOTE;
	in.name = "";
	in.base = (struct base){ .size = 4096, .mtime = 1700000000, .mode = 040700, .valid = 1 };
	seed_inode("inode-root", &in);
	in.mode = 0100644;
	in.nlink = 1;
	in.size = 12345;
	in.flags = I_CACHED | I_REMOTE | I_PINNED;
	in.parent = INO_ROOT;
	in.name = "notes.txt";
	in.pending_store = 9;
	seed_inode("inode-file", &in);
	in.base.racy = 0x0123456789abcdefULL;	/* seen within its mtime's second */
	in.base.refetch = 1;
	seed_inode("inode-racy", &in);
	in.base.racy = 0;
	in.base.refetch = 0;
	in.mode = 0120777;
	in.size = 19;
	in.flags = I_LOCALNEW | I_EXCLUDED;
	in.name = "link";
	in.target = "../shared/notes.txt";
	in.pending_store = 0;
	in.base.valid = 0;
	seed_inode("inode-symlink", &in);
}

/* A command line, words separated by NUL, checked to parse. */
static void
seed_opts(const char *name, const char *words, size_t len)
{
	char *copy, *argv[32], *cause = NULL;
	struct opts o;
	struct buf b;
	size_t i = 0;
	int argc = 0;

	if ((copy = malloc(len + 1)) == NULL)
		fatal("out of memory");
	memcpy(copy, words, len);
	copy[len] = '\0';
	argv[argc++] = "roamfs";
	while (i <= len && argc < 31) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	if (opts_parse(argc, argv, &o, &cause) != 0)
		fatal("seed %s does not parse: %s", name, cause ? cause : "?");
	opts_free(&o);
	free(copy);
	buf_init(&b, 0);
	buf_put(&b, words, len);
	seed("opts", name, &b);
}

#define SEED_OPTS(name, s) seed_opts(name, s, sizeof s - 1)

static void
seeds_opts(void)
{
	SEED_OPTS("shell", "ann@server:\0/home/ann");
	SEED_OPTS("options", "-o\0port=2222,IdentityFile=/etc/roamfs/key,"
	    "UserKnownHostsFile=/etc/roamfs/known_hosts\0ann@server.school.lan:/srv/homes/ann\0"
	    "/home/ann");
	SEED_OPTS("all", "-f\0-d\0-oallow_other,default_permissions,cache=/var/cache/roamfs/ann,"
	    "exclude=/etc/roamfs/exclude,dir_ttl=120,sync_interval=5,flush_timeout=60,"
	    "ConnectTimeout=15,debug\0roamfs#ann@[fe80::1]:/home\0/mnt");
	SEED_OPTS("fstab", "server:/homes/bob\0/home/bob\0-o\0rw,nosuid,nodev,_netdev,nofail,"
	    "x-systemd.automount,comment=roamfs,password_stdin,user,noauto");
	SEED_OPTS("help", "-h");
	SEED_OPTS("version", "--version");
}

/* Control frames (their bodies, as ctl_*_decode reads them), checked to decode. */
static void
seed_ctl(const char *name, struct buf *frame, int reply)
{
	struct ctl_request q;
	struct ctl_reply r;
	struct buf b;

	if (reply ? ctl_reply_decode(frame->data + 4, frame->len - 4, &r) :
	    ctl_request_decode(frame->data + 4, frame->len - 4, &q))
		fatal("seed generator made an invalid control frame %s", name);
	if (reply)
		ctl_reply_free(&r);
	else
		ctl_request_free(&q);
	buf_init(&b, 0);
	buf_put(&b, frame->data + 4, frame->len - 4);
	buf_free(frame);
	seed("ctl", name, &b);
}

static void
seeds_ctl(void)
{
	char *args[] = { "--wait", "/home/ann" };
	struct ctl_request q;
	struct ctl_reply r;
	struct ctl_record *c;
	struct buf b;

	buf_init(&b, 0);
	if (ctl_request_make(&q, "status", NULL, 0) || ctl_request_encode(&q, &b))
		fatal("out of memory");
	ctl_request_free(&q);
	seed_ctl("request-status", &b, 0);
	buf_init(&b, 0);
	if (ctl_request_make(&q, "flush", args, 2) || ctl_request_encode(&q, &b))
		fatal("out of memory");
	ctl_request_free(&q);
	seed_ctl("request-args", &b, 0);

	memset(&r, 0, sizeof r);
	buf_init(&b, 0);
	if ((c = ctl_reply_record(&r)) == NULL || ctl_put_str(c, "mountpoint", "/home/ann") ||
	    ctl_put_u64(c, "changes", 3) || ctl_put_i64(c, "offline_since", -1) ||
	    ctl_put_str(c, "connection", "offline") || (c = ctl_reply_record(&r)) == NULL ||
	    ctl_put_u64(c, "id", 7) || ctl_reply_encode(&r, &b))
		fatal("out of memory");
	ctl_reply_free(&r);
	seed_ctl("reply-records", &b, 1);
	buf_init(&b, 0);
	if (ctl_reply_fail(&r, EACCES, "only that user and root may control it") ||
	    ctl_reply_encode(&r, &b))
		fatal("out of memory");
	ctl_reply_free(&r);
	seed_ctl("reply-refused", &b, 1);
}

/* A key file of an encrypted cache, with fixed fields (cachekey_format). */
static void
seeds_cachekey(void)
{
	struct cachekey_file f;
	struct buf b;
	char *text;
	size_t i;

	f.p = cachekey_default;
	for (i = 0; i < sizeof f.salt; i++)
		f.salt[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof f.nonce; i++)
		f.nonce[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < sizeof f.wrapped; i++)
		f.wrapped[i] = (uint8_t)(i * 13 + 5);
	for (i = 0; i < sizeof f.tag; i++)
		f.tag[i] = (uint8_t)(0xf0 - i);
	if (cachekey_format(&f, &text) != 0 || cachekey_parse(text, &f) != 0)
		fatal("seed generator made an invalid key file");
	buf_init(&b, 0);
	buf_put(&b, text, strlen(text));
	free(text);
	seed("cachekey", "default", &b);
}

/* Make the corpus directories under -w DIR. */
static void
make_dirs(const char *top)
{
	static const char *const subs[] = { "", "/sftp", "/journal", "/opts", "/ctl", "/cachekey" };
	char path[4096];
	size_t i;

	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(path, sizeof path, "%s%s", top, subs[i]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fatal("cannot create %s: %s", path, strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	static char checked[4096];
	const char *top = getenv("top_srcdir");

	log_init("fuzz_seeds", 0, 0);
	if (argc == 3 && strcmp(argv[1], "-w") == 0) {
		write_dir = argv[2];
		make_dirs(write_dir);
	} else if (argc == 1) {
		snprintf(checked, sizeof checked, "%s/test/fuzz/corpus", top ? top : FUZZ_TOP_SRCDIR);
		check_dir = checked;
	} else {
		fprintf(stderr, "usage: %s [-w DIR]\n", argv[0]);
		return 2;
	}
	seeds_sftp();
	seeds_journal();
	seeds_ctl();
	seeds_opts();
	seeds_cachekey();
	if (write_dir == NULL)
		printf("1..%d\n", test_num);
	return failed;
}
