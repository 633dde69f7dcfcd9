/*
 * sftp_proto: encode SFTP v3 requests and decode replies, without I/O.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "sftp_proto.h"

/* Turn any buf error of a decoder into -EBADMSG. */
#define TRY(x) do { if ((x) < 0) return -EBADMSG; } while (0)

int
sftp_proto_frame(const uint8_t *p, size_t n, uint32_t *pktlen)
{
	uint32_t len;

	if (n < 4)
		return -EAGAIN;
	len = be_get_u32(p);
	if (len == 0 || len > SFTP_MAX_PACKET)
		return -EBADMSG;
	if (n - 4 < len)
		return -EAGAIN;
	*pktlen = len;
	return 0;
}

int
sftp_proto_get_attr(struct buf *b, struct sftp_attr *a)
{
	uint32_t n, i, slen;
	const uint8_t *s;

	memset(a, 0, sizeof *a);
	TRY(buf_get_u32(b, &a->flags));
	if (a->flags & SFTP_ATTR_SIZE)
		TRY(buf_get_u64(b, &a->size));
	if (a->flags & SFTP_ATTR_UIDGID) {
		TRY(buf_get_u32(b, &a->uid));
		TRY(buf_get_u32(b, &a->gid));
	}
	if (a->flags & SFTP_ATTR_PERMISSIONS)
		TRY(buf_get_u32(b, &a->mode));
	if (a->flags & SFTP_ATTR_ACMODTIME) {
		TRY(buf_get_u32(b, &a->atime));
		TRY(buf_get_u32(b, &a->mtime));
	}
	if (a->flags & SSH_FILEXFER_ATTR_EXTENDED) {
		TRY(buf_get_u32(b, &n));
		for (i = 0; i < n; i++) {
			TRY(buf_get_str(b, &s, &slen));	/* type */
			TRY(buf_get_str(b, &s, &slen));	/* data */
		}
	}
	a->flags &= SFTP_ATTR_SIZE | SFTP_ATTR_UIDGID | SFTP_ATTR_PERMISSIONS |
	    SFTP_ATTR_ACMODTIME;
	return 0;
}

/*
 * The link count in a READDIR entry's longname, which servers write as
 * "ls -l" does ("-rw-r--r--    2 user group ..."; OpenSSH's sftp-server
 * and internal-sftp do): 0 when it does not read so.
 */
static uint32_t
longname_nlink(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0, v = 0;

	while (i < n && p[i] != ' ')
		i++;
	if (i < 10)
		return 0;	/* not a mode string */
	while (i < n && p[i] == ' ')
		i++;
	if (i == n || p[i] < '0' || p[i] > '9')
		return 0;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > 100000000u)
			return 0;
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	return i < n && p[i] == ' ' ? v : 0;
}

int
sftp_proto_name_next(struct buf *b, const uint8_t **name, uint32_t *namelen,
    struct sftp_attr *a)
{
	const uint8_t *longname;
	uint32_t longlen;

	TRY(buf_get_str(b, name, namelen));
	TRY(buf_get_str(b, &longname, &longlen));
	TRY(sftp_proto_get_attr(b, a));
	a->nlink = longname_nlink(longname, longlen);
	return 0;
}

/* Decode the type-specific part of a reply. */
static int
decode_body(struct buf *b, struct sftp_msg *m)
{
	switch (m->type) {
	case SSH_FXP_STATUS:
		TRY(buf_get_u32(b, &m->status));
		/* SFTP v3 servers before the draft's -02 may omit the message. */
		if (buf_avail(b) == 0)
			return 0;
		TRY(buf_get_str(b, &m->str, &m->len));
		return 0;
	case SSH_FXP_HANDLE:
	case SSH_FXP_DATA:
		TRY(buf_get_str(b, &m->str, &m->len));
		return 0;
	case SSH_FXP_NAME:
		TRY(buf_get_u32(b, &m->count));
		break;
	case SSH_FXP_ATTRS:
		return sftp_proto_get_attr(b, &m->attr);
	case SSH_FXP_EXTENDED_REPLY:
		break;
	default:
		return -EBADMSG;
	}
	m->str = buf_cur(b);
	m->len = (uint32_t)buf_avail(b);
	return 0;
}

int
sftp_proto_decode(const uint8_t *p, size_t n, struct sftp_msg *m)
{
	struct buf b;

	memset(m, 0, sizeof *m);
	buf_wrap(&b, p, n);
	TRY(buf_get_u8(&b, &m->type));
	if (m->type == SSH_FXP_VERSION) {
		TRY(buf_get_u32(&b, &m->count));
		m->str = buf_cur(&b);
		m->len = (uint32_t)buf_avail(&b);
		return 0;
	}
	TRY(buf_get_u32(&b, &m->id));
	return decode_body(&b, m);
}

int
sftp_proto_ext_next(struct buf *b, const uint8_t **name, uint32_t *nlen,
    const uint8_t **data, uint32_t *dlen)
{
	if (buf_avail(b) == 0)
		return 0;
	TRY(buf_get_str(b, name, nlen));
	TRY(buf_get_str(b, data, dlen));
	return 1;
}

int
sftp_proto_statvfs(const uint8_t *p, size_t n, struct statvfs *st)
{
	uint64_t v[11];
	struct buf b;
	size_t i;

	buf_wrap(&b, p, n);
	for (i = 0; i < 11; i++)
		TRY(buf_get_u64(&b, &v[i]));
	memset(st, 0, sizeof *st);
	st->f_bsize = v[0];
	st->f_frsize = v[1];
	st->f_blocks = v[2];
	st->f_bfree = v[3];
	st->f_bavail = v[4];
	st->f_files = v[5];
	st->f_ffree = v[6];
	st->f_favail = v[7];
	st->f_fsid = v[8];
	/* OpenSSH: bit 0 read-only, bit 1 nosuid. */
	st->f_flag = ((v[9] & 1) ? ST_RDONLY : 0) | ((v[9] & 2) ? ST_NOSUID : 0);
	st->f_namemax = v[10];
	return 0;
}

