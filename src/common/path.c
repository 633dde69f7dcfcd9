/*
 * path: where a file name leads.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/path.h"

/*
 * The real path of p: realpath() of its longest existing prefix, followed
 * by the rest as written (a file that does not exist yet).  malloc'd, or
 * NULL when out of memory.
 */
static char *
path_resolve(const char *p)
{
	char *copy = strdup(p), *cut, *real, *out;
	const char *rest;

	if (copy == NULL)
		return NULL;
	for (;;) {
		if ((real = realpath(copy, NULL)) != NULL)
			break;
		if ((cut = strrchr(copy, '/')) == NULL || cut == copy) {
			/* Nothing of it exists (or a relative name): as written. */
			free(copy);
			return strdup(p);
		}
		*cut = '\0';
	}
	rest = p + strlen(copy);
	if (asprintf(&out, "%s%s", strcmp(real, "/") == 0 && *rest == '/' ? "" : real, rest) < 0)
		out = NULL;
	free(real);
	free(copy);
	return out;
}

int
path_within(const char *path, const char *dir)
{
	char *p = path_resolve(path), *d = path_resolve(dir);
	size_t n;
	int in = 0;

	if (p && d) {
		n = strlen(d);
		while (n > 1 && d[n - 1] == '/')
			n--;
		if (n == 1 && d[0] == '/')
			in = p[0] == '/';
		else
			in = strncmp(p, d, n) == 0 && (p[n] == '\0' || p[n] == '/');
	}
	free(p);
	free(d);
	return in;
}
