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

/* Cause for a key that differs from the one known at line l. */
static void
hostkey_changed(const char *name, const char *key, const struct kh_line *l, char **cause)
{
	sftp_cause(cause, "the host key of %s has CHANGED (server now offers %s); "
	    "this may be an attack (someone intercepting the connection); refusing "
	    "to connect; if the server's key really changed, verify the new key with "
	    "its admin, then fix %s line %u (ssh-keygen -R '%s' -f %s) and add the new key",
	    name, key, l->file, l->no, name, l->file);
}

/* Cause for a key not in the known hosts files roamfs reads. */
static void
hostkey_unknown(const struct sftp_opts *o, const struct sftp_files *f, const char *name,
    const char *key, char **cause)
{
	const char *file = f->user_kh ? f->user_kh : f->global_kh;

	if (f->kh_problem) {
		/* A file that exists but cannot be read is named, not the key:
		 * adding the key to it would not help. */
		sftp_cause(cause, "%s", f->kh_problem);
		return;
	}
	if (file == NULL) {
		sftp_cause(cause, "the host key of %s is unknown (%s) and no known hosts file "
		    "can be read; refusing to connect; give one with -o UserKnownHostsFile=FILE",
		    name, key);
		return;
	}
	sftp_cause(cause, "the host key of %s is unknown (%s); refusing to "
	    "connect; verify this fingerprint with the server's admin, then run: "
	    "ssh-keyscan -p %u %s >> %s%s", name, key, o->port ? o->port : 22, o->host,
	    file, f->user_kh && f->user_default ? " (or connect once with ssh)" : "");
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
ssh_hostkey_check(ssh_session ss, const struct sftp_opts *o, const struct sftp_files *f,
    char **cause)
{
	const struct kh_line *changed = NULL, *other = NULL;
	ssh_key server = NULL, known;
	char name[300], *key;
	size_t i;
	int same;

	if (ssh_get_server_publickey(ss, &server) != SSH_OK || (key = hostkey_describe(ss)) == NULL) {
		ssh_key_free(server);
		sftp_cause(cause, "cannot read the host key of %s: %s", o->host,
		    ssh_get_error(ss));
		return -EPERM;
	}
	ssh_files_host_name(o, name, sizeof name);
	for (i = 0; i < f->nlines; i++) {
		if (!ssh_files_match(&f->lines[i], name, &known))
			continue;
		same = ssh_key_cmp(server, known, SSH_KEY_CMP_PUBLIC) == 0;
		if (!same && ssh_key_type(server) == ssh_key_type(known) && changed == NULL)
			changed = &f->lines[i];
		else if (!same && other == NULL)
			other = &f->lines[i];
		ssh_key_free(known);
		if (same) {
			ssh_key_free(server);
			free(key);
			return 0;
		}
	}
	ssh_key_free(server);
	if (changed || other)
		hostkey_changed(name, key, changed ? changed : other, cause);
	else
		hostkey_unknown(o, f, name, key, cause);
	free(key);
	return -EPERM;
}
