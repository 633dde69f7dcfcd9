/*
 * ssh_files: the known hosts and private keys a connection needs, read
 * once and kept in memory (sftp_files_load in sftp.h).
 *
 * roamfs is mounted on the home, where ~/.ssh lives: once mounted, opening
 * ~/.ssh/known_hosts would be a request to roamfs itself, made by the
 * thread that holds the connection the request waits for.  So every file
 * is read before the mount, and a default file that lies under the mount
 * point is not read at all (the copy there is the local directory the
 * mount hides, not the user's file): the log says so.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roam/log.h"
#include "roam/path.h"
#include "sftp_int.h"

#define GLOBAL_KNOWN_HOSTS	"/etc/ssh/ssh_known_hosts"

/* The host key algorithms libssh offers by default, in its order. */
static const struct { enum ssh_keytypes_e type; const char *algos; } hostkey_algos[] = {
	{ SSH_KEYTYPE_ED25519, "ssh-ed25519" },
	{ SSH_KEYTYPE_ECDSA_P521, "ecdsa-sha2-nistp521" },
	{ SSH_KEYTYPE_ECDSA_P384, "ecdsa-sha2-nistp384" },
	{ SSH_KEYTYPE_ECDSA_P256, "ecdsa-sha2-nistp256" },
	{ SSH_KEYTYPE_RSA, "rsa-sha2-512,rsa-sha2-256" },
};
#define NALGOS (sizeof hostkey_algos / sizeof hostkey_algos[0])

/* The default keys tried without IdentityFile, as libssh names them. */
static const char *const default_keys[] = { "id_ed25519", "id_ecdsa", "id_rsa" };

void
sftp_files_free(struct sftp_files *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nlines; i++)
		free(f->lines[i].text);
	free(f->lines);
	for (i = 0; i < f->nkeys; i++) {
		ssh_key_free(f->keys[i]);
		free(f->key_paths[i]);
	}
	free(f->keys);
	free(f->key_paths);
	free(f->kh_problem);
	free(f->user_kh);
	free(f->global_kh);
	free(f);
}

/* The home directory ~ stands for: $HOME, else the password database's. */
static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h == '/')
		return h;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir == '/' ? pw->pw_dir : NULL;
}

static char *
home_path(const char *rel)
{
	const char *home = home_dir();
	char *p;

	if (home == NULL)
		return NULL;
	if (asprintf(&p, "%s/%s", home, rel) < 0)
		fatal("out of memory");
	return p;
}

/* Add one line of a known hosts file. */
static void
kh_add(struct sftp_files *f, const char *file, unsigned no, const char *text)
{
	struct kh_line *l;
	char *t, *p;

	if ((f->nlines & (f->nlines - 1)) == 0) {
		l = realloc(f->lines, (f->nlines ? f->nlines * 2 : 1) * sizeof *l);
		if (l == NULL)
			fatal("out of memory");
		f->lines = l;
	}
	if ((t = strdup(text)) == NULL)
		fatal("out of memory");
	for (p = t; *p; p++)	/* libssh splits fields at spaces only */
		if (*p == '\t')
			*p = ' ';
	f->lines[f->nlines].file = file;
	f->lines[f->nlines].no = no;
	f->lines[f->nlines].text = t;
	f->nlines++;
}

/* Read a known hosts file into f; a missing file is empty. */
static void
kh_read(struct sftp_files *f, const char *file, const char *option)
{
	char *line = NULL, *p;
	size_t cap = 0;
	unsigned no = 0;
	struct stat st;
	FILE *fp;
	int fd;

	/* O_NONBLOCK: a FIFO must not block. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno != ENOENT && f->kh_problem == NULL)
			sftp_cause(&f->kh_problem, "cannot read the known hosts file %s: %s; fix "
			    "its permissions or name another with -o %s=FILE", file,
			    strerror(errno), option);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (fp = fdopen(fd, "r")) == NULL) {
		if (f->kh_problem == NULL)
			sftp_cause(&f->kh_problem, "the known hosts file %s is not a regular file: "
			    "name a file with -o %s=FILE", file, option);
		close(fd);
		return;
	}
	while (getline(&line, &cap, fp) >= 0) {
		no++;
		line[strcspn(line, "\r\n")] = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p != '\0' && *p != '#' && *p != '@')	/* markers: not supported */
			kh_add(f, file, no, p);
	}
	free(line);
	fclose(fp);
}

