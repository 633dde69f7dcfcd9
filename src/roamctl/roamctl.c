/*
 * roamctl: ask the roamfs of a home what it is doing, and tell it what to
 * do (roamctl(8)).  It talks to each roamfs over the control socket of its
 * cache directory (roam/ctl.h); a cache with no roamfs running is read
 * from its database.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "roam/ctl.h"
#include "roam/db.h"
#include "roam/log.h"
#include "roam/registry.h"
#include "gc.h"
#include "prepare.h"
#include "recover.h"
#include "safeout.h"
#include "pathlist.h"
#include "roamctl.h"
#include "siteconf.h"
#include "summary.h"

/* Exit statuses, as roamctl(8) lists them. */
enum {
	EXIT_DONE = 0,		/* done; status: everything is on the server */
	EXIT_PENDING = 1,	/* status: changes wait; other commands: failed */
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,	/* flush --wait: --timeout passed */
	EXIT_OFFLINE = 4,	/* flush --wait: the server cannot be reached */
	EXIT_NONE = 5,		/* no roamfs found, or it does not answer */
};

#define FUSE_SUPER_MAGIC	0x65735546

/* How long one request may take before roamfs counts as hung. */
#define CALL_MS		5000
#define POLL_MS		250

/* --cache-root, else the site configuration's cache_root (site_load). */
static const char *cache_root;
static struct siteconf site;
static int json;

/* ---- finding the roamfs ---- */

struct target {
	char *cache;		/* the cache directory */
	char *mountpoint;	/* where it was mounted last, or NULL */
};

struct targets {
	struct target *t;
	size_t n, cap;
};

static void
die_oom(void)
{
	fprintf(stderr, "roamctl: out of memory\n");
	exit(EXIT_PENDING);
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		die_oom();
	return d;
}

/* The first line of DIR/NAME, or NULL. */
static char *
read_line(const char *dir, const char *name)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
	    (f = fopen(path, "re")) == NULL)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	if (line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

static void
targets_add(struct targets *ts, const char *cache)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t i;

	/* Found both in the registry and under the cache root: once. */
	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].cache, cache) == 0 || (realpath(ts->t[i].cache, a) &&
		    realpath(cache, b) && strcmp(a, b) == 0))
			return;
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 8;
		struct target *t = realloc(ts->t, cap * sizeof *t);

		if (t == NULL)
			die_oom();
		ts->t = t;
		ts->cap = cap;
	}
	ts->t[ts->n].cache = xstrdup(cache);
	ts->t[ts->n].mountpoint = read_line(cache, "mountpoint");
	ts->n++;
}

static void
targets_free(struct targets *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		free(ts->t[i].cache);
		free(ts->t[i].mountpoint);
	}
	free(ts->t);
}

/* Whether dir is a cache directory: it has a database. */
static int
is_cache(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	return (size_t)snprintf(path, sizeof path, "%s/db", dir) < sizeof path &&
	    stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether a roamfs answers on dir's socket (connects, without a request). */
int
is_running(const char *dir)
{
	int fd = ctl_connect(dir, CALL_MS);

	if (fd < 0)
		return fd == -EBUSY || fd == -EACCES;
	close(fd);
	return 1;
}

/* Call fn for every cache directory under the cache root we may read. */
static void
scan_root(void (*fn)(void *arg, const char *cache), void *arg)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir = opendir(cache_root);

	if (dir == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof path, "%s/%s", cache_root, d->d_name) >= sizeof path)
			continue;
		if (access(path, R_OK | X_OK) == 0 && is_cache(path))
			fn(arg, path);
	}
	closedir(dir);
}

/*
 * Call fn for every cache of a running roamfs in the registry (wherever
 * the cache is), then for every cache under the cache root.
 */
static void
scan_all(void (*fn)(void *arg, const char *cache), void *arg)
{
	registry_scan(fn, arg);
	scan_root(fn, arg);
}

/* The length of mount point mp when path p is mp or lies in it, else 0. */
static size_t
inside(const char *p, const char *mp)
{
	size_t len = strlen(mp);

	while (len > 1 && mp[len - 1] == '/')
		len--;
	if (strncmp(p, mp, len) != 0 || (p[len] != '/' && p[len] != '\0'))
		return 0;
	return len;
}

/* The length of the mount point of cache when path p lies in it, else 0. */
static size_t
mounted_over(const char *cache, const char *p)
{
	char *mp, real[PATH_MAX];
	size_t len = 0;

	if ((mp = read_line(cache, "mountpoint")) == NULL)
		return 0;
	if ((len = inside(p, mp)) == 0 && realpath(mp, real))
		len = inside(p, real);
	free(mp);
	return len;
}

struct find_ctx {
	struct targets *ts;
	const char *mountpoint;	/* a path: the cache whose mount holds it; NULL: every running one */
	int all;		/* every cache, running or not */
	char *best;		/* with mountpoint: the cache found, or NULL */
	size_t best_len;	/* the length of its mount point */
	int best_runs;		/* whether a roamfs runs on it */
};

static void
find_one(void *arg, const char *cache)
{
	struct find_ctx *c = arg;
	size_t len;
	int run;

	if (c->mountpoint) {
		/* The deepest mount holding the path, a running roamfs's
		 * before an idle cache last mounted there. */
		if ((len = mounted_over(cache, c->mountpoint)) == 0 || len < c->best_len)
			return;
		run = is_running(cache);
		if (len == c->best_len && (c->best_runs || !run))
			return;
		free(c->best);
		c->best = xstrdup(cache);
		c->best_len = len;
		c->best_runs = run;
	} else if (c->all || is_running(cache)) {
		targets_add(c->ts, cache);
	}
}

/*
 * The caches the command is about: those given (a cache directory, or a
 * mount point looked up under the cache root), or else every running one
 * the user may reach (every cache with all).  Exits when none is found.
 */
static void
find_targets(struct targets *ts, char **args, int nargs, int all)
{
	struct find_ctx c = { ts, NULL, all, NULL, 0, 0 };
	char real[PATH_MAX];
	int i;

	for (i = 0; i < nargs; i++) {
		snprintf(real, sizeof real, "%s/db", args[i]);
		if (access(real, F_OK) < 0 && errno == EACCES) {
			fprintf(stderr, "roamctl: cannot enter %s: it belongs to another user (only "
			    "that user and root may control its roamfs)\n", args[i]);
			exit(EXIT_PENDING);
		}
		if (is_cache(args[i])) {
			targets_add(ts, realpath(args[i], real) ? real : args[i]);
			continue;
		}
		c.mountpoint = realpath(args[i], real) ? real : args[i];
		scan_all(find_one, &c);
		c.mountpoint = NULL;
		if (c.best) {
			targets_add(ts, c.best);
			free(c.best);
			c.best = NULL;
			c.best_len = 0;
		} else {
			fprintf(stderr, "roamctl: %s: no roamfs runs there for you, and no cache under "
			    "%s was mounted there: give the cache directory instead, or the cache "
			    "root with --cache-root\n", args[i], cache_root);
			exit(EXIT_NONE);
		}
	}
	if (nargs == 0) {
		scan_all(find_one, &c);
		if (ts->n == 0) {
			fprintf(stderr, "roamctl: no roamfs is running%s (none registered, and no "
			    "cache under %s answers); give a mount point or a cache directory\n",
			    getuid() ? " for you" : "", cache_root);
			exit(EXIT_NONE);
		}
	}
}

