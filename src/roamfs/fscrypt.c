/*
 * fscrypt: see fscrypt.h.
 */
#include "config.h"

#include <errno.h>
#include <linux/fscrypt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fscrypt.h"

#define KEY_SIZE	64

static int
unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL;
}

int
fscrypt_policy_of(int dirfd, uint8_t id[FSCRYPT_ID_SIZE])
{
	struct fscrypt_get_policy_ex_arg arg;
	const struct fscrypt_policy_v2 *p = &arg.policy.v2;

	memset(&arg, 0, sizeof arg);
	arg.policy_size = sizeof arg.policy;
	if (ioctl(dirfd, FS_IOC_GET_ENCRYPTION_POLICY_EX, &arg) < 0) {
		if (errno == ENODATA)
			return 0;
		return unsupported(errno) ? -EOPNOTSUPP : -errno;
	}
	if (arg.policy.version != FSCRYPT_POLICY_V2 ||
	    p->contents_encryption_mode != FSCRYPT_MODE_AES_256_XTS ||
	    p->filenames_encryption_mode != FSCRYPT_MODE_AES_256_CTS)
		return -EINVAL;
	memcpy(id, p->master_key_identifier, FSCRYPT_ID_SIZE);
	return 1;
}

int
fscrypt_can(int dirfd)
{
	uint8_t id[FSCRYPT_ID_SIZE];
	int r = fscrypt_policy_of(dirfd, id);

	if (r == -EOPNOTSUPP)
		return 0;
	return r < 0 && r != -EINVAL ? r : 1;
}

int
fscrypt_add_key(int dirfd, const uint8_t *key, uint8_t id[FSCRYPT_ID_SIZE])
{
	struct fscrypt_add_key_arg *arg = calloc(1, sizeof *arg + KEY_SIZE);
	int r = 0;

	if (arg == NULL)
		return -ENOMEM;
	arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	arg->raw_size = KEY_SIZE;
	memcpy(arg->raw, key, KEY_SIZE);
	if (ioctl(dirfd, FS_IOC_ADD_ENCRYPTION_KEY, arg) < 0)
		r = unsupported(errno) ? -EOPNOTSUPP : -errno;
	else
		memcpy(id, arg->key_spec.u.identifier, FSCRYPT_ID_SIZE);
	explicit_bzero(arg->raw, KEY_SIZE);
	free(arg);
	return r;
}

int
fscrypt_set_policy(int dirfd, const uint8_t id[FSCRYPT_ID_SIZE])
{
	struct fscrypt_policy_v2 p;

	memset(&p, 0, sizeof p);
	p.version = FSCRYPT_POLICY_V2;
	p.contents_encryption_mode = FSCRYPT_MODE_AES_256_XTS;
	p.filenames_encryption_mode = FSCRYPT_MODE_AES_256_CTS;
	p.flags = FSCRYPT_POLICY_FLAGS_PAD_32;
	memcpy(p.master_key_identifier, id, FSCRYPT_ID_SIZE);
	if (ioctl(dirfd, FS_IOC_SET_ENCRYPTION_POLICY, &p) < 0)
		return unsupported(errno) && errno != EINVAL ? -EOPNOTSUPP : -errno;
	return 0;
}

static void
spec(struct fscrypt_key_specifier *s, const uint8_t id[FSCRYPT_ID_SIZE])
{
	memset(s, 0, sizeof *s);
	s->type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	memcpy(s->u.identifier, id, FSCRYPT_ID_SIZE);
}

int
fscrypt_remove_key(int dirfd, const uint8_t id[FSCRYPT_ID_SIZE])
{
	struct fscrypt_remove_key_arg arg;

	memset(&arg, 0, sizeof arg);
	spec(&arg.key_spec, id);
	if (ioctl(dirfd, FS_IOC_REMOVE_ENCRYPTION_KEY, &arg) < 0)
		return errno == ENOKEY ? 0 : -errno;
	return arg.removal_status_flags != 0;
}

int
fscrypt_key_present(int dirfd, const uint8_t id[FSCRYPT_ID_SIZE])
{
	struct fscrypt_get_key_status_arg arg;

	memset(&arg, 0, sizeof arg);
	spec(&arg.key_spec, id);
	if (ioctl(dirfd, FS_IOC_GET_ENCRYPTION_KEY_STATUS, &arg) < 0)
		return -errno;
	return arg.status == FSCRYPT_KEY_STATUS_PRESENT;
}
