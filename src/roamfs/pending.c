/*
 * pending: markers of changes still on their way.
 *
 * A pupil who logs out and switches the workstation off before the flush
 * ends leaves changes on that workstation's disk.  While a workstation's
 * journal holds records, the server home holds a small file at its root,
 * ".roamfs-pending.WORKSTATION": its content names the workstation, how
 * many changes it held and since when; its mtime is that time.  It is
 * written when the journal becomes non-empty and removed once it has been
 * drained (at unmount at once, otherwise after PENDING_LINGER seconds of
 * an empty journal, so that a burst of saves costs one marker, not one
 * per save).  Listings never show such names and the replay never sends
 * them; a listing of the root on another workstation logs, in one line,
 * each workstation that holds unsent changes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"
#include "pending.h"

#define PENDING_LINGER 5	/* seconds of an empty journal before the marker goes */

/* The state of our marker on the server (under fs->pending_lock). */
enum { MARK_UNKNOWN, MARK_THERE, MARK_GONE };

static char *
marker_path(struct roamfs *fs)
{
	char *rel, *path;

	if (asprintf(&rel, PENDING_PREFIX "%s", fs->workstation) < 0)
		return NULL;
	path = remote_path(fs->bg, rel);
	free(rel);
	return path;
}

/* How many records the journal holds and since when (0 when empty). */
static size_t
journal_state(struct roamfs *fs, time_t *since)
{
	struct db_txn t;
	struct jrec r;
	size_t n = 0;

	*since = 0;
	if (db_begin(fs->db, &t, 0) < 0)
		return 0;
	if (journal_first(&t, &r) == 0) {
		*since = (time_t)r.when;
		jrec_free(&r);
		db_count(&t, DB_JOURNAL, &n);
	}
	db_abort(&t);
	return n;
}

static int
marker_write(struct roamfs *fs, struct sftp *s, size_t n, time_t since)
{
	struct sftp_put p;
	struct tm tm;
	char text[256], date[32] = "?", *path = marker_path(fs), *tmp = NULL;
	int fd, len, e;

	if (path == NULL || asprintf(&tmp, "%s.tmp", path) < 0) {
		free(path);
		return -ENOMEM;
	}
	if (localtime_r(&since, &tm))
		strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
	len = snprintf(text, sizeof text, "workstation %s\nchanges %zu\nsince %s (%lld)\n",
	    fs->workstation, n, date, (long long)since);
	if ((fd = memfd_create("roamfs-pending", MFD_CLOEXEC)) < 0) {
		e = -errno;
	} else if (write(fd, text, (size_t)len) != len) {
		e = -EIO;
	} else {
		memset(&p, 0, sizeof p);
		p.fd = fd;
		p.tmp = tmp;
		p.path = path;
		p.mode = 0644;
		p.mtime = (uint32_t)since;
		if ((e = sftp_put_many(s, &p, 1, 0)) == 0)
			e = p.err;
	}
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return e;
}

void
pending_update(struct roamfs *fs, int draining)
{
	time_t since, now = time(NULL);
	size_t n = journal_state(fs, &since);
	struct sftp *s;
	char *path;
	int e;

	if (n > 0) {
		fs->pending_empty_since = 0;
		if (fs->pending_mark == MARK_THERE || remote_try_acquire(fs->bg, &s) < 0)
			return;
		if ((e = marker_write(fs, s, n, since)) == 0)
			fs->pending_mark = MARK_THERE;
		else
			log_debug("cannot write the marker of unsent changes: %s", strerror(-e));
		remote_release(fs->bg, e);
		return;
	}
	if (fs->pending_mark == MARK_GONE)
		return;
	if (fs->pending_empty_since == 0)
		fs->pending_empty_since = now;
	if (!draining && fs->pending_mark == MARK_THERE &&
	    now - fs->pending_empty_since < PENDING_LINGER)
		return;
	if ((path = marker_path(fs)) == NULL || remote_try_acquire(fs->bg, &s) < 0) {
		free(path);
		return;
	}
	if ((e = sftp_remove(s, path)) == 0 || e == -ENOENT)
		fs->pending_mark = MARK_GONE;
	else
		log_debug("cannot remove the marker of unsent changes: %s", strerror(-e));
	remote_release(fs->bg, e == -ENOENT ? 0 : e);
	free(path);
}

int
pending_seen(struct roamfs *fs, char **list, const char *name, const struct sftp_attr *a)
{
	const char *ws = name + strlen(PENDING_PREFIX);
	char date[32] = "?", *known, *p;
	time_t since = (time_t)a->mtime;
	struct tm tm;
	size_t len;

	if (strcmp(ws, fs->workstation) == 0 || *ws == '\0' || strchr(ws, '\n') || strchr(ws, '\t'))
		return 0;	/* ours (we know our own state), or not a name */
	if (asprintf(&p, "%s%s\t%lld\n", *list ? *list : "\n", ws, (long long)since) < 0)
		return -ENOMEM;
	free(*list);
	*list = p;
	pthread_mutex_lock(&fs->pending_lock);
	/* Logged once per workstation and mount: the list is "\nNAME\n..." */
	known = fs->pending_elsewhere;
	len = strlen(ws);
	for (p = known; p && (p = strstr(p, ws)) != NULL; p += len)
		if (p[-1] == '\n' && p[len] == '\n')
			break;
	if (p == NULL && asprintf(&p, "%s%s\n", known ? known : "\n", ws) >= 0) {
		free(known);
		fs->pending_elsewhere = p;
		if (localtime_r(&since, &tm))
			strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
		log_warn("workstation %s holds changes to this home that have not reached "
		    "the server yet (since %s): they arrive when it is back on the network",
		    ws, date);
	}
	pthread_mutex_unlock(&fs->pending_lock);
	return 0;
}

void
pending_listed(struct roamfs *fs, const char *list)
{
	const char *key = "pending_elsewhere";
	size_t n = list ? strlen(list) : 0;
	struct db_txn t;
	MDB_val v;

	if (db_begin(fs->db, &t, 1) < 0)
		return;
	/* Written only when it changed: a listing costs no write. */
	if (db_get(&t, DB_META, key, strlen(key), &v) == 0 && v.mv_size == n &&
	    (n == 0 || memcmp(v.mv_data, list, n) == 0))
		db_abort(&t);
	else if (db_put(&t, DB_META, key, strlen(key), list ? list : "", n) == 0)
		db_commit(&t);
	else
		db_abort(&t);
}
