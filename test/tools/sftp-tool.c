/*
 * sftp-tool: a command line over the SFTP client (sftp.h) for the tests.
 *
 *   sftp-tool [-p PORT] [-i KEY] [-k KNOWN_HOSTS] [-g GLOBAL_KNOWN_HOSTS] [--password-stdin]
 *             [--stats] [--fsync] [-t SECONDS] [-v] [user@]host COMMAND ARGS...
 *
 * Errors print "sftp-tool: COMMAND ARG: ENAME (text)" on stderr and exit 1;
 * a failed connection prints its cause and exits 2.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "sftp/sftp.h"

static int opt_fsync;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sftp-tool [-p PORT] [-i KEY] [-k KNOWN_HOSTS] [-g GLOBAL_KNOWN_HOSTS] [--password-stdin]\n"
	    "                 [--stats] [--fsync] [-t SECONDS] [-v] [user@]host COMMAND ARGS...\n"
	    "commands: ls PATH | stat PATH | lstat PATH | get REMOTE LOCAL | put LOCAL REMOTE\n"
	    "          mkdir PATH [MODE] | rmdir PATH | rm PATH | mv FROM TO | ln FROM TO\n"
	    "          symlink TARGET LINK | readlink PATH | statvfs PATH | realpath PATH\n"
	    "          chmod MODE PATH | truncate PATH SIZE | utime PATH ATIME MTIME\n"
	    "          lutime PATH ATIME MTIME (lsetstat: a link's own times)\n"
	    "          putmany LOCALDIR REMOTEDIR [LOCALDIR REMOTEDIR...]\n"
	    "          putseq LOCALDIR REMOTEDIR [LOCALDIR REMOTEDIR...]\n"
	    "          putnew LOCALDIR REMOTEDIR [LOCALDIR REMOTEDIR...]\n"
	    "putmany uploads every regular file of LOCALDIR to REMOTEDIR/NAME via\n"
	    "REMOTEDIR/.tmp.NAME with its mode and mtime, in one batch (sftp_put_many);\n"
	    "putseq does the same one file and one step at a time (for comparison);\n"
	    "putnew is putmany that replaces nothing: a name the server has already\n"
	    "is kept (\"kept PATH\"), and its .tmp.NAME left.\n");
	exit(2);
}

/* Print attributes as key=value pairs. */
static void
print_attr(const struct sftp_attr *a)
{
	printf("mode=%o size=%llu uid=%u gid=%u atime=%u mtime=%u\n", a->mode,
	    (unsigned long long)a->size, a->uid, a->gid, a->atime, a->mtime);
}

/* One line per directory entry: mode, size, name. */
static int
print_dirent(void *arg, const char *name, const struct sftp_attr *a)
{
	printf("%o %llu %s\n", a->mode, (unsigned long long)a->size, name);
	return 0;
}

