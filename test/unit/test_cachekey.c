/*
 * test_cachekey: the wrapped key of an encrypted cache (cachekey.c):
 * the key comes back with the password only; a wrong password, a changed
 * byte anywhere (parameters included) and files that are not key files
 * are refused, each with its own error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachekey.h"
#include "test/tap.h"

static const struct cachekey_params fast = { 1, 8192, 1 };

/* Unwrap text with one character at the first occurrence of what changed to c. */
static int
unwrap_changed(const char *text, const char *what, char c, const char *pw, uint8_t *out)
{
	char *t = strdup(text), *at;
	int r;

	if (t == NULL || (at = strstr(t, what)) == NULL) {
		free(t);
		return -999;
	}
	at += strlen(what);
	*at = *at == c ? (char)(c == '0' ? '1' : '0') : c;
	r = cachekey_unwrap(pw, t, out);
	free(t);
	return r;
}

int
main(void)
{
	uint8_t key[CACHEKEY_SIZE], back[CACHEKEY_SIZE], zero[CACHEKEY_SIZE] = { 0 };
	struct cachekey_params bad;
	struct timespec a, b;
	char *text = NULL, *text2 = NULL, *t;
	int r;

	ok(cachekey_random(key) == 0 && memcmp(key, zero, sizeof key) != 0, "a random key");

	clock_gettime(CLOCK_MONOTONIC, &a);
	r = cachekey_wrap("S3cret with spaces", key, &cachekey_default, &text);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ok(r == 0 && text, "wrapped with the default parameters");
	printf("# Argon2id t=%u m=%u KiB p=%u: %.2f s\n", cachekey_default.t, cachekey_default.m_kib,
	    cachekey_default.p, (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	ok(text && strncmp(text, "roamfs-cachekey 1\nargon2id t=3 m=65536 p=1\nsalt ", 48) == 0,
	    "the file names its format and parameters");
	r = cachekey_unwrap("S3cret with spaces", text, back);
	ok(r == 0 && memcmp(key, back, sizeof key) == 0, "unwrapped with the password");
	is_int(cachekey_unwrap("S3cret with space", text, back), -EKEYREJECTED, "a wrong password");
	ok(memcmp(back, zero, sizeof back) == 0, "a refused unwrap leaves no key bytes");
	free(text);
	text = NULL;

	ok(cachekey_wrap("pw", key, &fast, &text) == 0 && cachekey_wrap("pw", key, &fast, &text2) == 0 &&
	    strcmp(text, text2) != 0, "two wraps of one key differ (salt, nonce)");
	ok(cachekey_unwrap("pw", text2, back) == 0 && memcmp(key, back, sizeof key) == 0,
	    "the second unwraps too");
	ok(cachekey_unwrap("", text, back) == -EKEYREJECTED, "an empty password is refused");

	is_int(unwrap_changed(text, "wrapped ", '7', "pw", back), -EKEYREJECTED, "a changed wrapped byte");
	is_int(unwrap_changed(text, "tag ", '7', "pw", back), -EKEYREJECTED, "a changed tag");
	is_int(unwrap_changed(text, "salt ", '7', "pw", back), -EKEYREJECTED, "a changed salt");
	is_int(unwrap_changed(text, "nonce ", '7', "pw", back), -EKEYREJECTED, "a changed nonce");
	is_int(unwrap_changed(text, "t=", '2', "pw", back), -EKEYREJECTED,
	    "raised parameters are authenticated");
	is_int(unwrap_changed(text, "m=", '9', "pw", back), -EKEYREJECTED,
	    "changed memory is authenticated");
	is_int(unwrap_changed(text, "t=", '0', "pw", back), -EINVAL, "t=0 is out of bounds");
	is_int(unwrap_changed(text, "wrapped ", 'X', "pw", back), -EINVAL, "a non-hex digit");
	is_int(cachekey_unwrap("pw", "", back), -EINVAL, "empty text");
	is_int(cachekey_unwrap("pw", "hello\n", back), -EINVAL, "not a key file");
	if ((t = strdup(text)) != NULL) {
		t[strlen(t) - 5] = '\0';
		is_int(cachekey_unwrap("pw", t, back), -EINVAL, "a cut file");
		free(t);
	}
	if (asprintf(&t, "%sjunk\n", text) >= 0) {
		is_int(cachekey_unwrap("pw", t, back), -EINVAL, "junk after the tag");
		free(t);
	}
	if (asprintf(&t, "roamfs-cachekey 1\nargon2id t=3 m=99999999 p=1\n%s",
	    strstr(text, "salt ")) >= 0) {
		is_int(cachekey_unwrap("pw", t, back), -EINVAL, "a file asking for 95 GiB is refused");
		free(t);
	}
	bad = fast;
	bad.m_kib = 16;
	is_int(cachekey_wrap("pw", key, &bad, &t), -EINVAL, "too weak parameters are not used");
	free(text);
	free(text2);
	return tap_done();
}
