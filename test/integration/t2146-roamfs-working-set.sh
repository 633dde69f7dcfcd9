#!/bin/sh
# t2146 (issue 14): the working set follows the user.  At logout roamfs
# writes the files the session opened, most recent first, bounded in count
# and bytes, to .config/roamfs/workingset in the home; the next login on
# another workstation fetches them in the background, so that they are
# there before they are opened, and offline too.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
P=.thunderbird/abcd.default
mkdir -p "$H/$P/Mail/Local Folders" "$H/other"
for f in prefs.js places.sqlite cert9.db key4.db; do
	dd if=/dev/urandom of="$H/$P/$f" bs=1024 count=64 status=none
done
for i in 1 2 3 4 5 6 7 8; do
	dd if=/dev/urandom of="$H/$P/Mail/Local Folders/box$i" bs=1024 count=32 status=none
done
dd if=/dev/urandom of="$H/other/unused.bin" bs=1024 count=64 status=none
CONF=$TEST_DIR/roamfs.conf
printf 'workingset_files = 10\n' >"$CONF"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
W3=$(ws_dir ws3)
WS=$H/.config/roamfs/workingset

field() { # field WS NAME
	"$ROAMCTL" --json status "$(ws_cache "$1")" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

ws_cached() { # ws_cached WS: the working set of the last session is all cached
	[ "$(field "$1" workingset_files)" -gt 0 ] &&
	[ "$(field "$1" workingset_cached)" = "$(field "$1" workingset_files)" ]
}

test_expect_success 'at logout, the files the session opened go to the server, newest first' '
	ws_mount ws1 "config=$CONF" &&
	for i in 1 2 3 4 5 6 7 8; do cat "$W1/$P/Mail/Local Folders/box$i" >/dev/null || return 1; done &&
	for f in cert9.db key4.db places.sqlite prefs.js; do cat "$W1/$P/$f" >/dev/null || return 1; done &&
	printf "new\n" >"$W1/$P/new.txt" &&
	ws_unmount ws1 &&
	test -f "$WS" &&
	grep -v "^#" "$WS" >"$TEST_DIR/list" &&
	[ "$(wc -l <"$TEST_DIR/list")" -eq 10 ] &&
	[ "$(head -n 1 "$TEST_DIR/list")" = "$P/new.txt" ] &&
	[ "$(sed -n 2p "$TEST_DIR/list")" = "$P/prefs.js" ] &&
	grep -qxF "$P/Mail/Local Folders/box8" "$TEST_DIR/list" &&
	! grep -qxF "$P/Mail/Local Folders/box1" "$TEST_DIR/list" ||
	{ cat "$WS"; return 1; }
'

test_expect_success 'a second workstation fetches the working set after login' '
	ws_mount ws2 &&
	WAIT_SERVER_SECONDS=40 wait_server ws_cached ws2 &&
	[ "$(field ws2 workingset_files)" -eq 10 ] &&
	ws_offline ws2 &&
	{
		while read -r f; do
			cmp -s "$W2/$f" "$H/$f" || { echo "$f differs offline"; exit 1; }
		done <"$TEST_DIR/list" &&
		! timeout 10 cat "$W2/other/unused.bin" >/dev/null 2>&1 &&
		! timeout 10 cat "$W2/$P/Mail/Local Folders/box1" >/dev/null 2>&1
	}
	r=$?
	ws_online ws2 && return $r
'

test_expect_success 'the working set stops at the cache budget' '
	ws_mount ws3 cache_max=256K &&
	WAIT_SERVER_SECONDS=40 wait_server grep -q "working set: stopped at the cache.s budget" \
	    "$(ws_cache ws3)/roamfs.log" &&
	[ "$(field ws3 cache_contents)" -le 262144 ]
'

test_expect_success 'with workingset_files = 0, no working set is written' '
	ws_unmount ws2 &&
	rm -f "$WS" &&
	printf "workingset_files = 0\n" >"$CONF" &&
	ws_mount ws2 "config=$CONF" && cat "$W2/$P/prefs.js" >/dev/null && ws_unmount ws2 &&
	! test -e "$WS"
'

test_done
