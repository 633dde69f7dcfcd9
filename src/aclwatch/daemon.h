/*
 * daemon: "aclwatch run": load, scan, then react to events and signals.
 */
#ifndef ACLWATCH_DAEMON_H
#define ACLWATCH_DAEMON_H

struct daemon_opts {
	const char *conf_file;
	int foreground;
	int debug;
	int backend;		/* -1: as configured, else CONF_BACKEND_* */
};

/* Run until SIGTERM or SIGINT; returns the process exit status. */
int daemon_run(const struct daemon_opts *o);

#endif
