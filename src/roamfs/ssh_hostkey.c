/*
 * ssh_hostkey: verify the server's host key against known_hosts.
 *
 * Only a key already in known_hosts is accepted.  An unknown key and a
 * changed key are refused with one line giving the key's SHA256 fingerprint
 * and what to do; nothing is ever added to known_hosts here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "sftp_int.h"

#define GLOBAL_KNOWN_HOSTS "/etc/ssh/ssh_known_hosts"

/* The user known_hosts file in use, for messages (malloc'd). */
static char *
hostkey_user_file(const struct sftp_opts *o)
{
	const char *home = getenv("HOME");
	char *p;

	if (o->known_hosts)
		p = strdup(o->known_hosts);
	else if (asprintf(&p, "%s/.ssh/known_hosts", home ? home : "~") < 0)
		p = NULL;
	if (p == NULL)
		fatal("out of memory");
	return p;
}

/* Whether the host field of a known_hosts line lists name (plain names only). */
static int
hostkey_line_names(const char *line, const char *name)
{
	size_t field = strcspn(line, " \t"), n = strlen(name);
	const char *p = line, *end = line + field;

	while (p < end) {
		size_t len = strcspn(p, ",");

		if (p + len > end)
			len = (size_t)(end - p);
		if (len == n && memcmp(p, name, n) == 0)
			return 1;
		p += len + 1;
	}
	return 0;
}

/* Line number of the first known_hosts line in file for name, or 0. */
static unsigned
hostkey_find_line(const char *file, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned no = 0, found = 0;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		no++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '#' && hostkey_line_names(line, name))
			found = no;
	}
	free(line);
	fclose(f);
	return found;
}

/* The host as known_hosts spells it: "host" or "[host]:port". */
static void
hostkey_name(const struct sftp_opts *o, char *out, size_t n)
{
	if (o->port && o->port != 22)
		snprintf(out, n, "[%s]:%u", o->host, o->port);
	else
		snprintf(out, n, "%s", o->host);
}

/* Cause for a key that differs from the one known. */
static void
hostkey_changed(const struct sftp_opts *o, const char *key,
    char **cause)
{
	char *user = hostkey_user_file(o), name[300];
	const char *file = user;
	unsigned line = 0;

	hostkey_name(o, name, sizeof name);
	if ((line = hostkey_find_line(user, name)) == 0 &&
	    (line = hostkey_find_line(GLOBAL_KNOWN_HOSTS, name)) != 0)
		file = GLOBAL_KNOWN_HOSTS;
	sftp_cause(cause, "the host key of %s has CHANGED (server now offers %s); "
	    "this may be an attack (someone intercepting the connection); refusing "
	    "to connect; if the server's key really changed, verify the new key with "
	    "its admin, then fix %s%s%.0u (ssh-keygen -R '%s' -f %s) and add the new key",
	    name, key, file, line ? " line " : "", line, name, file);
	free(user);
}

/*
 * libssh reads a known_hosts file it cannot open as an empty one.  A file
 * that exists but cannot be read is named instead of the key: adding the
 * key to it would not help.  Returns 1 when it set the cause.
 */
static int
hostkey_file_unreadable(const char *file, char **cause)
{
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* a FIFO must not block */

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		sftp_cause(cause, "cannot read the known hosts file %s: %s; fix its permissions "
		    "or name another with -o UserKnownHostsFile=FILE", file, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		sftp_cause(cause, "the known hosts file %s is not a regular file: name a file "
		    "with -o UserKnownHostsFile=FILE", file);
		return 1;
	}
	close(fd);
	return 0;
}

/* Cause for a key not in known_hosts. */
static void
hostkey_unknown(const struct sftp_opts *o, const char *key, char **cause)
{
	char *user = hostkey_user_file(o), name[300];

	if (hostkey_file_unreadable(user, cause)) {
		free(user);
		return;
	}
	hostkey_name(o, name, sizeof name);
	sftp_cause(cause, "the host key of %s is unknown (%s); refusing to "
	    "connect; verify this fingerprint with the server's admin, then run: "
	    "ssh-keyscan -p %u %s >> %s (or connect once with ssh)",
	    name, key, o->port ? o->port : 22, o->host, user);
	free(user);
}

/* "ssh-ed25519 SHA256:..." for the server key, malloc'd, or NULL. */
static char *
hostkey_describe(ssh_session ss)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, *out = NULL;

	if (ssh_get_server_publickey(ss, &key) != SSH_OK)
		return NULL;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0 &&
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL &&
	    asprintf(&out, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), fp) < 0)
		out = NULL;
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return out;
}

int
ssh_hostkey_check(ssh_session ss, const struct sftp_opts *o, char **cause)
{
	enum ssh_known_hosts_e st = ssh_session_is_known_server(ss);
	char *key;

	if (st == SSH_KNOWN_HOSTS_OK)
		return 0;
	if ((key = hostkey_describe(ss)) == NULL) {
		sftp_cause(cause, "cannot read the host key of %s: %s", o->host,
		    ssh_get_error(ss));
		return -EPERM;
	}
	switch (st) {
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		hostkey_changed(o, key, cause);
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		hostkey_unknown(o, key, cause);
		break;
	default:
		sftp_cause(cause, "cannot check the host key of %s (%s): %s; check "
		    "that the known_hosts file is readable", o->host, key,
		    ssh_get_error(ss));
		break;
	}
	free(key);
	return -EPERM;
}
