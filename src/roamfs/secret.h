/*
 * secret: the login password roamfs keeps for reconnections.
 *
 * It lives in a page of its own, locked in memory (never written to swap)
 * and left out of core dumps (MADV_DONTDUMP); it is wiped when freed.
 * It is read from a file descriptor byte by byte, with no stdio buffer
 * that would keep a copy.
 */
#ifndef ROAMFS_SECRET_H
#define ROAMFS_SECRET_H

#include <stddef.h>

/* The longest password read (one page less its terminating NUL). */
#define SECRET_MAX	4095

/*
 * Read one line (without its newline or carriage return) from fd into a
 * locked page.  NULL with *cause set (malloc'd, one line) when nothing
 * could be read, the line is too long or no page could be had.  *warn
 * gets (malloc'd) why the page could not be locked, or NULL: the
 * password is then kept all the same.
 */
char *secret_read_line(int fd, char **cause, char **warn);
/* Lock the page again: a child made by fork() does not inherit the lock. */
int secret_relock(char *s);
/* Wipe and free (NULL: nothing). */
void secret_free(char *s);

#endif
