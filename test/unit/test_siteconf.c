/*
 * Unit tests for siteconf: sizes, the file's syntax, every refusal and
 * its message, loading files (missing, open to others, too large), the
 * shipped example, and how opts takes the configuration under the
 * command line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "opts.h"
#include "siteconf.h"
#include "../tap.h"

static char tmpdir[] = "/tmp/test_siteconf.XXXXXX";

/* One accepted size. */
static void
size_ok(const char *s, int pct, uint64_t bytes, unsigned percent)
{
	struct size_opt v = { 7, 7 };
	int r = size_opt_parse(s, pct, &v);

	ok(r == 0 && v.bytes == bytes && v.percent == percent && size_opt_why(s, pct) == NULL,
	    "size \"%s\"%s -> %llu bytes, %u%%", s, pct ? "" : " (no percent)",
	    (unsigned long long)bytes, percent);
}

/* One refused size: -EINVAL, *out untouched, and why, starting with want. */
static void
size_bad(const char *s, int pct, const char *want)
{
	struct size_opt v = { 7, 7 };
	int r = size_opt_parse(s, pct, &v);
	const char *why = size_opt_why(s, pct);

	ok(r == -EINVAL && v.bytes == 7 && v.percent == 7 && why != NULL &&
	    strncmp(why, want, strlen(want)) == 0, "size \"%s\"%s refused: %s", s,
	    pct ? "" : " (no percent)", why ? why : "(accepted)");
}

static void
test_sizes(void)
{
	size_ok("0", 1, 0, 0);
	size_ok("none", 1, 0, 0);
	size_ok("NONE", 0, 0, 0);
	size_ok("1234", 1, 1234, 0);
	size_ok("007", 1, 7, 0);
	size_ok("1K", 1, 1024, 0);
	size_ok("1k", 1, 1024, 0);
	size_ok("2M", 1, 2 << 20, 0);
	size_ok("3G", 1, (uint64_t)3 << 30, 0);
	size_ok("4T", 1, (uint64_t)4 << 40, 0);
	size_ok("1KiB", 1, 1024, 0);
	size_ok("1kib", 1, 1024, 0);
	size_ok("5 MiB", 1, 5 << 20, 0);
	size_ok("6GIB", 0, (uint64_t)6 << 30, 0);
	size_ok("7tib", 1, (uint64_t)7 << 40, 0);
	size_ok("0G", 1, 0, 0);
	size_ok("16777215T", 1, (uint64_t)16777215 << 40, 0);
	size_ok("18446744073709551615", 1, UINT64_MAX, 0);
	size_ok("10%", 1, 0, 10);
	size_ok("1%", 1, 0, 1);
	size_ok("100%", 1, 0, 100);
	size_ok("50 %", 1, 0, 50);

	size_bad("", 1, "expected a size such as 500M, 20G or 10%");
	size_bad("12Q", 1, "expected a size such as 500M, 20G or 10%");
	size_bad("12Q", 0, "expected a size such as 256M or 2G");
	size_bad("-1", 1, "expected a size");
	size_bad("+1", 1, "expected a size");
	size_bad(" 1", 1, "expected a size");
	size_bad("1.5G", 1, "expected a size");
	size_bad("1KB", 1, "expected a size");
	size_bad("1Ki", 1, "expected a size");
	size_bad("1GiBs", 1, "expected a size");
	size_bad("G", 1, "expected a size");
	size_bad("%", 1, "expected a size");
	size_bad("noneK", 1, "expected a size");
	size_bad("10%%", 1, "expected a size");
	size_bad("10% ", 1, "expected a size");
	size_bad("10%", 0, "a percentage is not taken here");
	size_bad("0%", 1, "a percentage must be from 1% to 100%");
	size_bad("101%", 1, "a percentage must be from 1% to 100%");
	size_bad("150%", 1, "a percentage must be from 1% to 100%");
	size_bad("18446744073709551616", 1, "too large");
	size_bad("16777216T", 1, "too large");
	size_bad("99999999999999999999999%", 1, "too large");
}

