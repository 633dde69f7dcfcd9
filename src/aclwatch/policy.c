/*
 * policy: what ACL a share wants, and how to say what is wrong with one.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <acl/libacl.h>

#include "roam/log.h"
#include "policy.h"

/* Add an entry to a sorted array, keeping it sorted (an existing id gets the union). */
static void
ent_add(struct aclsum_ent **arr, size_t *n, unsigned id, int perm)
{
	size_t i = 0;

	while (i < *n && (*arr)[i].id < id)
		i++;
	if (i < *n && (*arr)[i].id == id) {
		(*arr)[i].perm |= perm;
		return;
	}
	*arr = realloc(*arr, (*n + 1) * sizeof **arr);
	if (!*arr)
		fatal("out of memory");
	memmove(*arr + i + 1, *arr + i, (*n - i) * sizeof **arr);
	(*arr)[i] = (struct aclsum_ent){ id, perm };
	(*n)++;
}

/* Permission bits for an access level: read r, write rw, plus x when asked. */
static int
level_perm(int access, int x)
{
	int p = access == CONF_WRITE ? 6 : access == CONF_READ ? 4 : 0;

	return p && x ? p | 1 : p;
}

/* Fill one summary with the share's entries; x says whether execute is given. */
static void
want_fill(const struct conf_share *sh, struct aclsum *s, int user_obj, gid_t owner_gid, int x)
{
	int mask = 0;

	memset(s, 0, sizeof *s);
	s->present = 1;
	s->user_obj = user_obj;
	s->other = level_perm(sh->others, x);
	s->group_obj = s->other;
	for (size_t i = 0; i < sh->ngroups; i++) {
		int p = level_perm(sh->groups[i].access, x);

		ent_add(&s->groups, &s->ngroups, sh->groups[i].gid, p);
		if (sh->groups[i].gid == owner_gid && p > s->group_obj)
			s->group_obj = p;
	}
	for (size_t i = 0; i < s->ngroups; i++)
		mask |= s->groups[i].perm;
	s->mask = mask | s->group_obj;
}

void
policy_want(const struct conf_share *sh, const struct stat *st,
    struct aclsum *want_acc, struct aclsum *want_def)
{
	int isdir = S_ISDIR(st->st_mode);
	int x = isdir || (st->st_mode & S_IXUSR);

	want_fill(sh, want_acc, (st->st_mode >> 6) & 7, st->st_gid, x);
	memset(want_def, 0, sizeof *want_def);
	want_def->mask = -1;
	if (isdir && sh->default_acl)
		want_fill(sh, want_def, 7, (gid_t)-1, 1);
}

/* rwx bits of a libacl permission set. */
static int
perm_bits(acl_permset_t ps)
{
	return (acl_get_perm(ps, ACL_READ) > 0 ? 4 : 0) |
	    (acl_get_perm(ps, ACL_WRITE) > 0 ? 2 : 0) |
	    (acl_get_perm(ps, ACL_EXECUTE) > 0 ? 1 : 0);
}

