/*
 * safeout: what roamctl prints as text holds names and messages that
 * users chose: file names (conflicts, set-aside changes, offline misses,
 * the last error), and whatever answers on a user's control socket.
 * Control characters there would drive the terminal of whoever reads it,
 * root included (retitle the window, move the cursor, hide or rewrite
 * lines).  safeout_install puts filters on standard output and error
 * that print every control character (C0 but newline and tab, DEL, and
 * C1 as UTF-8 or as raw bytes) as '?'.  JSON output escapes them itself.
 */
#ifndef ROAMCTL_SAFEOUT_H
#define ROAMCTL_SAFEOUT_H

#include <stddef.h>

/* Filter stdout and stderr from now on (0, or -1: left as they were). */
int safeout_install(void);
/*
 * Filter n bytes of in into out (room for n + 1 bytes), with *held the
 * state a previous call left (start with 0: a UTF-8 lead 0xC2 waits for
 * the next byte, which may make it a C1 control).  Returns how many bytes
 * of out to write.
 */
size_t safeout_filter(const unsigned char *in, size_t n, unsigned char *out, unsigned char *held);

#endif
