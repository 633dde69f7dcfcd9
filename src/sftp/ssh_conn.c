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
#include <time.h>
#include <unistd.h>

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

/*
 * Whether a failed ssh_connect was a handshake the server cut after taking
 * the TCP connection: sshd does that to the connections past MaxStartups
 * (a class logging in at once), and the next try is likely to get in.  A
 * refused or unreachable server, a timeout or a name that does not
 * resolve is not tried again: offline is decided at once.
 */
static int
conn_dropped(const char *err)
{
	return err && (strstr(err, "disconnected") || strstr(err, "reset by peer") ||
	    strstr(err, "closed") || strstr(err, "Broken pipe"));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random pause of up to max_ms, at least half of it. */
static void
conn_pause(unsigned *seed, long max_ms)
{
	long ms = max_ms / 2 + (long)(rand_r(seed) % (unsigned)(max_ms / 2 + 1));
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
ssh_conn_open(const struct sftp_opts *o, ssh_session *out, char **cause)
{
	struct sftp_files *own = NULL;
	const struct sftp_files *f = o->files;
	long long give_up = now_ms() + (long long)o->retry_dropped * 1000;
	unsigned seed = (unsigned)getpid() ^ (unsigned)now_ms();
	long pause = SSH_CONN_PAUSE_MS;
	int dropped = 0;
	ssh_session ss;
	int r;

	if (f == NULL) {
		if ((r = sftp_files_load(o, NULL, &own, cause)) < 0)
			return r;
		f = own;
	}
	for (;;) {
		if ((ss = ssh_new()) == NULL)
			fatal("out of memory");
		if ((r = conn_options(ss, o, f, cause)) < 0)
			goto fail;
		if (ssh_connect(ss) == SSH_OK)
			break;
		if (conn_dropped(ssh_get_error(ss)) && now_ms() + pause < give_up) {
			/* Jittered, so that a class that was dropped together
			 * does not come back together. */
			dropped++;
			ssh_free(ss);
			conn_pause(&seed, pause);
			pause = pause * 2 > SSH_CONN_PAUSE_MAX_MS ? SSH_CONN_PAUSE_MAX_MS : pause * 2;
			continue;
		}
		sftp_cause(cause, "cannot connect to %s port %u: %s%s; check the "
		    "server name and port, and that the server is up and reachable%s",
		    o->host, o->port ? o->port : 22, ssh_get_error(ss),
		    dropped ? " (the server cut the handshake each time)" : "",
		    dropped ? ", and that its MaxStartups setting admits a class logging in "
		    "at once" : "");
		r = -EHOSTUNREACH;
		goto fail;
	}
	if (dropped)
		log_info("%s cut the SSH handshake %d time%s before letting it in (sshd's "
		    "MaxStartups: many logins at once)", o->host, dropped, dropped == 1 ? "" : "s");
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
