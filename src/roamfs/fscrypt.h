/*
 * fscrypt: the kernel's file encryption (ext4 with the "encrypt" feature,
 * f2fs), as an encrypted cache uses it: a v2 policy (AES-256-XTS for the
 * contents, AES-256-CTS for the names, the key checked by its
 * identifier), set on empty directories, whose key is added to the file
 * system while roamfs runs and removed when it ends.  Without the key,
 * names read as encoded ciphertext and contents cannot be opened; sizes,
 * times and removal work (roamctl gc).
 */
#ifndef ROAMFS_FSCRYPT_H
#define ROAMFS_FSCRYPT_H

#include <stdint.h>

#define FSCRYPT_ID_SIZE	16

/*
 * Whether the file system of the directory dirfd can encrypt: 1 yes,
 * 0 no (not supported, or the feature is off: mkfs.ext4 -O encrypt, or
 * tune2fs -O encrypt), or -errno.
 */
int fscrypt_can(int dirfd);
/*
 * The policy of the directory dirfd: 1 with its key identifier in id,
 * 0 not encrypted, -EOPNOTSUPP when the file system cannot encrypt,
 * -EINVAL when encrypted otherwise than roamfs does, or -errno.
 */
int fscrypt_policy_of(int dirfd, uint8_t id[FSCRYPT_ID_SIZE]);
/* Add a 64-byte key to the file system of dirfd: its identifier in id. */
int fscrypt_add_key(int dirfd, const uint8_t *key, uint8_t id[FSCRYPT_ID_SIZE]);
/* Encrypt the empty directory dirfd with the key id (added first). */
int fscrypt_set_policy(int dirfd, const uint8_t id[FSCRYPT_ID_SIZE]);
/*
 * Remove this user's claim to the key id: 0 gone, 1 still held (files
 * still open, or other users added it too: they keep it), -errno.  Call
 * it on a directory that is not encrypted itself (an open encrypted
 * directory counts as a file in use).
 */
int fscrypt_remove_key(int dirfd, const uint8_t id[FSCRYPT_ID_SIZE]);
/* Whether the key id is present on the file system of dirfd: 1, 0, -errno. */
int fscrypt_key_present(int dirfd, const uint8_t id[FSCRYPT_ID_SIZE]);

#endif
