/*
 * opts: command line and -o option parsing for roamfs.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

/* Mount options handed to the kernel as they are. */
static const char *const kernel_opts[] = {
	"allow_other", "allow_root", "default_permissions", "ro", "rw", "nosuid", "suid",
	"nodev", "dev", "noexec", "exec", "noatime", "atime", "relatime", "sync", "async",
	"dirsync", "auto_unmount", NULL,
};

/* Options of mount(8), fstab and pam_mount that are not for us: ignored. */
static const char *const ignored_opts[] = {
	"_netdev", "nofail", "noauto", "auto", "user", "users", "nouser", "owner",
	"reconnect", "delay_connect", NULL,
};

static int
fail(char **cause, const char *fmt, const char *arg)
{
	if (asprintf(cause, fmt, arg) < 0)
		*cause = NULL;
	return -EINVAL;
}

static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static int
parse_uint(const char *opt, const char *val, unsigned lo, unsigned hi, unsigned *out, char **cause)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (*val == '\0' || *end != '\0' || errno || v < lo || v > hi || *val == '-') {
		char *msg;

		if (asprintf(&msg, "option %s=%s: expected a whole number from %u to %u",
		    opt, val, lo, hi) < 0)
			msg = NULL;
		*cause = msg;
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

/* Record that an option of the site configuration was given (on success). */
static int
given(struct opts *o, unsigned bit, int r)
{
	if (r == 0)
		o->given |= bit;
	return r;
}

/* A size option (cache_max=, cache_total=): bytes or a percentage. */
static int
parse_size(const char *opt, const char *val, struct size_opt *out, char **cause)
{
	const char *why = size_opt_why(val, 1);

	if (why == NULL)
		return size_opt_parse(val, 1, out);
	if (asprintf(cause, "option %s=%s: %s", opt, val, why) < 0)
		*cause = NULL;
	return -EINVAL;
}

static int
set_str(char **dst, const char *opt, const char *val, char **cause)
{
	if (*val == '\0')
		return fail(cause, "option %s= needs a value", opt);
	free(*dst);
	*dst = strdup(val);
	return *dst ? 0 : -ENOMEM;
}

int
opts_workstation_char(int c)
{
	return c >= 0x20 && c != 0x7f && strchr("/\\:()", c) == NULL;
}

/* A workstation's name goes into the names of conflict copies. */
static int
set_workstation(struct opts *o, const char *val, char **cause)
{
	const unsigned char *c;

	if (strlen(val) > 64)
		return fail(cause, "workstation=%.64s...: the name is too long (64 bytes at most)", val);
	for (c = (const unsigned char *)val; *c; c++)
		if (!opts_workstation_char(*c))
			return fail(cause, "workstation=%s: the name may not contain '/', '\\', "
			    "':', parentheses or control characters", val);
	return set_str(&o->workstation, "workstation", val, cause);
}

static int
add_fuse_opt(struct opts *o, const char *opt)
{
	char *n;

	if (asprintf(&n, "%s%s%s", o->fuse_opts ? o->fuse_opts : "",
	    o->fuse_opts ? "," : "", opt) < 0)
		return -ENOMEM;
	free(o->fuse_opts);
	o->fuse_opts = n;
	return 0;
}

/* One option of a -o list. */
static int
parse_one(struct opts *o, char *opt, char **cause)
{
	char *val = strchr(opt, '=');

	if (val)
		*val++ = '\0';
	if (val == NULL && strcmp(opt, "password_stdin") == 0)
		o->password_stdin = 1;
	else if (val == NULL && strcmp(opt, "debug") == 0)
		o->debug = 1;
	else if (val && strcmp(opt, "port") == 0)
		return parse_uint("port", val, 1, 65535, &o->port, cause);
	else if (val && strcmp(opt, "IdentityFile") == 0)
		return set_str(&o->identity_file, opt, val, cause);
	else if (val && strcmp(opt, "UserKnownHostsFile") == 0)
		return set_str(&o->known_hosts, opt, val, cause);
	else if (val && strcmp(opt, "GlobalKnownHostsFile") == 0)
		return set_str(&o->global_known_hosts, opt, val, cause);
	else if (val && strcmp(opt, "cache") == 0)
		return set_str(&o->cache, opt, val, cause);
	else if (val && strcmp(opt, "exclude") == 0)
		return set_str(&o->exclude, opt, val, cause);
	else if (val && strcmp(opt, "workstation") == 0)
		return set_workstation(o, val, cause);
	else if (val && strcmp(opt, "config") == 0)
		return set_str(&o->config, opt, val, cause);
	else if (val && strcmp(opt, "dir_ttl") == 0)
		return given(o, OPT_GIVEN_DIR_TTL, parse_uint("dir_ttl", val, 0,
		    SITECONF_DIR_TTL_MAX, &o->dir_ttl, cause));
	else if (val && strcmp(opt, "attr_ttl") == 0)
		return given(o, OPT_GIVEN_ATTR_TTL, parse_uint("attr_ttl", val, 0,
		    SITECONF_ATTR_TTL_MAX, &o->attr_ttl, cause));
	else if (val && strcmp(opt, "sync_interval") == 0)
		return given(o, OPT_GIVEN_SYNC_INTERVAL, parse_uint("sync_interval", val,
		    SITECONF_SYNC_INTERVAL_MIN, SITECONF_SYNC_INTERVAL_MAX, &o->sync_interval, cause));
	else if (val && strcmp(opt, "flush_timeout") == 0)
		return given(o, OPT_GIVEN_FLUSH_TIMEOUT, parse_uint("flush_timeout", val, 0,
		    SITECONF_FLUSH_TIMEOUT_MAX, &o->flush_timeout, cause));
	else if (val && strcmp(opt, "ConnectTimeout") == 0)
		return given(o, OPT_GIVEN_CONNECT_TIMEOUT, parse_uint("ConnectTimeout", val,
		    SITECONF_CONNECT_TIMEOUT_MIN, SITECONF_CONNECT_TIMEOUT_MAX, &o->connect_timeout,
		    cause));
	else if (val && strcmp(opt, "cache_max") == 0)
		return given(o, OPT_GIVEN_CACHE_MAX, parse_size(opt, val, &o->cache_max, cause));
	else if (val && strcmp(opt, "cache_total") == 0)
		return given(o, OPT_GIVEN_CACHE_TOTAL, parse_size(opt, val, &o->cache_total, cause));
	else if (val == NULL && in_list(kernel_opts, opt))
		return add_fuse_opt(o, opt);
	else if ((val == NULL && in_list(ignored_opts, opt)) || strncmp(opt, "x-", 2) == 0 ||
	    strcmp(opt, "comment") == 0)
		return 0;
	else if (strcmp(opt, "StrictHostKeyChecking") == 0)
		return fail(cause, "option %s is not supported: roamfs always checks the "
		    "server's host key; add the key to known_hosts instead", opt);
	else
		return fail(cause, "unknown option '%s' (or a value is missing or not "
		    "expected): see roamfs(8) for the options", opt);
	return 0;
}

static int
parse_list(struct opts *o, const char *list, char **cause)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && r == 0; tok = strtok_r(NULL, ",", &save))
		r = parse_one(o, tok, cause);
	free(copy);
	return r;
}

