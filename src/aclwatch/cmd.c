/*
 * cmd: check, repair and explain, for admins who do not want to learn ACLs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>

#include "roam/log.h"
#include "cmd.h"
#include "fix.h"
#include "policy.h"
#include "walk.h"

/* State of one check or repair run. */
struct run {
	const struct conf_share *sh;
	int repair, json;
	int nprinted;		/* JSON objects printed so far */
	int wrong;		/* something is (or stays) wrong */
};

/* Print s as a JSON string. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* Print one object's problems in JSON. */
static void
json_entry(struct run *run, const char *shown, const char *words, const char *status)
{
	const char *p = words;

	printf("%s\n  {\"path\": ", run->nprinted++ ? "," : "");
	json_str(shown);
	printf(", \"share\": ");
	json_str(run->sh->name);
	printf(", \"status\": \"%s\", \"problems\": [", status);
	for (int first = 1; *p; first = 0) {
		const char *e = strstr(p, "; ");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *one = strndup(p, n);

		if (!one)
			fatal("out of memory");
		printf("%s", first ? "" : ", ");
		json_str(one);
		free(one);
		p += n + (e ? 2 : 0);
	}
	printf("]}");
}

/* walk_tree() callback: check or repair one object and report it. */
static int
check_cb(int fd, const struct stat *st, const char *rel, void *arg)
{
	struct run *run = arg;
	char words[4096], shown[WALK_PATH_MAX + 300];
	const char *status = NULL;
	int r = fix_object(run->sh, fd, st, run->repair ? FIX_REPAIR : FIX_CHECK,
	    words, sizeof words);

	snprintf(shown, sizeof shown, "%s%s%s", run->sh->name, *rel ? "/" : "", rel);
	if (r == FIX_RIGHT || r == FIX_SKIP_TYPE)
		return 0;
	run->wrong |= !(r == FIX_WRONG && run->repair);
	if (r < 0) {
		snprintf(words, sizeof words, "cannot %s the ACL: %s", run->repair ? "fix" : "read",
		    strerror(-r));
		status = "error";
	} else if (r == FIX_SKIP_LINKS)
		status = "untrusted";
	else
		status = run->repair ? "fixed" : "wrong";
	if (run->json)
		json_entry(run, shown, words, status);
	else if (run->repair && r == FIX_WRONG)
		printf("%s: fixed: %s\n", shown, words);
	else
		printf("%s: %s\n", shown, words);
	return 0;
}

/*
 * Find the share of path and open it from the share root.  Returns the
 * descriptor or -errno (message printed); *sh and *rel are set.
 */
static int
open_in_share(const struct conf *c, const char *conf_file, const char *path, char *abs,
    size_t abssz, const struct conf_share **sh, const char **rel, struct stat *st)
{
	int root, fd;

	if (conf_normalise(path, abs, abssz) < 0) {
		log_err("%s: give a path without '..'", path);
		return -EINVAL;
	}
	if (!(*sh = conf_share_for(c, abs, rel))) {
		log_err("%s is not inside any share of %s; see 'aclwatch explain' and aclwatch.conf(5)",
		    path, conf_file);
		return -ENOENT;
	}
	if ((root = walk_open_abs((*sh)->path)) < 0) {
		log_err("share [%s]: cannot open %s: %s", (*sh)->name, (*sh)->path, strerror(-root));
		return root;
	}
	fd = walk_open(root, *rel, st);
	close(root);
	if (fd < 0)
		log_err("%s: %s%s", path, strerror(-fd),
		    fd == -ELOOP ? " (a symbolic link is on the way: aclwatch never follows them)" : "");
	return fd;
}

int
cmd_check(const struct conf *c, const char *conf_file, char **paths, int n, int repair, int json)
{
	struct run run = { .repair = repair, .json = json };
	char abs[WALK_PATH_MAX];
	int status = 0;

	if (json)
		printf("[");
	for (int i = 0; i < n; i++) {
		const char *rel;
		struct stat st;
		int fd = open_in_share(c, conf_file, paths[i], abs, sizeof abs, &run.sh, &rel, &st);

		if (fd < 0) {
			status = 2;
			continue;
		}
		walk_tree(fd, &st, rel, check_cb, &run);
		close(fd);
	}
	if (json)
		printf("%s]\n", run.nprinted ? "\n" : "");
	fflush(stdout);
	return status ? status : run.wrong;
}

/* The people of the share by access level, in words. */
static void
explain_rule(const struct conf_share *sh, int access, const char *what)
{
	int any = 0;

	for (size_t i = 0; i < sh->ngroups; i++)
		if (sh->groups[i].access == access)
			printf("%s%s", any++ ? ", " : "  groups ", sh->groups[i].name);
	if (any)
		printf(" %s\n", what);
}

int
cmd_explain(const struct conf *c, const char *conf_file, const char *path)
{
	const struct conf_share *sh;
	const char *rel;
	char abs[WALK_PATH_MAX], text[4096], words[4096];
	struct aclsum want, wdef;
	struct stat st;
	int fd = open_in_share(c, conf_file, path, abs, sizeof abs, &sh, &rel, &st), r;

	if (fd < 0)
		return 2;
	printf("%s is in share [%s] (%s), defined at line %d of %s.\n", path, sh->name, sh->path,
	    sh->line, conf_file);
	printf("The rule of this share:\n");
	explain_rule(sh, CONF_WRITE, "can read and write");
	explain_rule(sh, CONF_READ, "can read");
	printf("  others %s\n", sh->others == CONF_READ ? "can read" : "have no access");
	printf("  the owner keeps its own rights; execute is given only on directories and on files\n"
	    "  whose owner can execute them; no personal (user) entries are kept\n");
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		printf("This object is neither a regular file nor a directory: aclwatch leaves it alone.\n");
		close(fd);
		return 0;
	}
	policy_want(sh, &st, &want, &wdef);
	aclsum_text(&want, "\n  ", text, sizeof text);
	printf("ACL wanted on this %s:\n  %s\n", S_ISDIR(st.st_mode) ? "directory" : "file", text);
	if (wdef.present) {
		aclsum_text(&wdef, "\n  ", text, sizeof text);
		printf("Default ACL wanted (passed on to new files and directories):\n  %s\n", text);
	}
	r = fix_object(sh, fd, &st, FIX_CHECK, words, sizeof words);
	if (r == FIX_RIGHT)
		printf("Now: right.\n");
	else if (r < 0)
		printf("Now: cannot read the ACL: %s\n", strerror(-r));
	else
		printf("Now: %s\n(run 'aclwatch repair %s' to fix it)\n", words, path);
	aclsum_clear(&want);
	aclsum_clear(&wdef);
	close(fd);
	return 0;
}
