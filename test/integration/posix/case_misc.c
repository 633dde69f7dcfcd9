/*
 * case_misc: statfs/statvfs, fsync and fdatasync on files and directories,
 * access/faccessat, and special files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "posix.h"

/* statfs, fstatfs and statvfs succeed with a sensible block size. */
void
case_misc_statfs(void)
{
	struct statvfs sv;
	struct statfs sf;
	int fd;

	if (CALL("statfs", statfs(".", &sf)) == 0)
		rep_yes("statfs-bsize", sf.f_bsize > 0);
	if (CALL("statvfs", statvfs(".", &sv)) == 0) {
		rep_yes("statvfs-bsize", sv.f_bsize > 0 && sv.f_frsize > 0);
		rep("statvfs-namemax", "%lu", (unsigned long)sv.f_namemax);
		rep_yes("statvfs-blocks-sane", sv.f_bavail <= sv.f_blocks);
	}
	fix_put("f", "F");
	fd = OPEN("open", open("f", O_RDONLY));
	if (fd >= 0) {
		if (CALL("fstatfs", fstatfs(fd, &sf)) == 0)
			rep_yes("fstatfs-bsize", sf.f_bsize > 0);
		close(fd);
	}
	CALL("statfs-missing", statfs("missing", &sf));
}

/* fsync and fdatasync on a written file, a read-only file and a directory. */
void
case_misc_fsync(void)
{
	int fd;

	fd = OPEN("open", open("f", O_WRONLY | O_CREAT, 0644));
	if (fd >= 0) {
		CALL("write", write(fd, "data", 4));
		CALL("fsync-file", fsync(fd));
		CALL("write-2", write(fd, "more", 4));
		CALL("fdatasync-file", fdatasync(fd));
		CALL("syncfs", syncfs(fd));
		close(fd);
	}
	fd = OPEN("open-rdonly", open("f", O_RDONLY));
	if (fd >= 0) {
		CALL("fsync-rdonly", fsync(fd));
		close(fd);
	}
	fd = OPEN("open-dir", open(".", O_RDONLY | O_DIRECTORY));
	if (fd >= 0) {
		CALL("fsync-dir", fsync(fd));
		CALL("fdatasync-dir", fdatasync(fd));
		close(fd);
	}
	fix_show_content("content", "f");
}

/* access and faccessat on existing, missing and non-executable files. */
void
case_misc_access(void)
{
	fix_put("f", "F");
	CALL("mkdir", mkdir("d", 0755));
	CALL("f-ok", access("f", F_OK));
	CALL("rw-ok", access("f", R_OK | W_OK));
	CALL("x-ok-0644", access("f", X_OK));
	CALL("chmod-755", chmod("f", 0755));
	CALL("x-ok-0755", access("f", X_OK));
	CALL("dir-x-ok", access("d", X_OK));
	CALL("missing", access("missing", F_OK));
	CALL("file-as-parent", access("f/x", F_OK));
	CALL("faccessat-eaccess", faccessat(AT_FDCWD, "f", R_OK, AT_EACCESS));
	CALL("faccessat-missing", faccessat(AT_FDCWD, "missing", R_OK, 0));
	CALL("symlink-dangling", symlink("nowhere", "dl"));
	CALL("faccessat-nofollow", faccessat(AT_FDCWD, "dl", F_OK, AT_SYMLINK_NOFOLLOW));
	CALL("access-dangling", access("dl", F_OK));
}

/* FIFOs and device nodes in a home directory. */
void
case_misc_special(void)
{
	CALL("mkfifo", mkfifo("fifo", 0644));
	fix_show_stat("fifo-stat", "fifo", 0);
	CALL("mknod-reg", mknod("reg", S_IFREG | 0600, 0));
	fix_show_stat("reg-stat", "reg", 0);
	CALL("mknod-sock", mknod("sock", S_IFSOCK | 0600, 0));
	fix_show_stat("sock-stat", "sock", 0);
	fix_show_listing("listing", ".");
}
