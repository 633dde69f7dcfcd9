/*
 * fuzz_opts: parse any bytes as a roamfs command line, one word per NUL.
 *
 * The input is split on NUL bytes into argv[1..] (argv[0] is "roamfs"; at
 * most FUZZ_MAX_WORDS words, so one input stays fast).  Checks, beyond "no
 * crash, no leak": a refusal is -EINVAL with a cause (or -ENOMEM); success
 * comes without a cause, with the source split into a non-empty host and
 * a path, a mount point, numbers inside their documented ranges, sizes
 * that are bytes or a percentage from 1 to 100, and only
 * non-empty items in the kernel option list; argv is never written to.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "fuzz.h"

#define FUZZ_MAX_WORDS	256

/* Abort unless a successful parse gave what the contract promises. */
static void
check_parsed(const struct opts *o)
{
	const char *f = o->fuse_opts;

	if (o->port > 65535 || o->dir_ttl > 86400 * 365 || o->sync_interval < 1 ||
	    o->sync_interval > 60 || o->flush_timeout > 86400 ||
	    o->connect_timeout < 1 || o->connect_timeout > 600)
		abort();
	if (o->cache_max.percent > 100 || (o->cache_max.percent && o->cache_max.bytes) ||
	    o->cache_total.percent > 100 || (o->cache_total.percent && o->cache_total.bytes))
		abort();
	if (f != NULL && (*f == '\0' || *f == ',' || f[strlen(f) - 1] == ',' ||
	    strstr(f, ",,") != NULL))
		abort();
	if (o->help || o->version)
		return;
	if (o->source == NULL || o->host == NULL || o->path == NULL ||
	    o->mountpoint == NULL || (o->user != NULL && *o->user == '\0'))
		abort();
	if (*o->host == '\0')
		abort();	/* regression: corpus/opts/crash-empty-v6-host* */
}

/* Split a NUL-terminated copy of the input into words; returns argc. */
static int
split_words(char *copy, size_t size, char **argv)
{
	int argc = 0;
	size_t i = 0;

	argv[argc++] = "roamfs";
	while (i <= size && argc < FUZZ_MAX_WORDS + 1) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;
	return argc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_WORDS + 2], *copy, *cause = (char *)1;
	struct opts o;
	int argc, r;

	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	argc = split_words(copy, size, argv);
	r = opts_parse(argc, argv, &o, &cause);
	if (memcmp(copy, data, size) != 0)
		abort();	/* opts_parse wrote to argv */
	if (r == 0) {
		if (cause != NULL)
			abort();
		check_parsed(&o);
	} else if (r == -EINVAL) {
		if (cause == NULL || *cause == '\0')
			abort();
	} else if (r != -ENOMEM)
		abort();
	free(cause);
	opts_free(&o);
	free(copy);
	return 0;
}
