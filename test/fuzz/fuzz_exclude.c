/*
 * fuzz_exclude: parse any bytes as an exclusion list and match paths.
 *
 * Checks, beyond "no crash, no leak": a refused list comes with a cause
 * naming the list, exclude_match answers 0 or 1, and whatever is under an
 * excluded directory is excluded too.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "exclude.h"
#include "fuzz.h"

static const struct { const char *path; int is_dir; } fuzz_paths[] = {
	{ "a", 0 }, { "a", 1 }, { "a/b", 1 }, { "a/b/c.o", 0 },
	{ ".cache/x/y", 0 }, { "Documents/report 1.odt", 0 },
	{ "x/[y]/*z?\\", 0 }, { "caf\xc3\xa9/\xff\x01", 1 },
};

/* Abort unless a child of an excluded directory is excluded too. */
static void
check_child(const struct exclude *ex, const char *dir, size_t len)
{
	char *child;

	/* Only for paths as the contract has them: no empty component. */
	if (len == 0 || len > 8192 || dir[0] == '/' || dir[len - 1] == '/' ||
	    strstr(dir, "//") != NULL || !exclude_match(ex, dir, 1))
		return;
	if ((child = malloc(len + 3)) == NULL)
		abort();
	memcpy(child, dir, len);
	memcpy(child + len, "/q", 3);
	if (exclude_match(ex, child, 0) != 1)
		abort();
	free(child);
}

/* Match the first lines of the input as paths, too: long and odd paths. */
static void
match_lines(const struct exclude *ex, const uint8_t *data, size_t size)
{
	char *copy, *line, *save = NULL;
	int r, n = 0;

	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (line = strtok_r(copy, "\n", &save); line != NULL && n++ < 16;
	    line = strtok_r(NULL, "\n", &save)) {
		r = exclude_match(ex, line, 0);
		if (r != 0 && r != 1)
			abort();
		check_child(ex, line, strlen(line));
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exclude *ex = NULL;
	char *cause = NULL;
	size_t i;
	int r;

	if (exclude_parse((const char *)data, size, "fuzz", &ex, &cause) != 0) {
		if (ex != NULL || cause == NULL || strncmp(cause, "fuzz:", 5) != 0)
			abort();
		free(cause);
		return 0;
	}
	if (cause != NULL)
		abort();
	for (i = 0; i < sizeof fuzz_paths / sizeof fuzz_paths[0]; i++) {
		r = exclude_match(ex, fuzz_paths[i].path, fuzz_paths[i].is_dir);
		if (r != 0 && r != 1)
			abort();
		if (fuzz_paths[i].is_dir)
			check_child(ex, fuzz_paths[i].path, strlen(fuzz_paths[i].path));
	}
	if (size <= 4096)
		match_lines(ex, data, size);
	exclude_free(ex);
	return 0;
}