/* The total size of the file system holding path, as statvfs gives it. */
static uint64_t
total_of(const char *path)
{
	struct statvfs st;

	return statvfs(path, &st) == 0 ? (uint64_t)st.f_blocks * st.f_frsize : 0;
}

static void
test_resolve(void)
{
	struct size_opt none = { 0, 0 }, bytes = { 12345, 0 }, all = { 0, 100 }, half = { 0, 50 };
	char missing[PATH_MAX];
	uint64_t total = total_of(tmpdir), v;

	snprintf(missing, sizeof missing, "%s/not/yet/made", tmpdir);
	is_int(size_opt_resolve(&none, tmpdir), 0, "no limit resolves to 0");
	is_int(size_opt_resolve(&bytes, "/nonexistent"), 12345, "bytes need no file system");
	ok(total > 0 && size_opt_resolve(&all, tmpdir) == total, "100%% is the file system's size");
	v = size_opt_resolve(&half, tmpdir);
	ok(v >= total / 2 - 1 && v <= total / 2 + 1, "50%% is half of it (%llu of %llu)",
	    (unsigned long long)v, (unsigned long long)total);
	is_int(size_opt_resolve(&all, missing), total,
	    "a directory not made yet counts its nearest existing parent");
	is_int(size_opt_resolve(&all, "no-such-relative-dir"), 0,
	    "no file system to ask: no limit");
}

/* Parse text, which must be accepted; the test fails otherwise. */
static int
parse(const char *text, struct siteconf *c)
{
	char *cause = NULL;
	int r = siteconf_parse(text, strlen(text), "t", c, &cause);

	if (r != 0)
		printf("# unexpected refusal: %s\n", cause ? cause : "?");
	free(cause);
	return r;
}

/* Whether c holds the defaults, with cache_root as given (NULL: unset). */
static int
is_default(const struct siteconf *c, const char *root)
{
	return (root ? c->cache_root && strcmp(c->cache_root, root) == 0 : c->cache_root == NULL) &&
	    c->cache_max.bytes == 0 && c->cache_max.percent == 0 && c->cache_total.bytes == 0 &&
	    c->cache_total.percent == 0 && c->cache_expire == 180 &&
	    c->cache_encrypt == SITECONF_ENCRYPT_IF_POSSIBLE && c->dir_ttl == 5 &&
	    c->attr_ttl == 3 && c->sync_interval == 2 && c->flush_timeout == 30 &&
	    c->connect_timeout == 10 && c->workingset_files == 500 &&
	    c->workingset_bytes == (uint64_t)256 << 20;
}

