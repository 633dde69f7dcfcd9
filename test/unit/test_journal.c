/*
 * Unit tests for meta and journal on a real LMDB in a temporary directory:
 * record encoding, appending in order, cancellation, set-aside, inodes,
 * directory entries and paths.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "meta.h"
#include "../tap.h"

static struct db *db;

static void
add(struct db_txn *t, uint8_t type, uint64_t ino, const char *path, const char *path2)
{
	struct jrec r;

	memset(&r, 0, sizeof r);
	r.type = type;
	r.ino = ino;
	r.path = (char *)path;
	r.path2 = (char *)path2;
	journal_append(t, &r);
}

static void
test_encoding(void)
{
	struct jrec r, d;
	struct buf b;
	size_t cut;
	int bad = 0;

	memset(&r, 0, sizeof r);
	r.type = J_RENAME;
	r.ino = 42;
	r.path = "a/b";
	r.path2 = "c/d";
	r.victim = 7;
	r.victim_remote = 1;
	r.base.size = 1234;
	r.base.mtime = 1700000000;
	r.base.valid = 1;
	buf_init(&b, 0);
	ok(jrec_encode(&r, &b) == 0, "a record encodes");
	ok(jrec_decode(b.data, b.len, &d) == 0, "and decodes");
	ok(d.type == J_RENAME && d.ino == 42 && d.victim == 7 && d.victim_remote == 1,
	    "fields survive");
	is_str(d.path, "a/b", "path survives");
	is_str(d.path2, "c/d", "second path survives");
	ok(d.base.size == 1234 && d.base.mtime == 1700000000 && d.base.valid, "base version survives");
	jrec_free(&d);
	for (cut = 0; cut < b.len; cut++)
		if (jrec_decode(b.data, cut, &d) == 0) {
			bad++;
			jrec_free(&d);
		}
	is_int(bad, 0, "every truncation is refused");
	b.data[0] = 99;
	is_int(jrec_decode(b.data, b.len, &d), -EPROTO, "another format version is named as such");
	/* Format 1, written before victim_base: the same bytes without it. */
	b.data[0] = 1;
	ok(jrec_decode(b.data, b.len - 21, &d) == 0 && d.victim == 7 && !d.victim_base.valid &&
	    d.base.valid, "a record of format 1 still decodes, without the victim's version");
	jrec_free(&d);
	buf_free(&b);
}

/* After a record reached the server, the later ones of its file start
 * from the version it left there; a conflict copy takes their path. */
static void
test_rebase_repath(void)
{
	struct db_txn t;
	struct jrec r;
	struct base b = { .size = 99, .mtime = 1700000123, .mode = S_IFREG | 0640, .valid = 1 };
	uint64_t first;
	int n = 0;

	db_begin(db, &t, 1);
	while (journal_first(&t, &r) == 0) {
		journal_remove(&t, &r);
		jrec_free(&r);
	}
	add(&t, J_STORE, 30, "doc.txt", NULL);
	journal_first(&t, &r);
	first = r.seq;
	jrec_free(&r);
	add(&t, J_STORE, 31, "doc.txt", NULL);
	add(&t, J_RENAME, 30, "doc.txt", "doc2.txt");
	add(&t, J_SETATTR, 30, "doc2.txt", NULL);
	ok(journal_rebase_ino(&t, 30, first, &b) == 0, "rebase the later records of inode 30");
	ok(journal_repath_ino(&t, 30, first, "doc.txt", "doc (c).txt") == 0, "and repath them");
	while (journal_first(&t, &r) == 0) {
		n++;
		if (r.seq == first)
			ok(!r.base.valid && strcmp(r.path, "doc.txt") == 0, "the record itself is left");
		else if (r.ino == 31)
			ok(!r.base.valid && strcmp(r.path, "doc.txt") == 0,
			    "another file's record at the same path is left");
		else if (r.type == J_RENAME)
			ok(r.base.valid && r.base.size == 99 && strcmp(r.path, "doc (c).txt") == 0 &&
			    strcmp(r.path2, "doc2.txt") == 0, "the rename starts from the copy, rebased");
		else
			ok(r.base.valid && strcmp(r.path, "doc2.txt") == 0,
			    "a record at another path is rebased only");
		journal_remove(&t, &r);
		jrec_free(&r);
	}
	is_int(n, 4, "four records were there");
	ok(db_commit(&t) == 0, "committed");
}

