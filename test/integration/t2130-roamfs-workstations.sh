#!/bin/sh
# t2130: several workstations on one server home (ws_mount and the other
# ws_* functions of lib.sh, test/tools/proxy-tool): each has its own roamfs,
# cache, mount point and proxy; ws_offline cuts one workstation's link
# alone, and what it saved meanwhile reaches the server after ws_online.
# What issue 12 asks beyond this (conflicts, coherence with the default
# options) is in t2131-t2139.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
printf 'from the server\n' >"$H/shared.txt"
printf 'kept\n' >"$H/other.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
W3=$(ws_dir ws3)
# The file created on ws1 is looked for on ws2 after ws2 listed the home:
# within dir_ttl (5 s by default) the listing would come from the cache.
# Seeing changes with the defaults is what t2135 checks, not this test.
OPTS=dir_ttl=1

test_expect_success 'proxy-tool: exits by itself after -T, bad arguments give usage' '
	timeout 10 "$PROXY_TOOL" -t 9 -T 1 >/dev/null 2>"$TEST_DIR/T.log" &&
	grep -q "time limit" "$TEST_DIR/T.log" &&
	{ "$PROXY_TOOL" -T 1 2>"$TEST_DIR/usage"; test $? -eq 2; } &&
	grep -q "usage: proxy-tool" "$TEST_DIR/usage"
'

test_expect_success 'two workstations mount the home, each with its cache and its proxy' '
	ws_mount ws1 "$OPTS" &&
	ws_mount ws2 "$OPTS" &&
	grep -q " $W1 fuse.roamfs " /proc/mounts &&
	grep -q " $W2 fuse.roamfs " /proc/mounts &&
	content_is "$W1/shared.txt" "from the server" &&
	content_is "$W2/shared.txt" "from the server" &&
	content_is "$W2/other.txt" kept &&
	test -n "$(ws_pid ws1)" && test -n "$(ws_pid ws2)" &&
	test "$(ws_pid ws1)" != "$(ws_pid ws2)" &&
	test -f "$(ws_cache ws1)/roamfs.log" && test -f "$(ws_cache ws2)/roamfs.log" &&
	ws_connected ws1 && ws_connected ws2
'

test_expect_success 'a file created on ws1 reaches the server and shows on ws2 after a listing' '
	ls "$W2" >"$TEST_DIR/before" &&
	! grep -qx new.txt "$TEST_DIR/before" &&
	printf "made on ws1\n" >"$W1/new.txt" &&
	wait_server content_is "$H/new.txt" "made on ws1" &&
	sleep 1.1 &&	# past ws2'"'"'s dir_ttl of 1 s
	ls "$W2" >"$TEST_DIR/after" &&
	grep -qx new.txt "$TEST_DIR/after" &&
	content_is "$W2/new.txt" "made on ws1"
'

test_expect_success 'ws_offline cuts only ws2: its edit stays local, ws1 still reaches the server' '
	ws_offline ws2 &&
	grep -q "^offline live=0 " "$TEST_DIR/ws2.proxy/state" &&
	printf "edited on ws2 offline\n" >"$W2/shared.txt" &&
	content_is "$W2/shared.txt" "edited on ws2 offline" &&
	printf "ws1 is still online\n" >"$W1/online.txt" &&
	wait_server content_is "$H/online.txt" "ws1 is still online" &&
	sleep 3 &&	# a check that nothing arrives needs time; replay waits ~1 s
	content_is "$H/shared.txt" "from the server"
'

test_expect_success 'after ws_online, the edit made offline arrives on the server' '
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server content_is "$H/shared.txt" "edited on ws2 offline" &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws2 &&
	content_is "$H/other.txt" kept
'

test_expect_success 'three workstations mount at once; the third sees what the others sent' '
	ws_mount ws3 "$OPTS" &&
	grep -q " $W1 fuse.roamfs " /proc/mounts &&
	grep -q " $W2 fuse.roamfs " /proc/mounts &&
	grep -q " $W3 fuse.roamfs " /proc/mounts &&
	content_is "$W3/shared.txt" "edited on ws2 offline" &&
	content_is "$W3/new.txt" "made on ws1" &&
	printf "made on ws3\n" >"$W3/third.txt" &&
	wait_server content_is "$H/third.txt" "made on ws3" &&
	ws_connected ws1 && ws_connected ws2 && ws_connected ws3
'

test_expect_success 'ws_unmount sends the journal and waits for each roamfs to exit' '
	p1=$(ws_pid ws1) && p3=$(ws_pid ws3) &&
	printf "last words\n" >"$W3/bye.txt" &&
	ws_unmount ws3 &&
	! running "$p3" &&
	! grep -q " $W3 " /proc/mounts &&
	content_is "$H/bye.txt" "last words" &&
	ws_unmount ws1 &&
	! running "$p1" &&
	grep -q " $W2 fuse.roamfs " /proc/mounts
'

test_expect_success 'a workstation mounts again from its cache through the same proxy' '
	port=$(cat "$TEST_DIR/ws1.proxy/port") &&
	ws_mount ws1 "$OPTS" &&
	test "$(cat "$TEST_DIR/ws1.proxy/port")" = "$port" &&
	content_is "$W1/third.txt" "made on ws3" &&
	ws_unmount ws1
'

# other.txt is cached on ws2 and its name known to the kernel, so the edit
# needs nothing from the server.  (The first listing or download after a
# cut finds the idle connection dead and tries once more on a new one:
# t2139 checks that.)
test_expect_success 'ws_unmount of an offline workstation returns once roamfs gave up' '
	ws_offline ws2 &&
	printf "saved offline, sent later\n" >"$W2/other.txt" &&
	p2=$(ws_pid ws2) &&
	ws_unmount ws2 &&
	! running "$p2" &&
	content_is "$H/other.txt" kept
'

test_expect_success 'what the workstation kept is sent at its next mount, back online' '
	ws_online ws2 &&
	ws_mount ws2 "$OPTS" &&
	wait_server content_is "$H/other.txt" "saved offline, sent later" &&
	ws_unmount ws2
'

test_done
