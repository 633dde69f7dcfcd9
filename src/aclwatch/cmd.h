/*
 * cmd: the admin commands "check", "repair" and "explain".
 */
#ifndef ACLWATCH_CMD_H
#define ACLWATCH_CMD_H

#include "conf.h"

/*
 * check (repair = 0) or repair (repair = 1) the trees at paths[0..n).
 * Prints one line per wrong object (or a JSON array with json).  Returns
 * the exit status: 0 all right, 1 something is (or stays) wrong, 2 error.
 */
int cmd_check(const struct conf *c, const char *conf_file, char **paths, int n,
    int repair, int json);

/* Print which share rule applies to path and the ACL it wants.  Exit status. */
int cmd_explain(const struct conf *c, const char *conf_file, const char *path);

#endif