/* ---- talking to it ---- */

/* What roamctl prints when a roamfs cannot be asked. */
static void
say_unreachable(const struct target *t, int err)
{
	const char *mp = t->mountpoint ? t->mountpoint : "?";

	if (err == -ENOENT || err == -ECONNREFUSED)
		fprintf(stderr, "roamctl: no roamfs is running on the cache %s (last mounted on "
		    "%s); its unsent changes, if any, go at its next mount\n", t->cache, mp);
	else if (err == -EACCES || err == -EPERM)
		fprintf(stderr, "roamctl: the roamfs of %s belongs to another user: only that "
		    "user and root may control it\n", t->cache);
	else if (err == -ETIMEDOUT || err == -EBUSY)
		fprintf(stderr, "roamctl: the roamfs of %s (mounted on %s) does not answer "
		    "(hung?); see the log file %s/roamfs.log\n", t->cache, mp, t->cache);
	else
		fprintf(stderr, "roamctl: cannot talk to the roamfs of %s: %s\n", t->cache,
		    strerror(-err));
}

/* Send cmd; 0 with the reply, or an exit status after saying why. */
static int
call_args(const struct target *t, const char *cmd, char *const *argv, size_t argc,
    struct ctl_reply *r, int quiet)
{
	struct ctl_request q;
	int e;

	if (ctl_request_make(&q, cmd, argv, argc) < 0)
		die_oom();
	e = ctl_call(t->cache, &q, r, CALL_MS);
	ctl_request_free(&q);
	if (e < 0) {
		if (!quiet)
			say_unreachable(t, e);
		return e == -EACCES ? EXIT_PENDING : EXIT_NONE;
	}
	if (r->status) {
		if (!quiet)
			fprintf(stderr, "roamctl: %s\n", r->msg && *r->msg ? r->msg :
			    strerror((int)r->status));
		ctl_reply_free(r);
		return EXIT_PENDING;
	}
	return 0;
}

static int
call(const struct target *t, const char *cmd, struct ctl_reply *r, int quiet)
{
	return call_args(t, cmd, NULL, 0, r, quiet);
}

/* ---- printing ---- */

/* The length of the valid UTF-8 sequence at p (1-4), or 0. */
static int
utf8_len(const unsigned char *p)
{
	int n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A string as JSON; bytes that are not UTF-8 (a file name can hold any)
 * become U+FFFD, so that the output always parses. */
void
json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int n;

	putchar('"');
	while (*p) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else if ((n = utf8_len(p)) == 0)
			fputs("\\ufffd", stdout);
		else {
			fwrite(p, 1, (size_t)n, stdout);
			p += n;
			continue;
		}
		p++;
	}
	putchar('"');
}

/* A record as a JSON object; first "home" (when not NULL) and "running"
 * (when not -1). */
static void
json_record(const struct ctl_record *c, const char *home, int running)
{
	int first = 1;
	size_t i;

	putchar('{');
	if (home) {
		fputs("\"home\":", stdout);
		json_str(home);
		first = 0;
	}
	if (running >= 0) {
		printf("%s\"running\":%s", first ? "" : ",", running ? "true" : "false");
		first = 0;
	}
	for (i = 0; i < c->n; i++, first = 0) {
		const struct ctl_field *f = &c->f[i];

		if (!first)
			putchar(',');
		json_str(f->name);
		putchar(':');
		if (f->type == CTL_U64)
			printf("%llu", (unsigned long long)f->u);
		else if (f->type == CTL_I64)
			printf("%lld", (long long)f->i);
		else
			json_str(f->s);
	}
	putchar('}');
}

void
print_bytes(uint64_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		printf("%llu B", (unsigned long long)n);
	else
		printf("%.1f %s", v, unit[u]);
}

void
print_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];

	if (t == 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		fputs("?", stdout);
	else
		fputs(s, stdout);
}

/* Whether a status record says everything is on the server. */
/* The cached contents against their budget, and what eviction did. */
static void
print_budget(const struct ctl_record *c)
{
	uint64_t limit = ctl_get_u64(c, "cache_limit", 0), over = ctl_get_u64(c, "cache_kept_over", 0);

	if (!ctl_get(c, "cache_contents"))
		return;
	fputs("  contents:    ", stdout);
	print_bytes(ctl_get_u64(c, "cache_contents", 0));
	if (limit) {
		fputs(" of a budget of ", stdout);
		print_bytes(limit);
		if (limit < ctl_get_u64(c, "cache_total", 0) && limit != ctl_get_u64(c, "cache_max", 0))
			fputs(" (this workstation's, shared with the users logged in)", stdout);
	} else {
		fputs(", no budget", stdout);
	}
	if (ctl_get_u64(c, "evicted_files", 0)) {
		printf("; %llu files dropped from the cache (",
		    (unsigned long long)ctl_get_u64(c, "evicted_files", 0));
		print_bytes(ctl_get_u64(c, "evicted_bytes", 0));
		fputs(") since the mount", stdout);
	}
	putchar('\n');
	if (over) {
		fputs("  over budget: ", stdout);
		print_bytes(over);
		fputs(" of unsent changes, open or pinned files cannot be dropped\n", stdout);
	}
}

/* Pinned files, the working set, and the last files missed offline. */
static void
print_prefetch(const struct ctl_record *c)
{
	const char *miss = ctl_get_str(c, "offline_missed", "");
	uint64_t pf = ctl_get_u64(c, "pinned_files", 0), ws = ctl_get_u64(c, "workingset_files", 0);
	size_t len;

	if (ctl_get_u64(c, "pins", 0)) {
		printf("  pinned:      %llu of %llu files cached (",
		    (unsigned long long)ctl_get_u64(c, "pinned_files_cached", 0),
		    (unsigned long long)pf);
		print_bytes(ctl_get_u64(c, "pinned_bytes_cached", 0));
		fputs(" of ", stdout);
		print_bytes(ctl_get_u64(c, "pinned_bytes", 0));
		printf("), %s\n", ctl_get_str(c, "prefetch", "?"));
	}
	if (ws)
		printf("  working set: %llu of the last session's %llu files cached\n",
		    (unsigned long long)ctl_get_u64(c, "workingset_cached", 0),
		    (unsigned long long)ws);
	if (*miss) {
		fputs("  not cached, missed offline (most recent first): ", stdout);
		while (*miss) {
			len = strcspn(miss, "\n");
			printf("%.*s%s", (int)len, miss, miss[len] ? ", " : "");
			miss += len + (miss[len] != '\0');
		}
		putchar('\n');
	}
}

static int
all_sent(const struct ctl_record *c)
{
	return ctl_get_u64(c, "changes", 1) == 0 && ctl_get_u64(c, "uploading_files", 0) == 0;
}

