/*
 * ssh_auth: user authentication with libssh.
 *
 * Order: the identity file when given (offered at once, without asking the
 * server for its methods first), else the agent and the default keys;
 * then, when a password is given, "password" and "keyboard-interactive"
 * (answering the password to every hidden prompt).  The password is never
 * logged.  A refusal says which methods the server offers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "sftp_int.h"

/* Try the identity file o->identity_file: SSH_AUTH_* or -errno with a cause. */
static int
auth_identity(ssh_session ss, const struct sftp_opts *o, char **cause)
{
	ssh_key key = NULL;
	struct stat st;
	int r;

	/* As ssh(1) does: a key of ours that others may read is not used. */
	if (stat(o->identity_file, &st) == 0 && st.st_uid == getuid() && (st.st_mode & 077)) {
		sftp_cause(cause, "the private key %s is open to others (mode %04o) and ssh "
		    "would refuse it too: run chmod 600 %s", o->identity_file,
		    (unsigned)(st.st_mode & 07777), o->identity_file);
		return -EACCES;
	}
	if (ssh_pki_import_privkey_file(o->identity_file, NULL, NULL, NULL, &key) != SSH_OK) {
		sftp_cause(cause, "cannot read the private key %s (missing, "
		    "unreadable or protected by a passphrase); give a readable key "
		    "without a passphrase, or use ssh-agent", o->identity_file);
		return -ENOENT;
	}
	r = ssh_userauth_publickey(ss, NULL, key);
	ssh_key_free(key);
	return r;
}

/* Answer keyboard-interactive prompts with the password. */
static int
auth_kbdint(ssh_session ss, const char *password)
{
	int r, i, n, rounds = 0;
	char echo;

	while ((r = ssh_userauth_kbdint(ss, NULL, NULL)) == SSH_AUTH_INFO) {
		if (++rounds > 10)
			return SSH_AUTH_DENIED;
		n = ssh_userauth_kbdint_getnprompts(ss);
		for (i = 0; i < n; i++) {
			ssh_userauth_kbdint_getprompt(ss, (unsigned)i, &echo);
			if (ssh_userauth_kbdint_setanswer(ss, (unsigned)i,
			    echo ? "" : password) < 0)
				return SSH_AUTH_ERROR;
		}
	}
	return r;
}

/* The methods the server offers, as words (for the cause line). */
static void
auth_methods_text(int m, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s",
	    (m & SSH_AUTH_METHOD_PUBLICKEY) ? " publickey" : "",
	    (m & SSH_AUTH_METHOD_PASSWORD) ? " password" : "",
	    (m & SSH_AUTH_METHOD_INTERACTIVE) ? " keyboard-interactive" : "",
	    (m & SSH_AUTH_METHOD_GSSAPI_MIC) ? " gssapi-with-mic" : "");
	if (*out == '\0')
		snprintf(out, n, " none");
}

/* Try the password methods the server offers. */
static int
auth_password(ssh_session ss, int methods, const char *password)
{
	int r = SSH_AUTH_DENIED;

	if (methods & SSH_AUTH_METHOD_PASSWORD)
		r = ssh_userauth_password(ss, NULL, password);
	if (r == SSH_AUTH_DENIED && (methods & SSH_AUTH_METHOD_INTERACTIVE))
		r = auth_kbdint(ss, password);
	return r;
}

int
ssh_auth_login(ssh_session ss, const struct sftp_opts *o, char **cause)
{
	char offered[128];
	int r, methods;

	if (o->identity_file) {
		/* The named key first: one round trip less than asking "none". */
		r = auth_identity(ss, o, cause);
		if (r < 0 && r != SSH_AUTH_ERROR)
			return r;	/* unreadable identity file */
	} else {
		r = ssh_userauth_none(ss, NULL);
		methods = ssh_userauth_list(ss, NULL);
		if (r == SSH_AUTH_DENIED && (methods & SSH_AUTH_METHOD_PUBLICKEY))
			r = ssh_userauth_publickey_auto(ss, NULL, NULL);
	}
	if ((r == SSH_AUTH_DENIED || r == SSH_AUTH_PARTIAL) && o->password) {
		methods = ssh_userauth_list(ss, NULL);
		r = auth_password(ss, methods, o->password);
	}
	if (r == SSH_AUTH_SUCCESS)
		return 0;
	if (r == SSH_AUTH_ERROR) {
		sftp_cause(cause, "authentication with %s failed: %s", o->host,
		    ssh_get_error(ss));
		return -ECONNABORTED;
	}
	auth_methods_text(ssh_userauth_list(ss, NULL), offered, sizeof offered);
	sftp_cause(cause, "%s refused the login%s%s (server offers:%s); %s",
	    o->host, o->user ? " as " : "", o->user ? o->user : "", offered,
	    o->password ? "check the user name and password" :
	    "give a key the server accepts (IdentityFile) or a password (password_stdin)");
	return -EACCES;
}