/*
 * Decide which known hosts file is read: the one given (refused under the
 * mount point) or the default (left out under it).  Returns 0 and sets
 * *use (NULL: none), or -EINVAL with a cause.
 */
static int
kh_choose(const char *given, const char *def, const char *option, const char *keep_out,
    char **use, char **cause)
{
	*use = NULL;
	if (given == NULL && def == NULL)
		return 0;
	if (keep_out && path_within(given ? given : def, keep_out)) {
		if (given) {
			sftp_cause(cause, "%s=%s lies under the mount point %s, which roamfs cannot "
			    "read once it is mounted: name a file outside it (such as %s)", option,
			    given, keep_out, GLOBAL_KNOWN_HOSTS);
			return -EINVAL;
		}
		log_info("%s lies under the mount point %s: roamfs does not read it", def, keep_out);
		return 0;
	}
	if ((*use = strdup(given ? given : def)) == NULL)
		fatal("out of memory");
	return 0;
}

static void
key_add(struct sftp_files *f, ssh_key key, const char *path)
{
	ssh_key *k = realloc(f->keys, (f->nkeys + 1) * sizeof *k);
	char **p;

	if (k == NULL)
		fatal("out of memory");
	f->keys = k;
	if ((p = realloc(f->key_paths, (f->nkeys + 1) * sizeof *p)) == NULL)
		fatal("out of memory");
	f->key_paths = p;
	f->keys[f->nkeys] = key;
	if ((f->key_paths[f->nkeys] = strdup(path)) == NULL)
		fatal("out of memory");
	f->nkeys++;
}

/* Whether a private key of ours is open to others (ssh(1) refuses those). */
static int
key_too_open(const char *path, struct stat *st)
{
	return stat(path, st) == 0 && st->st_uid == getuid() && (st->st_mode & 077);
}

/* The key given with IdentityFile: it must be read now. */
static int
load_identity(struct sftp_files *f, const char *path, const char *keep_out, char **cause)
{
	ssh_key key = NULL;
	struct stat st;

	if (keep_out && path_within(path, keep_out)) {
		sftp_cause(cause, "IdentityFile=%s lies under the mount point %s, which roamfs "
		    "cannot read once it is mounted: keep the key outside it", path, keep_out);
		return -EINVAL;
	}
	if (key_too_open(path, &st)) {
		sftp_cause(cause, "the private key %s is open to others (mode %04o) and ssh "
		    "would refuse it too: run chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -EACCES;
	}
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
		sftp_cause(cause, "cannot read the private key %s (missing, "
		    "unreadable or protected by a passphrase); give a readable key "
		    "without a passphrase, or use ssh-agent", path);
		return -ENOENT;
	}
	key_add(f, key, path);
	f->identity = 1;
	return 0;
}

