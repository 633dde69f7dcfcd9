/*
 * cachekey: the key of an encrypted cache, wrapped with the login password.
 *
 * An encrypted cache (fscrypt, v2 policy) has a random 64-byte master key.
 * It is kept on disk only wrapped: AES-256-GCM under a key derived from
 * the login password with Argon2id, a memory-hard function (libargon2,
 * which Debian ships for cryptsetup): each guess at the password of a
 * stolen disk costs the memory and passes below, where PBKDF2 would cost
 * a GPU almost nothing.  The parameters, salt, nonce, wrapped key and tag
 * are a small text file; the first two lines (format and parameters) are
 * authenticated with the key, so they cannot be lowered unnoticed.
 *
 *   roamfs-cachekey 1
 *   argon2id t=3 m=65536 p=1
 *   salt HEX(16)
 *   nonce HEX(12)
 *   wrapped HEX(64)
 *   tag HEX(16)
 */
#ifndef ROAMFS_CACHEKEY_H
#define ROAMFS_CACHEKEY_H

#include <stdint.h>

#define CACHEKEY_SIZE	64	/* fscrypt's key size for AES-256-XTS */

struct cachekey_params {
	uint32_t t;		/* Argon2id passes */
	uint32_t m_kib;		/* memory, KiB */
	uint32_t p;		/* lanes */
};

/* The fields of a key file. */
struct cachekey_file {
	struct cachekey_params p;
	uint8_t salt[16], nonce[12], wrapped[CACHEKEY_SIZE], tag[16];
};

/*
 * Parse a key file (NUL-terminated text): 0, or -EINVAL when it is not
 * one exactly as cachekey_format writes it, or asks for parameters out of
 * bounds.  cachekey_format: *text (malloc'd), or -errno.
 */
int cachekey_parse(const char *text, struct cachekey_file *f);
int cachekey_format(const struct cachekey_file *f, char **text);

/* The parameters new keys are wrapped with (about 0.2 s on a workstation). */
extern const struct cachekey_params cachekey_default;

/* A new random key (getrandom). */
int cachekey_random(uint8_t key[CACHEKEY_SIZE]);
/* Wrap key under password with params p: *text (malloc'd) is the file. */
int cachekey_wrap(const char *password, const uint8_t key[CACHEKEY_SIZE],
    const struct cachekey_params *p, char **text);
/*
 * Unwrap the key of text with password.  0; -EKEYREJECTED when the
 * password is not the one it was wrapped with (or the file was altered);
 * -EINVAL when text is not such a file (or asks for parameters out of
 * bounds); -ENOMEM.
 */
int cachekey_unwrap(const char *password, const char *text, uint8_t key[CACHEKEY_SIZE]);

#endif
