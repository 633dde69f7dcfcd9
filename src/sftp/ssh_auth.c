/*
 * ssh_auth: user authentication with libssh.
 *
 * Order: the identity file when given (offered at once, without asking the
 * server for its methods first), else the agent and the default keys (all
 * read before, by sftp_files_load);
 * then, when a password is given, "password" and "keyboard-interactive"
 * (answering the password to every hidden prompt).  The password is never
 * logged.  A refusal says which methods the server offers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roam/log.h"
#include "sftp_int.h"

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

/* Offer the agent's keys, then the keys read before (in order): SSH_AUTH_*. */
static int
auth_keys(ssh_session ss, const struct sftp_files *f)
{
	int r = SSH_AUTH_DENIED;
	size_t i;

	if (f->agent) {
		r = ssh_userauth_agent(ss, NULL);
		if (r == SSH_AUTH_ERROR && ssh_is_connected(ss))
			r = SSH_AUTH_DENIED;	/* no agent there after all */
	}
	for (i = 0; i < f->nkeys && (r == SSH_AUTH_DENIED || r == SSH_AUTH_PARTIAL); i++)
		r = ssh_userauth_publickey(ss, NULL, f->keys[i]);
	return r;
}

int
ssh_auth_login(ssh_session ss, const struct sftp_opts *o, const struct sftp_files *f,
    char **cause)
{
	char offered[128];
	int r, methods;

	if (f->identity) {
		/* The named key first: one round trip less than asking "none". */
		r = ssh_userauth_publickey(ss, NULL, f->keys[0]);
	} else {
		r = ssh_userauth_none(ss, NULL);
		methods = ssh_userauth_list(ss, NULL);
		if (r == SSH_AUTH_DENIED && (methods & SSH_AUTH_METHOD_PUBLICKEY))
			r = auth_keys(ss, f);
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