static void
test_syntax(void)
{
	static const char full[] =
	    "# the site's settings\n"
	    "\n"
	    "cache_root = /srv/caches/   # trailing slash dropped\n"
	    "  cache_max=20G\n"
	    "cache_total\t=\t80%\r\n"
	    "cache_expire = 0\n"
	    "cache_encrypt = required\n"
	    "dir_ttl = 60\n"
	    "attr_ttl = 0\n"
	    "sync_interval = 60\n"
	    "flush_timeout = 86400\n"
	    "connect_timeout = 1\n"
	    "   # indented comment\n"
	    "workingset_files = 0\n"
	    "workingset_bytes = 1 GiB";	/* no final newline */
	struct siteconf c;

	siteconf_defaults(&c);
	ok(is_default(&c, NULL), "siteconf_defaults: the documented defaults, cache_root unset");
	ok(parse("", &c) == 0 && is_default(&c, LOCALSTATEDIR "/cache/roamfs"),
	    "an empty file gives the defaults and the default cache root");
	siteconf_free(&c);
	ok(parse("\n# only comments\n   \n\t# more\n", &c) == 0 &&
	    is_default(&c, siteconf_default_cache_root()), "comments and blank lines only");
	siteconf_free(&c);
	ok(parse(full, &c) == 0, "every key, comments, blanks, tabs, CRLF, no final newline");
	is_str(c.cache_root, "/srv/caches", "cache_root");
	ok(c.cache_max.bytes == (uint64_t)20 << 30 && c.cache_max.percent == 0, "cache_max");
	ok(c.cache_total.bytes == 0 && c.cache_total.percent == 80, "cache_total");
	ok(c.cache_expire == 0 && c.dir_ttl == 60 && c.attr_ttl == 0 && c.sync_interval == 60 &&
	    c.flush_timeout == 86400 && c.connect_timeout == 1, "the numbers");
	ok(c.workingset_files == 0 && c.workingset_bytes == (uint64_t)1 << 30, "the working set");
	ok(c.cache_encrypt == SITECONF_ENCRYPT_REQUIRED, "cache_encrypt = required");
	siteconf_free(&c);
	ok(is_default(&c, NULL), "siteconf_free leaves the defaults");
	ok(parse("cache_encrypt = no\n", &c) == 0 && c.cache_encrypt == SITECONF_ENCRYPT_NO,
	    "cache_encrypt = no");
	siteconf_free(&c);
	ok(parse("cache_encrypt = if-possible\n", &c) == 0 &&
	    c.cache_encrypt == SITECONF_ENCRYPT_IF_POSSIBLE, "cache_encrypt = if-possible");
	siteconf_free(&c);
	ok(parse("cache_root = /a b/c d\ncache_max = none\n", &c) == 0 &&
	    strcmp(c.cache_root, "/a b/c d") == 0, "a cache root may hold spaces");
	siteconf_free(&c);
	ok(parse("cache_root = ///x///\n", &c) == 0 && strcmp(c.cache_root, "///x") == 0,
	    "only trailing slashes are dropped");
	siteconf_free(&c);
}

/* One refused text: -EINVAL, the defaults left, and exactly the message want. */
static void
refused(const char *text, const char *want)
{
	struct siteconf c;
	char *cause = NULL;
	int r = siteconf_parse(text, strlen(text), "site.conf", &c, &cause);

	ok(r == -EINVAL && cause != NULL && strcmp(cause, want) == 0 && is_default(&c, NULL),
	    "refused: %s", want);
	if (cause == NULL || strcmp(cause, want) != 0)
		printf("#   got \"%s\"\n", cause ? cause : "(accepted)");
	free(cause);
	siteconf_free(&c);
}

