/*
 * opts: the command line of roamfs, spelled as sshfs spells it where the
 * options mean the same, so that it works from a shell, from /etc/fstab
 * (mount -t fuse.roamfs) and from pam_mount.
 */
#ifndef ROAMFS_OPTS_H
#define ROAMFS_OPTS_H

#include <stdint.h>

#include "siteconf.h"

/* The options of struct opts that the site configuration also sets: which
 * were given on the command line, and so override it (opts.given). */
enum {
	OPT_GIVEN_DIR_TTL = 1 << 0,
	OPT_GIVEN_ATTR_TTL = 1 << 1,
	OPT_GIVEN_SYNC_INTERVAL = 1 << 2,
	OPT_GIVEN_FLUSH_TIMEOUT = 1 << 3,
	OPT_GIVEN_CONNECT_TIMEOUT = 1 << 4,
	OPT_GIVEN_CACHE_MAX = 1 << 5,
	OPT_GIVEN_CACHE_TOTAL = 1 << 6,
};

struct opts {
	char *source;		/* [user@]host:[path] as given */
	char *user, *host, *path;
	char *mountpoint;
	unsigned port;
	char *identity_file, *known_hosts, *global_known_hosts, *cache, *exclude, *workstation;
	int password_stdin;
	int foreground, debug, help, version;
	unsigned dir_ttl, attr_ttl, sync_interval, flush_timeout, connect_timeout;
	char *fuse_opts;	/* options passed on to the kernel mount, comma-separated */
	char *config;		/* -o config=FILE; NULL: siteconf_default_path(), if there */
	unsigned given;		/* OPT_GIVEN_* bits of the options on the command line */
	/* From the site configuration (opts_apply_siteconf), and -o for the sizes. */
	char *cache_root;	/* the default cache is CACHE_ROOT/USER; NULL before */
	struct size_opt cache_max;	/* this cache's budget; both 0: no limit */
	struct size_opt cache_total;	/* all caches under cache_root; both 0: no limit */
	unsigned cache_expire;	/* days (roamctl gc); 0: never */
	unsigned cache_encrypt;	/* SITECONF_ENCRYPT_* (roamfs.conf only) */
	unsigned workingset_files;	/* bound of the working set at logout; 0: none */
	uint64_t workingset_bytes;	/* also; 0: no bound on bytes */
};

/* Parse argv; 0 or -EINVAL with *cause (malloc'd) naming the bad argument and the fix. */
int opts_parse(int argc, char **argv, struct opts *o, char **cause);
void opts_free(struct opts *o);
/*
 * Take what the site configuration c sets (siteconf_load), except the
 * options given on the command line (o->given), which override it; sets
 * o->cache_root.  Returns 0 or -ENOMEM.
 */
int opts_apply_siteconf(struct opts *o, const struct siteconf *c);
/* Print the usage text to stdout. */
void opts_usage(const char *prog);

/* Whether c may stand in a workstation's name (conflict copies, markers). */
int opts_workstation_char(int c);

#endif
