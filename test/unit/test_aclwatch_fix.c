/*
 * test_aclwatch_fix: real ACLs on real files in a temporary directory:
 * repair, idempotence, default ACLs, and what must never be touched.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <acl/libacl.h>

#include "../tap.h"
#include "conf.h"
#include "fix.h"
#include "walk.h"

static char dir[64];

static struct conf *
make_conf(void)
{
	char text[256];
	struct conf *c = NULL;
	char *err = NULL;

	snprintf(text, sizeof text, "[s]\npath = %s\nwrite groups = w\nread groups = r\n", dir);
	if (conf_parse(text, strlen(text), "t.conf", &c, &err) < 0) {
		printf("# %s\n", err);
		exit(1);
	}
	c->shares[0].groups[0].gid = 4000001;
	c->shares[0].groups[1].gid = 4000002;
	return c;
}

/* The ACL of a path as short text, or "error". */
static char *
acl_str(const char *name, acl_type_t type)
{
	char path[256];
	acl_t acl;
	char *t, *copy;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(acl = acl_get_file(path, type)))
		return strdup("error");
	t = acl_to_any_text(acl, NULL, ',', TEXT_NUMERIC_IDS | TEXT_ABBREVIATE);
	copy = strdup(t ? t : "error");
	acl_free(t);
	acl_free(acl);
	return copy;
}

/* Run fix_object on dir/name. */
static int
fix(const struct conf *c, const char *name, int mode)
{
	struct stat st;
	char words[1024];
	int root = walk_open_abs(dir), fd, r;

	fd = walk_open(root, name, &st);
	close(root);
	if (fd < 0)
		return fd;
	r = fix_object(&c->shares[0], fd, &st, mode, words, sizeof words);
	close(fd);
	return r;
}

static void
test_file(const struct conf *c)
{
	char path[256], *t;
	int fd;

	snprintf(path, sizeof path, "%s/f", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	is_int(fix(c, "f", FIX_CHECK), FIX_WRONG, "a 0600 file is wrong");
	t = acl_str("f", ACL_TYPE_ACCESS);
	is_str(t, "u::rw-,g::---,o::---", "check changed nothing");
	free(t);
	is_int(fix(c, "f", FIX_REPAIR), FIX_WRONG, "repair reports the change");
	t = acl_str("f", ACL_TYPE_ACCESS);
	is_str(t, "u::rw-,g::---,g:4000001:rw-,g:4000002:r--,m::rw-,o::---", "repaired on the disk");
	free(t);
	is_int(fix(c, "f", FIX_REPAIR), FIX_RIGHT, "a second repair has nothing to do");
	chmod(path, 0600);
	is_int(fix(c, "f", FIX_CHECK), FIX_WRONG, "chmod 600 narrows the mask: wrong again");
}

static void
test_dir(struct conf *c)
{
	char path[256], *t;

	snprintf(path, sizeof path, "%s/d", dir);
	mkdir(path, 0700);
	is_int(fix(c, "d", FIX_REPAIR), FIX_WRONG, "a 0700 directory is repaired");
	t = acl_str("d", ACL_TYPE_DEFAULT);
	is_str(t, "u::rwx,g::---,g:4000001:rwx,g:4000002:r-x,m::rwx,o::---", "default ACL set");
	free(t);
	is_int(fix(c, "d", FIX_CHECK), FIX_RIGHT, "then right");
	c->shares[0].default_acl = 0;
	is_int(fix(c, "d", FIX_REPAIR), FIX_WRONG, "default acl = no: the default ACL goes");
	t = acl_str("d", ACL_TYPE_DEFAULT);
	is_str(t, "", "no default ACL left");
	free(t);
	c->shares[0].default_acl = 1;
}

static void
test_untouched(const struct conf *c)
{
	char path[256], path2[256], *t;
	int fd;

	snprintf(path, sizeof path, "%s/outside", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(path2, sizeof path2, "%s/hard", dir);
	is_int(link(path, path2), 0, "hard link made");
	is_int(fix(c, "hard", FIX_REPAIR), FIX_SKIP_LINKS, "a file with two links is not trusted");
	t = acl_str("outside", ACL_TYPE_ACCESS);
	is_str(t, "u::rw-,g::---,o::---", "and left unchanged");
	free(t);
	snprintf(path, sizeof path, "%s/sym", dir);
	is_int(symlink("f", path), 0, "symlink made");
	is_int(fix(c, "sym", FIX_REPAIR), -ELOOP, "a symbolic link is never walked through");
	{
		char words[256];
		struct stat st;
		int sfd = open(path, O_PATH | O_NOFOLLOW);

		fstat(sfd, &st);
		is_int(fix_object(&c->shares[0], sfd, &st, FIX_REPAIR, words, sizeof words), FIX_SKIP_TYPE,
		    "and skipped when met in a listing");
		close(sfd);
	}
	snprintf(path, sizeof path, "%s/fifo", dir);
	is_int(mkfifo(path, 0600), 0, "fifo made");
	is_int(fix(c, "fifo", FIX_REPAIR), FIX_SKIP_TYPE, "a fifo is skipped");
	snprintf(path, sizeof path, "%s/dlink", dir);
	is_int(symlink("d", path), 0, "symlink to a directory made");
	is_int(fix(c, "dlink/x", FIX_CHECK), -ELOOP, "a symlink in a directory component: ELOOP");
	is_int(fix(c, "d/../f", FIX_CHECK), -EINVAL, "'..' is refused");
}

int
main(void)
{
	struct conf *c;
	char cmd[128];

	snprintf(dir, sizeof dir, "/tmp/aclwatch-fix.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	c = make_conf();
	test_file(c);
	test_dir(c);
	test_untouched(c);
	conf_free(c);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