/* A folder diverted to its conflict name takes the later records made in it. */
static void
test_repath_under(void)
{
	struct db_txn t;
	struct jrec r;
	uint64_t first;
	int n = 0;

	db_begin(db, &t, 1);
	add(&t, J_MKDIR, 40, "Work", NULL);
	journal_first(&t, &r);
	first = r.seq;
	jrec_free(&r);
	add(&t, J_MKDIR, 41, "Work/src", NULL);
	add(&t, J_STORE, 42, "Work/src/a.c", NULL);
	add(&t, J_STORE, 43, "Workshop/b.txt", NULL);
	add(&t, J_RENAME, 44, "notes.txt", "Work/notes.txt");
	ok(journal_repath_under(&t, first, "Work", "Work (c)") == 0, "repath what is under Work");
	while (journal_first(&t, &r) == 0) {
		n++;
		if (r.seq == first)
			ok(strcmp(r.path, "Work") == 0, "the record itself is left");
		else if (r.ino == 41)
			ok(strcmp(r.path, "Work (c)/src") == 0, "a folder in it follows");
		else if (r.ino == 42)
			ok(strcmp(r.path, "Work (c)/src/a.c") == 0, "a file deeper follows");
		else if (r.ino == 43)
			ok(strcmp(r.path, "Workshop/b.txt") == 0, "a name that only starts alike is left");
		else
			ok(strcmp(r.path, "notes.txt") == 0 && strcmp(r.path2, "Work (c)/notes.txt") == 0,
			    "a rename into it goes to the copy");
		journal_remove(&t, &r);
		jrec_free(&r);
	}
	is_int(n, 5, "five records were there");
	ok(db_commit(&t) == 0, "committed");
}

static void
test_order_and_cancel(void)
{
	struct db_txn t;
	struct jrec r;
	size_t n;

	db_begin(db, &t, 1);
	add(&t, J_STORE, 10, "new.txt", NULL);
	add(&t, J_STORE, 11, "other.txt", NULL);
	add(&t, J_RENAME, 10, "new.txt", "renamed.txt");
	add(&t, J_SETATTR, 10, "renamed.txt", NULL);
	ok(db_commit(&t) == 0, "four records appended");

	db_begin(db, &t, 1);
	ok(journal_pending_ino(&t, 10) == 1, "records pending for inode 10");
	ok(journal_pending_ino(&t, 12) == 0, "none for inode 12");
	ok(journal_first(&t, &r) == 0 && r.ino == 10 && r.type == J_STORE, "oldest first");
	jrec_free(&r);
	ok(journal_cancel_ino(&t, 10, NULL, NULL) == 0, "cancel inode 10");
	db_count(&t, DB_JOURNAL, &n);
	is_int(n, 1, "only the other file's record is left");
	ok(journal_first(&t, &r) == 0 && r.ino == 11, "and it is first");
	jrec_free(&r);
	ok(journal_pending_ino(&t, 10) == 0, "nothing pending for inode 10");
	db_commit(&t);
}

static void
test_cancel_keeps_victim(void)
{
	struct db_txn t;
	struct jrec r;
	uint64_t tomb;

	db_begin(db, &t, 1);
	while (journal_first(&t, &r) == 0) {
		journal_remove(&t, &r);
		jrec_free(&r);
	}
	memset(&r, 0, sizeof r);
	add(&t, J_STORE, 20, "tmp.x", NULL);
	r.type = J_RENAME;
	r.ino = 20;
	r.path = "tmp.x";
	r.path2 = "doc.txt";
	r.victim = 21;
	r.victim_remote = 1;
	r.victim_base.size = 5;
	r.victim_base.valid = 1;
	journal_append(&t, &r);
	journal_cancel_ino(&t, 20, "doc.txt", &tomb);
	ok(journal_first(&t, &r) == 0, "a record survives the cancellation");
	ok(tomb == r.seq, "its seq is given for the tombstone of doc.txt");
	ok(r.type == J_UNLINK && r.ino == 21, "it removes the replaced server file");
	ok(r.base.valid && r.base.size == 5 && !r.victim_base.valid,
	    "expecting the version the rename replaced");
	is_str(r.path, "doc.txt", "at the target's path");
	ok(journal_pending_ino(&t, 21) == 1, "indexed under the replaced inode");
	journal_set_aside(&t, &r, EACCES);
	jrec_free(&r);
	ok(journal_first(&t, &r) == -ENOENT, "set aside: the journal is empty");
	ok(journal_head(&t) == UINT64_MAX, "head of an empty journal");
	ok(db_commit(&t) == 0, "committed");
}

