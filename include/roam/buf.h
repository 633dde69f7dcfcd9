/*
 * buf: a growable byte buffer with big-endian put/get and a size limit.
 *
 * Used for SFTP packets, journal records, LMDB values and the control
 * protocol alike.  Writers append at the end; readers consume from a read
 * offset.  Every function returns 0 on success or a negative errno:
 * -ENOMEM when memory runs out, -EMSGSIZE when a put would pass the limit,
 * -EBADMSG when a get would read past the end.  The struct is the interface:
 * callers may place it on the stack and read data/len directly.
 */
#ifndef ROAM_BUF_H
#define ROAM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;	/* owned unless wrapped with buf_wrap() */
	size_t len;	/* bytes written */
	size_t off;	/* read offset, <= len */
	size_t cap;	/* bytes allocated */
	size_t max;	/* limit on len, 0 for none */
	int owned;	/* data is ours to free */
};

/* Initialise an empty buffer that may grow up to max bytes (0: no limit). */
void buf_init(struct buf *b, size_t max);
/* Point a read-only buffer at existing bytes (not copied, not freed). */
void buf_wrap(struct buf *b, const void *data, size_t len);
/* Release the memory of an owned buffer and leave it empty. */
void buf_free(struct buf *b);
/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Make room for n more bytes at the end. */
int buf_reserve(struct buf *b, size_t n);
/* Bytes left to read. */
size_t buf_avail(const struct buf *b);
/* Pointer to the next unread byte. */
const uint8_t *buf_cur(const struct buf *b);

int buf_put(struct buf *b, const void *p, size_t n);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
/* A string as SSH writes it: u32 length then the bytes. */
int buf_put_str(struct buf *b, const void *p, size_t n);
int buf_put_cstr(struct buf *b, const char *s);
/* Overwrite a u32 at a given offset (for length fields written last). */
int buf_poke_u32(struct buf *b, size_t at, uint32_t v);

int buf_get(struct buf *b, void *p, size_t n);
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
/* Borrow a u32-length string: *p points into the buffer, not terminated. */
int buf_get_str(struct buf *b, const uint8_t **p, uint32_t *n);
/* Copy a u32-length string into a new NUL-terminated allocation; a string
 * with a NUL inside is refused (-EBADMSG) and nothing is consumed. */
int buf_get_cstr(struct buf *b, char **out);
/* Skip n bytes. */
int buf_skip(struct buf *b, size_t n);

/* Big-endian helpers for fixed-size keys. */
void be_put_u32(uint8_t *p, uint32_t v);
void be_put_u64(uint8_t *p, uint64_t v);
uint32_t be_get_u32(const uint8_t *p);
uint64_t be_get_u64(const uint8_t *p);

#endif
