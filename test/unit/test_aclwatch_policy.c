/*
 * test_aclwatch_policy: the ACL wanted for files and directories, and the
 * plain words that describe a difference.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>

#include "../tap.h"
#include "conf.h"
#include "policy.h"

/* Gids that no test machine has, so names print as numbers. */
#define GW 4000001u
#define GR 4000002u

static struct conf *
make_conf(const char *others)
{
	char text[256];
	struct conf *c = NULL;
	char *err = NULL;

	snprintf(text, sizeof text, "[cm2]\npath = /srv/cm2\nwrite groups = w\nread groups = r\nothers = %s\n", others);
	if (conf_parse(text, strlen(text), "t.conf", &c, &err) < 0) {
		printf("# %s\n", err);
		exit(1);
	}
	c->shares[0].groups[0].gid = GW;
	c->shares[0].groups[1].gid = GR;
	return c;
}

/* The wanted access ACL as text, for a given mode and group. */
static void
want_text(const struct conf_share *sh, mode_t mode, gid_t gid, char *out, size_t outsz,
    int *has_default)
{
	struct stat st = { .st_mode = mode, .st_gid = gid };
	struct aclsum a, d;

	policy_want(sh, &st, &a, &d);
	aclsum_text(&a, ",", out, outsz);
	*has_default = d.present;
	aclsum_clear(&a);
	aclsum_clear(&d);
}

static void
test_want(void)
{
	struct conf *c = make_conf("none"), *cr = make_conf("read");
	char t[512];
	int def;

	want_text(&c->shares[0], S_IFREG | 0600, 0, t, sizeof t, &def);
	is_str(t, "user::rw-,group::---,group:4000001:rw-,group:4000002:r--,mask::rw-,other::---",
	    "file 0600: groups read/write, no execute");
	ok(!def, "a file has no default ACL");
	want_text(&c->shares[0], S_IFREG | 0750, 0, t, sizeof t, &def);
	is_str(t, "user::rwx,group::---,group:4000001:rwx,group:4000002:r-x,mask::rwx,other::---",
	    "file whose owner can execute: execute for the groups (X)");
	want_text(&c->shares[0], S_IFREG | 0400, GW, t, sizeof t, &def);
	is_str(t, "user::r--,group::rw-,group:4000001:rw-,group:4000002:r--,mask::rw-,other::---",
	    "owner entry kept; owning group configured: its level");
	want_text(&c->shares[0], S_IFDIR | 0700, 0, t, sizeof t, &def);
	is_str(t, "user::rwx,group::---,group:4000001:rwx,group:4000002:r-x,mask::rwx,other::---",
	    "directory: enter for the groups");
	ok(def, "a directory has a default ACL");
	want_text(&cr->shares[0], S_IFDIR | 0700, 0, t, sizeof t, &def);
	is_str(t, "user::rwx,group::r-x,group:4000001:rwx,group:4000002:r-x,mask::rwx,other::r-x",
	    "others = read");
	cr->shares[0].default_acl = 0;
	want_text(&cr->shares[0], S_IFDIR | 0700, 0, t, sizeof t, &def);
	ok(!def, "default acl = no: no default ACL wanted");
	conf_free(c);
	conf_free(cr);
}

static void
test_roundtrip(void)
{
	struct conf *c = make_conf("none");
	struct stat st = { .st_mode = S_IFREG | 0640 };
	struct aclsum a, d, back;
	acl_t acl;

	policy_want(&c->shares[0], &st, &a, &d);
	acl = aclsum_to_acl(&a);
	ok(acl != NULL, "to libacl");
	is_int(acl_valid(acl), 0, "the ACL is valid for libacl");
	is_int(aclsum_from_acl(acl, &back), 0, "back from libacl");
	ok(aclsum_equal(&a, &back), "same entries after the round trip");
	acl_free(acl);
	aclsum_clear(&a);
	aclsum_clear(&d);
	aclsum_clear(&back);
	conf_free(c);
}

/* The words for a current ACL given as text. */
static void
words_for(const char *cur_text, mode_t mode, char *out, size_t outsz)
{
	struct conf *c = make_conf("none");
	struct stat st = { .st_mode = mode };
	struct aclsum a, d, cur;
	acl_t acl = acl_from_text(cur_text);

	policy_want(&c->shares[0], &st, &a, &d);
	aclsum_from_acl(acl, &cur);
	out[0] = '\0';
	policy_describe(&c->shares[0], &a, &cur, S_ISDIR(mode), "", out, outsz);
	acl_free(acl);
	aclsum_clear(&a);
	aclsum_clear(&d);
	aclsum_clear(&cur);
	conf_free(c);
}

static void
test_words(void)
{
	char w[1024];

	words_for("u::rw-,g::---,g:4000001:rw-,g:4000002:r--,m::rw-,o::---", S_IFREG | 0600, w, sizeof w);
	is_str(w, "", "right: no words");
	words_for("u::rw-,g::---,o::---", S_IFREG | 0600, w, sizeof w);
	is_str(w, "group 4000001 cannot read or write; group 4000002 cannot read",
	    "restrictive copy");
	words_for("u::rw-,g::---,g:4000001:rw-,g:4000002:r--,m::r--,o::---", S_IFREG | 0600, w, sizeof w);
	is_str(w, "group 4000001 cannot write", "a chmod narrowed the mask");
	words_for("u::rw-,u:0:rw-,g::---,g:4000001:rw-,g:4000002:rw-,g:4000003:r--,m::rw-,o::r--",
	    S_IFREG | 0600, w, sizeof w);
	is_str(w, "group 4000002 can write (should only read); group 4000003 has an entry but is not in the "
	    "configuration; user root has a personal entry (only groups are allowed); others can read (should not)",
	    "foreign ACL");
	words_for("u::rwx,g::---,g:4000001:rw-,g:4000002:r-x,m::rwx,o::---", S_IFDIR | 0700, w, sizeof w);
	is_str(w, "group 4000001 cannot enter", "directory without x");
}

int
main(void)
{
	test_want();
	test_roundtrip();
	test_words();
	return tap_done();
}
