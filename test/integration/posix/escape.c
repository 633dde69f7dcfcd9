/*
 * escape: print file names and contents with odd bytes in a readable,
 * unambiguous form.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "posix.h"

/* Write the escaped form of byte C into TMP (at least 5 bytes). */
static void
escape_one(unsigned char c, char *tmp)
{
	if (c == '\n')
		strcpy(tmp, "\\n");
	else if (c == '\t')
		strcpy(tmp, "\\t");
	else if (c == '\\')
		strcpy(tmp, "\\\\");
	else if (c == '"')
		strcpy(tmp, "\\\"");
	else if (c < 0x20 || c >= 0x7f)
		snprintf(tmp, 5, "\\x%02x", c);
	else {
		tmp[0] = (char)c;
		tmp[1] = '\0';
	}
}

void
escape_bytes(const void *data, size_t len, char *out, size_t outsz)
{
	const unsigned char *p = data;
	size_t i, n = 0, w;
	char tmp[8];

	if (outsz == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < len; i++) {
		escape_one(p[i], tmp);
		w = strlen(tmp);
		if (n + w + 1 > outsz)
			return;
		memcpy(out + n, tmp, w + 1);
		n += w;
	}
}

void
escape_name(const char *name, char *out, size_t outsz)
{
	escape_bytes(name, strlen(name), out, outsz);
}
