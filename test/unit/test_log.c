/*
 * Unit tests for log: the log file's lines, its rotation, its mode, and
 * messages longer than any fixed buffer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "../tap.h"

/* The whole contents of a file (NUL-terminated), or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	if (getdelim(&s, &n, '\0', f) < 0) {
		free(s);
		s = strdup("");
	}
	fclose(f);
	return s;
}

/* The last line of a file, without its newline (malloc'd), or NULL. */
static char *
last_line(const char *path)
{
	char *s = slurp(path), *p, *l;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || s[n - 1] != '\n') {
		free(s);
		return NULL;
	}
	s[n - 1] = '\0';
	p = strrchr(s, '\n');
	l = strdup(p ? p + 1 : s);
	free(s);
	return l;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int
count_lines(const char *path)
{
	char *s = slurp(path), *p;
	int n = 0;

	for (p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

int
main(void)
{
	char dir[] = "/tmp/test_log.XXXXXX", path[128], old[140], errpath[128], link[128];
	char want[160], *l, *big, *e;
	struct stat st;
	regex_t re;
	int i, fd, found;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/roam.log", dir);
	snprintf(old, sizeof old, "%s.1", path);
	snprintf(errpath, sizeof errpath, "%s/stderr", dir);
	snprintf(link, sizeof link, "%s/link.log", dir);
	/* Messages to stderr go to a file, to be read back. */
	fflush(stderr);
	if ((fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 || dup2(fd, 2) < 0)
		return 1;
	close(fd);
	umask(0);
	log_init("test_log", 0, 1);

	is_int(log_open_file(path, 4096), 0, "the log file opens");
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "it is created 0600, whatever the umask");

	log_warn("hello %d", 42);
	l = last_line(path);
	ok(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}"
	    "[+-][0-9]{2}:[0-9]{2} test_log\\[[0-9]+\\] warning: hello 42$", REG_EXTENDED) == 0,
	    "the expected line compiles");
	ok(l && regexec(&re, l, 0, NULL, 0) == 0,
	    "a line has the ISO 8601 local time, the program, its pid and the level");
	if (l)
		printf("# %s\n", l);
	regfree(&re);
	free(l);
	snprintf(want, sizeof want, "[%ld] warning: hello 42", (long)getpid());
	l = slurp(path);
	ok(l && strstr(l, want), "the pid is this process's");
	free(l);

	log_err("broken");
	log_notice("noted");
	log_info("told");
	l = slurp(path);
	ok(l && strstr(l, " error: broken\n") && strstr(l, " notice: noted\n") &&
	    strstr(l, " info: told\n"), "each level is named");
	free(l);

	log_debug("not for the file");
	l = slurp(path);
	ok(l && !strstr(l, "not for the file"), "debug lines stay out of the file");
	free(l);
	l = slurp(errpath);
	ok(l && strstr(l, "test_log: debug: main: not for the file\n"), "but reach stderr");
	free(l);

	/* A message of more than 4,000 bytes: a long path and then the reason. */
	if ((big = malloc(4001)) == NULL)
		return 1;
	for (i = 0; i < 4000; i++)
		big[i] = i % 100 == 0 ? '/' : 'a' + i % 26;
	big[4000] = '\0';
	log_err("could not upload %s to the server: Permission denied; the change is set aside", big);
	l = last_line(path);
	ok(l && strstr(l, big) && (e = strstr(l, "; the change is set aside")) && e[25] == '\0',
	    "a message with a 4,000-byte path is written whole to the file");
	ok(l && strlen(l) > 4000, "that line is %zu bytes", l ? strlen(l) : 0);
	free(l);
	l = last_line(errpath);
	ok(l && strstr(l, big) && strstr(l, "the change is set aside"), "and to stderr");
	free(l);
	free(big);

	/* Rotation: the file and its predecessor stay within the bound. */
	for (i = 0; i < 300; i++)
		log_info("line %03d of a log that grows and grows, until it is rotated away", i);
	ok(size_of(path) > 0 && size_of(path) <= 4096, "the log stays within its size (%lld)",
	    (long long)size_of(path));
	ok(size_of(old) > 0 && size_of(old) <= 4096 + 4200, "the one before is kept as .1 (%lld)",
	    (long long)size_of(old));
	l = last_line(path);
	ok(l && strstr(l, "line 299 of a log"), "the newest line is in the file");
	free(l);
	found = count_lines(path) + count_lines(old);
	ok(found > 40 && found < 300, "older lines went away (%d kept)", found);
	ok(stat(old, &st) == 0 && (st.st_mode & 07777) == 0600, ".1 is 0600 too");

	log_close_file();
	log_info("after close");
	l = slurp(path);
	ok(l && !strstr(l, "after close"), "after log_close_file nothing more is written");
	free(l);

	ok(symlink(path, link) == 0 && log_open_file(link, 4096) == -ELOOP,
	    "a log file that is a symbolic link is refused");

	unlink(path);
	unlink(old);
	unlink(link);
	unlink(errpath);
	rmdir(dir);
	return tap_done();
}
