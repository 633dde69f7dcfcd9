/*
 * summary: counts and lists from a cache's database, for roamctl.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conflict.h"
#include "journal.h"
#include "meta.h"
#include "summary.h"

struct count_ctx {
	struct db_txn *t;
	struct summary *s;
};

static int
count_record(void *arg, struct jrec *r)
{
	struct count_ctx *c = arg;
	struct inode in;

	if (c->s->changes++ == 0)
		c->s->oldest = r->when;
	if (r->type == J_STORE && meta_inode_get(c->t, r->ino, &in) == 0) {
		c->s->change_bytes += in.size;
		inode_free(&in);
	}
	jrec_free(r);
	return 0;
}

static int
count_conflict(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct summary *s = arg;
	struct conflict cf;

	(void)k;
	if (conflict_decode(v->mv_data, v->mv_size, &cf) < 0)
		return 0;
	if (cf.kind != CONFLICT_ASIDE)
		s->conflicts++;
	conflict_free(&cf);
	return 0;
}

/*
 * The workstations a listing of the root saw markers of, kept in DB_META
 * key as pending.c writes it ("\nNAME\tSINCE\n..."; before: "\nNAME\n..."):
 * *names "NAME NAME" and *since "SINCE SINCE" (malloc'd), or both NULL.
 */
static int
marks_read(struct db_txn *t, const char *key, char **names, char **since_list)
{
	const char *p, *end, *nl, *tab;
	size_t j = 0, k = 0;
	MDB_val v;

	if (db_get(t, DB_META, key, strlen(key), &v) < 0 || v.mv_size == 0)
		return 0;
	if ((*names = malloc(v.mv_size + 1)) == NULL ||
	    (*since_list = malloc(v.mv_size / 2 * 21 + 22)) == NULL)
		return -ENOMEM;
	for (p = v.mv_data, end = p + v.mv_size; p < end; p = nl + 1) {
		long long since = 0;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		if ((tab = memchr(p, '\t', (size_t)(nl - p))) != NULL) {
			char num[24];
			size_t l = (size_t)(nl - tab - 1);

			if (l < sizeof num) {
				memcpy(num, tab + 1, l);
				num[l] = '\0';
				since = strtoll(num, NULL, 10);
			}
		} else {
			tab = nl;
		}
		if (j)
			(*names)[j++] = ' ';
		memcpy(*names + j, p, (size_t)(tab - p));
		j += (size_t)(tab - p);
		k += (size_t)sprintf(*since_list + k, "%s%lld", k ? " " : "", since);
	}
	(*names)[j] = '\0';
	(*since_list)[k] = '\0';
	return 0;
}

int
summary_read(struct db_txn *t, struct summary *s)
{
	struct count_ctx c = { t, s };
	size_t n = 0;
	int e;

	memset(s, 0, sizeof *s);
	if ((e = journal_scan(t, count_record, &c)) < 0 && e != -ENOENT)
		return e;
	if ((e = db_scan(t, DB_CONFLICT, NULL, 0, count_conflict, s)) < 0 && e != -ENOENT)
		return e;
	if ((e = db_count(t, DB_ASIDE, &n)) < 0)
		return e;
	s->set_aside = n;
	if ((e = marks_read(t, "pending_elsewhere", &s->elsewhere, &s->elsewhere_since)) < 0)
		return e;
	return marks_read(t, "open_elsewhere", &s->open_elsewhere, &s->open_since);
}

void
summary_free(struct summary *s)
{
	free(s->elsewhere);
	free(s->elsewhere_since);
	free(s->open_elsewhere);
	free(s->open_since);
	s->elsewhere = s->elsewhere_since = s->open_elsewhere = s->open_since = NULL;
}

/* The space of the files under directory fd (closed here), depth-first. */
static uint64_t
usage_under(int fd, int depth)
{
	struct dirent *d;
	struct stat st;
	uint64_t sum = 0;
	DIR *dir = fdopendir(fd);
	int sub;

	if (dir == NULL) {
		close(fd);
		return 0;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		sum += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode) && depth < 8 &&
		    (sub = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) >= 0)
			sum += usage_under(sub, depth + 1);
	}
	closedir(dir);
	return sum;
}

uint64_t
summary_disk_usage(const char *cache_dir)
{
	int fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? 0 : usage_under(fd, 0);
}

int
summary_put(const struct summary *s, struct ctl_record *c)
{
	int e = 0;

	e |= ctl_put_u64(c, "changes", s->changes);
	e |= ctl_put_u64(c, "change_bytes", s->change_bytes);
	e |= ctl_put_i64(c, "oldest_change", s->oldest);
	e |= ctl_put_u64(c, "conflicts", s->conflicts);
	e |= ctl_put_u64(c, "set_aside", s->set_aside);
	e |= ctl_put_str(c, "elsewhere", s->elsewhere);
	e |= ctl_put_str(c, "elsewhere_since", s->elsewhere_since);
	e |= ctl_put_str(c, "open_elsewhere", s->open_elsewhere);
	e |= ctl_put_str(c, "open_elsewhere_since", s->open_since);
	return e ? -ENOMEM : 0;
}

static const char *
kind_name(uint8_t kind)
{
	switch (kind) {
	case CONFLICT_COPY: return "copy";
	case CONFLICT_KEPT: return "kept";
	case CONFLICT_ASIDE: return "set-aside";
	default: return "other";
	}
}

static int
list_conflict(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct ctl_reply *r = arg;
	struct ctl_record *c;
	struct conflict cf;
	int e = 0;

	if (k->mv_size != 8 || conflict_decode(v->mv_data, v->mv_size, &cf) < 0)
		return 0;	/* an entry of a later format: not shown */
	if ((c = ctl_reply_record(r)) == NULL) {
		conflict_free(&cf);
		return -ENOMEM;
	}
	e |= ctl_put_u64(c, "id", be_get_u64(k->mv_data));
	e |= ctl_put_str(c, "kind", kind_name(cf.kind));
	e |= ctl_put_i64(c, "when", cf.when);
	e |= ctl_put_str(c, "path", cf.path);
	e |= ctl_put_str(c, "copy", cf.copy);
	e |= ctl_put_str(c, "workstation", cf.workstation);
	e |= ctl_put_str(c, "why", cf.why);
	conflict_free(&cf);
	return e ? -ENOMEM : 0;
}

int
summary_conflicts(struct db_txn *t, struct ctl_reply *r)
{
	int e = db_scan(t, DB_CONFLICT, NULL, 0, list_conflict, r);

	return e == -ENOENT ? 0 : e;
}

static int
list_aside(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct ctl_reply *r = arg;
	struct ctl_record *c;
	struct jrec j;
	int e = 0;

	if (k->mv_size != 8 || jrec_decode(v->mv_data, v->mv_size, &j) < 0)
		return 0;
	if ((c = ctl_reply_record(r)) == NULL) {
		jrec_free(&j);
		return -ENOMEM;
	}
	e |= ctl_put_u64(c, "id", be_get_u64(k->mv_data));
	e |= ctl_put_str(c, "change", jtype_name(j.type));
	e |= ctl_put_str(c, "path", j.path);
	e |= ctl_put_str(c, "path2", j.path2);
	e |= ctl_put_i64(c, "when", j.when);
	e |= ctl_put_str(c, "why", strerror(j.err));
	jrec_free(&j);
	return e ? -ENOMEM : 0;
}

int
summary_set_aside(struct db_txn *t, struct ctl_reply *r)
{
	int e = db_scan(t, DB_ASIDE, NULL, 0, list_aside, r);

	return e == -ENOENT ? 0 : e;
}
