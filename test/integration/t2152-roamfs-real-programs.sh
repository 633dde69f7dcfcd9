#!/bin/sh
# t2152 (issue 21): real programs on one workstation while the replay
# runs: git (clone, commits, gc --aggressive, repack -ad, in a loop),
# a maildir writer with a client rescanning every 0.2 s, and sqlite3 in
# WAL mode.  Nothing waits for the replay between steps.  What they saved
# is checked on the mount, on the server and from a fresh cache on a
# second workstation, and no conflict copy may appear.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
command -v git >/dev/null || bail_out "git is missing: apt-get install git"
command -v sqlite3 >/dev/null || bail_out "sqlite3 is missing: apt-get install sqlite3"
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
W=$(ws_dir A)
B=$(ws_dir B)
SEED=${CHURN_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
say "maildir seed $SEED (CHURN_SEED=$SEED replays it)"
export GIT_AUTHOR_NAME=pupil GIT_AUTHOR_EMAIL=pupil@school.example
export GIT_COMMITTER_NAME=pupil GIT_COMMITTER_EMAIL=pupil@school.example
export GIT_CONFIG_NOSYSTEM=1 HOME=$TEST_DIR

# A repository on local disk to clone from: a little history.
ORIGIN=$TEST_DIR/origin
git init -q -b main "$ORIGIN" &&
for i in 1 2 3 4 5; do
	seq 1 $((i * 300)) >"$ORIGIN/file$i.txt" && git -C "$ORIGIN" add . &&
	git -C "$ORIGIN" commit -qm "origin $i" || bail_out "cannot make the origin repository"
done

test_expect_success 'git: clone, 20 commits, gc --aggressive and repack -ad in a loop, the replay running' '
	ws_mount A &&
	git clone -q "$ORIGIN" "$W/repo" &&
	for i in $(seq 1 20); do
		seq "$i" $((i * 50)) >"$W/repo/work$((i % 4)).txt" &&
		git -C "$W/repo" add -A &&
		git -C "$W/repo" commit -qm "commit $i" || return 1
		case $i in
		5|15) git -C "$W/repo" gc -q --aggressive || return 1 ;;
		10|20) git -C "$W/repo" repack -q -ad || return 1 ;;
		esac
		[ $((i % 3)) -ne 0 ] || sleep 1
	done &&
	test "$(git -C "$W/repo" rev-list --count main)" -eq 25 &&
	git -C "$W/repo" fsck --strict 2>&1 &&
	git -C "$W/repo" log --format=%s main >"$TEST_DIR/log.mount" &&
	test "$(head -n 1 "$TEST_DIR/log.mount")" = "commit 20"
'

test_expect_success 'maildir: 1500 deliveries, renames and deletions; a client rescanning every 0.2 s sees no anomaly' '
	python3 "$top_srcdir/test/tools/maildir-churn.py" "$W/Maildir" "$SEED" 1500 "$TEST_DIR/maildir.expect"
'

test_expect_success 'sqlite3 in WAL mode: rows committed while the replay runs' '
	sqlite3 "$W/notes.db" "PRAGMA journal_mode=WAL; CREATE TABLE n(i INTEGER PRIMARY KEY, t TEXT);" >/dev/null &&
	for i in $(seq 1 40); do
		sqlite3 "$W/notes.db" "BEGIN; INSERT INTO n(t) SELECT hex(randomblob(100)) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5); COMMIT;" || return 1
		[ $((i % 8)) -ne 0 ] || sleep 1
	done &&
	test "$(sqlite3 "$W/notes.db" "SELECT count(*) FROM n")" -eq 200 &&
	test "$(sqlite3 "$W/notes.db" "PRAGMA integrity_check")" = ok
'

test_expect_success 'after logout the server has them all: git fsck clean, the maildir, the 200 rows' '
	ws_unmount A &&
	no_conflicts "$H" &&
	git -C "$H/repo" fsck --strict 2>&1 &&
	test "$(git -C "$H/repo" rev-list --count main)" -eq 25 &&
	git -C "$H/repo" log --format=%s main | cmp - "$TEST_DIR/log.mount" &&
	( cd "$H/Maildir" && find new cur -type f -printf "%p %s\n" | LC_ALL=C sort ) |
	    cmp - "$TEST_DIR/maildir.expect" &&
	test "$(sqlite3 "$H/notes.db" "SELECT count(*) FROM n")" -eq 200 &&
	test "$(sqlite3 "$H/notes.db" "PRAGMA integrity_check")" = ok
'

test_expect_success 'a fresh cache on another workstation finds the same' '
	ws_mount B &&
	no_conflicts "$B" &&
	test "$(git -C "$B/repo" rev-list --count main)" -eq 25 &&
	git -C "$B/repo" fsck --strict 2>&1 &&
	( cd "$B/Maildir" && find new cur -type f -printf "%p %s\n" | LC_ALL=C sort ) |
	    cmp - "$TEST_DIR/maildir.expect" &&
	test "$(sqlite3 "$B/notes.db" "SELECT count(*) FROM n")" -eq 200 &&
	ws_unmount B
'

test_done