/* Read the password from the first line of stdin. */
static char *
read_password(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((n = getline(&line, &cap, stdin)) < 0)
		fatal("--password-stdin: no password on standard input");
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* Upload LOCAL to REMOTE with the local file's permission bits. */
static int
cmd_put(struct sftp *s, const char *local, const char *remote)
{
	struct stat st;
	uint64_t n;
	int fd, r;

	if ((fd = open(local, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		return -errno;
	r = sftp_upload(s, fd, remote, st.st_mode & 07777, opt_fsync, NULL, NULL, &n);
	close(fd);
	return r;
}

/* Download REMOTE to LOCAL. */
static int
cmd_get(struct sftp *s, const char *remote, const char *local)
{
	int fd, r;

	if ((fd = open(local, O_WRONLY | O_CREAT, 0644)) < 0)
		return -errno;
	r = sftp_download(s, remote, fd, NULL, NULL, NULL);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* The files of putmany and putseq. */
struct put_list {
	struct sftp_put *v;
	size_t n, cap;
};

/* Add every regular file of local to l, bound for remote/NAME. */
static int
put_list_dir(struct put_list *l, const char *local, const char *remote)
{
	struct sftp_put *p;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	if ((d = opendir(local)) == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if ((fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW)) < 0) {
			closedir(d);
			return -errno;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 64;
			if ((l->v = reallocarray(l->v, l->cap, sizeof *l->v)) == NULL)
				fatal("out of memory");
		}
		p = &l->v[l->n++];
		*p = (struct sftp_put){ .fd = fd, .mode = st.st_mode & 07777,
		    .mtime = (uint32_t)st.st_mtime };
		if (asprintf((char **)&p->tmp, "%s/.tmp.%s", remote, e->d_name) < 0 ||
		    asprintf((char **)&p->path, "%s/%s", remote, e->d_name) < 0)
			fatal("out of memory");
	}
	closedir(d);
	return 0;
}

/* Close and free the files of l. */
static void
put_list_free(struct put_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		close(l->v[i].fd);
		free((char *)l->v[i].tmp);
		free((char *)l->v[i].path);
	}
	free(l->v);
}

/* Collect the LOCALDIR REMOTEDIR pairs of av into l (file limit raised). */
static int
put_list_args(struct put_list *l, char **av, int ac)
{
	struct rlimit rl;
	int i, r;

	if (ac < 2 || ac % 2)
		usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < ac; i += 2)
		if ((r = put_list_dir(l, av[i], av[i + 1])) < 0)
			return r;
	return 0;
}

/* Report each failed file on stderr and a summary on stdout; 1 if any failed. */
static int
put_list_report(const struct put_list *l, const char *cmd)
{
	uint64_t bytes = 0;
	size_t i, failed = 0, kept = 0;

	for (i = 0; i < l->n; i++) {
		bytes += l->v[i].sent;
		if (l->v[i].kept) {
			kept++;
			printf("kept %s (found %llu bytes)\n", l->v[i].path,
			    (unsigned long long)l->v[i].found.size);
		}
		if (l->v[i].err == 0)
			continue;
		failed++;
		fprintf(stderr, "sftp-tool: %s %s: %s (%s)\n", cmd, l->v[i].path,
		    strerrorname_np(-l->v[i].err), strerror(-l->v[i].err));
	}
	printf("%s: files=%zu failed=%zu bytes=%llu", cmd, l->n, failed,
	    (unsigned long long)bytes);
	printf(strcmp(cmd, "putnew") == 0 ? " kept=%zu\n" : "\n", kept);
	return failed ? 1 : 0;
}

/* One file as the replayer did it before batches: upload, setstat, rename. */
static int
put_one(struct sftp *s, struct sftp_put *p)
{
	struct sftp_attr a = { .flags = SFTP_ATTR_PERMISSIONS | SFTP_ATTR_ACMODTIME,
	    .mode = p->mode, .atime = p->mtime, .mtime = p->mtime };
	int r;

	if ((r = sftp_upload(s, p->fd, p->tmp, p->mode, opt_fsync, NULL, NULL, &p->sent)) < 0 ||
	    (r = sftp_setstat(s, p->tmp, &a)) < 0 || (r = sftp_rename(s, p->tmp, p->path)) < 0)
		return r;
	return 0;
}

/* putmany (one batch) or putseq (one file and one step at a time). */
static int
cmd_putmany(struct sftp *s, const char *cmd, char **av, int ac)
{
	struct put_list l = { 0 };
	size_t i;
	int r;

	if ((r = put_list_args(&l, av, ac)) == 0) {
		if (strcmp(cmd, "putnew") == 0)
			for (i = 0; i < l.n; i++)
				l.v[i].check = l.v[i].expect_absent = 1;
		if (strcmp(cmd, "putmany") == 0 || strcmp(cmd, "putnew") == 0) {
			r = sftp_put_many(s, l.v, l.n, opt_fsync);
		} else {
			for (i = 0; i < l.n && r != -ENOTCONN; i++)
				l.v[i].err = r = put_one(s, &l.v[i]);
			r = r == -ENOTCONN ? r : 0;
		}
	}
	if (r == 0)
		r = put_list_report(&l, cmd);
	put_list_free(&l);
	return r;
}

/* Print one NUL-free string result and free it. */
static int
print_str(int r, char **p)
{
	if (r == 0) {
		printf("%s\n", *p);
		free(*p);
	}
	return r;
}

/* setstat commands: chmod, truncate, utime, and lutime (lsetstat). */
static int
cmd_setstat(struct sftp *s, const char *cmd, char **av, int ac)
{
	struct sftp_attr a = { 0 };
	const char *path;

	if (strcmp(cmd, "chmod") == 0 && ac == 2) {
		a.flags = SFTP_ATTR_PERMISSIONS;
		a.mode = (uint32_t)strtoul(av[0], NULL, 8);
		path = av[1];
	} else if (strcmp(cmd, "truncate") == 0 && ac == 2) {
		a.flags = SFTP_ATTR_SIZE;
		a.size = strtoull(av[1], NULL, 10);
		path = av[0];
	} else if ((strcmp(cmd, "utime") == 0 || strcmp(cmd, "lutime") == 0) && ac == 3) {
		a.flags = SFTP_ATTR_ACMODTIME;
		a.atime = (uint32_t)strtoul(av[1], NULL, 10);
		a.mtime = (uint32_t)strtoul(av[2], NULL, 10);
		path = av[0];
	} else {
		usage();
	}
	return cmd[0] == 'l' ? sftp_lsetstat(s, path, &a) : sftp_setstat(s, path, &a);
}

/* Run one command; returns 0 or -errno. */
static int
run(struct sftp *s, const char *cmd, char **av, int ac)
{
	struct sftp_attr a;
	struct statvfs sv;
	char *p = NULL;
	int r;

	if (strcmp(cmd, "putmany") == 0 || strcmp(cmd, "putseq") == 0 ||
	    strcmp(cmd, "putnew") == 0)
		return cmd_putmany(s, cmd, av, ac);
#define IS(name, n) (strcmp(cmd, name) == 0 && ac == (n))
	if (IS("ls", 1))
		return sftp_readdir(s, av[0], print_dirent, NULL);
	if (IS("stat", 1) || IS("lstat", 1)) {
		r = cmd[0] == 's' ? sftp_stat(s, av[0], &a) : sftp_lstat(s, av[0], &a);
		if (r == 0)
			print_attr(&a);
		return r;
	}
	if (IS("get", 2))
		return cmd_get(s, av[0], av[1]);
	if (IS("put", 2))
		return cmd_put(s, av[0], av[1]);
	if (IS("mkdir", 1) || IS("mkdir", 2))
		return sftp_mkdir(s, av[0], ac == 2 ? (uint32_t)strtoul(av[1], NULL, 8) : 0755);
	if (IS("rmdir", 1))
		return sftp_rmdir(s, av[0]);
	if (IS("rm", 1))
		return sftp_remove(s, av[0]);
	if (IS("mv", 2))
		return sftp_rename(s, av[0], av[1]);
	if (IS("ln", 2))
		return sftp_link(s, av[0], av[1]);
	if (IS("symlink", 2))
		return sftp_symlink(s, av[0], av[1]);
	if (IS("readlink", 1))
		return print_str(sftp_readlink(s, av[0], &p), &p);
	if (IS("realpath", 1))
		return print_str(sftp_realpath(s, av[0], &p), &p);
	if (IS("statvfs", 1)) {
		if ((r = sftp_statvfs(s, av[0], &sv)) == 0)
			printf("bsize=%lu frsize=%lu blocks=%llu bfree=%llu bavail=%llu "
			    "files=%llu ffree=%llu namemax=%lu flag=%lu\n", sv.f_bsize,
			    sv.f_frsize, (unsigned long long)sv.f_blocks,
			    (unsigned long long)sv.f_bfree, (unsigned long long)sv.f_bavail,
			    (unsigned long long)sv.f_files, (unsigned long long)sv.f_ffree,
			    sv.f_namemax, sv.f_flag);
		return r;
	}
#undef IS
	return cmd_setstat(s, cmd, av, ac);
}

/* Print the request counters. */
static void
print_stats(const struct sftp *s)
{
	struct sftp_stats st;

	sftp_get_stats(s, &st);
	printf("stats: requests=%llu open=%llu read=%llu write=%llu stat=%llu "
	    "opendir=%llu readdir=%llu bytes_up=%llu bytes_down=%llu max_in_flight=%llu "
	    "close=%llu setstat=%llu extended=%llu remove=%llu\n",
	    (unsigned long long)st.requests, (unsigned long long)st.open,
	    (unsigned long long)st.read, (unsigned long long)st.write,
	    (unsigned long long)st.stat, (unsigned long long)st.opendir,
	    (unsigned long long)st.readdir, (unsigned long long)st.bytes_up,
	    (unsigned long long)st.bytes_down, (unsigned long long)st.max_in_flight,
	    (unsigned long long)st.close, (unsigned long long)st.setstat,
	    (unsigned long long)st.extended, (unsigned long long)st.remove);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "password-stdin", no_argument, NULL, 'P' },
		{ "stats", no_argument, NULL, 'S' },
		{ "fsync", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct sftp_opts o = { 0 };
	struct sftp *s;
	char *cause = NULL, *at, *password = NULL;
	int c, r, stats = 0;

	log_init("sftp-tool", 0, 0);
	while ((c = getopt_long(argc, argv, "p:i:k:g:t:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.port = (unsigned)atoi(optarg); break;
		case 'i': o.identity_file = optarg; break;
		case 'k': o.known_hosts = optarg; break;
		case 'g': o.global_known_hosts = optarg; break;
		case 't': o.timeout = atoi(optarg); break;
		case 'v': o.verbose++; log_init("sftp-tool", 0, 1); break;
		case 'P': password = read_password(); break;
		case 'S': stats = 1; break;
		case 'F': opt_fsync = 1; break;
		default: usage();
		}
	}
	if (argc - optind < 2)
		usage();
	o.host = argv[optind];
	if ((at = strrchr(argv[optind], '@')) != NULL) {
		*at = '\0';
		o.user = argv[optind];
		o.host = at + 1;
	}
	o.password = password;
	o.verbose = o.verbose > 1 ? o.verbose - 1 : 0;
	r = sftp_connect(&o, &s, &cause);
	if (password)
		explicit_bzero(password, strlen(password));
	if (r < 0) {
		fprintf(stderr, "sftp-tool: connect: %s: %s\n", strerrorname_np(-r),
		    cause ? cause : strerror(-r));
		free(cause);
		free(password);
		return 2;
	}
	r = run(s, argv[optind + 1], argv + optind + 2, argc - optind - 2);
	if (r < 0)	/* r > 0: the command has said what failed */
		fprintf(stderr, "sftp-tool: %s %s: %s (%s)\n", argv[optind + 1],
		    argc - optind > 2 ? argv[optind + 2] : "",
		    strerrorname_np(-r), strerror(-r));
	if (stats)
		print_stats(s);
	sftp_close(s);
	free(password);
	free(cause);
	return r ? 1 : 0;
}