/* Without IdentityFile: the agent and the default keys, unless under keep_out. */
static void
load_defaults(struct sftp_files *f, const char *keep_out)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	char *dir = home_path(".ssh"), *path;
	ssh_key key;
	struct stat st;
	size_t i;

	if (sock && *sock) {
		if (keep_out && path_within(sock, keep_out))
			log_info("the SSH agent's socket %s lies under the mount point %s: "
			    "roamfs does not use the agent", sock, keep_out);
		else
			f->agent = 1;
	}
	if (dir == NULL)
		return;
	if (keep_out && path_within(dir, keep_out)) {
		log_info("the default keys in %s lie under the mount point %s: roamfs does not "
		    "read them (give a key outside it with IdentityFile=, or use ssh-agent)",
		    dir, keep_out);
		free(dir);
		return;
	}
	for (i = 0; i < sizeof default_keys / sizeof default_keys[0]; i++) {
		if (asprintf(&path, "%s/%s", dir, default_keys[i]) < 0)
			fatal("out of memory");
		key = NULL;
		if (key_too_open(path, &st))
			log_warn("the private key %s is open to others (mode %04o): not used; "
			    "run chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		else if (access(path, F_OK) == 0 &&
		    ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) == SSH_OK)
			key_add(f, key, path);
		else if (access(path, F_OK) == 0)
			log_debug("%s cannot be read without a passphrase: not used", path);
		free(path);
	}
	free(dir);
}

int
sftp_files_load(const struct sftp_opts *o, const char *keep_out, struct sftp_files **out,
    char **cause)
{
	struct sftp_files *f = calloc(1, sizeof *f);
	char *def;
	int r;

	if (cause)
		*cause = NULL;
	if (f == NULL)
		fatal("out of memory");
	def = o->known_hosts ? NULL : home_path(".ssh/known_hosts");
	r = kh_choose(o->known_hosts, def, "UserKnownHostsFile", keep_out, &f->user_kh, cause);
	free(def);
	if (r == 0)
		r = kh_choose(o->global_known_hosts, o->global_known_hosts ? NULL : GLOBAL_KNOWN_HOSTS,
		    "GlobalKnownHostsFile", keep_out, &f->global_kh, cause);
	if (r == 0) {
		f->user_default = o->known_hosts == NULL;
		if (f->user_kh)
			kh_read(f, f->user_kh, "UserKnownHostsFile");
		if (f->global_kh)
			kh_read(f, f->global_kh, "GlobalKnownHostsFile");
		if (o->identity_file)
			r = load_identity(f, o->identity_file, keep_out, cause);
		else
			load_defaults(f, keep_out);
	}
	if (r < 0) {
		sftp_files_free(f);
		return r;
	}
	*out = f;
	return 0;
}

void
ssh_files_host_name(const struct sftp_opts *o, char *out, size_t n)
{
	size_t i;

	if (o->port && o->port != 22)
		snprintf(out, n, "[%s]:%u", o->host, o->port);
	else
		snprintf(out, n, "%s", o->host);
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

int
ssh_files_match(const struct kh_line *l, const char *name, ssh_key *key)
{
	struct ssh_knownhosts_entry *e = NULL;

	*key = NULL;
	if (ssh_known_hosts_parse_line(name, l->text, &e) != SSH_OK || e == NULL)
		return 0;	/* another host, or a line libssh cannot read */
	*key = e->publickey;
	e->publickey = NULL;
	ssh_knownhosts_entry_free(e);
	return *key != NULL;
}

int
ssh_files_hostkeys(const struct sftp_files *f, const char *name, char *out, size_t n)
{
	int known[NALGOS] = { 0 };
	size_t i, k, len = 0;
	ssh_key key;

	for (i = 0; i < f->nlines; i++) {
		if (!ssh_files_match(&f->lines[i], name, &key))
			continue;
		for (k = 0; k < NALGOS; k++)
			if (ssh_key_type(key) == hostkey_algos[k].type)
				known[k] = 1;
		ssh_key_free(key);
	}
	/* The known types first, so that the server shows the key we know;
	 * then the others, so that a key of another type is seen as such. */
	out[0] = '\0';
	for (i = 0; i < 2; i++)
		for (k = 0; k < NALGOS; k++)
			if (known[k] == (i == 0) && len < n)
				len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "",
				    hostkey_algos[k].algos);
	for (k = 0; k < NALGOS && !known[k]; k++)
		;
	return k < NALGOS && len < n;
}
