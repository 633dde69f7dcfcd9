#!/bin/sh
# A cache that holds the home mounts when the server is down; work goes on,
# and reaches the server once it is back (the replayer retries with a
# backoff of up to 30 s).  A name the cache does not know waits for the
# directory's listing.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
log_sftp_requests VERBOSE
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
mkdir -p "$H/docs"
echo "cached" >"$H/docs/a.txt"
# Files fetched within the second of their mtime are fetched again at
# their next open (roamfs(8)): these are older, so the count below holds.
touch -d "1 minute ago" "$H/docs/a.txt"

test_expect_success 'first login fills the cache' '
	mount_roamfs "$M" &&
	test "$(cat "$M/docs/a.txt")" = cached &&
	unmount_roamfs "$M"
'

test_expect_success 'a new file on the server shows at the next login' '
	echo "from elsewhere" >"$H/docs/b.txt" && touch -d "1 minute ago" "$H/docs/b.txt" &&
	mount_roamfs "$M" &&
	test "$(cat "$M/docs/b.txt")" = "from elsewhere" &&
	unmount_roamfs "$M"
'

# The requests of the login and the programs, without those of the
# background prefetch of pins and the working set (under .config/roamfs,
# issue 14), which runs after the mount over its own connection.
app_requests() {
	grep -v '/\.config\(/roamfs\)\{0,1\}"' "$SFTP_LOG" | grep -v '/\.config/roamfs/'
}

opendirs_are() {
	test "$(app_requests | grep -c "opendir")" = "$1"
}

# A warm login serves the cached listings and lists them again in the
# background.  A file opened before its directory is listed again, more
# than attr_ttl after the last listing, is checked with a stat of its
# own, and so are the files of the working set (t2146): this login goes
# without the working set and opens the file once the listings are in.
printf 'workingset_files = 0\n' >"$TEST_DIR/nows.conf"
test_expect_success 'a warm login asks the server only for the listings it served' '
	: >"$SFTP_LOG" &&
	mount_roamfs "$M" "config=$TEST_DIR/nows.conf" &&
	ls "$M/docs" >/dev/null &&
	wait_for opendirs_are 2 &&
	test "$(cat "$M/docs/a.txt")" = cached &&
	ls "$M" >/dev/null &&
	sleep 1 &&
	cat "$SFTP_LOG" &&
	! app_requests | grep -E "realpath|stat name|open \"" &&
	opendirs_are 2 &&
	unmount_roamfs "$M"
'

test_expect_success 'a file made elsewhere shows in the home listing soon after a warm login' '
	echo "from elsewhere" >"$H/elsewhere.txt" &&
	mount_roamfs "$M" &&
	ls "$M" >/dev/null &&
	wait_for sh -c "ls \"$M\" | grep -qx elsewhere.txt" &&
	unmount_roamfs "$M"
'

test_expect_success 'directories made here reach the server' '
	mount_roamfs "$M" &&
	mkdir -p "$M/Made-here/sub" && echo "made here" >"$M/Made-here/sub/note.txt" &&
	unmount_roamfs "$M" &&
	content_is "$H/Made-here/sub/note.txt" "made here"
'

test_expect_success 'with the server down, a warm login succeeds and serves the cache' '
	stop_sshd &&
	mount_roamfs "$M" &&
	test "$(cat "$M/docs/a.txt")" = cached &&
	ls "$M/docs" >"$TEST_DIR/ls" &&
	grep -q b.txt "$TEST_DIR/ls"
'

test_expect_success 'offline, the directories made here are served from the cache' '
	ls "$M/Made-here" >"$TEST_DIR/ls" && grep -qx sub "$TEST_DIR/ls" &&
	content_is "$M/Made-here/sub/note.txt" "made here"
'

test_expect_success 'work done while the server is down reaches it when it is back, once' '
	echo "written offline" >"$M/docs/offline.txt" &&
	echo one >"$M/docs/one.txt" && echo two >"$M/docs/two.txt" &&
	sleep 3 &&
	echo more >>"$M/docs/one.txt" &&
	rm "$M/docs/b.txt" &&
	: >"$SFTP_LOG" &&
	restart_sshd &&
	WAIT_SERVER_SECONDS=60 wait_server content_is "$H/docs/offline.txt" "written offline" &&
	wait_server test ! -e "$H/docs/b.txt" &&
	wait_server content_is "$H/docs/one.txt" "$(printf "one\nmore")" &&
	content_is "$H/docs/two.txt" two &&
	sleep 2 &&
	grep "open \".*roamfs-tmp" "$SFTP_LOG" &&
	test "$(grep -c "open \".*roamfs-tmp" "$SFTP_LOG")" = 3 &&
	unmount_roamfs "$M"
'

test_done
