/*
 * path: questions about file names that several programs ask.
 */
#ifndef ROAM_PATH_H
#define ROAM_PATH_H

/*
 * Whether path is dir or lies below it, with symbolic links resolved as
 * far as the path exists (the rest is taken as written).  Both should be
 * absolute.  1 yes, 0 no.
 */
int path_within(const char *path, const char *dir);

#endif
