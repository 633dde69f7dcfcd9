/*
 * case_xattr: user extended attributes and the POSIX ACL attribute, which
 * desktop programs and setfacl use in home directories.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

#include "posix.h"

/* Print whether the list of attribute names of PATH contains NAME. */
static void
xattr_show_listed(const char *step, const char *path, const char *name)
{
	char list[1024];
	ssize_t n, off;
	int found = 0;

	n = listxattr(path, list, sizeof list);
	if (n < 0) {
		rep(step, "listxattr = -1 %s", errname(errno));
		return;
	}
	for (off = 0; off < n; off += strlen(list + off) + 1)
		if (strcmp(list + off, name) == 0)
			found = 1;
	rep(step, "listed: %s", found ? "yes" : "no");
}

/* Set, read, list, replace and remove a user attribute; read the ACL one. */
void
case_xattr_user(void)
{
	char val[64];
	ssize_t n;

	fix_put("f", "F");
	CALL("set", setxattr("f", "user.roam", "v1", 2, 0));
	n = getxattr("f", "user.roam", val, sizeof val);
	if (n < 0)
		rep("get", "getxattr = -1 %s", errname(errno));
	else
		rep("get", "getxattr = %zd \"%.*s\"", n, (int)n, val);
	xattr_show_listed("list", "f", "user.roam");
	CALL("create-existing", setxattr("f", "user.roam", "v2", 2, XATTR_CREATE));
	CALL("replace-missing", setxattr("f", "user.none", "v2", 2, XATTR_REPLACE));
	CALL("get-missing", getxattr("f", "user.none", val, sizeof val));
	CALL("get-too-small", getxattr("f", "user.roam", val, 1));
	CALL("remove", removexattr("f", "user.roam"));
	CALL("remove-missing", removexattr("f", "user.roam"));
	CALL("get-acl-none", getxattr("f", "system.posix_acl_access", val, sizeof val));
}
