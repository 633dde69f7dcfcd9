/*
 * recover: see recover.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "cachekey.h"
#include "recover.h"
#include "secret.h"

static const char *const parts[] = { "db", "data", "tmp" };
#define NPARTS	(sizeof parts / sizeof parts[0])

static int
say(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "roamctl: recover: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

int
recover_run(const char *locked)
{
	char cache[PATH_MAX], *slash, *old = NULL, *new = NULL, *cause = NULL, *warn = NULL;
	char *text = NULL, *state = NULL, *wrapped = NULL, path[PATH_MAX];
	const char *name;
	uint8_t key[CACHEKEY_SIZE];
	struct stat st;
	int cfd = -1, lfd = -1, lockfd = -1, r = 1;
	size_t i;

	if (realpath(locked, cache) == NULL)
		return say("%s: %s", locked, strerror(errno));
	if ((slash = strrchr(cache, '/')) == NULL || strncmp(slash + 1, "locked-", 7) != 0)
		return say("%s is not a cache kept when a password changed (CACHE/locked-DATE-TIME)%s",
		    locked, "");
	name = locked + (strrchr(locked, '/') ? strrchr(locked, '/') - locked + 1 : 0);
	*slash = '\0';
	if ((cfd = open(cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (lfd = openat(cfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = say("cannot open %s: %s", locked, strerror(errno));
		goto out;
	}
	if (fstat(cfd, &st) < 0 || st.st_uid != getuid()) {
		r = say("the cache %s is not yours: run recover as its user%s", cache, "");
		goto out;
	}
	/* No roamfs on the cache meanwhile. */
	if ((lockfd = openat(cfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = say("%s is not in a roamfs cache (it has no lock file)%s", locked, "");
		goto out;
	}
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = say("the cache %s is in use (a roamfs runs on it): log out first, then run "
		    "recover again%s", cache, "");
		goto out;
	}
	if (cache_read_small(lfd, "key", &text) < 0) {
		r = say("%s holds no key: it is not a cache kept when a password changed%s", locked,
		    "");
		goto out;
	}
	/* What the new cache holds must all be on the server: it goes. */
	(void)cache_read_small(cfd, "state", &state);
	if (state == NULL || strcmp(state, "clean\n") != 0) {
		r = say("the cache %s holds changes that may not be on the server yet: log in once, "
		    "let them go (roamctl flush --wait), log out, then run recover again%s", cache, "");
		goto out;
	}
	fprintf(stderr, "roamctl: recover: give the old password, then the new one (a line each)\n");
	if ((old = secret_read_line(0, &cause, &warn)) == NULL ||
	    (free(warn), warn = NULL, new = secret_read_line(0, &cause, &warn)) == NULL) {
		r = say("%s%s", cause ? cause : "no password could be read", "");
		goto out;
	}
	if ((r = cachekey_unwrap(old, text, key)) < 0) {
		r = say(r == -EKEYREJECTED ? "the old password does not open %s%s" :
		    "the key of %s is damaged%s", locked, "");
		goto out;
	}
	r = cachekey_wrap(new, key, &cachekey_default, &wrapped);
	explicit_bzero(key, sizeof key);
	if (r < 0) {
		r = say("cannot wrap the key with the new password: %s%s", strerror(-r), "");
		goto out;
	}
	/* First the kept key, opened by the new password from now on (in
	 * place: a failure below leaves it whole, for recover again with the
	 * new password twice). */
	if (cache_write_small(lfd, "key", wrapped) < 0) {
		r = say("cannot write the key of %s: %s", locked, strerror(errno));
		goto out;
	}
	/* The new cache goes (all of it is on the server), the kept one comes back. */
	for (i = 0; i < NPARTS; i++)
		if (cache_remove_tree(cfd, parts[i], 0) < 0) {
			r = say("cannot clear %s/%s: remove it by hand, then run recover again", cache,
			    parts[i]);
			goto out;
		}
	for (i = 0; i < NPARTS; i++) {
		snprintf(path, sizeof path, "%s/%s", slash + 1, parts[i]);
		if (renameat(cfd, path, cfd, parts[i]) < 0 && errno != ENOENT) {
			r = say("cannot put %s back in place: %s", path, strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof path, "%s/key", slash + 1);
	if (renameat(cfd, path, cfd, "key") < 0 || cache_write_small(cfd, "state", "dirty\n") < 0) {
		r = say("cannot put the key of %s in place: %s", locked, strerror(errno));
		goto out;
	}
	(void)unlinkat(cfd, slash + 1, AT_REMOVEDIR);
	printf("%s is back in place in %s, opened by the new password: its changes go to the "
	    "server at the next login (an edit the server also changed since becomes a conflict "
	    "copy)\n", name, cache);
	r = 0;
out:
	secret_free(old);
	secret_free(new);
	free(warn);
	free(cause);
	free(text);
	free(state);
	free(wrapped);
	if (lockfd >= 0)
		close(lockfd);
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	return r;
}
