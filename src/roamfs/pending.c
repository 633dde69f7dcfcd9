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
 *
 * A home open on two workstations at once (a pupil who forgot to log out,
 * a teacher on two machines) is the one case where programs that keep a
 * database in the home (a browser, a mail program) can lose what they
 * wrote.  So while a workstation has the home mounted, the server home
 * also holds ".roamfs-session.WORKSTATION", an empty folder (a MKDIR and
 * a SETSTAT, no file to write), made SESSION_DELAY seconds after the
 * mount (a login costs no request for it): its atime says since when,
 * its mtime is renewed every SESSION_REFRESH seconds, and a marker not
 * renewed for SESSION_STALE seconds is that of a workstation that stopped
 * without unmounting, and ignored.  It goes at the unmount.  A listing of
 * the root on another workstation logs that the home is open there too,
 * and roamctl status shows it.
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
#define SESSION_REFRESH 60	/* seconds between renewals of our session marker */
#define SESSION_STALE 300	/* a session marker older than this: its workstation stopped */
#define SESSION_DELAY 20	/* seconds after the mount before the session marker is written */

/* The state of our marker on the server (under fs->pending_lock). */
enum { MARK_UNKNOWN, MARK_THERE, MARK_GONE };

static char *
marker_path_of(struct roamfs *fs, const char *prefix)
{
	char *rel, *path;

	if (asprintf(&rel, "%s%s", prefix, fs->workstation) < 0)
		return NULL;
	path = remote_path(fs->bg, rel);
	free(rel);
	return path;
}