int
sftp_proto_begin(struct buf *b, uint8_t type, uint32_t id)
{
	buf_reset(b);
	return buf_put_u32(b, 0) || buf_put_u8(b, type) ||
	    (type != SSH_FXP_INIT && buf_put_u32(b, id)) ? -EMSGSIZE : 0;
}

int
sftp_proto_end(struct buf *b)
{
	if (b->len < 5 || b->len - 4 > UINT32_MAX)
		return -EMSGSIZE;
	return buf_poke_u32(b, 0, (uint32_t)(b->len - 4));
}

int
sftp_proto_put_attr(struct buf *b, const struct sftp_attr *a)
{
	int r;

	r = buf_put_u32(b, a->flags & ~SSH_FILEXFER_ATTR_EXTENDED);
	if (!r && (a->flags & SFTP_ATTR_SIZE))
		r = buf_put_u64(b, a->size);
	if (!r && (a->flags & SFTP_ATTR_UIDGID))
		r = buf_put_u32(b, a->uid) || buf_put_u32(b, a->gid) ? -EMSGSIZE : 0;
	if (!r && (a->flags & SFTP_ATTR_PERMISSIONS))
		r = buf_put_u32(b, a->mode);
	if (!r && (a->flags & SFTP_ATTR_ACMODTIME))
		r = buf_put_u32(b, a->atime) || buf_put_u32(b, a->mtime) ? -EMSGSIZE : 0;
	return r;
}

/* SFTP status to errno; codes 9 and up are from filexfer drafts 5 and 6. */
static const int status_errno[] = {
	[SSH_FX_OK] = 0,
	[SSH_FX_EOF] = ENODATA,
	[SSH_FX_NO_SUCH_FILE] = ENOENT,
	[SSH_FX_PERMISSION_DENIED] = EACCES,
	[SSH_FX_FAILURE] = EIO,
	[SSH_FX_BAD_MESSAGE] = EBADMSG,
	[SSH_FX_NO_CONNECTION] = ENOTCONN,
	[SSH_FX_CONNECTION_LOST] = ENOTCONN,
	[SSH_FX_OP_UNSUPPORTED] = ENOTSUP,
	[9] = EBADF,		/* INVALID_HANDLE */
	[10] = ENOENT,		/* NO_SUCH_PATH */
	[11] = EEXIST,		/* FILE_ALREADY_EXISTS */
	[12] = EROFS,		/* WRITE_PROTECT */
	[13] = ENOMEDIUM,	/* NO_MEDIA */
	[14] = ENOSPC,		/* NO_SPACE_ON_FILESYSTEM */
	[15] = EDQUOT,		/* QUOTA_EXCEEDED */
	[16] = EINVAL,		/* UNKNOWN_PRINCIPAL */
	[17] = EAGAIN,		/* LOCK_CONFLICT */
	[18] = ENOTEMPTY,	/* DIR_NOT_EMPTY */
	[19] = ENOTDIR,		/* NOT_A_DIRECTORY */
	[20] = EINVAL,		/* INVALID_FILENAME */
	[21] = ELOOP,		/* LINK_LOOP */
	[22] = EPERM,		/* CANNOT_DELETE */
	[23] = EINVAL,		/* INVALID_PARAMETER */
	[24] = EISDIR,		/* FILE_IS_A_DIRECTORY */
	[25] = EAGAIN,		/* BYTE_RANGE_LOCK_CONFLICT */
	[26] = EAGAIN,		/* BYTE_RANGE_LOCK_REFUSED */
	[27] = EBUSY,		/* DELETE_PENDING */
	[28] = EIO,		/* FILE_CORRUPT */
	[29] = EPERM,		/* OWNER_INVALID */
	[30] = EPERM,		/* GROUP_INVALID */
	[31] = ENOLCK,		/* NO_MATCHING_BYTE_RANGE_LOCK */
};

int
sftp_status_errno(uint32_t status)
{
	if (status >= sizeof status_errno / sizeof status_errno[0])
		return EIO;
	return status_errno[status];
}

const char *
sftp_proto_type_name(uint8_t type)
{
	static const char *const names[] = {
		[SSH_FXP_INIT] = "INIT", [SSH_FXP_VERSION] = "VERSION",
		[SSH_FXP_OPEN] = "OPEN", [SSH_FXP_CLOSE] = "CLOSE",
		[SSH_FXP_READ] = "READ", [SSH_FXP_WRITE] = "WRITE",
		[SSH_FXP_LSTAT] = "LSTAT", [SSH_FXP_FSTAT] = "FSTAT",
		[SSH_FXP_SETSTAT] = "SETSTAT", [SSH_FXP_FSETSTAT] = "FSETSTAT",
		[SSH_FXP_OPENDIR] = "OPENDIR", [SSH_FXP_READDIR] = "READDIR",
		[SSH_FXP_REMOVE] = "REMOVE", [SSH_FXP_MKDIR] = "MKDIR",
		[SSH_FXP_RMDIR] = "RMDIR", [SSH_FXP_REALPATH] = "REALPATH",
		[SSH_FXP_STAT] = "STAT", [SSH_FXP_RENAME] = "RENAME",
		[SSH_FXP_READLINK] = "READLINK", [SSH_FXP_SYMLINK] = "SYMLINK",
	};

	if (type < sizeof names / sizeof names[0] && names[type])
		return names[type];
	if (type == SSH_FXP_EXTENDED)
		return "EXTENDED";
	return "?";
}
