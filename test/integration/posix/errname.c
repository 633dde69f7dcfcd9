/*
 * errname: symbolic names of errno values, so transcripts read "EISDIR".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "posix.h"

#define E(x) { x, #x }

static const struct {
	int num;
	const char *name;
} errname_table[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV),
	E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
	E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK),
	E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK),
	E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENODATA),
	E(ENOLINK), E(EPROTO), E(EBADMSG), E(EOVERFLOW), E(EILSEQ),
	E(EOPNOTSUPP), E(ENOTCONN), E(ETIMEDOUT), E(ECONNREFUSED),
	E(ECONNRESET), E(EHOSTUNREACH), E(ESTALE), E(EDQUOT), E(ECANCELED),
	E(EUCLEAN), E(ENOTSUP), E(EWOULDBLOCK),
};

const char *
errname(int err)
{
	static char unknown[32];
	size_t i;

	for (i = 0; i < sizeof errname_table / sizeof errname_table[0]; i++)
		if (errname_table[i].num == err)
			return errname_table[i].name;
	snprintf(unknown, sizeof unknown, "E%d", err);
	return unknown;
}
