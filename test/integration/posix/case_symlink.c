/*
 * case_symlink: readlink, lstat against stat, dangling links, loops,
 * links to directories, O_NOFOLLOW, and unlink of a link.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* Print the target of symlink PATH, escaped, or the error. */
static void
show_readlink(const char *step, const char *path)
{
	char buf[4200], esc[600];
	ssize_t n;

	n = readlink(path, buf, sizeof buf);
	if (n < 0) {
		rep(step, "readlink = -1 %s", errname(errno));
		return;
	}
	escape_bytes(buf, n > 100 ? 100 : n, esc, sizeof esc);
	rep(step, "readlink = %zd \"%s%s\"", n, esc, n > 100 ? "..." : "");
}

/* Close FD when it is open. */
static void
close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A link to a file: both views of it, O_NOFOLLOW, unlink removes only the link. */
void
case_symlink_basic(void)
{
	char target[1001];

	fix_put("t", "target");
	CALL("symlink", symlink("t", "l"));
	show_readlink("readlink", "l");
	fix_show_stat("lstat", "l", 0);
	fix_show_stat("stat", "l", 1);
	fix_show_content("content", "l");
	close_if(OPEN("nofollow", open("l", O_RDONLY | O_NOFOLLOW)));
	close_if(OPEN("nofollow-file", open("t", O_RDONLY | O_NOFOLLOW)));
	close_if(OPEN("excl-on-link", open("l", O_WRONLY | O_CREAT | O_EXCL, 0644)));
	CALL("symlink-existing", symlink("t", "l"));
	show_readlink("readlink-on-file", "t");
	memset(target, 'x', sizeof target - 1);
	target[sizeof target - 1] = '\0';
	CALL("symlink-long-target", symlink(target, "long"));
	show_readlink("readlink-long", "long");
	fix_show_stat("lstat-long", "long", 0);
	CALL("symlink-odd-target", symlink("a b\nc", "odd"));
	show_readlink("readlink-odd", "odd");
	CALL("unlink", unlink("l"));
	fix_show_stat("target-survives", "t", 0);
	fix_show_listing("listing", ".");
}

/* Dangling links and loops: stat fails, lstat works, O_CREAT creates the target. */
void
case_symlink_dangling(void)
{
	CALL("symlink", symlink("nowhere", "dl"));
	fix_show_stat("stat", "dl", 1);
	fix_show_stat("lstat", "dl", 0);
	close_if(OPEN("open", open("dl", O_RDONLY)));
	close_if(OPEN("creat-excl", open("dl", O_WRONLY | O_CREAT | O_EXCL, 0644)));
	close_if(OPEN("creat", open("dl", O_WRONLY | O_CREAT, 0644)));
	fix_show_stat("target-created", "nowhere", 0);
	CALL("loop-1", symlink("loop2", "loop1"));
	CALL("loop-2", symlink("loop1", "loop2"));
	fix_show_stat("loop-stat", "loop1", 1);
	close_if(OPEN("loop-open", open("loop1", O_RDONLY)));
	CALL("symlink-empty-target", symlink("", "empty"));
	fix_show_listing("listing", ".");
}

/* A link to a directory: traversal, trailing slash, rmdir refused, relative targets. */
void
case_symlink_dir(void)
{
	CALL("mkdir", mkdir("d", 0755));
	fix_put("d/x", "X");
	CALL("symlink", symlink("d", "ld"));
	fix_show_stat("stat", "ld", 1);
	fix_show_stat("lstat", "ld", 0);
	fix_show_stat("lstat-trailing-slash", "ld/", 0);
	fix_show_listing("listing-through", "ld");
	fix_show_content("content-through", "ld/x");
	close_if(OPEN("nofollow-directory", open("ld", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)));
	CALL("rmdir-link", rmdir("ld"));
	CALL("mkdir-s", mkdir("s", 0755));
	CALL("symlink-relative", symlink("../d", "s/up"));
	fix_show_content("content-relative", "s/up/x");
	CALL("unlink-link", unlink("ld"));
	fix_show_stat("dir-survives", "d", 0);
	fix_show_listing("listing", ".");
}
