#!/bin/sh
# Excluded paths live only in the cache: never uploaded, never fetched.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
mkdir -p "$H/.cache/app" "$H/docs"
echo "server cache" >"$H/.cache/app/blob"
echo "server trash" >"$H/docs/old.tmp"
cat >"$TEST_DIR/exclude" <<'EOS'
# local-only paths
.cache/
*.tmp
/scratch/
EOS

test_expect_success 'mount with an exclusion list' '
	mount_roamfs "$M" "exclude=$TEST_DIR/exclude"
'

test_expect_success 'excluded server paths are never fetched' '
	test ! -e "$M/.cache" &&
	test ! -e "$M/docs/old.tmp" &&
	test -z "$(ls -A "$M/docs")"
'

test_expect_success 'excluded paths work locally but never reach the server' '
	mkdir -p "$M/.cache/browser" "$M/scratch" &&
	echo local >"$M/.cache/browser/data" &&
	echo local >"$M/scratch/notes" &&
	echo local >"$M/docs/draft.tmp" &&
	echo synced >"$M/docs/report.txt" &&
	test "$(cat "$M/.cache/browser/data")" = local &&
	wait_server test -f "$H/docs/report.txt" &&
	test ! -e "$H/.cache/browser" &&
	test ! -e "$H/scratch" &&
	test ! -e "$H/docs/draft.tmp" &&
	test "$(cat "$H/docs/old.tmp")" = "server trash"
'

test_expect_success 'a file renamed out of the excluded area is uploaded' '
	mv "$M/docs/draft.tmp" "$M/docs/draft.txt" &&
	wait_server content_is "$H/docs/draft.txt" local
'

test_expect_success 'a file renamed into the excluded area leaves the server' '
	mv "$M/docs/report.txt" "$M/docs/report.tmp" &&
	wait_server test ! -e "$H/docs/report.txt" &&
	test ! -e "$H/docs/report.tmp" &&
	test "$(cat "$M/docs/report.tmp")" = synced
'

test_expect_success 'a tree moved out of the excluded area reaches the server, all of it' '
	mkdir -p "$M/.cache/proj/sub/deeper" &&
	echo a >"$M/.cache/proj/a.txt" &&
	echo b >"$M/.cache/proj/sub/b.txt" &&
	echo c >"$M/.cache/proj/sub/deeper/c.txt" &&
	echo t >"$M/.cache/proj/sub/keep.tmp" &&
	ln -s a.txt "$M/.cache/proj/link" &&
	mkfifo "$M/.cache/proj/pipe" &&
	mv "$M/.cache/proj" "$M/proj" &&
	wait_server content_is "$H/proj/sub/deeper/c.txt" c &&
	content_is "$H/proj/a.txt" a && content_is "$H/proj/sub/b.txt" b &&
	link_is "$H/proj/link" a.txt &&
	test ! -e "$H/proj/sub/keep.tmp" && test ! -e "$H/proj/pipe" &&
	content_is "$M/proj/sub/keep.tmp" t && test -p "$M/proj/pipe"
'

test_expect_success 'an edit in the moved tree travels, and the tree moved back leaves the server' '
	echo b2 >"$M/proj/sub/b.txt" &&
	wait_server content_is "$H/proj/sub/b.txt" b2 &&
	mv "$M/proj" "$M/scratch/proj" &&
	wait_server test ! -e "$H/proj" &&
	content_is "$M/scratch/proj/sub/deeper/c.txt" c &&
	echo b3 >"$M/scratch/proj/sub/b.txt" &&
	sleep 3 &&
	test ! -e "$H/scratch" && test ! -e "$H/proj"
'

test_expect_success 'a hard link across the boundary is refused (EXDEV)' '
	! ln "$M/docs/draft.txt" "$M/scratch/link" 2>"$TEST_DIR/err" &&
	grep -qi "cross-device" "$TEST_DIR/err"
'

test_expect_success 'after unmount and remount the local-only files are still there' '
	unmount_roamfs "$M" &&
	! grep -ri "set aside" "$ROAM_CACHE/roamfs.log" &&
	test ! -e "$H/scratch" && test ! -e "$H/.cache/browser" &&
	mount_roamfs "$M" "exclude=$TEST_DIR/exclude" &&
	test "$(cat "$M/scratch/notes")" = local &&
	test "$(cat "$M/.cache/browser/data")" = local &&
	content_is "$M/scratch/proj/sub/b.txt" b3 &&
	unmount_roamfs "$M" &&
	test ! -e "$H/proj" && test ! -e "$H/scratch"
'

test_done