static void
test_refusals(void)
{
	char longroot[PATH_MAX + 16], *text;

	refused("cache_maxx = 1G\n",
	    "site.conf:1: unknown key 'cache_maxx': see roamfs.conf(5) for the keys, or remove the line");
	refused("# ok\nConnectTimeout = 5\n",
	    "site.conf:2: bad key 'ConnectTimeout': keys are lowercase, with '_' between words (see roamfs.conf(5))");
	refused("cache-max = 1G\n",
	    "site.conf:1: bad key 'cache-max': keys are lowercase, with '_' between words (see roamfs.conf(5))");
	refused("\n = 5\n", "site.conf:2: no key before '=': write KEY = VALUE (see roamfs.conf(5))");
	refused("dir_ttl = 5\n\ncache_max 10G  # no equals sign\n",
	    "site.conf:3: 'cache_max 10G' has no '=': write KEY = VALUE (see roamfs.conf(5))");
	refused("dir_ttl =   # nothing\n",
	    "site.conf:1: dir_ttl has no value: give one after '=', or remove the line for the default");
	refused("dir_ttl = 5\nattr_ttl = 1\ndir_ttl = 6\n",
	    "site.conf:3: dir_ttl is set again (first on line 1): keep one of the two lines");
	refused("cache_max = 12Q\n", "site.conf:1: cache_max = 12Q: expected a size such as 500M, "
	    "20G or 10% (K, M, G, T: powers of 1024), or 0 or none for no limit");
	refused("cache_total = 150%\n",
	    "site.conf:1: cache_total = 150%: a percentage must be from 1% to 100%");
	refused("workingset_bytes = 10%\n", "site.conf:1: workingset_bytes = 10%: a percentage "
	    "is not taken here: give a size such as 256M");
	refused("workingset_bytes = lots\n", "site.conf:1: workingset_bytes = lots: expected a "
	    "size such as 256M or 2G (K, M, G, T: powers of 1024), or 0 or none for no limit");
	refused("cache_root = var/cache/roamfs\n", "site.conf:1: cache_root = var/cache/roamfs: "
	    "give an absolute path, starting with '/' (such as " LOCALSTATEDIR "/cache/roamfs)");
	refused("cache_root = //\n", "site.conf:1: cache_root = //: give a directory of its own "
	    "for the caches (such as " LOCALSTATEDIR "/cache/roamfs)");
	memset(longroot, 'a', sizeof longroot - 1);
	longroot[0] = '/';
	longroot[sizeof longroot - 1] = '\0';
	if (asprintf(&text, "cache_root = %s\n", longroot) > 0) {
		char want[256];

		snprintf(want, sizeof want, "site.conf:1: cache_root = %.64s...: the path is too "
		    "long; give a shorter one", longroot);
		refused(text, want);
		free(text);
	}
	refused("dir_ttl = abc\n",
	    "site.conf:1: dir_ttl = abc: expected a whole number of seconds from 0 to 31536000");
	refused("attr_ttl = -1\n",
	    "site.conf:1: attr_ttl = -1: expected a whole number of seconds from 0 to 86400");
	refused("attr_ttl = 86401\n",
	    "site.conf:1: attr_ttl = 86401: expected a whole number of seconds from 0 to 86400");
	refused("sync_interval = 0\n",
	    "site.conf:1: sync_interval = 0: expected a whole number of seconds from 1 to 60");
	refused("flush_timeout = 1e3\n",
	    "site.conf:1: flush_timeout = 1e3: expected a whole number of seconds from 0 to 86400");
	refused("connect_timeout = 601\n",
	    "site.conf:1: connect_timeout = 601: expected a whole number of seconds from 1 to 600");
	refused("cache_encrypt = yes\n",
	    "site.conf:1: cache_encrypt = yes: expected required, if-possible or no");
	refused("cache_expire = 36501\n",
	    "site.conf:1: cache_expire = 36501: expected a whole number of days from 0 to 36500");
	refused("workingset_files = 99999999999999999999\n", "site.conf:1: workingset_files = "
	    "99999999999999999999: expected a whole number of files from 0 to 10000000");
	refused("dir_ttl = 5 5\n",
	    "site.conf:1: dir_ttl = 5 5: expected a whole number of seconds from 0 to 31536000");
	{
		static const char nul[] = "dir_ttl = 5\nattr\0_ttl = 3\n";
		struct siteconf c;
		char *cause = NULL;
		int r = siteconf_parse(nul, sizeof nul - 1, "site.conf", &c, &cause);

		is_str(r == -EINVAL ? cause : NULL, "site.conf:2: the line holds a NUL byte: this "
		    "is not a text file; name the site configuration file", "a NUL byte is refused");
		free(cause);
	}
	{
		struct siteconf c;

		is_int(siteconf_parse("x\n", 2, "t", &c, NULL), -EINVAL,
		    "a refusal without a cause pointer");
	}
}

/* Write text to DIR/name with mode; returns the path (static). */
static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0 ||
	    chmod(path, mode) < 0)
		printf("# cannot write %s\n", path);
	return path;
}

/* Load path; the status, and whether the cause starts with want (NULL: no cause). */
static int
load(const char *path, int must_exist, int want_r, const char *want, struct siteconf *c)
{
	char *cause = NULL;
	int r = siteconf_load(path, must_exist, c, &cause);
	int good = r == want_r && (want ? cause && strncmp(cause, want, strlen(want)) == 0 :
	    cause == NULL);

	if (!good)
		printf("#   got %d, \"%s\"\n", r, cause ? cause : "(no cause)");
	free(cause);
	return good;
}