/* "ws1 (since 2026-12-03 08:10), ws2": names and times, space-separated. */
static void
print_elsewhere(const char *label, const char *names, const char *since)
{
	const char *n = names;
	char *end;
	size_t len;
	long long t;

	fputs(label, stdout);
	while (*n) {
		len = strcspn(n, " ");
		printf("%s%.*s", n == names ? "" : ", ", (int)len, n);
		t = strtoll(since, &end, 10);
		if (end != since && t > 0) {
			fputs(" (since ", stdout);
			print_time(t);
			putchar(')');
		}
		since = end;
		n += len;
		n += strspn(n, " ");
	}
	putchar('\n');
}

static void
print_status(const struct target *t, const struct ctl_record *c, int running)
{
	const char *conn = ctl_get_str(c, "connection", "?");
	const char *s;
	uint64_t n, files;

	printf("%s\n", ctl_get_str(c, "mountpoint", t->mountpoint ? t->mountpoint : "?"));
	if ((s = ctl_get_str(c, "server", NULL)) && *s)
		printf("  server:      %s\n", s);
	printf("  cache:       %s", t->cache);
	if (ctl_get(c, "cache_bytes")) {
		fputs(" (", stdout);
		print_bytes(ctl_get_u64(c, "cache_bytes", 0));
		fputs(")", stdout);
	}
	putchar('\n');
	print_budget(c);
	print_prefetch(c);
	if ((s = ctl_get_str(c, "user", NULL)) && *s)
		printf("  user:        %s\n", s);
	if (!running) {
		printf("  roamfs:      not running");
		if (ctl_get_i64(c, "last_used", 0)) {
			fputs(", last used ", stdout);
			print_time(ctl_get_i64(c, "last_used", 0));
		}
		putchar('\n');
	} else {
		printf("  roamfs:      pid %llu, %s\n", (unsigned long long)ctl_get_u64(c, "pid", 0),
		    strcmp(ctl_get_str(c, "state", ""), "mounted") == 0 ? "mounted" :
		    "unmounted, sending the last changes");
		printf("  connection:  %s", conn);
		if (ctl_get_i64(c, "offline_since", 0)) {
			fputs(" since ", stdout);
			print_time(ctl_get_i64(c, "offline_since", 0));
		}
		if (strcmp(conn, "offline") == 0 && (s = ctl_get_str(c, "connection_error", NULL)) &&
		    *s)
			printf(" (%s)", s);
		putchar('\n');
	}
	if (ctl_get_u64(c, "locked", 0)) {
		printf("  encrypted:   locked: its key opens with %s's password at the next login\n",
		    ctl_get_str(c, "user", "the user"));
		printf("  waiting:     %s\n", ctl_get_u64(c, "changes", 0) ? "changes may wait (it "
		    "ended before all reached the server)" : "nothing: all reached the server");
		return;
	}
	n = ctl_get_u64(c, "changes", 0);
	printf("  waiting:     %llu change%s", (unsigned long long)n, n == 1 ? "" : "s");
	if (n) {
		fputs(", ", stdout);
		print_bytes(ctl_get_u64(c, "change_bytes", 0));
		fputs(" to upload, the oldest from ", stdout);
		print_time(ctl_get_i64(c, "oldest_change", 0));
	}
	putchar('\n');
	if ((files = ctl_get_u64(c, "uploading_files", 0)) != 0) {
		uint64_t size = ctl_get_u64(c, "uploading_bytes", 0);
		uint64_t done = ctl_get_u64(c, "uploading_done", 0);

		printf("  uploading:   %llu file%s, %u%% of ", (unsigned long long)files,
		    files == 1 ? "" : "s", size ? (unsigned)(done * 100 / size) : 100);
		print_bytes(size);
		putchar('\n');
	}
	printf("  conflicts:   %llu, set aside: %llu%s\n",
	    (unsigned long long)ctl_get_u64(c, "conflicts", 0),
	    (unsigned long long)ctl_get_u64(c, "set_aside", 0),
	    ctl_get_u64(c, "conflicts", 0) + ctl_get_u64(c, "set_aside", 0) ?
	    " (roamctl conflicts, roamctl set-aside)" : "");
	if ((s = ctl_get_str(c, "elsewhere", NULL)) && *s)
		print_elsewhere("  unsent changes on other workstations: ", s,
		    ctl_get_str(c, "elsewhere_since", ""));
	if ((s = ctl_get_str(c, "open_elsewhere", NULL)) && *s)
		print_elsewhere("  also open on: ", s, ctl_get_str(c, "open_elsewhere_since", ""));
	if ((s = ctl_get_str(c, "last_error", NULL)) && *s) {
		fputs("  last error:  ", stdout);
		print_time(ctl_get_i64(c, "last_error_at", 0));
		printf(" %s\n", s);
	}
	if (running)
		printf("  %s\n", all_sent(c) ? "everything is on the server" :
		    "changes are still on their way to the server");
	else if (n)
		printf("  these changes stay in the cache until the home is mounted again\n");
}

/*
 * An encrypted cache whose key is not on the system (its roamfs ended):
 * its database is ciphertext, and only its plain DIR/state tells whether
 * changes may wait (cache.h).  0 with the record, or -1: not such a cache.
 */
static int
locked_status(const struct target *t, struct ctl_reply *r)
{
	char path[PATH_MAX], state[16];
	struct ctl_record *c;
	struct passwd *pw;
	struct stat st;
	const char *user = "";
	int64_t used = 0;
	ssize_t n;
	int fd, clean = 0;

	snprintf(path, sizeof path, "%s/db/data.mdb", t->cache);
	if (stat(path, &st) == 0)
		return -1;
	snprintf(path, sizeof path, "%s/key", t->cache);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	snprintf(path, sizeof path, "%s/state", t->cache);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0)
			used = (int64_t)st.st_mtime;
		n = read(fd, state, sizeof state - 1);
		state[n > 0 ? n : 0] = '\0';
		clean = strcmp(state, "clean\n") == 0;
		close(fd);
	}
	if (stat(t->cache, &st) == 0 && (pw = getpwuid(st.st_uid)) != NULL)
		user = pw->pw_name;
	memset(r, 0, sizeof *r);
	if ((c = ctl_reply_record(r)) == NULL || ctl_put_str(c, "mountpoint",
	    t->mountpoint) < 0 || ctl_put_str(c, "cache", t->cache) < 0 ||
	    ctl_put_str(c, "user", user) < 0 || ctl_put_i64(c, "last_used", used) < 0 ||
	    ctl_put_u64(c, "locked", 1) < 0 || ctl_put_u64(c, "changes", !clean) < 0 ||
	    ctl_put_u64(c, "cache_bytes", summary_disk_usage(t->cache)) < 0)
		die_oom();
	return 0;
}

/*
 * A status record for a cache with no roamfs: read from its database.
 * 0, or -errno after saying why.
 */
