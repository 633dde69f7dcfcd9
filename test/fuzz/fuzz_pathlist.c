/*
 * fuzz_pathlist: parse any bytes as a pin list or working set.
 *
 * Checks, beyond "no crash, no leak": every path kept is normalised (it
 * normalises to itself) and covers itself; the list written back out
 * parses to the same paths, with no line skipped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pathlist.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pathlist l = { 0 }, again = { 0 };
	struct buf b;
	char *p;
	size_t i;

	if (pathlist_parse((const char *)data, size, &l) < 0)
		return 0;
	for (i = 0; i < l.n; i++) {
		if (pathlist_norm(l.v[i], strlen(l.v[i]), &p) < 0 || strcmp(p, l.v[i]) != 0)
			abort();
		free(p);
		if (pathlist_covers(&l, l.v[i]) == NULL)
			abort();
	}
	buf_init(&b, 0);
	if (pathlist_format(&l, "# header\n", &b) == 0 &&
	    pathlist_parse((const char *)b.data, b.len, &again) == 0) {
		if (again.n != l.n || again.bad)
			abort();
		for (i = 0; i < l.n; i++)
			if (strcmp(again.v[i], l.v[i]) != 0)
				abort();
	}
	buf_free(&b);
	pathlist_free(&again);
	pathlist_free(&l);
	return 0;
}
