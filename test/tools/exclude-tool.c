/*
 * exclude-tool: print the paths an exclusion list keeps, for tests.
 *
 * Usage: exclude-tool FILE < paths
 * Reads one path per line (relative to the root; a trailing '/' marks a
 * directory) and prints, unchanged, those exclude_match() does not exclude.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"
#include "exclude.h"

int
main(int argc, char **argv)
{
	struct exclude *ex;
	char *line = NULL, *cause = NULL;
	size_t cap = 0;
	ssize_t n;
	int is_dir;

	log_init("exclude-tool", 0, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: exclude-tool FILE < paths\n");
		return 2;
	}
	if (exclude_load(argv[1], &ex, &cause) != 0) {
		log_err("%s", cause);
		free(cause);
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		is_dir = n > 0 && line[n - 1] == '/';
		if (is_dir)
			line[n - 1] = '\0';
		if (!exclude_match(ex, line, is_dir))
			printf("%s%s\n", line, is_dir ? "/" : "");
	}
	free(line);
	exclude_free(ex);
	return 0;
}
