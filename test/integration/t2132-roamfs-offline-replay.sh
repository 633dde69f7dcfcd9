#!/bin/sh
# t2132 (issue 12): an edit made offline, replayed when the
# workstation is back (at reconnection, or at a later login from the same
# cache), meets a newer edit that another workstation made meanwhile: the
# server's version keeps the name, the offline one becomes the conflict copy
# "NAME (conflict WORKSTATION YYYY-MM-DD HHMMSS).EXT", on the server and in
# both mounts.  An offline edit of a file nobody else changed goes up as
# it is, with no conflict copy.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
for f in report.txt login.txt solo.txt; do
	printf 'original\n' >"$H/$f"
done
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
# ws2 logs out while offline: give up sending after 3 s instead of 30.
OPTS2=flush_timeout=3

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 "$OPTS2" &&
	for f in report.txt login.txt solo.txt; do
		bytes_are "$W1/$f" original && bytes_are "$W2/$f" original || return 1
	done
'

test_expect_success 'an offline edit replayed at reconnection does not overwrite the newer edit' '
	ws_offline ws2 &&
	printf "offline on ws2\n" >"$W2/report.txt" &&
	printf "online on ws1\n" >"$W1/report.txt" &&
	wait_server bytes_are "$H/report.txt" "online on ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server kept_as "$H" report.txt "online on ws1" ws2 "offline on ws2" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'both workstations show both versions of the reconnection case' '
	wait_server kept_as "$W1" report.txt "online on ws1" ws2 "offline on ws2" &&
	wait_server kept_as "$W2" report.txt "online on ws1" ws2 "offline on ws2" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'an offline edit replayed at a later login does not overwrite the newer edit' '
	ws_offline ws2 &&
	printf "ws2 before logout\n" >"$W2/login.txt" &&
	ws_unmount ws2 &&
	printf "ws1 meanwhile\n" >"$W1/login.txt" &&
	wait_server bytes_are "$H/login.txt" "ws1 meanwhile" &&
	ws_online ws2 &&
	ws_mount ws2 "$OPTS2" &&
	wait_server kept_as "$H" login.txt "ws1 meanwhile" ws2 "ws2 before logout" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'both workstations show both versions of the later login case' '
	wait_server kept_as "$W1" login.txt "ws1 meanwhile" ws2 "ws2 before logout" &&
	wait_server kept_as "$W2" login.txt "ws1 meanwhile" ws2 "ws2 before logout" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'an offline edit of a file nobody else changed goes up with no conflict copy' '
	ws_offline ws2 &&
	printf "only ws2 changed this\n" >"$W2/solo.txt" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server bytes_are "$H/solo.txt" "only ws2 changed this" &&
	sleep 2 &&
	test -z "$(conflicts "$H" solo.txt)" && test -z "$(conflicts "$W2" solo.txt)" &&
	wait_server bytes_are "$W1/solo.txt" "only ws2 changed this" ||
	show_files "$H" "$W1" "$W2"
'

test_done
