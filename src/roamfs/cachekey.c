/*
 * cachekey: see cachekey.h.
 */
#include "config.h"

#include <argon2.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cachekey.h"

#define MAGIC		"roamfs-cachekey 1\n"
#define SALT_SIZE	16
#define NONCE_SIZE	12
#define TAG_SIZE	16
#define KEK_SIZE	32

const struct cachekey_params cachekey_default = { 3, 65536, 1 };

/* Bounds of what a file may ask for: below, too weak; above, a denial of service. */
#define T_MIN	1
#define T_MAX	16
#define M_MIN	8192
#define M_MAX	(1024 * 1024)
#define P_MIN	1
#define P_MAX	8

static int
fill_random(uint8_t *b, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = getrandom(b, n, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int
cachekey_random(uint8_t key[CACHEKEY_SIZE])
{
	return fill_random(key, CACHEKEY_SIZE);
}

static int
params_ok(const struct cachekey_params *p)
{
	return p->t >= T_MIN && p->t <= T_MAX && p->m_kib >= M_MIN && p->m_kib <= M_MAX &&
	    p->p >= P_MIN && p->p <= P_MAX;
}

static int
derive(const char *password, const struct cachekey_params *p, const uint8_t salt[SALT_SIZE],
    uint8_t kek[KEK_SIZE])
{
	int r = argon2id_hash_raw(p->t, p->m_kib, p->p, password, strlen(password), salt,
	    SALT_SIZE, kek, KEK_SIZE);

	if (r == ARGON2_OK)
		return 0;
	return r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
}

/*
 * AES-256-GCM of in (n bytes) into out, with aad; enc 1: encrypt and
 * write tag; 0: decrypt and check tag.  0, or -EKEYREJECTED when the tag
 * does not match.
 */
static int
gcm(int enc, const uint8_t kek[KEK_SIZE], const uint8_t nonce[NONCE_SIZE], const char *aad,
    const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[TAG_SIZE])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, ok;

	if (c == NULL)
		return -ENOMEM;
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_SIZE, NULL) == 1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, kek, nonce, enc) == 1 &&
	    EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	    EVP_CipherUpdate(c, out, &len, in, (int)n) == 1 && (size_t)len == n &&
	    (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_SIZE, tag) == 1) &&
	    EVP_CipherFinal_ex(c, out + len, &len) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_SIZE, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EKEYREJECTED;
}

static void
hex(char *out, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The header lines that are authenticated (format and parameters). */
static int
header(char *buf, size_t len, const struct cachekey_params *p)
{
	int n = snprintf(buf, len, MAGIC "argon2id t=%u m=%u p=%u\n", p->t, p->m_kib, p->p);

	return n < 0 || (size_t)n >= len ? -EINVAL : n;
}

int
cachekey_format(const struct cachekey_file *f, char **text)
{
	char head[128], hs[2 * SALT_SIZE + 1], hn[2 * NONCE_SIZE + 1], hw[2 * CACHEKEY_SIZE + 1];
	char ht[2 * TAG_SIZE + 1];

	*text = NULL;
	if (!params_ok(&f->p) || header(head, sizeof head, &f->p) < 0)
		return -EINVAL;
	hex(hs, f->salt, SALT_SIZE);
	hex(hn, f->nonce, NONCE_SIZE);
	hex(hw, f->wrapped, CACHEKEY_SIZE);
	hex(ht, f->tag, TAG_SIZE);
	if (asprintf(text, "%ssalt %s\nnonce %s\nwrapped %s\ntag %s\n", head, hs, hn, hw, ht) < 0) {
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
cachekey_wrap(const char *password, const uint8_t key[CACHEKEY_SIZE],
    const struct cachekey_params *p, char **text)
{
	struct cachekey_file f;
	uint8_t kek[KEK_SIZE];
	char head[128];
	int r;

	*text = NULL;
	if (!params_ok(p) || header(head, sizeof head, p) < 0)
		return -EINVAL;
	f.p = *p;
	if ((r = fill_random(f.salt, SALT_SIZE)) < 0 || (r = fill_random(f.nonce, NONCE_SIZE)) < 0)
		return r;
	if ((r = derive(password, p, f.salt, kek)) == 0 &&
	    (r = gcm(1, kek, f.nonce, head, key, CACHEKEY_SIZE, f.wrapped, f.tag)) == 0)
		r = cachekey_format(&f, text);
	explicit_bzero(kek, sizeof kek);
	return r;
}

/* Parse "NAME HEX\n" of exactly n bytes at *s into b, advancing *s. */
static int
unhex_line(const char **s, const char *name, uint8_t *b, size_t n)
{
	size_t len = strlen(name), i;
	const char *p = *s;
	int hi, lo;

	if (strncmp(p, name, len) != 0 || p[len] != ' ')
		return -EINVAL;
	p += len + 1;
	for (i = 0; i < n; i++) {
		hi = p[2 * i] >= '0' && p[2 * i] <= '9' ? p[2 * i] - '0' :
		    p[2 * i] >= 'a' && p[2 * i] <= 'f' ? p[2 * i] - 'a' + 10 : -1;
		if (hi < 0)
			return -EINVAL;	/* also the end of the text: p[2 * i + 1] unread */
		lo = p[2 * i + 1] >= '0' && p[2 * i + 1] <= '9' ? p[2 * i + 1] - '0' :
		    p[2 * i + 1] >= 'a' && p[2 * i + 1] <= 'f' ? p[2 * i + 1] - 'a' + 10 : -1;
		if (lo < 0)
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (p[2 * n] != '\n')
		return -EINVAL;
	*s = p + 2 * n + 1;
	return 0;
}

int
cachekey_parse(const char *text, struct cachekey_file *f)
{
	char head[128], extra;
	const char *s;
	int n;

	if (strncmp(text, MAGIC, strlen(MAGIC)) != 0)
		return -EINVAL;
	s = text + strlen(MAGIC);
	if (sscanf(s, "argon2id t=%u m=%u p=%u%c", &f->p.t, &f->p.m_kib, &f->p.p, &extra) != 4 ||
	    extra != '\n' || !params_ok(&f->p) || (n = header(head, sizeof head, &f->p)) < 0 ||
	    strncmp(text, head, (size_t)n) != 0)
		return -EINVAL;	/* a header written otherwise would not authenticate */
	s = text + n;
	if (unhex_line(&s, "salt", f->salt, SALT_SIZE) < 0 ||
	    unhex_line(&s, "nonce", f->nonce, NONCE_SIZE) < 0 ||
	    unhex_line(&s, "wrapped", f->wrapped, CACHEKEY_SIZE) < 0 ||
	    unhex_line(&s, "tag", f->tag, TAG_SIZE) < 0 || *s != '\0')
		return -EINVAL;
	return 0;
}

int
cachekey_unwrap(const char *password, const char *text, uint8_t key[CACHEKEY_SIZE])
{
	struct cachekey_file f;
	uint8_t kek[KEK_SIZE];
	char head[128];
	int r;

	if ((r = cachekey_parse(text, &f)) < 0 || (r = header(head, sizeof head, &f.p)) < 0)
		return -EINVAL;
	if ((r = derive(password, &f.p, f.salt, kek)) == 0)
		r = gcm(0, kek, f.nonce, head, f.wrapped, CACHEKEY_SIZE, key, f.tag);
	explicit_bzero(kek, sizeof kek);
	if (r < 0)
		explicit_bzero(key, CACHEKEY_SIZE);
	return r;
}