/* Split [user@]host:[path]; host may be [v6addr]. */
static int
parse_source(struct opts *o, const char *src, char **cause)
{
	const char *at, *h = src, *colon;

	if (strncmp(src, "roamfs#", 7) == 0)
		h = src += 7;
	o->source = strdup(src);
	if ((at = strchr(src, '@')) != NULL && (colon = strchr(src, ':')) && at < colon) {
		o->user = strndup(src, (size_t)(at - src));
		h = at + 1;
	}
	if (*h == '[') {
		colon = strstr(h, "]:");
		if (colon == NULL)
			return fail(cause, "source '%s': expected [user@]host:[path]", src);
		o->host = strndup(h + 1, (size_t)(colon - h - 1));
		colon++;
	} else {
		colon = strchr(h, ':');
		if (colon == NULL || colon == h)
			return fail(cause, "source '%s': expected [user@]host:[path], "
			    "for example ann@server:", src);
		o->host = strndup(h, (size_t)(colon - h));
	}
	o->path = strdup(colon + 1);
	if (o->host && *o->host == '\0')
		return fail(cause, "source '%s': the host name is empty", src);
	if (o->user && *o->user == '\0')
		return fail(cause, "source '%s': the user name before '@' is empty", src);
	return o->host && o->path && o->source ? 0 : -ENOMEM;
}

static int
parse_positional(struct opts *o, const char *arg, int *npos, char **cause)
{
	switch ((*npos)++) {
	case 0:
		return parse_source(o, arg, cause);
	case 1:
		o->mountpoint = strdup(arg);
		return o->mountpoint ? 0 : -ENOMEM;
	default:
		return fail(cause, "unexpected argument '%s': give only the source and the "
		    "mount point", arg);
	}
}

int
opts_parse(int argc, char **argv, struct opts *o, char **cause)
{
	int i, npos = 0, r = 0;

	memset(o, 0, sizeof *o);
	*cause = NULL;
	o->dir_ttl = SITECONF_DIR_TTL;
	o->attr_ttl = SITECONF_ATTR_TTL;
	o->sync_interval = SITECONF_SYNC_INTERVAL;
	o->flush_timeout = SITECONF_FLUSH_TIMEOUT;
	o->connect_timeout = SITECONF_CONNECT_TIMEOUT;
	o->cache_expire = SITECONF_CACHE_EXPIRE;
	o->cache_encrypt = SITECONF_CACHE_ENCRYPT;
	o->workingset_files = SITECONF_WORKINGSET_FILES;
	o->workingset_bytes = SITECONF_WORKINGSET_BYTES;
	for (i = 1; i < argc && r == 0; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-o") == 0) {
			if (++i == argc)
				return fail(cause, "%s needs an option list, e.g. -o port=2222", a);
			r = parse_list(o, argv[i], cause);
		} else if (strncmp(a, "-o", 2) == 0)
			r = parse_list(o, a + 2, cause);
		else if (strcmp(a, "-f") == 0)
			o->foreground = 1;
		else if (strcmp(a, "-d") == 0) {
			o->debug++;		/* twice: also FUSE requests */
			o->foreground = 1;
		}
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			o->help = 1;
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
			o->version = 1;
		else if (a[0] == '-' && a[1] != '\0')
			r = fail(cause, "unknown option '%s': see roamfs -h", a);
		else
			r = parse_positional(o, a, &npos, cause);
	}
	if (r == 0 && !o->help && !o->version && npos < 2)
		r = fail(cause, "%s", "missing arguments: roamfs [options] [user@]host:[path] "
		    "mountpoint (see roamfs -h)");
	return r;
}

