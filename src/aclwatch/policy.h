/*
 * policy: the ACL a share wants on an object, and the differences with the
 * ACL it has, in plain words for admins.
 *
 * An ACL is held as a struct aclsum: the three base entries, the mask and
 * the named entries sorted by id.  Permissions are 3-bit rwx values.
 */
#ifndef ACLWATCH_POLICY_H
#define ACLWATCH_POLICY_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/acl.h>

#include "conf.h"

struct aclsum_ent {
	unsigned id;		/* uid or gid */
	int perm;		/* rwx bits, 0..7 */
};

struct aclsum {
	int present;		/* 0: no ACL at all (only for default ACLs) */
	int user_obj, group_obj, other;
	int mask;		/* -1 when there is no mask entry */
	struct aclsum_ent *users, *groups;
	size_t nusers, ngroups;
};

/*
 * The access ACL (and, for a directory when the share asks for it, the
 * default ACL; otherwise want_def->present is 0) for an object with stat st.
 */
void policy_want(const struct conf_share *sh, const struct stat *st,
    struct aclsum *want_acc, struct aclsum *want_def);

/* Fill *s from a libacl ACL.  Returns 0 or -EINVAL for an unknown entry. */
int aclsum_from_acl(acl_t acl, struct aclsum *s);

/* A new libacl ACL from *s (NULL and errno on failure). */
acl_t aclsum_to_acl(const struct aclsum *s);

/* Whether two summaries hold the same entries. */
int aclsum_equal(const struct aclsum *a, const struct aclsum *b);

/* Release the arrays of *s and reset it. */
void aclsum_clear(struct aclsum *s);

/*
 * Append to out (size outsz, NUL-terminated, "; "-separated) what is wrong
 * with cur compared with want, in plain words ("group profs cannot write").
 * prefix starts each phrase ("" or "new files: ").  isdir changes "execute"
 * into "enter".
 */
void policy_describe(const struct conf_share *sh, const struct aclsum *want,
    const struct aclsum *cur, int isdir, const char *prefix, char *out, size_t outsz);

/* The ACL as lines "group:profs:rw-" joined by sep, into out. */
void aclsum_text(const struct aclsum *s, const char *sep, char *out, size_t outsz);

#endif
