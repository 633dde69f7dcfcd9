/*
 * fix: read, compare and write the ACLs of one object through descriptors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/acl.h>
#include <acl/libacl.h>

#include "roam/log.h"
#include "fix.h"
#include "policy.h"
#include "walk.h"

/*
 * Read an ACL into *s: the access ACL from the readable descriptor rfd, the
 * default ACL through /proc/self/fd of the O_PATH descriptor fd.
 */
static int
read_acl(int fd, int rfd, acl_type_t type, struct aclsum *s)
{
	char path[32];
	acl_t acl = type == ACL_TYPE_ACCESS ? acl_get_fd(rfd)
	    : acl_get_file(walk_fd_path(fd, path, sizeof path), type);
	int r;

	if (!acl)
		return -errno;
	r = aclsum_from_acl(acl, s);
	acl_free(acl);
	return r;
}

/*
 * Reopen the O_PATH fd for reading, checking it is still the same inode;
 * *now gets its fstat (the link count to trust is this one).
 */
static int
reopen(int fd, const struct stat *st, struct stat *now)
{
	char path[32];
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOATIME;
	int rfd;

	if (S_ISDIR(st->st_mode))
		rfd = openat(fd, ".", flags | O_DIRECTORY);
	else
		rfd = open(walk_fd_path(fd, path, sizeof path), flags);
	if (rfd < 0)
		return -errno;
	if (fstat(rfd, now) < 0 || now->st_ino != st->st_ino || now->st_dev != st->st_dev) {
		close(rfd);
		return -ESTALE;
	}
	return rfd;
}

/* Write the access ACL with acl_set_fd() on the readable descriptor. */
static int
write_access(int rfd, const struct aclsum *want)
{
	acl_t acl = aclsum_to_acl(want);
	int r = 0;

	if (!acl)
		return -errno;
	if (acl_set_fd(rfd, acl) < 0)
		r = -errno;
	acl_free(acl);
	return r;
}

/* Write (or remove) the default ACL of the directory fd via /proc/self/fd. */
static int
write_default(int fd, const struct aclsum *want)
{
	char path[32];
	acl_t acl;
	int r = 0;

	walk_fd_path(fd, path, sizeof path);
	if (!want->present)
		return acl_delete_def_file(path) < 0 ? -errno : 0;
	if (!(acl = aclsum_to_acl(want)))
		return -errno;
	if (acl_set_file(path, ACL_TYPE_DEFAULT, acl) < 0)
		r = -errno;
	acl_free(acl);
	return r;
}

/* Read both ACLs and describe the differences; returns 1 if any. */
static int
compare(const struct conf_share *sh, int fd, int rfd, const struct stat *st, struct aclsum w[2],
    struct aclsum c[2], int diff[2], char *words, size_t wsz)
{
	int isdir = S_ISDIR(st->st_mode), r;

	policy_want(sh, st, &w[0], &w[1]);
	if ((r = read_acl(fd, rfd, ACL_TYPE_ACCESS, &c[0])) < 0)
		return r;
	if (isdir && (r = read_acl(fd, rfd, ACL_TYPE_DEFAULT, &c[1])) < 0)
		return r;
	diff[0] = !aclsum_equal(&w[0], &c[0]);
	diff[1] = isdir && !aclsum_equal(&w[1], &c[1]);
	if (diff[0] && words)
		policy_describe(sh, &w[0], &c[0], isdir, "", words, wsz);
	if (diff[1] && words)
		policy_describe(sh, &w[1], &c[1], isdir, "new files: ", words, wsz);
	return diff[0] || diff[1];
}

int
fix_object(const struct conf_share *sh, int fd, const struct stat *st, int mode,
    char *words, size_t wsz)
{
	struct aclsum w[2], c[2];
	int diff[2] = { 0, 0 };
	struct stat now;
	int r, rfd;

	if (words)
		words[0] = '\0';
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return FIX_SKIP_TYPE;
	if ((rfd = reopen(fd, st, &now)) < 0)
		return rfd;
	memset(w, 0, sizeof w);
	memset(c, 0, sizeof c);
	c[0].mask = c[1].mask = -1;
	r = compare(sh, fd, rfd, st, w, c, diff, words, wsz);
	if (r > 0 && S_ISREG(now.st_mode) && (st->st_nlink > 1 || now.st_nlink > 1)) {
		size_t n = words ? strlen(words) : 0;

		if (words)
			snprintf(words + n, wsz - n, " (the file has %lu hard links: not trusted, left unchanged)",
			    (unsigned long)now.st_nlink);
		r = FIX_SKIP_LINKS;
	} else if (r > 0 && mode == FIX_REPAIR) {
		if (diff[0] && (r = write_access(rfd, &w[0])) < 0)
			goto out;
		if (diff[1] && (r = write_default(fd, &w[1])) < 0)
			goto out;
		r = FIX_WRONG;
	}
out:
	close(rfd);
	for (int i = 0; i < 2; i++) {
		aclsum_clear(&w[i]);
		aclsum_clear(&c[i]);
	}
	return r;
}
