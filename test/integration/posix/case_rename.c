/*
 * case_rename: rename over files and directories, the errors for the
 * forbidden combinations, renames of open files, and renameat2 flags.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* Files: over a file, over a directory, onto itself, across directories. */
void
case_rename_files(void)
{
	fix_put("a", "A");
	fix_put("b", "B");
	CALL("file-over-file", rename("a", "b"));
	fix_show_content("target-content", "b");
	fix_show_stat("source-gone", "a", 0);
	CALL("mkdir-d", mkdir("d", 0755));
	fix_put("f", "F");
	CALL("file-over-dir", rename("f", "d"));
	CALL("file-over-missing-parent", rename("f", "nodir/f"));
	CALL("missing-source", rename("missing", "x"));
	CALL("to-itself", rename("f", "f"));
	fix_show_content("itself-content", "f");
	CALL("mkdir-s1", mkdir("s1", 0755));
	CALL("mkdir-s2", mkdir("s2", 0755));
	fix_put("s1/x", "X");
	CALL("across-dirs", rename("s1/x", "s2/y"));
	fix_show_listing("across-listing-s1", "s1");
	fix_show_listing("across-listing-s2", "s2");
	fix_show_content("across-content", "s2/y");
	CALL("file-trailing-slash", rename("f/", "g"));
	fix_show_listing("listing", ".");
}

/* Directories: over empty and non-empty directories, over files, into themselves. */
void
case_rename_dirs(void)
{
	CALL("mkdir-d1", mkdir("d1", 0755));
	fix_put("d1/x", "X");
	CALL("mkdir-e", mkdir("e", 0755));
	CALL("dir-over-empty-dir", rename("d1", "e"));
	fix_show_listing("over-empty-listing", "e");
	fix_show_stat("over-empty-source-gone", "d1", 0);
	CALL("mkdir-n1", mkdir("n1", 0755));
	CALL("mkdir-n2", mkdir("n2", 0755));
	fix_put("n2/y", "Y");
	CALL("dir-over-nonempty-dir", rename("n1", "n2"));
	fix_show_listing("nonempty-target-listing", "n2");
	CALL("mkdir-df", mkdir("df", 0755));
	fix_put("ff", "F");
	CALL("dir-over-file", rename("df", "ff"));
	CALL("mkdir-p", mkdir("p", 0755));
	CALL("mkdir-p-q", mkdir("p/q", 0755));
	CALL("dir-into-own-subdir", rename("p", "p/q/r"));
	CALL("dir-over-own-subdir", rename("p", "p/q"));
	CALL("dir-to-itself", rename("p", "p"));
	CALL("dir-trailing-slash", rename("p/", "p2/"));
	CALL("dot-source", rename(".", "x"));
	CALL("dotdot-target", rename("e", "p2/.."));
	fix_show_listing("listing", ".");
	fix_show_listing("moved-listing", "p2");
}

/* Open files: a renamed open file and an open file renamed over keep their data. */
void
case_rename_misc(void)
{
	char c;
	int fd;

	fix_put("o", "open-data");
	fd = OPEN("open", open("o", O_RDWR));
	if (fd < 0)
		return;
	CALL("rename-open", rename("o", "p"));
	fix_show_pread("read-via-fd", fd, 32, 0);
	CALL("write-via-fd", pwrite(fd, "+more", 5, 9));
	close(fd);
	fix_show_content("renamed-content", "p");
	fix_put("victim", "old-data");
	fd = OPEN("open-victim", open("victim", O_RDONLY));
	if (fd < 0)
		return;
	CALL("rename-over-open", rename("p", "victim"));
	fix_show_pread("victim-fd-still-old", fd, 32, 0);
	CALL("victim-read", read(fd, &c, 1));
	close(fd);
	fix_show_content("victim-name-new", "victim");
	fix_show_listing("listing", ".");
}

/* renameat2: RENAME_NOREPLACE and RENAME_EXCHANGE. */
void
case_rename_flags(void)
{
	fix_put("a", "A");
	fix_put("b", "B");
	CALL("noreplace-existing", renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
	fix_show_content("noreplace-target-kept", "b");
	CALL("noreplace-new", renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE));
	fix_show_content("noreplace-new-content", "c");
	CALL("mkdir-y", mkdir("y", 0755));
	CALL("exchange", renameat2(AT_FDCWD, "b", AT_FDCWD, "y", RENAME_EXCHANGE));
	fix_show_stat("exchange-b", "b", 0);
	fix_show_stat("exchange-y", "y", 0);
	CALL("exchange-missing", renameat2(AT_FDCWD, "c", AT_FDCWD, "none", RENAME_EXCHANGE));
	CALL("noreplace-and-exchange", renameat2(AT_FDCWD, "c", AT_FDCWD, "y",
	    RENAME_NOREPLACE | RENAME_EXCHANGE));
	fix_show_listing("listing", ".");
}
