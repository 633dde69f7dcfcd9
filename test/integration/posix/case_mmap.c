/*
 * case_mmap: shared writable mappings reach the file, written data reaches
 * mappings, and private mappings stay private.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

#define MM_LEN 8192

/* Map FD; prints the outcome and returns the mapping or NULL. */
static char *
mm_map(const char *step, int fd, int prot, int flags)
{
	void *p = mmap(NULL, MM_LEN, prot, flags, fd, 0);

	if (p == MAP_FAILED) {
		rep(step, "mmap = MAP_FAILED %s", errname(errno));
		return NULL;
	}
	rep(step, "mmap = ok");
	return p;
}

/* Print whether LEN bytes at P equal WANT. */
static void
mm_same(const char *step, const char *p, const char *want, size_t len)
{
	rep_yes(step, memcmp(p, want, len) == 0);
}

/* MAP_SHARED writes reach read(); write() reaches an existing mapping. */
void
case_mmap_shared(void)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat st;
	char *p;
	int fd;

	fd = OPEN("open", open("m", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (fd < 0)
		return;
	CALL("ftruncate", ftruncate(fd, MM_LEN));
	CALL("set-old-mtime", futimens(fd, old));
	if ((p = mm_map("map-shared", fd, PROT_READ | PROT_WRITE, MAP_SHARED)) != NULL) {
		memcpy(p + 4096, "mapped", 6);
		CALL("msync", msync(p, MM_LEN, MS_SYNC));
		fix_show_pread("read-after-msync", fd, 6, 4096);
		CALL("pwrite-while-mapped", pwrite(fd, "written", 7, 100));
		mm_same("mapping-sees-write", p + 100, "written", 7);
		memcpy(p + 200, "unsynced", 8);
		CALL("munmap", munmap(p, MM_LEN));
	}
	fix_show_pread("read-after-munmap", fd, 8, 200);
	if (fstat(fd, &st) == 0)
		rep("fstat", "size %lld, mtime advanced: %s", (long long)st.st_size,
		    st.st_mtim.tv_sec > old[1].tv_sec ? "yes" : "no");
	close(fd);
	fd = OPEN("reopen", open("m", O_RDWR));
	if (fd < 0)
		return;
	fix_show_pread("reopen-read", fd, 6, 4096);
	if ((p = mm_map("map-private", fd, PROT_READ | PROT_WRITE, MAP_PRIVATE)) != NULL) {
		memcpy(p, "private", 7);
		CALL("munmap-private", munmap(p, MM_LEN));
	}
	fix_show_pread("private-not-in-file", fd, 7, 0);
	close(fd);
	fd = OPEN("open-rdonly", open("m", O_RDONLY));
	if (fd >= 0) {
		p = mm_map("map-shared-rdonly-fd", fd, PROT_READ | PROT_WRITE, MAP_SHARED);
		if (p != NULL)
			munmap(p, MM_LEN);
		close(fd);
	}
}
