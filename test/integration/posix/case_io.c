/*
 * case_io: reads and writes at offsets, holes, a sparse file over 4 GiB,
 * and truncation through a descriptor and by path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "posix.h"

#define BIG_OFF (5LL << 30)	/* 5 GiB: past every 32-bit size */

/* Print whether LEN bytes at OFF in FD read back as zeros. */
static void
show_zeros(const char *step, int fd, size_t len, off_t off)
{
	char buf[4096];
	ssize_t n;
	size_t i;

	if (len > sizeof buf)
		len = sizeof buf;
	n = pread(fd, buf, len, off);
	if (n < 0) {
		rep(step, "pread = -1 %s", errname(errno));
		return;
	}
	for (i = 0; i < (size_t)n && buf[i] == 0; i++)
		;
	rep(step, "read %zd of %zu bytes, all zero: %s", n, len,
	    i == (size_t)n ? "yes" : "no");
}

/* write, pwrite, pread and lseek at various offsets; a second descriptor sees writes. */
void
case_io_offsets(void)
{
	char c;
	int fd, fd2;

	fd = OPEN("open", open("f", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (fd < 0)
		return;
	CALL("write", write(fd, "abcdef", 6));
	CALL("pwrite-2", pwrite(fd, "XY", 2, 2));
	CALL("offset-after-pwrite", lseek(fd, 0, SEEK_CUR));
	fix_show_pread("pread-4", fd, 3, 4);
	CALL("read-at-eof", read(fd, &c, 1));
	fix_show_pread("pread-past-eof", fd, 4, 100);
	CALL("lseek-10", lseek(fd, 10, SEEK_SET));
	CALL("write-at-10", write(fd, "Z", 1));
	fix_show_pread("pread-gap", fd, 16, 0);
	CALL("lseek-end", lseek(fd, 0, SEEK_END));
	CALL("lseek-negative", lseek(fd, -100, SEEK_SET));
	fd2 = OPEN("open-second", open("f", O_RDONLY));
	if (fd2 >= 0) {
		CALL("write-first", pwrite(fd, "after", 5, 11));
		fix_show_pread("read-second", fd2, 32, 0);
		close(fd2);
	}
	close(fd);
	fix_show_stat("stat", "f", 0);
}

/* A 1 MiB hole reads as zeros; print what SEEK_DATA and SEEK_HOLE report. */
void
case_io_sparse(void)
{
	int fd;

	fd = OPEN("open", open("s", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (fd < 0)
		return;
	CALL("pwrite-1m", pwrite(fd, "end", 3, 1 << 20));
	fix_show_fstat("fstat", fd);
	show_zeros("hole-zeros", fd, 4096, 4096);
	fix_show_pread("tail", fd, 8, (1 << 20) - 2);
	CALL("seek-data-0", lseek(fd, 0, SEEK_DATA));
	CALL("seek-hole-0", lseek(fd, 0, SEEK_HOLE));
	CALL("seek-data-past-eof", lseek(fd, (1 << 20) + 100, SEEK_DATA));
	close(fd);
}

/* A sparse write at 5 GiB: the size passes 4 GiB and the data reads back. */
void
case_io_big(void)
{
	int fd;

	fd = OPEN("open", open("big", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (fd < 0)
		return;
	CALL("pwrite-5g", pwrite(fd, "tail", 4, BIG_OFF));
	fix_show_fstat("fstat", fd);
	fix_show_pread("pread-5g", fd, 8, BIG_OFF);
	show_zeros("hole-at-4g", fd, 4096, 4LL << 30);
	CALL("lseek-end", lseek(fd, 0, SEEK_END));
	CALL("ftruncate-4g-plus-1", ftruncate(fd, (4LL << 30) + 1));
	fix_show_stat("stat-after-truncate", "big", 0);
	CALL("pwrite-4g", pwrite(fd, "x", 1, 4LL << 30));
	fix_show_pread("pread-4g", fd, 4, (4LL << 30) - 1);
	close(fd);
	CALL("unlink", unlink("big"));
}

/* ftruncate grows and shrinks; truncate by path; the errors of both. */
void
case_io_truncate(void)
{
	int fd;

	fix_put("f", "0123456789");
	CALL("mkdir", mkdir("d", 0755));
	fd = OPEN("open", open("f", O_RDWR));
	if (fd < 0)
		return;
	CALL("ftruncate-shrink", ftruncate(fd, 4));
	fix_show_fstat("fstat-shrunk", fd);
	fix_show_pread("read-shrunk", fd, 16, 0);
	CALL("ftruncate-grow", ftruncate(fd, 8));
	fix_show_pread("read-grown", fd, 16, 0);
	CALL("write-past-end", pwrite(fd, "W", 1, 10));
	fix_show_pread("read-after-write", fd, 16, 0);
	CALL("ftruncate-negative", ftruncate(fd, -1));
	CALL("truncate-path", truncate("f", 2));
	fix_show_pread("read-after-path-truncate", fd, 16, 0);
	fix_show_fstat("fstat-after-path-truncate", fd);
	close(fd);
	CALL("truncate-zero", truncate("f", 0));
	fix_show_stat("stat-zero", "f", 0);
	CALL("truncate-missing", truncate("missing", 0));
	CALL("truncate-dir", truncate("d", 0));
	fd = OPEN("open-rdonly", open("f", O_RDONLY));
	if (fd >= 0) {
		CALL("ftruncate-rdonly", ftruncate(fd, 1));
		close(fd);
	}
}