static int
offline_status(const struct target *t, struct ctl_reply *r)
{
	struct ctl_record *c;
	struct summary s = { 0 };
	struct passwd *pw;
	struct db_txn tx;
	struct stat st;
	struct db *db;
	char path[PATH_MAX], *cause = NULL;
	const char *user = "";
	int64_t used;
	int e;

	if (locked_status(t, r) == 0)
		return 0;
	snprintf(path, sizeof path, "%s/db", t->cache);
	if ((e = db_open_readonly(path, &db, &cause)) < 0) {
		fprintf(stderr, "roamctl: %s\n", cause ? cause : strerror(-e));
		free(cause);
		return e;
	}
	if ((e = db_begin(db, &tx, 0)) == 0) {
		e = summary_read(&tx, &s);
		db_abort(&tx);
	}
	db_close(db);
	if (e < 0) {
		fprintf(stderr, "roamctl: cannot read the cache database in %s: %s\n", t->cache,
		    strerror(-e));
		summary_free(&s);
		return e;
	}
	/* Whose, and when its roamfs last wrote to it (its database). */
	if (stat(t->cache, &st) == 0 && (pw = getpwuid(st.st_uid)) != NULL)
		user = pw->pw_name;
	snprintf(path, sizeof path, "%s/db/data.mdb", t->cache);
	used = stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
	memset(r, 0, sizeof *r);
	if ((c = ctl_reply_record(r)) == NULL || ctl_put_str(c, "mountpoint",
	    t->mountpoint) < 0 || ctl_put_str(c, "cache", t->cache) < 0 ||
	    ctl_put_str(c, "user", user) < 0 || ctl_put_i64(c, "last_used", used) < 0 ||
	    summary_put(&s, c) < 0 ||
	    ctl_put_u64(c, "cache_bytes", summary_disk_usage(t->cache)) < 0)
		die_oom();
	summary_free(&s);
	return 0;
}

static int
cmd_status(struct targets *ts, int all)
{
	int st = EXIT_DONE, e, running;
	struct ctl_reply r;
	size_t i;

	if (json)
		putchar('[');
	for (i = 0; i < ts->n; i++) {
		running = 1;
		if ((e = call(&ts->t[i], "status", &r, all)) != 0) {
			if (!all || e != EXIT_NONE || offline_status(&ts->t[i], &r) < 0) {
				st = e == EXIT_NONE && all ? EXIT_PENDING : e;
				continue;
			}
			running = 0;
		}
		if (json) {
			if (i)
				putchar(',');
			json_record(&r.rec[0], NULL, running);
		} else {
			if (i)
				putchar('\n');
			print_status(&ts->t[i], &r.rec[0], running);
			if (!running && ctl_get_u64(&r.rec[0], "changes", 0))
				printf("  WARNING: unsent changes and no roamfs running: the "
				    "workstation was switched off before they reached the server\n");
		}
		if (running ? !all_sent(&r.rec[0]) : ctl_get_u64(&r.rec[0], "changes", 0) != 0)
			st = st == EXIT_DONE ? EXIT_PENDING : st;
		ctl_reply_free(&r);
	}
	if (json)
		puts("]");
	fflush(stdout);
	return st;
}

/* conflicts and set-aside: one line (or object) per entry. */
static int
cmd_list(struct targets *ts, const char *cmd)
{
	int st = EXIT_DONE, e, first = 1;
	struct ctl_reply r;
	size_t i, j;

	if (json)
		putchar('[');
	for (i = 0; i < ts->n; i++) {
		if ((e = call(&ts->t[i], cmd, &r, 0)) != 0) {
			st = e;
			continue;
		}
		for (j = 0; j < r.n; j++) {
			const struct ctl_record *c = &r.rec[j];
			const char *copy = ctl_get_str(c, "copy", "");

			if (json) {
				if (!first)
					putchar(',');
				json_record(c, ts->t[i].mountpoint ? ts->t[i].mountpoint :
				    ts->t[i].cache, -1);
			} else {
				printf("%llu  ", (unsigned long long)ctl_get_u64(c, "id", 0));
				print_time(ctl_get_i64(c, "when", 0));
				if (strcmp(cmd, "conflicts") == 0)
					printf("  %s  %s%s%s  (%s, workstation %s)\n",
					    ctl_get_str(c, "kind", "?"), ctl_get_str(c, "path", "?"),
					    *copy ? " -> " : "", copy, ctl_get_str(c, "why", ""),
					    ctl_get_str(c, "workstation", "?"));
				else
					printf("  %s %s%s%s: %s\n", ctl_get_str(c, "change", "?"),
					    ctl_get_str(c, "path", "?"),
					    *ctl_get_str(c, "path2", "") ? " -> " : "",
					    ctl_get_str(c, "path2", ""), ctl_get_str(c, "why", ""));
			}
			first = 0;
		}
		ctl_reply_free(&r);
	}
	if (json)
		puts("]");
	else if (first && st == EXIT_DONE)
		printf(strcmp(cmd, "conflicts") == 0 ? "no conflicts\n" :
		    "no change set aside\n");
	fflush(stdout);
	return st;
}

static int
cmd_simple(struct targets *ts, const char *cmd)
{
	struct ctl_reply r;
	int st = EXIT_DONE, e;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		if ((e = call(&ts->t[i], cmd, &r, 0)) != 0) {
			st = e;
			continue;
		}
		if (!json)
			printf("%s: %s\n", ts->t[i].mountpoint ? ts->t[i].mountpoint : ts->t[i].cache,
			    strcmp(cmd, "offline") == 0 ? "offline: no network use until roamctl online" :
			    strcmp(cmd, "online") == 0 ? "online again" : "flush started");
		ctl_reply_free(&r);
	}
	if (json)
		printf("{\"ok\":%s}\n", st == EXIT_DONE ? "true" : "false");
	return st;
}

/* The running roamfs whose mount holds the real path p, or NULL. */
static const struct target *
target_of(const struct targets *ts, const char *p, const char **rel)
{
	const struct target *t = NULL;
	size_t i, len, best = 0;

	/* The deepest mount holding p. */
	for (i = 0; i < ts->n; i++)
		if ((len = mounted_over(ts->t[i].cache, p)) > best) {
			best = len;
			t = &ts->t[i];
		}
	if (t)
		*rel = p + best + (p[best] == '/');
	return t;
}

