/*
 * case_link: hard links and their counts, and unlink of a file still open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* An open file outlives its name: still readable and writable, nlink 0. */
void
case_unlink_open(void)
{
	int fd;

	fix_put("f", "data");
	fd = OPEN("open", open("f", O_RDWR));
	if (fd < 0)
		return;
	CALL("unlink", unlink("f"));
	fix_show_pread("read-after-unlink", fd, 16, 0);
	CALL("write-after-unlink", pwrite(fd, "more", 4, 4));
	fix_show_pread("read-after-write", fd, 16, 0);
	fix_show_fstat("fstat", fd);
	fix_show_stat("stat-name", "f", 0);
	fix_show_listing("listing-while-open", ".");
	fix_put("f", "new");
	fix_show_content("new-file-content", "f");
	fix_show_pread("old-fd-still-old", fd, 16, 0);
	CALL("ftruncate-unlinked", ftruncate(fd, 2));
	fix_show_fstat("fstat-truncated", fd);
	close(fd);
	fix_show_listing("listing-after-close", ".");
	CALL("mkdir", mkdir("d", 0755));
	CALL("unlink-dir", unlink("d"));
	CALL("unlink-missing", unlink("missing"));
}

/* Link counts, shared content, and the errors of link(2). */
void
case_link_hard(void)
{
	int fd, fd2;

	fix_put("a", "A");
	fd = OPEN("open-a", open("a", O_RDONLY));
	CALL("link", link("a", "b"));
	fix_show_stat("stat-a", "a", 0);
	fix_show_stat("stat-b", "b", 0);
	if (fd >= 0) {
		fix_show_fstat("fstat-open-a", fd);
		close(fd);
	}
	fd2 = OPEN("open-a-append", open("a", O_WRONLY | O_APPEND));
	if (fd2 >= 0) {
		CALL("write-through-a", write(fd2, "+", 1));
		close(fd2);
	}
	fix_show_content("content-b", "b");
	CALL("link-c", link("b", "c"));
	fix_show_stat("stat-after-c", "a", 0);
	CALL("chmod-c", chmod("c", 0600));
	fix_show_stat("mode-seen-via-a", "a", 0);
	CALL("unlink-c", unlink("c"));
	fix_show_stat("stat-after-unlink-c", "b", 0);
	CALL("rename-onto-own-link", rename("a", "b"));
	fix_show_stat("rename-own-link-a", "a", 0);
	CALL("unlink-a", unlink("a"));
	fix_show_stat("stat-after-unlink-a", "b", 0);
	fix_show_content("content-after-unlink-a", "b");
	CALL("mkdir", mkdir("d", 0755));
	CALL("link-dir", link("d", "dl"));
	fix_put("e", "E");
	CALL("link-over-existing", link("b", "e"));
	CALL("link-missing", link("missing", "x"));
	CALL("link-into-dir", link("b", "d/b"));
	fix_show_stat("stat-in-dir", "d/b", 0);
	fix_show_listing("listing", ".");
}