/* A rename over a file that is new too: its removal survives only if the
 * file itself will reach the server. */
static void
test_cancel_new_victim(void)
{
	struct db_txn t;
	struct inode in;
	struct jrec r;
	uint64_t tomb = 1;
	size_t n;

	db_begin(db, &t, 1);
	memset(&in, 0, sizeof in);
	in.mode = S_IFREG | 0644;
	in.nlink = 1;
	in.flags = I_LOCALNEW | I_CACHED;
	in.ino = 31;
	meta_inode_put(&t, &in);
	in.ino = 33;
	meta_inode_put(&t, &in);
	add(&t, J_STORE, 31, "dst", NULL);	/* the victim's upload is still to come */
	add(&t, J_STORE, 30, "src", NULL);
	memset(&r, 0, sizeof r);
	r.type = J_RENAME;
	r.ino = 30;
	r.path = "src";
	r.path2 = "dst";
	r.victim = 31;
	r.victim_remote = 0;	/* not on the server when renamed over */
	journal_append(&t, &r);
	journal_cancel_ino(&t, 30, "dst", &tomb);
	db_count(&t, DB_JOURNAL, &n);
	is_int(n, 2, "the victim's upload and the removal of its name are left");
	ok(journal_get(&t, tomb, &r) == 0 && r.type == J_UNLINK && r.ino == 31,
	    "the rename became the removal of the victim, and gives its seq");
	is_str(r.path, "dst", "of its name");
	jrec_free(&r);
	while (journal_first(&t, &r) == 0) {
		journal_remove(&t, &r);
		jrec_free(&r);
	}
	/* Now a victim whose own records are gone: it never reaches the server. */
	add(&t, J_STORE, 32, "a", NULL);
	memset(&r, 0, sizeof r);
	r.type = J_RENAME;
	r.ino = 32;
	r.path = "a";
	r.path2 = "b";
	r.victim = 33;
	journal_append(&t, &r);
	journal_cancel_ino(&t, 32, "b", &tomb);
	db_count(&t, DB_JOURNAL, &n);
	is_int(n, 0, "nothing is left for a victim that never travels");
	ok(tomb == 0, "and no tombstone is asked for");
	meta_inode_del(&t, 31);
	meta_inode_del(&t, 33);
	ok(db_commit(&t) == 0, "committed");
}

static void
test_meta(void)
{
	struct db_txn t;
	struct inode in, out;
	uint64_t a, b, ino;
	char *path = NULL;

	db_begin(db, &t, 1);
	meta_alloc_ino(&t, &a);
	meta_alloc_ino(&t, &b);
	ok(a > INO_ROOT && b == a + 1, "inode numbers are allocated in order");
	memset(&in, 0, sizeof in);
	in.ino = a;
	in.mode = S_IFDIR | 0755;
	in.nlink = 2;
	in.parent = INO_ROOT;
	in.name = "dir";
	meta_inode_put(&t, &in);
	meta_dirent_put(&t, INO_ROOT, "dir", a);
	in.ino = b;
	in.mode = S_IFLNK | 0777;
	in.parent = a;
	in.name = "link";
	in.target = "../x";
	meta_inode_put(&t, &in);
	meta_dirent_put(&t, a, "link", b);
	ok(db_commit(&t) == 0, "inodes and entries written");

	db_begin(db, &t, 0);
	ok(meta_dirent_get(&t, a, "link", &ino) == 0 && ino == b, "entry found");
	ok(meta_inode_get(&t, b, &out) == 0, "inode read back");
	is_str(out.target, "../x", "symlink target survives");
	inode_free(&out);
	ok(meta_path(&t, b, &path) == 0, "path computed");
	is_str(path, "dir/link", "path of a nested object");
	free(path);
	is_int(meta_dir_empty(&t, a), 0, "directory with an entry is not empty");
	is_int(meta_dirent_get(&t, a, "nope", &ino), -ENOENT, "missing entry");
	db_abort(&t);
}

/* A cache is tied to its source once it has reached the server (the home's
 * path is recorded); before that, another source may take it. */
