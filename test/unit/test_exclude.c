/*
 * Unit tests for exclude: rsync's pattern rules, rule order, parse errors,
 * loading files and the shipped default list.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "exclude.h"
#include "../tap.h"

/* Parse text; the test fails on a parse error. */
static struct exclude *
parse(const char *text)
{
	struct exclude *ex = NULL;
	char *cause = NULL;

	if (exclude_parse(text, strlen(text), "t", &ex, &cause) != 0) {
		printf("# unexpected parse error: %s\n", cause ? cause : "?");
		free(cause);
		return NULL;
	}
	return ex;
}

/* One case: does list text exclude path? */
static void
check(const char *text, const char *path, int is_dir, int want)
{
	struct exclude *ex = parse(text);
	int got = ex != NULL ? exclude_match(ex, path, is_dir) : -1;

	ok(got == want, "%-28s %s%s -> %s", text, path, is_dir ? "/" : "",
	    want ? "excluded" : "kept");
	exclude_free(ex);
}

/* One refused list: error code and the start of the message. */
static void
refused(const char *text, const char *want_prefix)
{
	struct exclude *ex = NULL;
	char *cause = NULL;
	int ret = exclude_parse(text, strlen(text), "list", &ex, &cause);

	ok(ret == -EINVAL && ex == NULL && cause != NULL &&
	    strncmp(cause, want_prefix, strlen(want_prefix)) == 0,
	    "refused: %s (%s)", want_prefix, cause ? cause : "no cause");
	free(cause);
}

/* Last-component patterns, anchoring and directory-only rules. */
static void
test_basics(void)
{
	check("foo", "foo", 0, 1);
	check("foo", "a/b/foo", 0, 1);
	check("foo", "a/foo/b", 0, 1);		/* under an excluded directory */
	check("foo", "foobar", 0, 0);
	check("foo", "xfoo", 0, 0);
	check("/foo", "foo", 0, 1);
	check("/foo", "a/foo", 0, 0);
	check("/foo", "foo/bar", 0, 1);
	check("foo/", "foo", 1, 1);
	check("foo/", "foo", 0, 0);
	check("foo/", "a/foo/x", 0, 1);
	check("/a/b", "a/b", 0, 1);
	check("/a/b", "x/a/b", 0, 0);
	check("a/b", "x/a/b", 0, 1);
	check("a/b", "xa/b", 0, 0);
	check("a/b", "a/b/c", 0, 1);
	check("a/b/", "x/a/b", 1, 1);
	check("a/b/", "x/a/b", 0, 0);
	check("", "foo", 0, 0);
	check("# foo\n; foo\n\n", "foo", 0, 0);
	check(" # foo", " # foo", 0, 1);	/* only whole-line comments */
	check("foo ", "foo", 0, 0);		/* trailing blanks are part of the name */
	check("foo ", "foo ", 0, 1);
	check("foo\r\n", "foo", 0, 1);		/* CRLF files */
	check("/", "x", 0, 0);
	check("foo", "", 1, 0);			/* the root is never excluded */
}

