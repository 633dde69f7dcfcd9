/*
 * main: the aclwatch command line: run, check, repair, explain.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"
#include "cmd.h"
#include "conf.h"
#include "daemon.h"

#define DEFAULT_CONF "/etc/aclwatch.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: aclwatch run [-c FILE] [-f] [-d] [-b auto|fanotify|inotify]\n"
	    "       aclwatch check [-c FILE] [--json] PATH...\n"
	    "       aclwatch repair [-c FILE] PATH...\n"
	    "       aclwatch explain [-c FILE] PATH\n"
	    "Keeps the ACLs of group shares as configured in %s (see aclwatch(8)).\n",
	    DEFAULT_CONF);
}

/* Parse a backend name; -1 if unknown. */
static int
backend_arg(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return CONF_BACKEND_AUTO;
	if (strcmp(s, "fanotify") == 0)
		return CONF_BACKEND_FANOTIFY;
	if (strcmp(s, "inotify") == 0)
		return CONF_BACKEND_INOTIFY;
	return -1;
}

/* Options shared by the subcommands. */
struct args {
	const char *conf;
	int foreground, debug, json, backend;
};

/* Parse options after the subcommand; returns optind or -1 on error. */
static int
parse_opts(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:fdb:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->conf = optarg; break;
		case 'f': a->foreground = 1; break;
		case 'd': a->debug = a->foreground = 1; break;
		case 'j': a->json = 1; break;
		case 'b':
			if ((a->backend = backend_arg(optarg)) < 0) {
				fprintf(stderr, "aclwatch: unknown backend '%s': use auto, fanotify or inotify\n", optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return optind;
}

/* The admin commands: load the configuration, then check/repair/explain. */
static int
admin(const char *cmd, struct args *a, int nargs, char **args)
{
	struct conf *c;
	char *err = NULL;
	int status;

	if (nargs < 1 || (strcmp(cmd, "explain") == 0 && nargs != 1)) {
		usage(stderr);
		return 2;
	}
	if (conf_load(a->conf, &c, &err) < 0) {
		log_err("%s", err);
		free(err);
		return 2;
	}
	if (strcmp(cmd, "explain") == 0)
		status = cmd_explain(c, a->conf, args[0]);
	else
		status = cmd_check(c, a->conf, args, nargs, strcmp(cmd, "repair") == 0, a->json);
	conf_free(c);
	return status;
}

int
main(int argc, char **argv)
{
	struct args a = { .conf = DEFAULT_CONF, .backend = -1 };
	char abs[PATH_MAX];
	const char *cmd;
	int first;

	log_init("aclwatch", 0, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if ((first = parse_opts(argc - 1, argv + 1, &a)) < 0)
		return 2;
	if (strcmp(cmd, "run") == 0) {
		struct daemon_opts o = { .conf_file = a.conf, .foreground = a.foreground,
		    .debug = a.debug, .backend = a.backend };

		if (first != argc - 1) {
			usage(stderr);
			return 2;
		}
		/* The daemon changes directory; keep the file reachable for reloads. */
		if (realpath(a.conf, abs))
			o.conf_file = abs;
		return daemon_run(&o);
	}
	if (strcmp(cmd, "check") == 0 || strcmp(cmd, "repair") == 0 || strcmp(cmd, "explain") == 0)
		return admin(cmd, &a, argc - 1 - first, argv + 1 + first);
	fprintf(stderr, "aclwatch: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
