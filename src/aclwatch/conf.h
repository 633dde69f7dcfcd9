/*
 * conf: the aclwatch configuration (/etc/aclwatch.conf), smb.conf style.
 *
 * A [global] section and one section per share.  conf_parse() only reads
 * the text (it takes a buffer so it can be fuzzed); conf_resolve() then
 * looks the groups up and checks the share roots on this system.
 */
#ifndef ACLWATCH_CONF_H
#define ACLWATCH_CONF_H

#include <stddef.h>
#include <sys/types.h>

enum conf_backend { CONF_BACKEND_AUTO, CONF_BACKEND_FANOTIFY, CONF_BACKEND_INOTIFY };
enum conf_access { CONF_NONE = 0, CONF_READ = 1, CONF_WRITE = 2 };

struct conf_group {
	char *name;
	gid_t gid;		/* filled by conf_resolve() */
	int access;		/* CONF_READ or CONF_WRITE */
	int line;		/* where it was named, for messages */
};

struct conf_share {
	char *name;		/* section name, e.g. "cm2" */
	char *path;		/* absolute, normalised, no trailing slash */
	struct conf_group *groups;
	size_t ngroups;
	int others;		/* CONF_NONE or CONF_READ */
	int default_acl;	/* directories also carry a default ACL */
	int line;		/* line of the section header */
	int path_line;		/* line of the path option */
};

struct conf {
	int backend;		/* enum conf_backend */
	int debug;		/* log level = debug */
	int rescan_interval;	/* seconds between rescans of unwatched trees */
	struct conf_share *shares;
	size_t nshares;
};

/*
 * Parse a configuration held in buf[0..len).  On success returns 0 and sets
 * *out.  On failure returns -EINVAL and sets *err to one malloc'ed line
 * "FILE:LINE: reason" (fname is only used in messages).
 */
int conf_parse(const char *buf, size_t len, const char *fname,
    struct conf **out, char **err);

/*
 * Look up every group (getgrnam) and check that each share root is an
 * existing directory reached without symbolic links.  Returns 0, or
 * -EINVAL/-ENOENT with *err set like conf_parse().
 */
int conf_resolve(struct conf *c, const char *fname, char **err);

/* Read, parse and resolve a file.  Returns 0 or -errno with *err set. */
int conf_load(const char *fname, struct conf **out, char **err);

/* Free a configuration (NULL is fine). */
void conf_free(struct conf *c);

/*
 * The share containing the absolute, normalised path abs, or NULL.  *rel
 * points into abs at the part below the share root ("" for the root).
 */
const struct conf_share *conf_share_for(const struct conf *c, const char *abs,
    const char **rel);

/*
 * Normalise path into out (size outsz): absolute (joined with the working
 * directory), no "." or empty components, no trailing slash.  ".." is
 * refused.  Returns 0 or -EINVAL / -ENAMETOOLONG.
 */
int conf_normalise(const char *path, char *out, size_t outsz);

#endif