/* evict PATH...: drop the cached contents of clean files now. */
static int
cmd_evict(char **paths, int n)
{
	struct targets ts = { 0 };
	struct find_ctx fc = { &ts, NULL, 0, NULL, 0, 0 };
	const struct target *t;
	const struct ctl_record *c;
	char real[PATH_MAX], *rel;
	const char *r;
	struct ctl_reply rep;
	int st = EXIT_DONE, i, e, first = 1;

	scan_all(find_one, &fc);
	if (json)
		putchar('[');
	for (i = 0; i < n; i++) {
		if (realpath(paths[i], real) == NULL) {
			fprintf(stderr, "roamctl: %s: %s\n", paths[i], strerror(errno));
			st = EXIT_PENDING;
			continue;
		}
		if ((t = target_of(&ts, real, &r)) == NULL) {
			fprintf(stderr, "roamctl: %s is not in a home mounted by a roamfs running for "
			    "you\n", paths[i]);
			st = EXIT_PENDING;
			continue;
		}
		rel = (char *)r;
		if ((e = call_args(t, "evict", &rel, 1, &rep, 0)) != 0) {
			st = e;
			continue;
		}
		c = rep.n ? &rep.rec[0] : NULL;
		if (c && ctl_get(c, "error")) {
			fprintf(stderr, "roamctl: %s: %s\n", paths[i], ctl_get_str(c, "error", ""));
			st = EXIT_PENDING;
		} else if (c && json) {
			if (!first)
				putchar(',');
			first = 0;
			json_record(c, t->mountpoint, 1);
		} else if (c) {
			printf("%s: dropped %llu cached file%s (", paths[i],
			    (unsigned long long)ctl_get_u64(c, "files", 0),
			    ctl_get_u64(c, "files", 0) == 1 ? "" : "s");
			print_bytes(ctl_get_u64(c, "bytes", 0));
			putchar(')');
			if (ctl_get_u64(c, "kept_files", 0))
				printf("; kept %llu with changes not on the server yet, open, pinned "
				    "or made here", (unsigned long long)ctl_get_u64(c, "kept_files", 0));
			putchar('\n');
		}
		ctl_reply_free(&rep);
	}
	if (json)
		printf("]\n");
	targets_free(&ts);
	return st;
}

/* ---- pins ---- */

/* The pin list of the home mounted on mp, read through the mount. */
static int
pins_read(const char *mp, struct pathlist *l)
{
	char path[PATH_MAX];
	int fd, r;

	snprintf(path, sizeof path, "%s/%s", mp, PATHLIST_PINS);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? pathlist_parse("", 0, l) : -errno;
	r = pathlist_read_fd(fd, l);
	close(fd);
	if (r == -ENOMEM)
		die_oom();
	return r;
}

/* Write the pin list of the home on mp (through a temporary file). */
static int
pins_write(const char *mp, const struct pathlist *l)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct buf b;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof path, "%s/.config", mp);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof path, "%s/%s", mp, PATHLIST_DIR);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof path, "%s/%s", mp, PATHLIST_PINS);
	snprintf(tmp, sizeof tmp, "%s/%s/.pins.%ld", mp, PATHLIST_DIR, (long)getpid());
	buf_init(&b, 0);
	if (pathlist_format(l, "# roamfs pin list: files and folders kept for offline use on every "
	    "workstation.\n# Change it with roamctl pin and unpin (roamctl(8)).\n", &b) < 0)
		die_oom();
	if ((f = fopen(tmp, "we")) == NULL)
		r = -errno;
	else {
		if (fwrite(b.data, 1, b.len, f) != b.len)
			r = -EIO;
		if (fclose(f) != 0 && r == 0)
			r = -errno;
		if (r == 0 && rename(tmp, path) < 0)
			r = -errno;
		if (r < 0)
			unlink(tmp);
	}
	buf_free(&b);
	return r;
}

/* The real path of p, or of its folder and its name when p is gone (unpin). */
static int
real_or_parent(const char *p, char *real)
{
	char dir[PATH_MAX], *slash;

	if (realpath(p, real))
		return 0;
	if (strlen(p) >= sizeof dir)
		return -ENAMETOOLONG;
	strcpy(dir, p);
	if ((slash = strrchr(dir, '/')) == NULL || slash[1] == '\0')
		return -errno;
	*slash = '\0';
	if (realpath(*dir ? dir : "/", real) == NULL ||
	    strlen(real) + strlen(slash + 1) + 2 > PATH_MAX)
		return -ENOENT;
	strcat(real, "/");
	strcat(real, slash + 1);
	return 0;
}

/* Pin or unpin one path of the home of t (rel: its path there). */
static int
pin_one(const struct target *t, const char *arg, const char *rel, int pin)
{
	struct pathlist l = { 0 }, one = { 0 };
	struct statfs sfs;
	const char *by;
	struct ctl_reply rep;
	size_t i;
	int r;

	if (!*rel) {
		fprintf(stderr, "roamctl: %s is the whole home: pin the folders to keep offline "
		    "instead\n", arg);
		return EXIT_PENDING;
	}
	/* The pin list is written through the mount: the mount point the
	 * cache records (which its user may write) must be a FUSE mount now,
	 * never a folder elsewhere. */
	if (statfs(t->mountpoint, &sfs) < 0 || sfs.f_type != FUSE_SUPER_MAGIC) {
		fprintf(stderr, "roamctl: %s is not a roamfs mount now%s%s: pin with the home "
		    "mounted, as its user\n", t->mountpoint, errno == EACCES ? " that you may "
		    "enter" : "", "");
		return EXIT_PENDING;
	}
	if ((r = pins_read(t->mountpoint, &l)) < 0) {
		fprintf(stderr, "roamctl: cannot read the pin list %s/%s: %s\n", t->mountpoint,
		    PATHLIST_PINS, strerror(-r));
		return EXIT_PENDING;
	}
	if (pin && (by = pathlist_covers(&l, rel)) != NULL) {
		printf("%s: already pinned%s%s\n", arg, strcmp(by, rel) ? " as part of " : "",
		    strcmp(by, rel) ? by : "");
		pathlist_free(&l);
		return EXIT_DONE;
	}
	if (pin) {
		/* What the new pin covers leaves the list. */
		if (pathlist_add(&one, rel) < 0)
			die_oom();
		for (i = l.n; i-- > 0;)
			if (pathlist_covers(&one, l.v[i]))
				pathlist_remove(&l, l.v[i]);
		pathlist_free(&one);
		if (pathlist_add(&l, rel) < 0)
			die_oom();
	} else if (pathlist_remove(&l, rel) != 1) {
		by = pathlist_covers(&l, rel);
		if (by)
			fprintf(stderr, "roamctl: %s is pinned as part of %s: unpin that folder\n",
			    arg, by);
		else
			fprintf(stderr, "roamctl: %s is not pinned (roamctl pins lists the pins)\n",
			    arg);
		pathlist_free(&l);
		return EXIT_PENDING;
	}
	r = pins_write(t->mountpoint, &l);
	pathlist_free(&l);
	if (r < 0) {
		fprintf(stderr, "roamctl: cannot write the pin list %s/%s: %s\n", t->mountpoint,
		    PATHLIST_PINS, strerror(-r));
		return EXIT_PENDING;
	}
	if (call(t, "prefetch", &rep, 1) == 0)
		ctl_reply_free(&rep);
	if (pin)
		printf("%s: pinned: fetched in the background and kept for offline use, on every "
		    "workstation (roamctl status shows the progress)\n", arg);
	else
		printf("%s: unpinned: its files may leave the cache when room is needed\n", arg);
	return EXIT_DONE;
}

