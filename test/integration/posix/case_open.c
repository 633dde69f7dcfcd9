/*
 * case_open: open(2) flags: O_CREAT|O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY,
 * directories opened for writing, creation modes under a umask, O_TMPFILE.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* Close FD when it is open. */
static void
close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* O_CREAT|O_EXCL on existing and new names, opens of missing names. */
void
case_open_excl(void)
{
	fix_put("f", "old");
	close_if(OPEN("excl-existing", open("f", O_WRONLY | O_CREAT | O_EXCL, 0644)));
	fix_show_content("excl-existing-content", "f");
	close_if(OPEN("excl-new", open("g", O_WRONLY | O_CREAT | O_EXCL, 0644)));
	fix_show_stat("excl-new-stat", "g", 0);
	close_if(OPEN("missing", open("nothere", O_RDONLY)));
	close_if(OPEN("missing-parent", open("nodir/f", O_WRONLY | O_CREAT, 0644)));
	close_if(OPEN("file-as-parent", open("f/x", O_RDONLY)));
	close_if(OPEN("creat-existing", open("f", O_WRONLY | O_CREAT, 0600)));
	fix_show_stat("creat-existing-keeps-mode", "f", 0);
}

/* O_TRUNC empties an existing file at open. */
void
case_open_trunc(void)
{
	int fd;

	fix_put("f", "0123456789");
	fd = OPEN("open", open("f", O_WRONLY | O_TRUNC));
	if (fd < 0)
		return;
	fix_show_fstat("fstat-after-open", fd);
	CALL("write", write(fd, "ab", 2));
	close(fd);
	fix_show_content("content", "f");
	fd = OPEN("rdonly-no-trunc", open("f", O_RDONLY));
	close_if(fd);
	fix_show_stat("stat-after-rdonly", "f", 0);
}

/* O_APPEND writes land at the end, even after lseek, pwrite or another writer. */
void
case_open_append(void)
{
	int fd, fd2;

	fix_put("f", "hello");
	fd = OPEN("open", open("f", O_WRONLY | O_APPEND));
	if (fd < 0)
		return;
	CALL("lseek-start", lseek(fd, 0, SEEK_SET));
	CALL("write", write(fd, " world", 6));
	CALL("offset-after-write", lseek(fd, 0, SEEK_CUR));
	CALL("pwrite-at-0", pwrite(fd, "!", 1, 0));
	close(fd);
	fix_show_content("content", "f");
	fd = OPEN("open-a", open("f", O_WRONLY | O_APPEND));
	fd2 = OPEN("open-b", open("f", O_WRONLY | O_APPEND));
	if (fd >= 0 && fd2 >= 0) {
		CALL("write-a1", write(fd, "1", 1));
		CALL("write-b2", write(fd2, "2", 1));
		CALL("write-a3", write(fd, "3", 1));
	}
	close_if(fd);
	close_if(fd2);
	fix_show_content("content-two-writers", "f");
	fix_show_stat("stat", "f", 0);
}

/* O_DIRECTORY, directories opened for writing, trailing slashes, wrong-mode I/O. */
void
case_open_flags(void)
{
	char c;
	int fd;

	fix_put("f", "data");
	CALL("mkdir", mkdir("d", 0755));
	close_if(OPEN("directory-on-file", open("f", O_RDONLY | O_DIRECTORY)));
	close_if(OPEN("directory-on-dir", open("d", O_RDONLY | O_DIRECTORY)));
	close_if(OPEN("dir-rdonly", open("d", O_RDONLY)));
	close_if(OPEN("dir-wronly", open("d", O_WRONLY)));
	close_if(OPEN("dir-rdwr", open("d", O_RDWR)));
	close_if(OPEN("dir-creat", open("d", O_WRONLY | O_CREAT, 0644)));
	close_if(OPEN("file-trailing-slash", open("f/", O_RDONLY)));
	close_if(OPEN("creat-trailing-slash", open("new/", O_WRONLY | O_CREAT, 0644)));
	fd = OPEN("rdonly", open("f", O_RDONLY));
	if (fd >= 0) {
		CALL("write-on-rdonly", write(fd, "x", 1));
		close(fd);
	}
	fd = OPEN("wronly", open("f", O_WRONLY));
	if (fd >= 0) {
		CALL("read-on-wronly", read(fd, &c, 1));
		close(fd);
	}
	fd = OPEN("dir-fd", open("d", O_RDONLY));
	if (fd >= 0) {
		CALL("read-on-dir", read(fd, &c, 1));
		close(fd);
	}
}

/* Creation modes honour the umask; O_CREAT on an existing file keeps its mode. */
void
case_open_mode(void)
{
	close_if(OPEN("create-666", open("m666", O_WRONLY | O_CREAT, 0666)));
	fix_show_stat("stat-666", "m666", 0);
	close_if(OPEN("create-600", open("m600", O_WRONLY | O_CREAT, 0600)));
	fix_show_stat("stat-600", "m600", 0);
	close_if(OPEN("create-777", open("m777", O_WRONLY | O_CREAT, 0777)));
	fix_show_stat("stat-777", "m777", 0);
	close_if(OPEN("create-000", open("m000", O_WRONLY | O_CREAT, 0000)));
	fix_show_stat("stat-000", "m000", 0);
	CALL("mkdir-777", mkdir("d777", 0777));
	fix_show_stat("stat-d777", "d777", 0);
	CALL("mkdir-700", mkdir("d700", 0700));
	fix_show_stat("stat-d700", "d700", 0);
	umask(077);
	close_if(OPEN("create-umask-077", open("u077", O_WRONLY | O_CREAT, 0666)));
	CALL("mkdir-umask-077", mkdir("du077", 0777));
	umask(022);
	fix_show_stat("stat-umask-077", "u077", 0);
	fix_show_stat("stat-dir-umask-077", "du077", 0);
}

/* O_TMPFILE: an unnamed file that can be given a name with linkat. */
void
case_open_tmpfile(void)
{
	char proc[64];
	int fd;

	fd = OPEN("open", open(".", O_TMPFILE | O_RDWR, 0600));
	if (fd < 0)
		return;
	CALL("write", write(fd, "tmp", 3));
	fix_show_listing("listing-unnamed", ".");
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	CALL("linkat", linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
	close(fd);
	fix_show_content("content", "named");
	fix_show_stat("stat", "named", 0);
}
