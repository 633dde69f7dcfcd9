/*
 * prepare: roamctl prepare [USER], as root, before the user's roamfs
 * starts (the PAM session stack runs it right before pam_mount).
 *
 * The cache root belongs to root and no one else may write there: a root
 * an older roamfs left world-writable (1777) is closed (0755).  USER's
 * cache, ROOT/USER, is made by root for the user (0700, the user's).
 * Anything else in its place (a folder another user made there to lock
 * this one out, a symbolic link, a file) is moved aside into ROOT/.aside
 * (root's, 0700), reported, and never used.  ROOT/.usage.USER, where the
 * user's roamfs writes how much it keeps (the machine's budget), is made
 * the user's.
 */
#ifndef ROAMCTL_PREPARE_H
#define ROAMCTL_PREPARE_H

/*
 * Prepare user's cache under root (user NULL: $PAM_USER; nothing to do
 * when $PAM_TYPE names another step than open_session).  What was wrong
 * and fixed is said on standard error and to syslog (authpriv).  Returns
 * roamctl's exit status: 0 ready, 1 failed, 2 bad use (not root, no
 * such user).
 */
int prepare_run(const char *root, const char *user);

#endif
