/*
 * ssh_conn: open an SSH session with libssh: options, TCP connect with a
 * timeout, then the host key check and authentication.
 *
 * libssh's ssh_config processing is switched off (see sftp.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"
#include "sftp_int.h"

/* Set the libssh options from o; returns 0 or -EINVAL with a cause. */
static int
conn_options(ssh_session ss, const struct sftp_opts *o, const struct sftp_files *f,
    char **cause)
{
	char name[300], algos[256];
	long timeout = o->timeout > 0 ? o->timeout : 10;
	unsigned port = o->port ? o->port : 22;
	int verbosity = o->verbose, no = 0, yes = 1;

	if (o->host == NULL || *o->host == '\0') {
		sftp_cause(cause, "no server host name given");
		return -EINVAL;
	}
	ssh_files_host_name(o, name, sizeof name);
	if (ssh_options_set(ss, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(ss, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
	    ssh_options_set(ss, SSH_OPTIONS_HOST, o->host) < 0 ||
	    ssh_options_set(ss, SSH_OPTIONS_PORT, &port) < 0 ||
	    ssh_options_set(ss, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(ss, SSH_OPTIONS_NODELAY, &yes) < 0 ||
	    (o->user && ssh_options_set(ss, SSH_OPTIONS_USER, o->user) < 0) ||
	    /* libssh reads no file: the known hosts are in f (ssh_files.c). */
	    ssh_options_set(ss, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") < 0 ||
	    ssh_options_set(ss, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0 ||
	    (ssh_files_hostkeys(f, name, algos, sizeof algos) &&
	     ssh_options_set(ss, SSH_OPTIONS_HOSTKEYS, algos) < 0)) {
		sftp_cause(cause, "bad SSH option for %s: %s", o->host,
		    ssh_get_error(ss));
		return -EINVAL;
	}
	return 0;
}

int
ssh_conn_open(const struct sftp_opts *o, ssh_session *out, char **cause)
{
	struct sftp_files *own = NULL;
	const struct sftp_files *f = o->files;
	ssh_session ss;
	int r;

	if (f == NULL) {
		if ((r = sftp_files_load(o, NULL, &own, cause)) < 0)
			return r;
		f = own;
	}
	if ((ss = ssh_new()) == NULL)
		fatal("out of memory");
	if ((r = conn_options(ss, o, f, cause)) < 0)
		goto fail;
	if (ssh_connect(ss) != SSH_OK) {
		sftp_cause(cause, "cannot connect to %s port %u: %s; check the "
		    "server name and port, and that the server is up and reachable",
		    o->host, o->port ? o->port : 22, ssh_get_error(ss));
		r = -EHOSTUNREACH;
		goto fail;
	}
	if ((r = ssh_hostkey_check(ss, o, f, cause)) < 0 ||
	    (r = ssh_auth_login(ss, o, f, cause)) < 0) {
		ssh_disconnect(ss);
		goto fail;
	}
	sftp_files_free(own);
	*out = ss;
	return 0;
fail:
	sftp_files_free(own);
	ssh_free(ss);
	return r;
}
