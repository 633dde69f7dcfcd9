#!/bin/sh
# t2136 (issue 12): directories renamed or deleted on the server
# (by another workstation) while cached here.  The other workstation shows
# the rename and the removal within a few seconds (no ghost directory),
# and what it saved into such a directory while it could not know is kept
# and reaches the server (the directory made again, or the files under a
# conflict name), where every workstation sees it: never only "set aside"
# in a log.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/project" "$H/old" "$H/course" "$H/trash"
printf 'project a\n' >"$H/project/a.txt"
printf 'old b\n' >"$H/old/b.txt"
printf 'course c\n' >"$H/course/c.txt"
printf 'trash d\n' >"$H/trash/d.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

test_expect_success 'two workstations mount the home and cache the directories' '
	ws_mount ws1 && ws_mount ws2 &&
	for f in project/a.txt old/b.txt course/c.txt trash/d.txt; do
		test -f "$W1/$f" && test -f "$W2/$f" || return 1
	done &&
	ls "$W1" "$W2" "$W1/project" "$W2/project" "$W1/old" "$W2/old" >/dev/null
'

test_expect_success 'a directory renamed on ws1 shows renamed on ws2, with no ghost' '
	mv "$W1/project" "$W1/project-2026" &&
	wait_server test -f "$H/project-2026/a.txt" &&
	wait_server eval "ls \"\$W2\" | grep -qx project-2026 && ! ls \"\$W2\" | grep -qx project" &&
	bytes_are "$W2/project-2026/a.txt" "project a" &&
	test ! -e "$W2/project" ||
	show_files "$H" "$W2"
'

test_expect_success 'a directory deleted on ws1 is gone on ws2' '
	rm -r "$W1/old" &&
	wait_server test ! -e "$H/old" &&
	wait_server eval "! ls \"\$W2\" | grep -qx old" &&
	test ! -e "$W2/old" ||
	show_files "$H" "$W2"
'

test_expect_success 'a file saved offline into a directory renamed meanwhile reaches the server' '
	ls "$W2/course" >/dev/null &&
	ws_offline ws2 &&
	printf "saved into course on ws2\n" >"$W2/course/saved.txt" &&
	mv "$W1/course" "$W1/course-renamed" &&
	wait_server test -f "$H/course-renamed/c.txt" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server has_text "$H" "saved into course on ws2" &&
	bytes_are "$H/course-renamed/c.txt" "course c" &&
	wait_server has_text "$W1" "saved into course on ws2" &&
	wait_server has_text "$W2" "saved into course on ws2" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'a file saved offline into a directory deleted meanwhile reaches the server' '
	ls "$W2/trash" >/dev/null &&
	ws_offline ws2 &&
	printf "saved into trash on ws2\n" >"$W2/trash/kept.txt" &&
	rm -r "$W1/trash" &&
	wait_server test ! -e "$H/trash" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server has_text "$H" "saved into trash on ws2" &&
	wait_server has_text "$W1" "saved into trash on ws2" &&
	wait_server has_text "$W2" "saved into trash on ws2" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'nothing was set aside on ws2' '
	! grep -i "set aside" "$(ws_cache ws2)/roamfs.log"
'

test_done