static void
test_load(void)
{
	struct siteconf c;
	char missing[PATH_MAX], want[PATH_MAX + 128], big[70000];
	const char *p;

	snprintf(missing, sizeof missing, "%s/none.conf", tmpdir);
	ok(load(missing, 0, 0, NULL, &c) && is_default(&c, siteconf_default_cache_root()),
	    "a missing default file gives the defaults");
	siteconf_free(&c);
	snprintf(want, sizeof want, "the site configuration %s does not exist: check the file "
	    "name (roamfs.conf(5))", missing);
	ok(load(missing, 1, -ENOENT, want, &c) && is_default(&c, NULL),
	    "a missing file given explicitly is refused");
	p = write_file("good.conf", "cache_root = /x/y\ndir_ttl = 9\n", 0644);
	ok(load(p, 1, 0, NULL, &c) && strcmp(c.cache_root, "/x/y") == 0 && c.dir_ttl == 9,
	    "a good file is read");
	siteconf_free(&c);
	p = write_file("group.conf", "dir_ttl = 9\n", 0664);
	ok(load(p, 1, 0, NULL, &c) && c.dir_ttl == 9, "a file its group may write is taken");
	siteconf_free(&c);
	p = write_file("open.conf", "dir_ttl = 9\n", 0646);
	snprintf(want, sizeof want, "%s: any user may change this site configuration (mode 646): "
	    "let only root write to it (chmod o-w %s)", p, p);
	ok(load(p, 1, -EPERM, want, &c) && is_default(&c, NULL), "a file others may write is refused");
	ok(load(p, 0, -EPERM, want, &c), "also as the default file");
	p = write_file("bad.conf", "# site\ndir_ttl = 9\ncache_max = 12Q\n", 0644);
	snprintf(want, sizeof want, "%s:3: cache_max = 12Q: expected a size", p);
	ok(load(p, 0, -EINVAL, want, &c) && is_default(&c, NULL), "a malformed file names FILE:LINE");
	snprintf(want, sizeof want, "the site configuration %s is not a regular file", tmpdir);
	ok(load(tmpdir, 0, -EINVAL, want, &c), "a directory is refused");
	memset(big, '#', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	p = write_file("big.conf", big, 0644);
	snprintf(want, sizeof want, "%s: larger than 65536 bytes, which no site configuration is", p);
	ok(load(p, 1, -EFBIG, want, &c), "a file over 64 KiB is refused");
	if (geteuid() != 0) {
		p = write_file("closed.conf", "dir_ttl = 9\n", 0);
		snprintf(want, sizeof want, "cannot read the site configuration %s: Permission "
		    "denied; let every user read it (chmod 644 %s)", p, p);
		ok(load(p, 1, -EACCES, want, &c), "a file the user may not read is refused");
	} else
		ok(1, "a file the user may not read: not testable as root (root reads it)");
	is_str(siteconf_default_path(), SYSCONFDIR "/roamfs/roamfs.conf", "the default path");
}

/* Turn "#key = value" lines into "key = value" ones, in place. */
static void
uncomment(char *text)
{
	char *r = text, *w = text;
	int bol = 1;

	for (; *r; r++) {
		if (bol && r[0] == '#' && r[1] >= 'a' && r[1] <= 'z' &&
		    memchr(r, '=', strcspn(r, "\n")) != NULL)
			continue;
		bol = *r == '\n';
		*w++ = *r;
	}
	*w = '\0';
}

static void
test_example(void)
{
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX], *text = NULL, *cause = NULL;
	struct siteconf c;
	FILE *f;
	size_t len = 0;

	snprintf(path, sizeof path, "%s/contrib/roamfs.conf", top ? top : ".");
	ok(load(path, 1, 0, NULL, &c) && is_default(&c, siteconf_default_cache_root()),
	    "the shipped example, all comments, gives the defaults");
	siteconf_free(&c);
	if ((f = fopen(path, "r")) != NULL) {
		len = (size_t)getdelim(&text, &len, '\0', f);
		fclose(f);
	}
	if (text == NULL) {
		ok(0, "cannot read %s", path);
		return;
	}
	uncomment(text);
	ok(siteconf_parse(text, strlen(text), path, &c, &cause) == 0 &&
	    is_default(&c, "/var/cache/roamfs"),
	    "its example lines, uncommented, parse and spell the defaults (%s)",
	    cause ? cause : "ok");
	free(cause);
	free(text);
	siteconf_free(&c);
}

