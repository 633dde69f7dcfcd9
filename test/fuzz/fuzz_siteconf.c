/*
 * fuzz_siteconf: parse any bytes as a site configuration (roamfs.conf).
 *
 * Checks, beyond "no crash, no leak": a refusal is -EINVAL with a one-line
 * cause "fuzz:LINE: ..." (or -ENOMEM) and leaves the defaults; a success
 * comes without a cause, with an absolute cache root other than "/" and
 * without a trailing '/', numbers inside their documented ranges, sizes
 * that are bytes or a percentage from 1 to 100, and writing the result
 * out as "key = value" lines parses back to the same configuration.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siteconf.h"
#include "fuzz.h"

/* Abort unless a size is bytes, a percentage in range, or neither. */
static void
check_size(const struct size_opt *s)
{
	if (s->percent > 100 || (s->percent && s->bytes))
		abort();
}

/* Abort unless a parsed configuration keeps the header's promises. */
static void
check_parsed(const struct siteconf *c)
{
	size_t n;

	if (c->cache_root == NULL || c->cache_root[0] != '/' ||
	    (n = strlen(c->cache_root)) < 2 || c->cache_root[n - 1] == '/')
		abort();
	check_size(&c->cache_max);
	check_size(&c->cache_total);
	if (c->cache_expire > SITECONF_CACHE_EXPIRE_MAX || c->dir_ttl > SITECONF_DIR_TTL_MAX ||
	    c->attr_ttl > SITECONF_ATTR_TTL_MAX ||
	    c->sync_interval < SITECONF_SYNC_INTERVAL_MIN ||
	    c->sync_interval > SITECONF_SYNC_INTERVAL_MAX ||
	    c->flush_timeout > SITECONF_FLUSH_TIMEOUT_MAX ||
	    c->connect_timeout < SITECONF_CONNECT_TIMEOUT_MIN ||
	    c->connect_timeout > SITECONF_CONNECT_TIMEOUT_MAX ||
	    c->workingset_files > SITECONF_WORKINGSET_FILES_MAX)
		abort();
}

/* A size as the file spells it. */
static void
put_size(FILE *f, const char *key, const struct size_opt *s)
{
	if (s->percent)
		fprintf(f, "%s = %u%%\n", key, s->percent);
	else
		fprintf(f, "%s = %" PRIu64 "\n", key, s->bytes);
}

static int
same_size(const struct size_opt *a, const struct size_opt *b)
{
	return a->bytes == b->bytes && a->percent == b->percent;
}

/* Write c out as a file and abort unless it parses back to c. */
static void
check_roundtrip(const struct siteconf *c)
{
	struct siteconf d;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	/* A '/' after the root keeps a blank at its end a part of it. */
	fprintf(f, "cache_root = %s/\n", c->cache_root);
	put_size(f, "cache_max", &c->cache_max);
	put_size(f, "cache_total", &c->cache_total);
	fprintf(f, "cache_expire = %u\ndir_ttl = %u\nattr_ttl = %u\nsync_interval = %u\n"
	    "flush_timeout = %u\nconnect_timeout = %u\nworkingset_files = %u\n"
	    "workingset_bytes = %" PRIu64 "\n", c->cache_expire, c->dir_ttl, c->attr_ttl,
	    c->sync_interval, c->flush_timeout, c->connect_timeout, c->workingset_files,
	    c->workingset_bytes);
	if (fclose(f) != 0)
		abort();
	if (siteconf_parse(text, len, "again", &d, NULL) != 0)
		abort();
	if (strcmp(c->cache_root, d.cache_root) != 0 ||
	    !same_size(&c->cache_max, &d.cache_max) || !same_size(&c->cache_total, &d.cache_total) ||
	    c->cache_expire != d.cache_expire || c->dir_ttl != d.dir_ttl ||
	    c->attr_ttl != d.attr_ttl || c->sync_interval != d.sync_interval ||
	    c->flush_timeout != d.flush_timeout || c->connect_timeout != d.connect_timeout ||
	    c->workingset_files != d.workingset_files || c->workingset_bytes != d.workingset_bytes)
		abort();
	siteconf_free(&d);
	free(text);
}

/* Abort unless a refusal kept its promises: one line naming a line, the defaults left. */
static void
check_refused(int r, const char *cause, const struct siteconf *c)
{
	struct siteconf def;
	const char *p;

	if (r == -ENOMEM)
		return;
	if (r != -EINVAL || cause == NULL || strncmp(cause, "fuzz:", 5) != 0 ||
	    strchr(cause, '\n') != NULL)
		abort();
	for (p = cause + 5; *p >= '0' && *p <= '9'; p++)
		;
	if (p == cause + 5 || cause[5] == '0' || strncmp(p, ": ", 2) != 0 || p[2] == '\0')
		abort();
	siteconf_defaults(&def);
	if (memcmp(&def, c, sizeof def) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct siteconf c;
	char *cause = (char *)1;
	int r;

	r = siteconf_parse((const char *)data, size, "fuzz", &c, &cause);
	if (r == 0) {
		if (cause != NULL)
			abort();
		check_parsed(&c);
		check_roundtrip(&c);
	} else
		check_refused(r, cause, &c);
	free(cause);
	siteconf_free(&c);
	return 0;
}
