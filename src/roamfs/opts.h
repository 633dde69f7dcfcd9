/*
 * opts: the command line of roamfs, spelled as sshfs spells it where the
 * options mean the same, so that it works from a shell, from /etc/fstab
 * (mount -t fuse.roamfs) and from pam_mount.
 */
#ifndef ROAMFS_OPTS_H
#define ROAMFS_OPTS_H

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
};

/* Parse argv; 0 or -EINVAL with *cause (malloc'd) naming the bad argument and the fix. */
int opts_parse(int argc, char **argv, struct opts *o, char **cause);
void opts_free(struct opts *o);
/* Print the usage text to stdout. */
void opts_usage(const char *prog);

/* Whether c may stand in a workstation's name (conflict copies, markers). */
int opts_workstation_char(int c);

#endif