void
opts_free(struct opts *o)
{
	free(o->source);
	free(o->user);
	free(o->host);
	free(o->path);
	free(o->mountpoint);
	free(o->identity_file);
	free(o->known_hosts);
	free(o->global_known_hosts);
	free(o->cache);
	free(o->exclude);
	free(o->workstation);
	free(o->fuse_opts);
	free(o->config);
	free(o->cache_root);
	memset(o, 0, sizeof *o);
}

int
opts_apply_siteconf(struct opts *o, const struct siteconf *c)
{
	char *root = strdup(c->cache_root ? c->cache_root : siteconf_default_cache_root());

	if (root == NULL)
		return -ENOMEM;
	free(o->cache_root);
	o->cache_root = root;
	if (!(o->given & OPT_GIVEN_DIR_TTL))
		o->dir_ttl = c->dir_ttl;
	if (!(o->given & OPT_GIVEN_ATTR_TTL))
		o->attr_ttl = c->attr_ttl;
	if (!(o->given & OPT_GIVEN_SYNC_INTERVAL))
		o->sync_interval = c->sync_interval;
	if (!(o->given & OPT_GIVEN_FLUSH_TIMEOUT))
		o->flush_timeout = c->flush_timeout;
	if (!(o->given & OPT_GIVEN_CONNECT_TIMEOUT))
		o->connect_timeout = c->connect_timeout;
	if (!(o->given & OPT_GIVEN_CACHE_MAX))
		o->cache_max = c->cache_max;
	if (!(o->given & OPT_GIVEN_CACHE_TOTAL))
		o->cache_total = c->cache_total;
	o->cache_expire = c->cache_expire;
	o->cache_encrypt = c->cache_encrypt;
	o->workingset_files = c->workingset_files;
	o->workingset_bytes = c->workingset_bytes;
	return 0;
}

void
opts_usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o opt[,opt...]] [user@]host:[path] mountpoint\n"
	    "\n"
	    "Mount a home directory kept on an SFTP server, served from a local cache.\n"
	    "\n"
	    "  -f                     stay in the foreground, log to stderr\n"
	    "  -d                     debug messages (implies -f); twice: also FUSE requests\n"
	    "  -h, -V                 this help, the version\n"
	    "  -o port=N              server port (22)\n"
	    "  -o IdentityFile=PATH   private key (default: agent and ~/.ssh keys)\n"
	    "  -o UserKnownHostsFile=PATH  known_hosts to check the server key against\n"
	    "                         (default ~/.ssh/known_hosts, unless under mountpoint)\n"
	    "  -o GlobalKnownHostsFile=PATH  also (default /etc/ssh/ssh_known_hosts)\n"
	    "  -o password_stdin      read the password from standard input\n"
	    "  -o config=FILE         site configuration (default %s/roamfs/roamfs.conf);\n"
	    "                         it gives the defaults of cache*, ttls and timeouts\n"
	    "  -o cache=DIR           persistent cache (default CACHE_ROOT/USER, with the\n"
	    "                         config's cache_root, else %s/cache/roamfs)\n"
	    "  -o cache_max=SIZE      budget of this cache: 500M, 20G, 10%% of its disk (none)\n"
	    "  -o cache_total=SIZE    budget of all caches under CACHE_ROOT together (none)\n"
	    "  -o exclude=FILE        local-only paths, rsync syntax (default\n"
	    "                         %s/roamfs/exclude.local or %s/roamfs/exclude)\n"
	    "  -o workstation=NAME    this workstation's name in conflict copies (host name)\n"
	    "  -o dir_ttl=SECONDS     list a directory from the server again after (5)\n"
	    "  -o attr_ttl=SECONDS    an open asks the server for the file's version after (3)\n"
	    "  -o sync_interval=SECONDS  durable commit at least this often (2)\n"
	    "  -o flush_timeout=SECONDS  at unmount, give up after the server has been\n"
	    "                         unreachable this long (30)\n"
	    "  -o ConnectTimeout=SECONDS (10)\n"
	    "  -o allow_other,default_permissions,ro,... passed to the kernel\n"
	    "\nSee roamfs(8) and roamfs.conf(5).\n", prog, SYSCONFDIR, LOCALSTATEDIR, SYSCONFDIR,
	    SYSCONFDIR);
}