int
aclsum_from_acl(acl_t acl, struct aclsum *s)
{
	acl_entry_t e;
	int w = ACL_FIRST_ENTRY;

	memset(s, 0, sizeof *s);
	s->mask = -1;
	while (acl_get_entry(acl, w, &e) == 1) {
		acl_tag_t tag;
		acl_permset_t ps;
		void *q;
		int p;

		w = ACL_NEXT_ENTRY;
		s->present = 1;
		if (acl_get_tag_type(e, &tag) < 0 || acl_get_permset(e, &ps) < 0)
			return -EINVAL;
		p = perm_bits(ps);
		switch (tag) {
		case ACL_USER_OBJ: s->user_obj = p; break;
		case ACL_GROUP_OBJ: s->group_obj = p; break;
		case ACL_OTHER: s->other = p; break;
		case ACL_MASK: s->mask = p; break;
		case ACL_USER:
		case ACL_GROUP:
			if (!(q = acl_get_qualifier(e)))
				return -EINVAL;
			if (tag == ACL_USER)
				ent_add(&s->users, &s->nusers, *(uid_t *)q, p);
			else
				ent_add(&s->groups, &s->ngroups, *(gid_t *)q, p);
			acl_free(q);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* Append one entry to a libacl ACL; 0 or -1 with errno. */
static int
acl_put(acl_t *acl, acl_tag_t tag, const unsigned *id, int p)
{
	acl_entry_t e;
	acl_permset_t ps;

	if (acl_create_entry(acl, &e) < 0 || acl_set_tag_type(e, tag) < 0 ||
	    (id && acl_set_qualifier(e, id) < 0) || acl_get_permset(e, &ps) < 0 ||
	    acl_clear_perms(ps) < 0)
		return -1;
	if (((p & 4) && acl_add_perm(ps, ACL_READ) < 0) ||
	    ((p & 2) && acl_add_perm(ps, ACL_WRITE) < 0) ||
	    ((p & 1) && acl_add_perm(ps, ACL_EXECUTE) < 0))
		return -1;
	return acl_set_permset(e, ps);
}

acl_t
aclsum_to_acl(const struct aclsum *s)
{
	acl_t acl = acl_init((int)(4 + s->nusers + s->ngroups));
	int r;

	if (!acl)
		return NULL;
	r = acl_put(&acl, ACL_USER_OBJ, NULL, s->user_obj) |
	    acl_put(&acl, ACL_GROUP_OBJ, NULL, s->group_obj) |
	    acl_put(&acl, ACL_OTHER, NULL, s->other);
	for (size_t i = 0; i < s->nusers; i++)
		r |= acl_put(&acl, ACL_USER, &s->users[i].id, s->users[i].perm);
	for (size_t i = 0; i < s->ngroups; i++)
		r |= acl_put(&acl, ACL_GROUP, &s->groups[i].id, s->groups[i].perm);
	if (s->mask >= 0)
		r |= acl_put(&acl, ACL_MASK, NULL, s->mask);
	if (r) {
		acl_free(acl);
		return NULL;
	}
	return acl;
}

int
aclsum_equal(const struct aclsum *a, const struct aclsum *b)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	if (a->user_obj != b->user_obj || a->group_obj != b->group_obj ||
	    a->other != b->other || a->mask != b->mask ||
	    a->nusers != b->nusers || a->ngroups != b->ngroups)
		return 0;
	return (a->nusers == 0 || !memcmp(a->users, b->users, a->nusers * sizeof *a->users)) &&
	    (a->ngroups == 0 || !memcmp(a->groups, b->groups, a->ngroups * sizeof *a->groups));
}

void
aclsum_clear(struct aclsum *s)
{
	free(s->users);
	free(s->groups);
	memset(s, 0, sizeof *s);
	s->mask = -1;
}

/* Append "; "-separated text to out. */
static void __attribute__((format(printf, 3, 4)))
say(char *out, size_t outsz, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	if (n && n + 2 < outsz) {
		strcpy(out + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	if (n < outsz)
		vsnprintf(out + n, outsz - n, fmt, ap);
	va_end(ap);
}

/* A group's name, or its number. */
static const char *
group_name(unsigned gid, char *buf, size_t bufsz)
{
	struct group *g = getgrgid(gid);

	if (g)
		return g->gr_name;
	snprintf(buf, bufsz, "%u", gid);
	return buf;
}

/* The permission of id in arr, or 0. */
static int
ent_perm(const struct aclsum_ent *arr, size_t n, unsigned id, int *found)
{
	for (size_t i = 0; i < n; i++)
		if (arr[i].id == id) {
			*found = 1;
			return arr[i].perm;
		}
	*found = 0;
	return 0;
}

/* Effective bits: an entry limited by the mask. */
static int
eff(const struct aclsum *s, int p)
{
	return s->mask >= 0 ? p & s->mask : p;
}

/* Phrases for one party ("group profs", "others") whose bits differ. */
static void
describe_bits(const char *who, const char *pre, int w, int c, int isdir, char *out, size_t outsz)
{
	const char *verbs[3] = { "read", "write", isdir ? "enter" : "execute" };
	const char *missing[3];
	int n = 0;

	for (int b = 0; b < 3; b++)
		if ((w & (4 >> b)) && !(c & (4 >> b)))
			missing[n++] = verbs[b];
	if (n == 1)
		say(out, outsz, "%s%s cannot %s", pre, who, missing[0]);
	else if (n == 2)
		say(out, outsz, "%s%s cannot %s or %s", pre, who, missing[0], missing[1]);
	else if (n == 3)
		say(out, outsz, "%s%s cannot %s, %s or %s", pre, who, missing[0], missing[1], missing[2]);
	if (!(w & 4) && (c & 4))
		say(out, outsz, "%s%s can read (should not)", pre, who);
	if (!(w & 2) && (c & 2))
		say(out, outsz, "%s%s can write (should %s)", pre, who, (w & 4) ? "only read" : "not");
	if (!(w & 1) && (c & 1))
		say(out, outsz, "%s%s can %s (should not)", pre, who, verbs[2]);
}

/* Phrases for the named groups of want and cur. */
static void
describe_groups(const struct aclsum *want, const struct aclsum *cur, int isdir,
    const char *pre, char *out, size_t outsz)
{
	char who[128], num[16];
	int found;

	for (size_t i = 0; i < want->ngroups; i++) {
		int c = eff(cur, ent_perm(cur->groups, cur->ngroups, want->groups[i].id, &found));

		snprintf(who, sizeof who, "group %s", group_name(want->groups[i].id, num, sizeof num));
		describe_bits(who, pre, want->groups[i].perm, c, isdir, out, outsz);
	}
	for (size_t i = 0; i < cur->ngroups; i++) {
		ent_perm(want->groups, want->ngroups, cur->groups[i].id, &found);
		if (found)
			continue;
		say(out, outsz, "%sgroup %s has an entry but is not in the configuration", pre,
		    group_name(cur->groups[i].id, num, sizeof num));
	}
}

void
policy_describe(const struct conf_share *sh, const struct aclsum *want,
    const struct aclsum *cur, int isdir, const char *prefix, char *out, size_t outsz)
{
	size_t start = strlen(out);

	(void)sh;
	if (aclsum_equal(want, cur))
		return;
	if (want->present && !cur->present) {
		say(out, outsz, "%sno default ACL (new files here will not be shared)", prefix);
		return;
	}
	if (!want->present) {
		say(out, outsz, "%shas a default ACL that the configuration does not want", prefix);
		return;
	}
	describe_groups(want, cur, isdir, prefix, out, outsz);
	for (size_t i = 0; i < cur->nusers; i++) {
		struct passwd *pw = getpwuid(cur->users[i].id);

		if (pw)
			say(out, outsz, "%suser %s has a personal entry (only groups are allowed)", prefix, pw->pw_name);
		else
			say(out, outsz, "%suser %u has a personal entry (only groups are allowed)", prefix, cur->users[i].id);
	}
	describe_bits("the owning group", prefix, want->group_obj, eff(cur, cur->group_obj), isdir, out, outsz);
	describe_bits("others", prefix, want->other, cur->other, isdir, out, outsz);
	if (want->user_obj != cur->user_obj)
		describe_bits("the owner", prefix, want->user_obj, cur->user_obj, isdir, out, outsz);
	if (strlen(out) == start)
		say(out, outsz, "%sthe ACL mask differs from the configuration", prefix);
}

/* Perm bits as "rwx" text. */
static void
perm_text(int p, char t[4])
{
	t[0] = (p & 4) ? 'r' : '-';
	t[1] = (p & 2) ? 'w' : '-';
	t[2] = (p & 1) ? 'x' : '-';
	t[3] = '\0';
}

void
aclsum_text(const struct aclsum *s, const char *sep, char *out, size_t outsz)
{
	char t[4], num[16];
	size_t n;

	out[0] = '\0';
	if (!s->present) {
		snprintf(out, outsz, "(none)");
		return;
	}
#define ADD(...) do { n = strlen(out); if (n < outsz) snprintf(out + n, outsz - n, __VA_ARGS__); } while (0)
	perm_text(s->user_obj, t);
	ADD("user::%s", t);
	for (size_t i = 0; i < s->nusers; i++) {
		struct passwd *pw = getpwuid(s->users[i].id);

		perm_text(s->users[i].perm, t);
		if (pw)
			ADD("%suser:%s:%s", sep, pw->pw_name, t);
		else
			ADD("%suser:%u:%s", sep, s->users[i].id, t);
	}
	perm_text(s->group_obj, t);
	ADD("%sgroup::%s", sep, t);
	for (size_t i = 0; i < s->ngroups; i++) {
		perm_text(s->groups[i].perm, t);
		ADD("%sgroup:%s:%s", sep, group_name(s->groups[i].id, num, sizeof num), t);
	}
	if (s->mask >= 0) {
		perm_text(s->mask, t);
		ADD("%smask::%s", sep, t);
	}
	perm_text(s->other, t);
	ADD("%sother::%s", sep, t);
#undef ADD
}
