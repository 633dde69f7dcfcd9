/*
 * case_readdir: a directory read while entries are created and removed.
 * POSIX leaves open whether such entries show up in the running pass, so
 * only the absence of duplicates and the listing after rewinddir count.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roam/log.h"
#include "posix.h"

#define RD_FILES 30
#define RD_MAXSEEN 256

/* Names seen in one pass over a directory. */
struct rd_pass {
	char names[RD_MAXSEEN][NAME_MAX + 1];
	int n;
	int dups;
};

/* Read one entry into PASS; returns 0 at the end of the directory, else 1. */
static int
rd_next(DIR *d, struct rd_pass *pass)
{
	struct dirent *de;
	int i;

	if ((de = readdir(d)) == NULL)
		return 0;
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return 1;
	for (i = 0; i < pass->n; i++)
		if (strcmp(pass->names[i], de->d_name) == 0)
			pass->dups++;
	if (pass->n < RD_MAXSEEN)
		snprintf(pass->names[pass->n++], sizeof pass->names[0], "%s", de->d_name);
	return 1;
}

/* Create the file PREFIX followed by I, or delete it (DEL); prints only failures. */
static void
rd_touch(char prefix, int i, int del)
{
	char name[16];

	snprintf(name, sizeof name, "%c%02d", prefix, i);
	if (del) {
		if (unlink(name) < 0)
			rep_setup(name, errno);
	} else {
		fix_put(name, "x");
	}
}

/* Read ten names, add ten files and delete ten, finish; rewind and list. */
void
case_readdir_changes(void)
{
	struct rd_pass *pass;
	DIR *d;
	int i;

	if ((pass = calloc(1, sizeof *pass)) == NULL)
		fatal("posixsuite: out of memory");
	for (i = 0; i < RD_FILES; i++)
		rd_touch('f', i, 0);
	if ((d = opendir(".")) == NULL) {
		rep("opendir", "-1 %s", errname(errno));
		free(pass);
		return;
	}
	while (pass->n < 10 && rd_next(d, pass))
		;
	rep("first-part", "%d names", pass->n);
	for (i = 0; i < 10; i++) {
		rd_touch('n', i, 0);
		rd_touch('f', i + 20, 1);
	}
	while (rd_next(d, pass))
		;
	rep("duplicates-in-pass", "%d", pass->dups);
	memset(pass, 0, sizeof *pass);
	rewinddir(d);
	while (rd_next(d, pass))
		;
	rep("after-rewind", "%d names, %d duplicates", pass->n, pass->dups);
	closedir(d);
	free(pass);
	fix_show_listing("listing", ".");
}