/* pin PATH..., unpin PATH... */
static int
cmd_pin(char **paths, int n, int pin)
{
	struct targets ts = { 0 };
	struct find_ctx fc = { &ts, NULL, 0, NULL, 0, 0 };
	const struct target *t;
	char real[PATH_MAX];
	const char *rel;
	int st = EXIT_DONE, i, e;

	scan_all(find_one, &fc);
	for (i = 0; i < n; i++) {
		if ((pin ? (realpath(paths[i], real) ? 0 : -errno) :
		    real_or_parent(paths[i], real)) < 0) {
			fprintf(stderr, "roamctl: %s: %s\n", paths[i], strerror(errno));
			st = EXIT_PENDING;
			continue;
		}
		if ((t = target_of(&ts, real, &rel)) == NULL) {
			fprintf(stderr, "roamctl: %s is not in a home mounted by a roamfs running for "
			    "you\n", paths[i]);
			st = EXIT_PENDING;
			continue;
		}
		if ((e = pin_one(t, paths[i], rel, pin)) != EXIT_DONE)
			st = e;
	}
	targets_free(&ts);
	return st;
}

/* pins: each home's pin list, and how much of it is cached. */
static int
cmd_pins(struct targets *ts)
{
	const struct ctl_record *c;
	struct ctl_reply r;
	int st = EXIT_DONE, e, first = 1;
	size_t i, j;

	if (json)
		putchar('[');
	for (i = 0; i < ts->n; i++) {
		if ((e = call(&ts->t[i], "pins", &r, 0)) != 0) {
			st = e;
			continue;
		}
		if (!json)
			printf("%s:%s\n", ts->t[i].mountpoint ? ts->t[i].mountpoint : ts->t[i].cache,
			    r.n ? "" : " nothing pinned");
		for (j = 0; j < r.n; j++) {
			c = &r.rec[j];
			if (json) {
				if (!first)
					putchar(',');
				first = 0;
				json_record(c, ts->t[i].mountpoint, -1);
				continue;
			}
			printf("  %s: ", ctl_get_str(c, "path", ""));
			if (!ctl_get_u64(c, "found", 0)) {
				printf("not in the cache yet (fetched once the server is reachable)\n");
				continue;
			}
			printf("%llu of %llu files cached (",
			    (unsigned long long)ctl_get_u64(c, "cached_files", 0),
			    (unsigned long long)ctl_get_u64(c, "files", 0));
			print_bytes(ctl_get_u64(c, "cached_bytes", 0));
			fputs(" of ", stdout);
			print_bytes(ctl_get_u64(c, "bytes", 0));
			printf(")%s\n", ctl_get_u64(c, "cached_files", 0) == ctl_get_u64(c, "files", 0) ?
			    ": available offline" : "");
		}
		ctl_reply_free(&r);
	}
	if (json)
		printf("]\n");
	return st;
}

/* set-aside retry|discard ID: one home, one entry. */
static int
cmd_aside(struct targets *ts, const char *action, const char *id, int yes)
{
	const struct target *t = &ts->t[0];
	const char *home = t->mountpoint ? t->mountpoint : t->cache;
	char *args[1] = { (char *)id }, line[16];
	const char *change = NULL, *path = NULL;
	int discard = strcmp(action, "discard") == 0, e;
	struct ctl_reply r, list;
	size_t j;

	if (ts->n != 1) {
		fprintf(stderr, "roamctl: set-aside %s: give the one home the change belongs to "
		    "(mount point or cache directory)\n", action);
		return EXIT_USAGE;
	}
	/* What the number names, to say it (and to ask). */
	if ((e = call(t, "set-aside", &list, 0)) != 0)
		return e;
	for (j = 0; j < list.n; j++)
		if (strtoull(id, NULL, 10) == ctl_get_u64(&list.rec[j], "id", 0)) {
			change = ctl_get_str(&list.rec[j], "change", "?");
			path = ctl_get_str(&list.rec[j], "path", "?");
			break;
		}
	if (path == NULL) {
		fprintf(stderr, "roamctl: %s: no change set aside has the number %s: roamctl "
		    "set-aside lists them\n", home, id);
		ctl_reply_free(&list);
		return EXIT_PENDING;
	}
	if (discard && !yes) {
		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, "roamctl: set-aside discard drops the %s of %s for good; add "
			    "--yes to confirm\n", change, path);
			ctl_reply_free(&list);
			return EXIT_USAGE;
		}
		fprintf(stderr, "Drop the %s of %s for good? What it saved goes, and the server's "
		    "version stands. [y/N] ", change, path);
		if (fgets(line, sizeof line, stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')) {
			fprintf(stderr, "roamctl: nothing dropped\n");
			ctl_reply_free(&list);
			return EXIT_PENDING;
		}
	}
	if ((e = call_args(t, discard ? "set-aside-discard" : "set-aside-retry", args, 1, &r,
	    0)) != 0) {
		ctl_reply_free(&list);
		return e;
	}
	if (json)
		printf("{\"ok\":true}\n");
	else if (discard)
		printf("%s: the %s of %s is dropped; the server's version shows at the next "
		    "listing\n", home, change, path);
	else
		printf("%s: the %s of %s is sent again (roamctl flush --wait follows it)\n", home,
		    change, path);
	ctl_reply_free(&r);
	ctl_reply_free(&list);
	return EXIT_DONE;
}

/* ---- flush --wait ---- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one roamfs has left to send, as progress counts it. */
struct flush_state {
	int done;		/* all sent (or it exited with nothing left) */
	int gone;		/* it stopped answering */
	uint64_t changes, bytes;	/* left */
	uint64_t sent_changes, sent_bytes;	/* since the flush began */
	uint64_t base_changes, base_bytes;	/* its counters then */
	int based;
	uint64_t attempts;	/* the replayer's connection attempts when asked */
	uint64_t aside0, aside;	/* changes set aside when asked, and now */
};

/* Percent of the work done over all targets, never going back. */
static int
percent(struct flush_state *fl, size_t n, int *last)
{
	/* A change costs as much as 4 KiB of data, so that a flush of many
	 * small changes moves too. */
	double done = 0, left = 0;
	size_t i;
	int p;

	for (i = 0; i < n; i++) {
		done += (double)fl[i].sent_bytes + 4096.0 * (double)fl[i].sent_changes;
		if (!fl[i].done)
			left += (double)fl[i].bytes + 4096.0 * (double)fl[i].changes;
	}
	p = done + left > 0 ? (int)(100.0 * done / (done + left)) : 100;
	if (left > 0 && p > 99)
		p = 99;
	if (p < *last)
		p = *last;
	*last = p;
	return p;
}

/*
 * flush of a cache whose roamfs is not running (it exited after the
 * logout, say): done when its journal is empty, else say what waits.
 */
static int
flush_stopped(const struct target *t)
{
	struct ctl_reply o;
	uint64_t n;

	if (offline_status(t, &o) < 0)
		return EXIT_NONE;
	n = ctl_get_u64(&o.rec[0], "changes", 0);
	ctl_reply_free(&o);
	if (n == 0)
		return EXIT_DONE;
	fprintf(stderr, "roamctl: no roamfs is running on the cache %s (last mounted on %s): "
	    "%llu change(s) wait there and go at its next mount\n", t->cache,
	    t->mountpoint ? t->mountpoint : "?", (unsigned long long)n);
	return EXIT_OFFLINE;
}

