/*
 * fuzz_ctl: decode any bytes as a control request and as a control reply
 * (roam/ctl.h), the two frames roamfs and roamctl read from each other.
 *
 * Checks, beyond "no crash, no leak": a refused frame leaves nothing
 * allocated and says -EBADMSG, -EPROTONOSUPPORT or -ENOMEM; an accepted
 * one encodes again to the same bytes it was decoded from (the formats
 * have one encoding per value), and the fields roamctl reads by name are
 * found as ctl_get finds them.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/buf.h"
#include "roam/ctl.h"
#include "fuzz.h"

static void
check_refusal(int r)
{
	if (r != -EBADMSG && r != -EPROTONOSUPPORT && r != -ENOMEM)
		abort();
}

/* The encoding of a decoded frame is the frame: its length, then data. */
static void
check_encoding(const struct buf *b, const uint8_t *data, size_t size)
{
	if (b->len != size + 4 || be_get_u32(b->data) != size ||
	    memcmp(b->data + 4, data, size) != 0)
		abort();
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	struct ctl_request q;
	struct buf b;
	int r;

	if ((r = ctl_request_decode(data, size, &q)) != 0) {
		check_refusal(r);
		if (q.cmd != NULL || q.argv != NULL || q.argc != 0)
			abort();
		return;
	}
	if (q.cmd == NULL || (q.argc && q.argv == NULL))
		abort();
	buf_init(&b, 0);
	if (ctl_request_encode(&q, &b) != 0)
		abort();
	check_encoding(&b, data, size);
	buf_free(&b);
	ctl_request_free(&q);
}

static void
fuzz_reply(const uint8_t *data, size_t size)
{
	struct ctl_reply rp;
	struct buf b;
	size_t i, j;
	int r;

	if ((r = ctl_reply_decode(data, size, &rp)) != 0) {
		check_refusal(r);
		if (rp.msg != NULL || rp.rec != NULL || rp.n != 0)
			abort();
		return;
	}
	if (rp.msg == NULL)
		abort();
	for (i = 0; i < rp.n; i++)
		for (j = 0; j < rp.rec[i].n; j++) {
			const struct ctl_field *f = &rp.rec[i].f[j];
			const struct ctl_field *g = ctl_get(&rp.rec[i], f->name);

			/* The first field of that name, never a later one. */
			if (g == NULL || g > f || strcmp(g->name, f->name) != 0)
				abort();
			if ((f->type == CTL_STR) != (f->s != NULL))
				abort();
		}
	buf_init(&b, 0);
	if (ctl_reply_encode(&rp, &b) != 0)
		abort();
	check_encoding(&b, data, size);
	buf_free(&b);
	ctl_reply_free(&rp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_reply(data, size);
	return 0;
}
