/*
 * test_aclwatch_conf: the configuration parser, good files and bad ones.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "conf.h"

/* Parse text; on error return the message (caller frees), else NULL. */
static char *
parse_err(const char *text)
{
	struct conf *c = NULL;
	char *err = NULL;
	int r = conf_parse(text, strlen(text), "t.conf", &c, &err);

	conf_free(c);
	if (r == 0)
		return NULL;
	return err ? err : strdup("(no message)");
}

/* Whether text is refused with a message that starts with want. */
static int
refused_at(const char *text, const char *want)
{
	char *err = parse_err(text);
	int good = err && strncmp(err, want, strlen(want)) == 0;

	if (!good)
		printf("#   message: %s\n", err ? err : "(accepted)");
	free(err);
	return good;
}

static void
test_good(void)
{
	const char *text =
	    "# school shares\n"
	    "[global]\n"
	    "   backend = inotify\n"
	    "   log level = debug\n"
	    "   rescan interval = 60\n"
	    "\n"
	    "[cm2]\n"
	    "    path = /srv/groups//cm2/\n"
	    "    write groups = cm2, profs\n"
	    "    read groups = direction\n"
	    "    others = read            # or: none\n"
	    "    default acl = no\n"
	    "; another share\n"
	    "[Profs]\n"
	    "    Path = /srv/groups/profs\n"
	    "    WriteGroups = profs\n";
	struct conf *c = NULL;
	char *err = NULL;
	const char *rel = NULL;

	is_int(conf_parse(text, strlen(text), "t.conf", &c, &err), 0, "a good file is accepted");
	if (!c)
		return;
	is_int(c->backend, CONF_BACKEND_INOTIFY, "backend");
	is_int(c->debug, 1, "log level");
	is_int(c->rescan_interval, 60, "rescan interval");
	is_int(c->nshares, 2, "two shares");
	is_str(c->shares[0].name, "cm2", "share name");
	is_str(c->shares[0].path, "/srv/groups/cm2", "path normalised");
	is_int(c->shares[0].ngroups, 3, "three groups");
	is_str(c->shares[0].groups[1].name, "profs", "second write group");
	is_int(c->shares[0].groups[1].access, CONF_WRITE, "write access");
	is_int(c->shares[0].groups[2].access, CONF_READ, "read access");
	is_int(c->shares[0].groups[2].line, 10, "group line");
	is_int(c->shares[0].others, CONF_READ, "others read (inline comment ignored)");
	is_int(c->shares[0].default_acl, 0, "default acl no");
	is_int(c->shares[1].default_acl, 1, "default acl defaults to yes");
	is_int(c->shares[1].others, CONF_NONE, "others defaults to none");
	ok(conf_share_for(c, "/srv/groups/cm2/a/b", &rel) == &c->shares[0], "share of a path below a root");
	is_str(rel, "a/b", "path below the root");
	ok(conf_share_for(c, "/srv/groups/cm2", &rel) == &c->shares[0] && *rel == '\0', "the root itself");
	ok(conf_share_for(c, "/srv/groups/cm22", &rel) == NULL, "a sibling with a longer name is not inside");
	conf_free(c);
}

static void
test_bad(void)
{
	ok(refused_at("[cm2]\npath = /a\nwrite groups = g\nfoo = bar\n", "t.conf:4: unknown option 'foo'"),
	    "unknown option");
	ok(refused_at("path = /a\n", "t.conf:1: option outside a section"), "option outside a section");
	ok(refused_at("[cm2\n", "t.conf:1: section header"), "unterminated section");
	ok(refused_at("[cm2]\npath = relative\n", "t.conf:2: path must be absolute"), "relative path");
	ok(refused_at("[cm2]\npath = /a/../etc\n", "t.conf:2: path must not contain '..'"), "dot-dot");
	ok(refused_at("[cm2]\npath = /\n", "t.conf:2: path cannot be the root"), "root as share");
	ok(refused_at("[cm2]\npath = /a\nothers = write\n", "t.conf:3: others must be"), "others = write");
	ok(refused_at("[cm2]\npath = /a\ndefault acl = maybe\n", "t.conf:3: default acl must be"), "bad bool");
	ok(refused_at("[global]\nbackend = dnotify\n", "t.conf:2: backend must be"), "bad backend");
	ok(refused_at("[global]\nrescan interval = 0\n", "t.conf:2: rescan interval"), "interval too small");
	ok(refused_at("[cm2]\npath = /a\nwrite groups = g, g\n", "t.conf:3: group 'g' is listed twice"), "group twice");
	ok(refused_at("[cm2]\npath = /a\nwrite groups = g\nread groups = g\n", "t.conf:4: group 'g' is listed twice"),
	    "group in write and read");
	ok(refused_at("[cm2]\npath = /a\nwrite groups = bad/name\n", "t.conf:3: bad group name"), "bad group name");
	ok(refused_at("[cm2]\npath = /a\n", "t.conf:1: share [cm2] names no group"), "share without group");
	ok(refused_at("[cm2]\nwrite groups = g\n", "t.conf:1: share [cm2] has no path"), "share without path");
	ok(refused_at("[a]\npath=/x\nwrite groups=g\n[b]\npath=/x/y\nwrite groups=g\n", "t.conf:4: share [b]"),
	    "nested shares");
	ok(refused_at("[a]\npath=/x\nwrite groups=g\n[a]\n", "t.conf:4: share [a] is defined twice"), "share twice");
	ok(refused_at("[global]\n", "t.conf:1: no share is defined"), "no share");
	ok(refused_at("[a]\npath=/x\nwrite groups=g\njunk\n", "t.conf:4: expected"), "line without '='");
	{
		static const char nul[] = "[a]\npath=/x\0\nwrite groups=g\n";
		struct conf *c = NULL;
		char *err = NULL;

		is_int(conf_parse(nul, sizeof nul - 1, "t.conf", &c, &err), -EINVAL, "a NUL byte is refused");
		ok(err && strstr(err, "NUL byte"), "and said: %s", err ? err : "");
		free(err);
	}
}

static void
test_resolve(void)
{
	const char *text = "[a]\npath = /tmp\nwrite groups = root\nread groups = no_such_group_awt\n";
	struct conf *c = NULL;
	char *err = NULL;

	is_int(conf_parse(text, strlen(text), "t.conf", &c, &err), 0, "parsed");
	if (!c)
		return;
	is_int(conf_resolve(c, "t.conf", &err), -ENOENT, "a missing group is refused");
	ok(err && strstr(err, "t.conf:4: group 'no_such_group_awt' does not exist"), "with its line: %s",
	    err ? err : "");
	free(err);
	conf_free(c);
}

static void
test_normalise(void)
{
	char out[64];

	is_int(conf_normalise("/a//b/./c/", out, sizeof out), 0, "normalise");
	is_str(out, "/a/b/c", "slashes and dots");
	is_int(conf_normalise("/a/../b", out, sizeof out), -EINVAL, "dot-dot refused");
	is_int(conf_normalise("/", out, sizeof out), 0, "root");
	is_str(out, "/", "root stays");
}

int
main(void)
{
	test_good();
	test_bad();
	test_resolve();
	test_normalise();
	return tap_done();
}
