/*
 * case_names: the longest name, one byte too long, and names with spaces,
 * control characters, UTF-8, invalid UTF-8, leading dashes and dots.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

static const char *const odd_names[] = {
	"with space",
	"new\nline",
	"tab\there",
	"-leading-dash",
	"--",
	"caf\xc3\xa9",			/* é precomposed (NFC) */
	"cafe\xcc\x81",			/* é decomposed (NFD) */
	"emoji \xf0\x9f\x98\x80",
	"bad\xff",
	"\x80\xfe",
	"...",
	" ",
	"trailing space ",
	"trailing.",
	"back\\slash",
	"quote\"s'",
	"colon:star*what?",
	"<lt>|pipe",
	"CaseTest",
	"casetest",
	".hidden",
	"con",
	"#hash~",
};

/* The 255-byte name works, 256 bytes fail, multi-byte names count bytes. */
void
case_names_long(void)
{
	char name[300];
	size_t i;
	int fd;

	memset(name, 'a', 255);
	name[255] = '\0';
	fd = OPEN("create-255", open(name, O_WRONLY | O_CREAT, 0644));
	if (fd >= 0)
		close(fd);
	fix_show_stat("stat-255", name, 0);
	rep("listed-255", "%d", fix_in_listing(".", name));
	CALL("rename-255", rename(name, "short"));
	CALL("rename-back-255", rename("short", name));
	memset(name, 'b', 255);
	CALL("mkdir-255", mkdir(name, 0755));
	CALL("rmdir-255", rmdir(name));
	memset(name, 'a', 255);
	CALL("unlink-255", unlink(name));
	name[255] = 'a';
	name[256] = '\0';
	fd = OPEN("create-256", open(name, O_WRONLY | O_CREAT, 0644));
	if (fd >= 0)
		close(fd);
	fix_show_stat("stat-256", name, 0);
	CALL("mkdir-256", mkdir(name, 0755));
	CALL("symlink-256", symlink("x", name));
	fix_put("f", "F");
	CALL("rename-to-256", rename("f", name));
	for (i = 0; i < 127; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[254] = 'x';
	name[255] = '\0';
	fd = OPEN("create-255-utf8", open(name, O_WRONLY | O_CREAT, 0644));
	if (fd >= 0)
		close(fd);
	CALL("unlink-255-utf8", unlink(name));
	fix_show_listing("listing", ".");
}

/* Every odd name can be created, read back, listed and renamed. */
void
case_names_odd(void)
{
	char step[32], esc[128], renamed[64];
	size_t i;
	int fd;

	for (i = 0; i < sizeof odd_names / sizeof odd_names[0]; i++) {
		escape_name(odd_names[i], esc, sizeof esc);
		snprintf(step, sizeof step, "create-%02zu", i);
		fd = open(odd_names[i], O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			rep(step, "\"%s\" = -1 %s", esc, errname(errno));
			continue;
		}
		if (write(fd, odd_names[i], strlen(odd_names[i])) < 0)
			rep_setup(esc, errno);
		close(fd);
		rep(step, "\"%s\" = fd", esc);
		snprintf(step, sizeof step, "content-%02zu", i);
		fix_show_content(step, odd_names[i]);
	}
	fix_show_listing("listing", ".");
	for (i = 0; i < sizeof odd_names / sizeof odd_names[0]; i++) {
		snprintf(renamed, sizeof renamed, "%s.r", odd_names[i]);
		snprintf(step, sizeof step, "rename-%02zu", i);
		if (rename(odd_names[i], renamed) < 0)
			rep(step, "-1 %s", errname(errno));
	}
	fix_show_listing("listing-renamed", ".");
	CALL("mkdir-odd", mkdir("dir\nwith\tcontrols \xff", 0755));
	fix_put("dir\nwith\tcontrols \xff/inside \xc3\xa9", "in");
	fix_show_listing("listing-odd-dir", "dir\nwith\tcontrols \xff");
}
