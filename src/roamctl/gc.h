/*
 * gc: roamctl gc, the housekeeping of the caches under the cache root
 * (roamctl(8)), as root: the caches of users not seen on this
 * workstation for cache_expire days are removed, those over cache_max
 * trimmed, and the idle ones trimmed to cache_total, the least recently
 * used first.  A cache a roamfs runs on is never touched; one with
 * changes not on the server (or set aside) is never removed nor trimmed.
 * Both are reported, with why.
 */
#ifndef ROAMCTL_GC_H
#define ROAMCTL_GC_H

#include "siteconf.h"

/*
 * Run gc over the caches under root with the settings of site; with json,
 * one record per cache; with dry_run, say what it would do and change
 * nothing.  Returns roamctl's exit status: 0 done (also when caches were
 * kept), 1 when something could not be removed, trimmed or read, 2 when
 * not run as root.
 */
int gc_run(const struct siteconf *site, const char *root, int json, int dry_run);

#endif