static void
test_source(void)
{
	struct db_txn t;
	char *cause = NULL;

	is_int(meta_init(db, "typo@h:22:", 0755, &cause), 0,
	    "a cache that never reached its server takes another source");
	ok(cause == NULL, "without a message");
	ok(db_begin(db, &t, 1) == 0 && db_put(&t, DB_META, "root", 4, "/home/u", 7) == 0 &&
	    db_commit(&t) == 0, "the home's path recorded");
	is_int(meta_init(db, "other@h:22:", 0755, &cause), -EEXIST,
	    "then a cache for another source is refused");
	ok(cause && strstr(cause, "typo@h:22:"), "and the message names the owner");
	free(cause);
	cause = NULL;
	is_int(meta_init(db, "typo@h:22:", 0755, &cause), 0, "the owner opens it");
}

/* put an inode of nlink links (a regular file) and return its number */
static uint64_t
put_file(uint32_t nlink)
{
	struct db_txn t;
	struct inode in;
	uint64_t ino;

	db_begin(db, &t, 1);
	meta_alloc_ino(&t, &ino);
	memset(&in, 0, sizeof in);
	in.ino = ino;
	in.mode = S_IFREG | 0644;
	in.nlink = nlink;
	in.name = "f";
	meta_inode_put(&t, &in);
	db_commit(&t);
	return ino;
}

/* meta_orphans in a transaction of its own: the number of orphans found,
 * the first in *first. */
static int
orphans(uint64_t *first)
{
	struct db_txn t;
	struct buf list;
	int n;

	buf_init(&list, 0);
	db_begin(db, &t, 1);
	meta_orphans(&t, &list);
	n = db_commit(&t) == 0 ? (int)(list.len / 8) : -1;
	if (n > 0)
		*first = be_get_u64(list.data);
	buf_free(&list);
	return n;
}

/* Inodes with no name left are found from the orphan table, not by reading
 * every inode; a cache made before the table is read through once. */
static void
test_orphans(void)
{
	struct db_txn t;
	struct inode in;
	uint64_t gone, got = 0;
	uint8_t k[8];
	MDB_val v;

	put_file(1);
	is_int(orphans(&got), 0, "no orphan among named inodes");
	gone = put_file(0);
	ok(orphans(&got) == 1 && got == gone, "an inode with no link is an orphan");
	db_begin(db, &t, 1);
	meta_inode_del(&t, gone);
	ok(db_commit(&t) == 0, "the orphan reaped");
	is_int(orphans(&got), 0, "a reaped inode leaves the table");

	/* a key whose inode has a link again is dropped */
	gone = put_file(0);
	db_begin(db, &t, 1);
	meta_inode_get(&t, gone, &in);
	in.nlink = 1;
	meta_inode_put(&t, &in);
	inode_free(&in);
	db_commit(&t);
	is_int(orphans(&got), 0, "an inode linked again is not an orphan");

	/* a cache without the table: remove the mark and the orphan's key */
	gone = put_file(0);
	be_put_u64(k, gone);
	db_begin(db, &t, 1);
	db_del(&t, DB_META, "orphan_table", 12);
	db_del(&t, DB_ORPHAN, k, 8);
	ok(db_commit(&t) == 0, "a cache made before the orphan table");
	ok(orphans(&got) == 1 && got == gone, "its orphan is found by reading the inodes");
	db_begin(db, &t, 0);
	ok(db_get(&t, DB_ORPHAN, k, 8, &v) == 0, "and is in the table afterwards");
	db_abort(&t);
	ok(orphans(&got) == 1 && got == gone, "where the next mount finds it");
}

int
main(void)
{
	char dir[] = "/tmp/test_journal.XXXXXX", *cause = NULL, cmd[128];

	if (mkdtemp(dir) == NULL || db_open(dir, 1 << 26, &db, &cause) < 0 ||
	    meta_init(db, "u@h:22:", 0755, &cause) < 0) {
		printf("Bail out! cannot open a database in %s: %s\n", dir, cause ? cause : "?");
		return 1;
	}
	test_encoding();
	test_order_and_cancel();
	test_cancel_keeps_victim();
	test_cancel_new_victim();
	test_rebase_repath();
	test_repath_under();
	test_meta();
	test_source();
	test_orphans();
	db_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? tap_done() : 1;
}
