/*
 * sftp_proto: the SFTP version 3 wire format (draft-ietf-secsh-filexfer-02
 * plus OpenSSH's extensions), as pure functions over byte buffers.
 *
 * Nothing here does I/O, so every decoder can be unit-tested and fuzzed on
 * arbitrary bytes.  Decoders never read past the bytes they are given and
 * return -EBADMSG for anything malformed or truncated.  Decoded strings and
 * handles point into the caller's bytes (not copied, not terminated).
 */
#ifndef ROAMFS_SFTP_PROTO_H
#define ROAMFS_SFTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "roam/buf.h"
#include "sftp.h"

/* Packet types. */
enum {
	SSH_FXP_INIT = 1, SSH_FXP_VERSION = 2, SSH_FXP_OPEN = 3,
	SSH_FXP_CLOSE = 4, SSH_FXP_READ = 5, SSH_FXP_WRITE = 6,
	SSH_FXP_LSTAT = 7, SSH_FXP_FSTAT = 8, SSH_FXP_SETSTAT = 9,
	SSH_FXP_FSETSTAT = 10, SSH_FXP_OPENDIR = 11, SSH_FXP_READDIR = 12,
	SSH_FXP_REMOVE = 13, SSH_FXP_MKDIR = 14, SSH_FXP_RMDIR = 15,
	SSH_FXP_REALPATH = 16, SSH_FXP_STAT = 17, SSH_FXP_RENAME = 18,
	SSH_FXP_READLINK = 19, SSH_FXP_SYMLINK = 20,
	SSH_FXP_STATUS = 101, SSH_FXP_HANDLE = 102, SSH_FXP_DATA = 103,
	SSH_FXP_NAME = 104, SSH_FXP_ATTRS = 105,
	SSH_FXP_EXTENDED = 200, SSH_FXP_EXTENDED_REPLY = 201,
};

/* Status codes (v3 uses 0..8; later drafts' codes are mapped too). */
enum {
	SSH_FX_OK = 0, SSH_FX_EOF = 1, SSH_FX_NO_SUCH_FILE = 2,
	SSH_FX_PERMISSION_DENIED = 3, SSH_FX_FAILURE = 4,
	SSH_FX_BAD_MESSAGE = 5, SSH_FX_NO_CONNECTION = 6,
	SSH_FX_CONNECTION_LOST = 7, SSH_FX_OP_UNSUPPORTED = 8,
};

/* Open flags. */
#define SSH_FXF_READ	0x01u
#define SSH_FXF_WRITE	0x02u
#define SSH_FXF_APPEND	0x04u
#define SSH_FXF_CREAT	0x08u
#define SSH_FXF_TRUNC	0x10u
#define SSH_FXF_EXCL	0x20u

#define SSH_FILEXFER_ATTR_EXTENDED 0x80000000u

/* Largest packet we accept (OpenSSH's server sends at most 256 KiB). */
#define SFTP_MAX_PACKET	(512u * 1024u)

/* One decoded server packet; pointers point into the decoded bytes. */
struct sftp_msg {
	uint8_t type;
	uint32_t id;		/* 0 for VERSION, which has none */
	uint32_t status;	/* STATUS: the code */
	const uint8_t *str;	/* STATUS message, HANDLE, DATA, NAME and
				 * EXTENDED_REPLY bodies, VERSION extensions */
	uint32_t len;		/* bytes at str */
	uint32_t count;		/* NAME: entries; VERSION: the version */
	struct sftp_attr attr;	/* ATTRS */
};

/*
 * Framing: given the bytes received so far, return 0 and set *pktlen to
 * the length of the first complete packet body (without its 4-byte length
 * field), -EAGAIN when more bytes are needed, or -EBADMSG when the length
 * is zero or above SFTP_MAX_PACKET.
 */
int sftp_proto_frame(const uint8_t *p, size_t n, uint32_t *pktlen);
/* Decode one packet body (type byte onwards) into *m. */
int sftp_proto_decode(const uint8_t *p, size_t n, struct sftp_msg *m);
/* Decode attributes at the read offset of b (extended pairs are skipped). */
int sftp_proto_get_attr(struct buf *b, struct sftp_attr *a);
/* Decode the next NAME entry: its file name (borrowed) and attributes. */
int sftp_proto_name_next(struct buf *b, const uint8_t **name, uint32_t *namelen,
    struct sftp_attr *a);
/*
 * Walk VERSION extensions: returns 1 with the next name/data pair, 0 at
 * the end, -EBADMSG if malformed.
 */
int sftp_proto_ext_next(struct buf *b, const uint8_t **name, uint32_t *nlen,
    const uint8_t **data, uint32_t *dlen);
/* Decode a statvfs@openssh.com reply body into *st. */
int sftp_proto_statvfs(const uint8_t *p, size_t n, struct statvfs *st);

/* Start a request packet: length placeholder, type, id. */
int sftp_proto_begin(struct buf *b, uint8_t type, uint32_t id);
/* Fill in the length field of a packet begun with sftp_proto_begin. */
int sftp_proto_end(struct buf *b);
/* Encode the attributes whose flags are set. */
int sftp_proto_put_attr(struct buf *b, const struct sftp_attr *a);

/* The one table: SFTP status code to positive errno (0 for OK). */
int sftp_status_errno(uint32_t status);
/* Name of a packet type for debug messages. */
const char *sftp_proto_type_name(uint8_t type);

#endif