static int
cmd_flush(struct targets *ts, int wait, double timeout, int progress)
{
	struct flush_state *fl = calloc(ts->n, sizeof *fl);
	long long start = now_ms();
	struct ctl_reply r;
	int st = EXIT_DONE, e, last = 0, pct, left_n;
	size_t i, busy;

	if (fl == NULL)
		die_oom();
	for (i = 0; i < ts->n; i++) {
		if ((e = call(&ts->t[i], "flush", &r, !is_running(ts->t[i].cache))) != 0) {
			fl[i].done = fl[i].gone = 1;
			if (e == EXIT_NONE && !is_running(ts->t[i].cache) &&
			    (e = flush_stopped(&ts->t[i])) == EXIT_DONE)
				continue;	/* it exited with everything sent */
			st = e;
			continue;
		}
		fl[i].attempts = ctl_get_u64(&r.rec[0], "replay_attempts", 0);
		fl[i].aside0 = fl[i].aside = ctl_get_u64(&r.rec[0], "set_aside", 0);
		ctl_reply_free(&r);
	}
	if (!wait) {
		free(fl);
		if (!json && st == EXIT_DONE)
			printf("flush started\n");
		return st;
	}
	if (progress)
		printf("# Sending your changes to the server...\n0\n");
	for (;;) {
		busy = 0;
		left_n = 0;
		for (i = 0; i < ts->n; i++) {
			const struct ctl_record *c;

			if (fl[i].done)
				continue;
			if ((e = call(&ts->t[i], "progress", &r, 1)) != 0) {
				struct ctl_reply o;

				/* Exited: its journal says whether all went. */
				fl[i].done = fl[i].gone = 1;
				if (offline_status(&ts->t[i], &o) == 0) {
					if (ctl_get_u64(&o.rec[0], "changes", 0)) {
						fprintf(stderr, "roamctl: roamfs of %s stopped with %llu "
						    "change(s) not sent; they stay in the cache %s and go at "
						    "the next mount\n", ts->t[i].mountpoint ?
						    ts->t[i].mountpoint : "?",
						    (unsigned long long)ctl_get_u64(&o.rec[0], "changes", 0),
						    ts->t[i].cache);
						st = EXIT_OFFLINE;
					}
					ctl_reply_free(&o);
				} else {
					st = EXIT_NONE;
				}
				continue;
			}
			c = &r.rec[0];
			if (!fl[i].based) {
				fl[i].base_changes = ctl_get_u64(c, "sent_changes", 0);
				fl[i].base_bytes = ctl_get_u64(c, "sent_bytes", 0) -
				    ctl_get_u64(c, "uploading_done", 0);
				fl[i].based = 1;
			}
			fl[i].sent_changes = ctl_get_u64(c, "sent_changes", 0) - fl[i].base_changes;
			fl[i].sent_bytes = ctl_get_u64(c, "sent_bytes", 0) - fl[i].base_bytes;
			fl[i].changes = ctl_get_u64(c, "changes", 0);
			fl[i].bytes = ctl_get_u64(c, "change_bytes", 0);
			fl[i].aside = ctl_get_u64(c, "set_aside", fl[i].aside);
			if (ctl_get_u64(c, "uploading_done", 0) < fl[i].bytes)
				fl[i].bytes -= ctl_get_u64(c, "uploading_done", 0);
			if (all_sent(c)) {
				fl[i].done = 1;
			} else if (strcmp(ctl_get_str(c, "connection", ""), "offline-by-request") == 0) {
				fprintf(stderr, "roamctl: %s is offline on request: %llu change(s) stay in "
				    "the cache; roamctl online sends them\n",
				    ts->t[i].mountpoint ? ts->t[i].mountpoint : ts->t[i].cache,
				    (unsigned long long)fl[i].changes);
				fl[i].done = 1;
				st = EXIT_OFFLINE;
			} else if (ctl_get_i64(c, "replay_offline_since", 0) &&
			    ctl_get_u64(c, "replay_last_failed", 0) &&
			    ctl_get_u64(c, "replay_attempts", 0) > fl[i].attempts) {
				/* It tried the server since we asked, and failed. */
				fprintf(stderr, "roamctl: %s: the server cannot be reached (%s); %llu "
				    "change(s) stay in the cache and go when it is back\n",
				    ts->t[i].mountpoint ? ts->t[i].mountpoint : ts->t[i].cache,
				    ctl_get_str(c, "connection_error", "offline"),
				    (unsigned long long)fl[i].changes);
				fl[i].done = 1;
				st = EXIT_OFFLINE;
			} else {
				busy++;
				left_n += (int)fl[i].changes;
			}
			ctl_reply_free(&r);
		}
		pct = percent(fl, ts->n, &last);
		if (progress) {
			printf("%d\n", pct);
			if (busy)
				printf("# Sending your changes to the server: %d left\n", left_n);
		}
		fflush(stdout);
		if (busy == 0)
			break;
		if (timeout > 0 && (double)(now_ms() - start) >= timeout * 1000) {
			fprintf(stderr, "roamctl: %d change(s) still on their way after %g seconds: they "
			    "stay in the cache and go on being sent while roamfs runs\n", left_n,
			    timeout);
			free(fl);
			return EXIT_TIMEOUT;
		}
		usleep(POLL_MS * 1000);
	}
	/* Refused for good while we waited: not on the server, though
	 * nothing is left to send. */
	for (i = 0; i < ts->n; i++) {
		if (fl[i].aside <= fl[i].aside0)
			continue;
		fprintf(stderr, "roamctl: %s: the server refused %llu change(s) for good; they are "
		    "set aside, their data kept in the cache: roamctl set-aside lists them\n",
		    ts->t[i].mountpoint ? ts->t[i].mountpoint : ts->t[i].cache,
		    (unsigned long long)(fl[i].aside - fl[i].aside0));
		if (st == EXIT_DONE)
			st = EXIT_PENDING;
	}
	if (progress && st == EXIT_PENDING)
		printf("100\n# Some changes were refused by the server: tell your teacher.\n");
	if (progress && st == EXIT_DONE)
		printf("100\n# All your changes are on the server.\n");
	else if (!json && st == EXIT_DONE)
		printf("all changes are on the server\n");
	fflush(stdout);
	free(fl);
	return st;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: roamctl [--json] [--config=FILE] [--cache-root=DIR] COMMAND "
	    "[MOUNTPOINT|CACHE...]\n"
	    "commands:\n"
	    "  status [--all]          what each roamfs is doing; --all (root): every cache\n"
	    "  flush [--wait] [--timeout=SECONDS] [--progress]\n"
	    "                          send the changes now; --wait until they are all sent\n"
	    "  conflicts               the conflicts roamfs met and what it kept\n"
	    "  set-aside               the changes the server refused\n"
	    "  set-aside retry ID      send that change again (the cause fixed on the server)\n"
	    "  set-aside discard [--yes] ID\n"
	    "                          drop it for good: the server's version stands\n"
	    "  offline, online         stop or resume all network use\n"
	    "  evict PATH...           drop the cached contents of clean files now (they\n"
	    "                          are fetched again when opened)\n"
	    "  pin PATH..., unpin PATH...\n"
	    "                          keep files and folders cached for offline use, on\n"
	    "                          every workstation (the list roams with the home)\n"
	    "  pins                    the pinned paths and how much of them is cached\n"
	    "  gc [--dry-run]          root: remove the caches of users not seen for\n"
	    "                          cache_expire days, trim those over their budgets\n"
	    "  prepare [USER]          root: make USER's cache under the cache root (the PAM\n"
	    "                          session runs it before pam_mount; USER: $PAM_USER)\n"
	    "  recover CACHE/locked-DATE-TIME\n"
	    "                          put back an encrypted cache kept when your password\n"
	    "                          changed (old and new password on standard input)\n"
	    "Without MOUNTPOINT or CACHE: every roamfs running for you.  See roamctl(8).\n");
}