static char *
marker_path(struct roamfs *fs)
{
	return marker_path_of(fs, PENDING_PREFIX);
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

/* Write a marker at path (TEXT, mtime): 0 or -errno. */
static int
marker_put(struct sftp *s, const char *path, const char *text, time_t mtime)
{
	struct sftp_put p;
	char *tmp = NULL;
	int fd, len = (int)strlen(text), e;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	if ((fd = memfd_create("roamfs-marker", MFD_CLOEXEC)) < 0) {
		e = -errno;
	} else if (write(fd, text, (size_t)len) != len) {
		e = -EIO;
	} else {
		memset(&p, 0, sizeof p);
		p.fd = fd;
		p.tmp = tmp;
		p.path = path;
		p.mode = 0644;
		p.mtime = (uint32_t)mtime;
		if ((e = sftp_put_many(s, &p, 1, 0)) == 0)
			e = p.err;
	}
	if (fd >= 0)
		close(fd);
	free(tmp);
	return e;
}

static int
marker_write(struct roamfs *fs, struct sftp *s, size_t n, time_t since)
{
	struct tm tm;
	char text[256], date[32] = "?", *path = marker_path(fs);
	int e;

	if (path == NULL)
		return -ENOMEM;
	if (localtime_r(&since, &tm))
		strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(text, sizeof text, "workstation %s\nchanges %zu\nsince %s (%lld)\n",
	    fs->workstation, n, date, (long long)since);
	e = marker_put(s, path, text, since);
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

/*
 * Add workstation ws (since) to *list ("\nNAME\tSINCE\n..."), and to
 * *known ("\nNAME\n...", under pending_lock): 1 when it was not known yet
 * (the caller logs it, once per mount), 0, or -ENOMEM.
 */
static int
seen(struct roamfs *fs, char **list, char **known, const char *ws, time_t since)
{
	char *p;
	size_t len = strlen(ws);
	int added = 0;

	if (asprintf(&p, "%s%s\t%lld\n", *list ? *list : "\n", ws, (long long)since) < 0)
		return -ENOMEM;
	free(*list);
	*list = p;
	pthread_mutex_lock(&fs->pending_lock);
	for (p = *known; p && (p = strstr(p, ws)) != NULL; p += len)
		if (p[-1] == '\n' && p[len] == '\n')
			break;
	if (p == NULL && asprintf(&p, "%s%s\n", *known ? *known : "\n", ws) >= 0) {
		free(*known);
		*known = p;
		added = 1;
	}
	pthread_mutex_unlock(&fs->pending_lock);
	return added;
}

/* Whether ws is a workstation's name, and not ours. */
static int
another(struct roamfs *fs, const char *ws)
{
	return strcmp(ws, fs->workstation) != 0 && *ws != '\0' && !strchr(ws, '\n') &&
	    !strchr(ws, '\t');
}

int
pending_seen(struct roamfs *fs, char **list, const char *name, const struct sftp_attr *a)
{
	const char *ws = name + strlen(PENDING_PREFIX);
	time_t since = (time_t)a->mtime;
	char date[32] = "?";
	struct tm tm;
	int r;

	if (!another(fs, ws))
		return 0;	/* ours (we know our own state), or not a name */
	if ((r = seen(fs, list, &fs->pending_elsewhere, ws, since)) <= 0)
		return r;
	if (localtime_r(&since, &tm))
		strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
	log_warn("workstation %s holds changes to this home that have not reached "
	    "the server yet (since %s): they arrive when it is back on the network", ws, date);
	return 0;
}

static void
listed(struct roamfs *fs, const char *key, const char *list)
{
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

void
pending_listed(struct roamfs *fs, const char *list)
{
	listed(fs, "pending_elsewhere", list);
}

/* ---- the session marker ---- */

/* A live connection, never waited for: the replayer's, else the
 * applications' (an idle home keeps only that one).  The remote to
 * release, or NULL. */
static struct remote *
live_conn(struct roamfs *fs, struct sftp **s)
{
	if (remote_try_acquire(fs->bg, s) == 0)
		return fs->bg;
	return remote_try_acquire(fs->fg, s) == 0 ? fs->fg : NULL;
}

void
session_update(struct roamfs *fs)
{
	time_t now = time(NULL);
	struct remote *via;
	struct sftp_attr a;
	struct sftp *s;
	char *path;
	int e;

	/* Not at the login itself, which then costs no request for it. */
	if (now - fs->mounted_at < SESSION_DELAY && now >= fs->mounted_at)
		return;
	if (fs->session_marked && now - fs->session_marked < SESSION_REFRESH &&
	    now >= fs->session_marked)
		return;
	if ((via = live_conn(fs, &s)) == NULL)
		return;
	if ((path = marker_path_of(fs, SESSION_PREFIX)) == NULL) {
		remote_release(via, 0);
		return;
	}
	memset(&a, 0, sizeof a);
	a.flags = SFTP_ATTR_ACMODTIME;
	a.atime = (uint32_t)fs->mounted_at;	/* since when */
	a.mtime = (uint32_t)now;		/* still there */
	if ((e = sftp_setstat(s, path, &a)) == -ENOENT &&
	    ((e = sftp_mkdir(s, path, 0755)) == 0 || e == -EEXIST))
		e = sftp_setstat(s, path, &a);
	if (e == 0)
		fs->session_marked = now;
	else
		log_debug("cannot write the session marker: %s", strerror(-e));
	remote_release(via, e);
	free(path);
}

void
session_end(struct roamfs *fs)
{
	struct remote *via;
	struct sftp *s;
	char *path;
	int e = 0;

	if (!fs->session_marked)
		return;
	if ((via = live_conn(fs, &s)) == NULL)
		return;	/* it expires (SESSION_STALE) */
	if ((path = marker_path_of(fs, SESSION_PREFIX)) != NULL &&
	    ((e = sftp_rmdir(s, path)) == 0 || e == -ENOENT))
		fs->session_marked = 0;
	remote_release(via, e == -ENOENT ? 0 : e);
	free(path);
}

int
session_seen(struct roamfs *fs, char **list, const char *name, const struct sftp_attr *a)
{
	const char *ws = name + strlen(SESSION_PREFIX);
	time_t since = a->atime && a->atime <= a->mtime ? (time_t)a->atime : (time_t)a->mtime;
	char date[32] = "?";
	struct tm tm;
	int r;

	if (!another(fs, ws) || (time_t)a->mtime + SESSION_STALE < time(NULL))
		return 0;	/* ours, not a name, or left by a workstation that stopped */
	if ((r = seen(fs, list, &fs->open_elsewhere, ws, since)) <= 0)
		return r;
	if (localtime_r(&since, &tm))
		strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
	log_warn("this home is open on workstation %s too (since %s): run the web browser and "
	    "the mail program on one of them only, or what they save may be lost", ws, date);
	return 0;
}

void
session_listed(struct roamfs *fs, const char *list)
{
	listed(fs, "open_elsewhere", list);
}
