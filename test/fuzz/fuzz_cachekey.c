/*
 * fuzz_cachekey: parse any bytes as the key file of an encrypted cache
 * (cachekey.c).  The file is the user's: whatever it holds must neither
 * crash roamfs nor ask for parameters out of bounds.
 *
 * Checks, beyond "no crash, no leak": a file that parses is in bounds and
 * written back out byte for byte as it came (one spelling per key file,
 * so that the authenticated header is what was parsed).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cachekey.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cachekey_file f;
	char *text, *again = NULL;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cachekey_parse(text, &f) == 0) {
		if (f.p.t < 1 || f.p.t > 16 || f.p.m_kib < 8192 || f.p.m_kib > 1024 * 1024 ||
		    f.p.p < 1 || f.p.p > 8)
			abort();
		if (cachekey_format(&f, &again) != 0 || strcmp(again, text) != 0)
			abort();
	}
	free(again);
	free(text);
	return 0;
}