/* opts: -o options and what the site configuration gives the others. */
static void
test_opts(void)
{
	char *argv[] = { "roamfs", "-o", "cache_max=10G,dir_ttl=7,config=/e/r.conf,cache_total=5%",
	    "u@h:", "/mnt", NULL };
	char *bad[] = { "roamfs", "-o", "cache_max=12Q", "u@h:", "/mnt", NULL };
	char *pct[] = { "roamfs", "-o", "cache_total=150%", "u@h:", "/mnt", NULL };
	struct opts o;
	struct siteconf c;
	char *cause = NULL;

	ok(opts_parse(5, argv, &o, &cause) == 0 && o.cache_max.bytes == (uint64_t)10 << 30 &&
	    o.cache_total.percent == 5 && o.dir_ttl == 7 && strcmp(o.config, "/e/r.conf") == 0 &&
	    o.given == (OPT_GIVEN_CACHE_MAX | OPT_GIVEN_DIR_TTL | OPT_GIVEN_CACHE_TOTAL) &&
	    o.cache_root == NULL && o.cache_expire == 180 && o.workingset_files == 500,
	    "opts_parse: config=, cache_max=, cache_total= and which options were given");
	parse("cache_root = /c\ndir_ttl = 60\nattr_ttl = 8\nsync_interval = 9\nflush_timeout = 1\n"
	    "connect_timeout = 2\ncache_max = 3%\ncache_total = 1T\ncache_expire = 4\n"
	    "workingset_files = 5\nworkingset_bytes = 6K\n", &c);
	ok(opts_apply_siteconf(&o, &c) == 0 && strcmp(o.cache_root, "/c") == 0 &&
	    o.dir_ttl == 7 && o.attr_ttl == 8 && o.sync_interval == 9 && o.flush_timeout == 1 &&
	    o.connect_timeout == 2 && o.cache_max.bytes == (uint64_t)10 << 30 &&
	    o.cache_max.percent == 0 && o.cache_total.percent == 5 && o.cache_expire == 4 &&
	    o.workingset_files == 5 && o.workingset_bytes == 6144,
	    "opts_apply_siteconf: the command line wins, the file gives the rest");
	siteconf_free(&c);
	opts_free(&o);
	ok(opts_parse(5, bad, &o, &cause) == -EINVAL && cause && strcmp(cause, "option "
	    "cache_max=12Q: expected a size such as 500M, 20G or 10% (K, M, G, T: powers of "
	    "1024), or 0 or none for no limit") == 0, "-o cache_max=12Q: %s", cause);
	free(cause);
	opts_free(&o);
	ok(opts_parse(5, pct, &o, &cause) == -EINVAL && cause && strcmp(cause, "option "
	    "cache_total=150%: a percentage must be from 1% to 100%") == 0,
	    "-o cache_total=150%%: %s", cause);
	free(cause);
	opts_free(&o);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	test_sizes();
	test_resolve();
	test_syntax();
	test_refusals();
	test_load();
	test_example();
	test_opts();
	{
		char cmd[sizeof tmpdir + 16];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# cannot remove %s\n", tmpdir);
	}
	return tap_done();
}
