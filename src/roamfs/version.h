/*
 * version: the server's version of an object, as the cache records it.
 */
#ifndef ROAMFS_VERSION_H
#define ROAMFS_VERSION_H

#include <stdint.h>

#include "meta.h"
#include "sftp/sftp.h"

/* The mode of an object from the server's attributes (no mode: a regular file). */
uint32_t attr_mode(const struct sftp_attr *a);
/* The base version recorded for attributes the server gave, the same way
 * for listings and for replies to the replay. */
void base_from_attr(struct base *b, const struct sftp_attr *a);

#endif
