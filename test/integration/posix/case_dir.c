/*
 * case_dir: mkdir and rmdir errors, and directory link counts (which FUSE
 * filesystems often report differently, so they are printed).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* Print the link count of directory PATH, or the error. */
static void
show_nlink(const char *step, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		rep(step, "lstat = -1 %s", errname(errno));
	else
		rep(step, "nlink %lu", (unsigned long)st.st_nlink);
}

/* mkdir and rmdir, and what they refuse. */
void
case_dir_mkdir(void)
{
	CALL("mkdir", mkdir("d", 0755));
	fix_show_stat("stat", "d", 0);
	CALL("mkdir-existing", mkdir("d", 0755));
	fix_put("d/f", "F");
	CALL("rmdir-nonempty", rmdir("d"));
	fix_put("f", "F");
	CALL("rmdir-file", rmdir("f"));
	CALL("rmdir-missing", rmdir("missing"));
	CALL("mkdir-over-file", mkdir("f", 0755));
	CALL("mkdir-missing-parent", mkdir("missing/x", 0755));
	CALL("mkdir-file-parent", mkdir("f/x", 0755));
	CALL("rmdir-dot", rmdir("."));
	CALL("rmdir-dotdot", rmdir("d/.."));
	CALL("rmdir-trailing-dot", rmdir("d/."));
	CALL("unlink-dir", unlink("d"));
	CALL("mkdir-trailing-slash", mkdir("t/", 0755));
	CALL("rmdir-trailing-slash", rmdir("t/"));
	CALL("unlink-d-f", unlink("d/f"));
	CALL("rmdir-emptied", rmdir("d"));
	fix_show_listing("listing", ".");
}

/* Directory link counts as subdirectories come and go. */
void
case_dir_nlink(void)
{
	CALL("mkdir-p", mkdir("p", 0755));
	show_nlink("empty", "p");
	CALL("mkdir-a", mkdir("p/a", 0755));
	CALL("mkdir-b", mkdir("p/b", 0755));
	show_nlink("two-subdirs", "p");
	fix_put("p/f", "F");
	show_nlink("plus-file", "p");
	CALL("rmdir-a", rmdir("p/a"));
	show_nlink("one-subdir", "p");
	CALL("move-b-out", rename("p/b", "b"));
	show_nlink("moved-out", "p");
	show_nlink("parent-after-move", ".");
	CALL("move-b-in", rename("b", "p/b"));
	show_nlink("moved-in", "p");
	show_nlink("subdir", "p/b");
}
