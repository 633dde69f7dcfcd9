/*
 * fuzz_journal: decode any bytes as a journal record and as an inode record.
 *
 * Both LMDB value formats are tried on every input.  Checks, beyond "no
 * crash, no leak": a refused record leaves nothing allocated behind and
 * says -EBADMSG or -EPROTO; an accepted one has its strings set, encodes
 * again, decodes from that encoding to the same record, and encodes from
 * there to the same bytes (the round trip settles after one step).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/buf.h"
#include "journal.h"
#include "meta.h"
#include "fuzz.h"

/* Whether two optional C strings are equal (both NULL counts). */
static int
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Abort unless a decoder's answer is one its contract allows. */
static void
check_refusal(int r)
{
	if (r != -EBADMSG && r != -EPROTO && r != -ENOMEM)
		abort();
}

/* Abort unless two buffers hold the same bytes. */
static void
check_same_bytes(const struct buf *a, const struct buf *b)
{
	if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
		abort();
}

/* Abort unless two decoded journal records are equal field by field. */
static void
check_jrec_equal(const struct jrec *a, const struct jrec *b)
{
	if (a->seq != b->seq || a->type != b->type || a->ino != b->ino ||
	    a->attrs != b->attrs || a->mode != b->mode || a->mtime != b->mtime ||
	    !str_same(a->path, b->path) || !str_same(a->path2, b->path2) ||
	    a->victim != b->victim || a->victim_remote != b->victim_remote ||
	    a->base.size != b->base.size || a->base.mtime != b->base.mtime ||
	    a->base.mode != b->base.mode || a->base.valid != b->base.valid ||
	    a->when != b->when || a->err != b->err)
		abort();
}

/* Abort unless two decoded inodes are equal field by field. */
static void
check_inode_equal(const struct inode *a, const struct inode *b)
{
	if (a->ino != b->ino || a->mode != b->mode || a->nlink != b->nlink ||
	    a->size != b->size || a->mtime_s != b->mtime_s || a->ctime_s != b->ctime_s ||
	    a->atime_s != b->atime_s || a->mtime_ns != b->mtime_ns ||
	    a->ctime_ns != b->ctime_ns || a->atime_ns != b->atime_ns ||
	    a->flags != b->flags || a->parent != b->parent ||
	    !str_same(a->name, b->name) || !str_same(a->target, b->target) ||
	    a->pending_store != b->pending_store || a->base.size != b->base.size ||
	    a->base.mtime != b->base.mtime || a->base.mode != b->base.mode ||
	    a->base.valid != b->base.valid)
		abort();
}

/* Decode as a journal record; on success, the round trip must hold. */
static void
fuzz_jrec(const uint8_t *data, size_t size)
{
	struct jrec one, two;
	struct buf b1, b2;
	int r;

	if ((r = jrec_decode(data, size, &one)) != 0) {
		check_refusal(r);
		if (one.path != NULL || one.path2 != NULL)
			abort();
		return;
	}
	if (one.path == NULL || one.type < J_STORE || one.type > J_SETATTR ||
	    strcmp(jtype_name(one.type), "?") == 0)
		abort();
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	if (jrec_encode(&one, &b1) != 0 || jrec_decode(b1.data, b1.len, &two) != 0)
		abort();
	check_jrec_equal(&one, &two);
	if (jrec_encode(&two, &b2) != 0)
		abort();
	check_same_bytes(&b1, &b2);
	jrec_free(&one);
	jrec_free(&two);
	buf_free(&b1);
	buf_free(&b2);
}

/* Decode as an inode record; on success, the round trip must hold. */
static void
fuzz_inode(const uint8_t *data, size_t size)
{
	struct inode one, two;
	struct buf b1, b2;
	int r;

	if ((r = inode_decode(data, size, &one)) != 0) {
		check_refusal(r);
		if (one.name != NULL || one.target != NULL)
			abort();
		return;
	}
	if (one.name == NULL)
		abort();
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	if (inode_encode(&one, &b1) != 0 || inode_decode(b1.data, b1.len, &two) != 0)
		abort();
	check_inode_equal(&one, &two);
	if (inode_encode(&two, &b2) != 0)
		abort();
	check_same_bytes(&b1, &b2);
	inode_free(&one);
	inode_free(&two);
	buf_free(&b1);
	buf_free(&b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_jrec(data, size);
	fuzz_inode(data, size);
	return 0;
}