/*
 * Read the site configuration, --config=FILE or the default file when it
 * exists, for the cache root unless --cache-root gave one.  0, or -1
 * after saying why the file cannot be used.
 */
static int
site_load(const char *config)
{
	char *cause = NULL;

	if (siteconf_load(config ? config : siteconf_default_path(), config != NULL, &site,
	    &cause) < 0) {
		fprintf(stderr, "roamctl: %s\n", cause ? cause : "out of memory");
		free(cause);
		return -1;
	}
	if (cache_root == NULL)
		cache_root = site.cache_root;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ "cache-root", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "progress", no_argument, NULL, 'p' },
		{ "yes", no_argument, NULL, 'y' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct targets ts = { 0 };
	const char *cmd;
	double timeout = 0;
	int all = 0, wait = 0, progress = 0, yes = 0, dry_run = 0, c, st;
	const char *action = NULL, *id = NULL, *config = NULL;
	char *end;

	signal(SIGPIPE, SIG_IGN);
	/* Names and messages users chose never drive the reader's terminal. */
	safeout_install();
	log_init("roamctl", 0, 0);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'c': config = optarg; break;
		case 'r': cache_root = optarg; break;
		case 'a': all = 1; break;
		case 'w': wait = 1; break;
		case 'p': progress = 1; break;
		case 'y': yes = 1; break;
		case 'n': dry_run = 1; break;
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || timeout <= 0) {
				fprintf(stderr, "roamctl: --timeout=%s: give a number of seconds "
				    "above 0\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_DONE;
		case 'V': printf("roamctl %s\n", PACKAGE_VERSION); return EXIT_DONE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (site_load(config) < 0)
		return EXIT_USAGE;
	cmd = argv[optind++];
	if (strcmp(cmd, "status") && strcmp(cmd, "flush") && strcmp(cmd, "conflicts") &&
	    strcmp(cmd, "set-aside") && strcmp(cmd, "offline") && strcmp(cmd, "online") &&
	    strcmp(cmd, "evict") && strcmp(cmd, "gc") && strcmp(cmd, "pin") &&
	    strcmp(cmd, "unpin") && strcmp(cmd, "pins") && strcmp(cmd, "prepare") &&
	    strcmp(cmd, "recover")) {
		fprintf(stderr, "roamctl: unknown command \"%s\"; see roamctl --help\n", cmd);
		return EXIT_USAGE;
	}
	if ((all && strcmp(cmd, "status")) || (dry_run && strcmp(cmd, "gc")) ||
	    ((wait || progress || timeout > 0) && strcmp(cmd, "flush"))) {
		fprintf(stderr, "roamctl: %s takes no such option; see roamctl --help\n", cmd);
		return EXIT_USAGE;
	}
	if ((progress || timeout > 0) && !wait) {
		fprintf(stderr, "roamctl: --progress and --timeout go with flush --wait\n");
		return EXIT_USAGE;
	}
	if (all && getuid() != 0) {
		fprintf(stderr, "roamctl: status --all reads every user's cache: run it as root\n");
		return EXIT_USAGE;
	}
	if (all && optind < argc) {
		fprintf(stderr, "roamctl: status --all takes no mount point\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "set-aside") == 0 && optind < argc &&
	    (strcmp(argv[optind], "retry") == 0 || strcmp(argv[optind], "discard") == 0)) {
		action = argv[optind++];
		id = optind < argc ? argv[optind++] : "";
		if (!*id || strspn(id, "0123456789") != strlen(id)) {
			fprintf(stderr, "roamctl: set-aside %s takes the number of an entry of roamctl "
			    "set-aside\n", action);
			return EXIT_USAGE;
		}
	}
	if (yes && (action == NULL || strcmp(action, "discard"))) {
		fprintf(stderr, "roamctl: --yes goes with set-aside discard\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "pin") == 0 || strcmp(cmd, "unpin") == 0) {
		if (optind >= argc) {
			fprintf(stderr, "roamctl: %s takes the files or folders to %s\n", cmd, cmd);
			return EXIT_USAGE;
		}
		return cmd_pin(argv + optind, argc - optind, cmd[0] == 'p');
	}
	if (strcmp(cmd, "evict") == 0) {
		if (optind >= argc) {
			fprintf(stderr, "roamctl: evict takes the files or folders to drop from the "
			    "cache\n");
			return EXIT_USAGE;
		}
		return cmd_evict(argv + optind, argc - optind);
	}
	if (strcmp(cmd, "recover") == 0) {
		if (argc - optind != 1) {
			fprintf(stderr, "roamctl: recover takes the folder roamfs kept, "
			    "CACHE/locked-DATE-TIME\n");
			return EXIT_USAGE;
		}
		return recover_run(argv[optind]);
	}
	if (strcmp(cmd, "prepare") == 0) {
		if (argc - optind > 1) {
			fprintf(stderr, "roamctl: prepare takes one user name\n");
			return EXIT_USAGE;
		}
		return prepare_run(cache_root, optind < argc ? argv[optind] : NULL);
	}
	if (strcmp(cmd, "gc") == 0) {
		if (optind < argc) {
			fprintf(stderr, "roamctl: gc takes no mount point: it looks at every cache "
			    "under the cache root\n");
			return EXIT_USAGE;
		}
		return gc_run(&site, cache_root, json, dry_run);
	}
	find_targets(&ts, argv + optind, argc - optind, all);
	if (strcmp(cmd, "status") == 0)
		st = cmd_status(&ts, all);
	else if (strcmp(cmd, "flush") == 0)
		st = cmd_flush(&ts, wait, timeout, progress);
	else if (action)
		st = cmd_aside(&ts, action, id, yes);
	else if (strcmp(cmd, "pins") == 0)
		st = cmd_pins(&ts);
	else if (strcmp(cmd, "conflicts") == 0 || strcmp(cmd, "set-aside") == 0)
		st = cmd_list(&ts, cmd);
	else
		st = cmd_simple(&ts, cmd);
	targets_free(&ts);
	return st;
}