/* Wildcards: '*', '?', "**", "***", classes and escapes. */
static void
test_wildcards(void)
{
	check("*.o", "a/b.o", 0, 1);
	check("*.o", "a.o/b", 0, 1);
	check("*.o", "a.c", 0, 0);
	check("?.o", "ab.o", 0, 0);
	check("?.o", "x/b.o", 0, 1);
	check("a*b", "a/b", 0, 0);
	check("/a*/c", "ab/c", 0, 1);
	check("/a*/c", "a/b/c", 0, 0);
	check("/a/*/c", "a/b/c", 0, 1);
	check("/a/*/c", "a/b/d/c", 0, 0);
	check("/a/**/c", "a/b/d/c", 0, 1);
	check("/a/**/c", "a/c", 0, 0);
	check("a/**", "x/a/b", 0, 1);
	check("a/**", "x/a", 1, 0);
	check("a/***", "x/a", 1, 1);
	check("a/***", "x/a", 0, 0);
	check("**/c", "c", 0, 1);
	check("**/c", "a/b/c", 0, 1);
	check("**c", "a/bc", 0, 1);
	check("a**", "x/ab/y", 0, 1);
	check("b**z", "a/b/c/z", 0, 1);
	check("b**z", "ab/z", 0, 0);
	check("/**/foo", "foo", 0, 0);
	check("/**/foo", "a/foo", 0, 1);
	check("a*/b", "x/ab/b", 0, 1);
	check("a*/b", "x/y/b", 0, 0);
	check("[ab]c", "bc", 0, 1);
	check("[ab]c", "cc", 0, 0);
	check("[!ab]c", "cc", 0, 1);
	check("[^ab]c", "ac", 0, 0);
	check("[a-c]x", "bx", 0, 1);
	check("[a-c]x", "dx", 0, 0);
	check("[]]", "]", 0, 1);
	check("[!]]", "]", 0, 0);
	check("[a-]", "-", 0, 1);
	check("x[[:digit:]]", "x7", 0, 1);
	check("x[[:digit:]]", "xa", 0, 0);
	check("x[[:upper:][:space:]]", "x ", 0, 1);
	check("[[:x]", ":", 0, 1);		/* not a class: '[' is a member */
	check("a[!x]b", "a/b", 0, 0);		/* a class never matches '/' */
	check("/a?b", "a/b", 0, 0);
	check("\\*", "*", 0, 1);		/* a wildcard makes '\' escape */
	check("\\*", "x", 0, 0);
	check("a\\?b*", "a?bc", 0, 1);
	check("a\\?b*", "axbc", 0, 0);
	check("a\\b", "a\\b", 0, 1);		/* no wildcard: '\' is literal */
	check("a\\b", "ab", 0, 0);
	check("*\xc3\xa9*", "caf\xc3\xa9", 0, 1);
	check("*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0);
}

/* "- " and "+ " prefixes: the first matching rule wins. */
static void
test_rules(void)
{
	check("- foo", "foo", 0, 1);
	check("+ foo\n- *", "foo", 0, 0);
	check("+ foo\n- *", "bar", 0, 1);
	check("- *\n+ foo", "foo", 0, 1);
	check("+ a/\n+ a/b\n- *", "a/b", 0, 0);
	check("+ a/\n+ a/b\n- *", "a/c", 0, 1);
	check("+ a/b\n- *", "a/b", 0, 1);	/* parent "a" is excluded first */
	check("-foo", "-foo", 0, 1);		/* no space: a name */
	check("!foo", "!foo", 0, 1);
	check("merge", "merge", 0, 1);
	check("- merge x", "merge x", 0, 1);
}

/* Lines refused with their line number. */
static void
test_refused(void)
{
	refused("a\n\n- ", "list:3: '- ' is followed by no pattern");
	refused("+ ", "list:1: '+ '");
	refused("x\r\n!", "list:2: the '!' rule");
	refused("merge /etc/x", "list:1: rsync filter rule 'merge'");
	refused("dir-merge .rsync-filter", "list:1: rsync filter rule 'dir-merge'");
	refused("P foo", "list:1: rsync filter rule 'P'");
	refused("H foo", "list:1: rsync filter rule 'H'");
	refused(": .filter", "list:1: rsync filter rule ':'");
	refused("-! foo", "list:1: rsync filter rule '-!'");
	refused("exclude,! foo", "list:1: rsync filter rule 'exclude'");
	refused("[abc", "list:1: unterminated character class");
	refused("[[:alpha:]", "list:1: unterminated character class");
	refused("x[[:foo:]]", "list:1: unknown character class");
	refused("a*\\", "list:1: pattern ends with a lone backslash");
	refused("[a\\", "list:1: pattern ends with a lone backslash");
}

/* Inputs that are not text, and very long lines. */
static void
test_odd_input(void)
{
	struct exclude *ex = NULL;
	char *cause = NULL, *big;
	int ret;

	ret = exclude_parse("a\0b\n", 4, "bin", &ex, &cause);
	ok(ret == -EINVAL && cause != NULL && strstr(cause, "bin:1: line holds a NUL byte") != NULL,
	    "a NUL byte is refused (%s)", cause ? cause : "");
	free(cause);
	cause = NULL;
	ret = exclude_parse("x", 1, "n", &ex, NULL);
	ok(ret == 0 && exclude_match(ex, "x", 0) == 1, "cause may be NULL; no final newline needed");
	exclude_free(ex);
	ret = exclude_parse("[", 1, "n", &ex, NULL);
	is_int(ret, -EINVAL, "cause may be NULL on error");
	big = malloc(5000);
	memset(big, 'a', 5000);
	ret = exclude_parse(big, 5000, "big", &ex, &cause);
	ok(ret == -EINVAL && cause != NULL && strncmp(cause, "big:1: line longer", 18) == 0,
	    "an over-long line is refused");
	free(cause);
	cause = NULL;
	big[4000] = '\0';
	ex = NULL;
	ok(exclude_parse(big, 4000, "big", &ex, &cause) == 0 &&
	    exclude_match(ex, big, 0) == 1, "a 4000-byte pattern matches itself");
	exclude_free(ex);
	free(big);
	exclude_free(NULL);
}

/* exclude_load: errors name the file; a real file parses. */
static void
test_load(void)
{
	char path[] = "/tmp/test_exclude.XXXXXX", *cause = NULL;
	struct exclude *ex = NULL;
	int fd, ret;

	ret = exclude_load("/nonexistent/roamfs-exclude", &ex, &cause);
	ok(ret == -ENOENT && cause != NULL && strstr(cause, "/nonexistent/roamfs-exclude") != NULL,
	    "missing file: -ENOENT naming the file (%s)", cause ? cause : "");
	free(cause);
	cause = NULL;
	ret = exclude_load("/tmp", &ex, &cause);
	ok(ret == -EISDIR && cause != NULL, "a directory: -EISDIR (%s)", cause ? cause : "");
	free(cause);
	cause = NULL;
	if ((fd = mkstemp(path)) < 0 || write(fd, "- /.cache/\nok\n[x\n", 17) != 17) {
		ok(0, "cannot create %s", path);
		return;
	}
	close(fd);
	ret = exclude_load(path, &ex, &cause);
	ok(ret == -EINVAL && cause != NULL && strncmp(cause, path, strlen(path)) == 0 &&
	    strncmp(cause + strlen(path), ":3: ", 4) == 0, "parse error names file and line (%s)",
	    cause ? cause : "");
	free(cause);
	unlink(path);
	ok(exclude_default_path() == NULL || strstr(exclude_default_path(), "/roamfs/exclude") != NULL,
	    "default path is under SYSCONFDIR/roamfs (%s)",
	    exclude_default_path() ? exclude_default_path() : "none installed");
}

/* The shipped list parses and excludes what it promises. */
static void
test_shipped(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *cause = NULL;
	struct exclude *ex = NULL;
	int ret;

	snprintf(path, sizeof path, "%s/contrib/exclude", top ? top : "..");
	ret = exclude_load(path, &ex, &cause);
	ok(ret == 0, "contrib/exclude parses (%s)", cause ? cause : path);
	free(cause);
	if (ret != 0)
		return;
	ok(exclude_match(ex, ".cache/thumbnails/normal/x.png", 0), "~/.cache is excluded");
	ok(exclude_match(ex, ".local/share/Trash/files/x", 0), "the trash is excluded");
	ok(exclude_match(ex, ".mozilla/firefox/ab12.default-esr/cache2/entries/F0", 0),
	    "Firefox's cache is excluded");
	ok(exclude_match(ex, ".config/chromium/Default/GPUCache", 1), "Chromium's GPU cache is excluded");
	ok(exclude_match(ex, ".config/google-chrome/SingletonLock", 0), "Chrome's host lock is excluded");
	ok(!exclude_match(ex, ".mozilla/firefox/ab12.default-esr/places.sqlite", 0),
	    "Firefox bookmarks are kept");
	ok(!exclude_match(ex, ".config/chromium/Default/Bookmarks", 0), "Chromium bookmarks are kept");
	ok(!exclude_match(ex, "Documents/cache/notes.txt", 0), "a user's own 'cache' folder is kept");
	ok(!exclude_match(ex, ".thunderbird/x.default/Mail/Local Folders/Inbox", 0), "mail is kept");
	ok(exclude_match(ex, ".config/mozilla/firefox/ab12.default-release/lock", 0),
	    "Firefox's host lock in the XDG layout is excluded");
	ok(exclude_match(ex, ".config/mozilla/firefox/ab12.default-release/.parentlock", 0),
	    "Firefox's .parentlock in the XDG layout is excluded");
	ok(exclude_match(ex, ".config/mozilla/firefox/Crash Reports", 1),
	    "Firefox's crash reports in the XDG layout are excluded");
	ok(!exclude_match(ex, ".config/mozilla/firefox/ab12.default-release/places.sqlite", 0),
	    "Firefox bookmarks in the XDG layout are kept");
	ok(exclude_match(ex, "Documents/.~lock.report.odt#", 0), "LibreOffice's document locks are excluded");
	ok(!exclude_match(ex, "Documents/report.odt", 0), "the document itself is kept");
	ok(exclude_match(ex, ".Xauthority", 0), "the X cookie of this host's display is excluded");
	exclude_free(ex);
}

int
main(void)
{
	test_basics();
	test_wildcards();
	test_rules();
	test_refused();
	test_odd_input();
	test_load();
	test_shipped();
	return tap_done();
}
