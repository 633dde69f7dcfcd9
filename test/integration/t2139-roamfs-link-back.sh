#!/bin/sh
# t2139 (found while writing t2130 for issue 12): a workstation
# whose link was cut and came back while its roamfs sat idle.  The first
# download or listing after that is served (roamfs reconnects), not failed
# with ENOTCONN ("Transport endpoint is not connected", which looks like a
# dead mount).  While the link is still cut, an uncached file fails at
# once with EHOSTUNREACH, as roamfs(8) says, and new files can be made.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/sub1" "$H/sub2" "$H/sub3"
for f in a b c d; do
	printf 'file %s\n' "$f" >"$H/$f.txt"
done
W1=$(ws_dir ws1)

test_expect_success 'a workstation mounts and lists the home' '
	ws_mount ws1 &&
	ls "$W1" >/dev/null &&
	bytes_are "$W1/a.txt" "file a"
'

test_expect_success 'after a cut and its repair, the first download is served' '
	ws_offline ws1 && ws_online ws1 &&
	cat "$W1/b.txt" >"$TEST_DIR/b.out" 2>"$TEST_DIR/b.err";
	cat "$TEST_DIR/b.err" &&
	bytes_are "$TEST_DIR/b.out" "file b"
'

test_expect_success 'after a cut and its repair, the first listing is served' '
	wait_server bytes_are "$W1/d.txt" "file d" &&	# a connection in use
	ws_offline ws1 && ws_online ws1 &&
	ls "$W1/sub1" 2>&1 &&
	ls -d "$W1/sub1"
'

test_expect_success 'while cut, an uncached file fails at once with EHOSTUNREACH' '
	ws_offline ws1 &&
	t0=$(date +%s) &&
	! cat "$W1/c.txt" 2>"$TEST_DIR/c.err" &&
	t1=$(date +%s) &&
	cat "$TEST_DIR/c.err" &&
	grep -q "No route to host" "$TEST_DIR/c.err" &&
	test $((t1 - t0)) -le 2
'

test_expect_success 'while cut, a new file is made in a listed directory' '
	printf "made offline\n" >"$W1/offline.txt" &&
	bytes_are "$W1/offline.txt" "made offline" &&
	ws_online ws1 &&
	WAIT_SERVER_SECONDS=60 wait_server bytes_are "$H/offline.txt" "made offline"
'

test_done
