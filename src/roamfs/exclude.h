/*
 * exclude: the exclusion list, paths of the home that stay local-only
 * (never uploaded, never fetched), in rsync's exclude-file syntax.
 *
 * The list is the one the schools used with "rsync --exclude-from=FILE":
 * one pattern per line; blank lines and lines starting with '#' or ';' are
 * comments; "- " (exclude, the default) or "+ " (include) may prefix a
 * pattern; the first matching rule wins.  Patterns follow man rsync(1),
 * "INCLUDE/EXCLUDE PATTERN RULES": a leading '/' anchors to the home's
 * root, a trailing '/' matches directories only, a pattern without '/'
 * matches the last component at any depth, one with an inner '/' or "**"
 * matches the full path (unanchored: any trailing run of whole
 * components); '*' matches anything but '/', "**" anything, '?' one
 * non-'/' byte, "[...]" a class; a backslash escapes the next byte only
 * when the pattern holds a wildcard ("*[?").  Anything under an excluded
 * directory is excluded, as rsync never descends into it.  Character
 * classes ([:alpha:] ...) are ASCII-only.  Rules rsync's --exclude-from
 * would read as literal names but which are meant as filter rules
 * ("merge", "dir-merge", "P ", "H ", "!", ...) are refused.
 *
 * A parsed list is immutable: exclude_match may be called from many
 * threads at once.
 */
#ifndef ROAMFS_EXCLUDE_H
#define ROAMFS_EXCLUDE_H

#include <stddef.h>

struct exclude;

/*
 * Parse patterns from text (len bytes, need not end in '\n' or NUL); name
 * is the file name used in error messages.  Returns 0 and sets *out, or
 * -EINVAL on a bad line and, when cause is not NULL, sets *cause to a
 * malloc'd "NAME:LINE: reason" for the first bad line.  An empty text
 * gives a list that excludes nothing.
 */
int exclude_parse(const char *text, size_t len, const char *name,
    struct exclude **out, char **cause);

/*
 * Read and parse the file at path.  Returns 0, or -errno when the file
 * cannot be read (cause names the file and what to do), or what
 * exclude_parse returns.
 */
int exclude_load(const char *path, struct exclude **out, char **cause);

/*
 * The default list's path: SYSCONFDIR/roamfs/exclude.local if it exists
 * (it replaces the shipped list entirely), else SYSCONFDIR/roamfs/exclude
 * if it exists, else NULL.  The string is static.
 */
const char *exclude_default_path(void);

/*
 * 1 if relpath (relative to the home's root, no leading '/', components
 * separated by single '/') is excluded, else 0.  is_dir says whether the
 * last component is a directory (a symbolic link is not).  A path under an
 * excluded directory is excluded.  The root ("") is never excluded; leading
 * '/' are ignored.  A NULL list excludes nothing.
 */
int exclude_match(const struct exclude *ex, const char *relpath, int is_dir);

/*
 * exclude_match, and what stays local-only whatever the list says: a
 * SQLite database's shared memory (a file whose name ends in "-shm"),
 * which only the programs of one machine share and SQLite makes again
 * from the database and its -wal.
 */
int exclude_path(const struct exclude *ex, const char *relpath, int is_dir);

/* Free a list; NULL is allowed. */
void exclude_free(struct exclude *ex);

#endif
