/*
 * posixsuite DIR [CASE...]: run the POSIX behaviour cases inside the empty
 * directory DIR and print a normalised transcript on stdout.  Differences
 * between filesystems are judged by comparing transcripts
 * (test/integration/posix-compare.sh), not here.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "posix.h"

const struct suite_case suite_cases[] = {
	{ "open-excl", case_open_excl },
	{ "open-trunc", case_open_trunc },
	{ "open-append", case_open_append },
	{ "open-flags", case_open_flags },
	{ "open-mode", case_open_mode },
	{ "open-tmpfile", case_open_tmpfile },
	{ "io-offsets", case_io_offsets },
	{ "io-sparse", case_io_sparse },
	{ "io-big", case_io_big },
	{ "io-truncate", case_io_truncate },
	{ "rename-files", case_rename_files },
	{ "rename-dirs", case_rename_dirs },
	{ "rename-misc", case_rename_misc },
	{ "rename-flags", case_rename_flags },
	{ "unlink-open", case_unlink_open },
	{ "link-hard", case_link_hard },
	{ "symlink-basic", case_symlink_basic },
	{ "symlink-dangling", case_symlink_dangling },
	{ "symlink-dir", case_symlink_dir },
	{ "dir-mkdir", case_dir_mkdir },
	{ "dir-nlink", case_dir_nlink },
	{ "attr-chmod", case_attr_chmod },
	{ "attr-chown", case_attr_chown },
	{ "attr-utimens", case_attr_utimens },
	{ "attr-mtime", case_attr_mtime },
	{ "readdir-changes", case_readdir_changes },
	{ "names-long", case_names_long },
	{ "names-odd", case_names_odd },
	{ "mmap-shared", case_mmap_shared },
	{ "misc-statfs", case_misc_statfs },
	{ "misc-fsync", case_misc_fsync },
	{ "misc-access", case_misc_access },
	{ "misc-special", case_misc_special },
	{ "lock-conflict", case_lock_conflict },
	{ "xattr-user", case_xattr_user },
};
const size_t suite_ncases = sizeof suite_cases / sizeof suite_cases[0];

/* Exit with a usage error unless DIR is an empty, writable directory. */
static void
main_check_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		fatal("cannot open %s: %s; give an existing empty directory",
		    dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fatal("%s is not empty; give an empty directory (the suite "
			    "creates and removes files in it)", dir);
	closedir(d);
	if (chdir(dir) < 0)
		fatal("cannot enter %s: %s", dir, strerror(errno));
}

/* Whether case NAME was asked for (all are when no names were given). */
static int
main_wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc <= 2)
		return 1;
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

/* Run case NUM in a fresh subdirectory of the current directory. */
static void
main_run(size_t num)
{
	const struct suite_case *c = &suite_cases[num];
	char sub[80];

	snprintf(sub, sizeof sub, "%02zu-%s", num + 1, c->name);
	rep_case((int)num + 1, c->name);
	if (mkdir(sub, 0755) < 0 || chdir(sub) < 0) {
		rep_setup(sub, errno);
		return;
	}
	c->run();
	if (chdir("..") < 0)
		fatal("cannot leave %s: %s", sub, strerror(errno));
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("posixsuite", 0, 0);
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: posixsuite DIR [CASE...]\n"
		    "Runs POSIX behaviour cases inside the empty directory DIR and\n"
		    "prints a normalised transcript; compare two with posix-compare.sh.\n");
		return 2;
	}
	main_check_dir(argv[1]);
	umask(022);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < suite_ncases; i++)
		if (main_wanted(suite_cases[i].name, argc, argv))
			main_run(i);
	return 0;
}
