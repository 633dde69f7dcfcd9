#!/bin/sh
# t2164 (issue 22, 3): hard links stay one file whichever workstation
# edits them.  A new cache learns from the server's listing (the link
# count of its "ls -l" long names) that names share a file: it shows them
# with two links, and an edit of any of them is written in place on the
# server, so that every name there keeps the new contents; the other
# workstations see it at their next open.  Links made on one workstation
# are links on the server and for a fresh cache elsewhere, and an edit
# made offline keeps them one file too.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/docs"
echo "version 1" >"$H/docs/report.txt"
ln "$H/docs/report.txt" "$H/report-link.txt"
ln "$H/docs/report.txt" "$H/docs/same.txt"
echo "single" >"$H/alone.txt"
A=$(ws_dir A)
B=$(ws_dir B)
C=$(ws_dir C)

# one_file A B...: the server's names are one file (one inode).
one_file() {
	_i=$(stat -c %i "$H/$1") || return 1
	_f=$1
	shift
	for _n in "$@"; do
		[ "$(stat -c %i "$H/$_n")" = "$_i" ] ||
		    { echo "$H/$_n is not one file with $H/$_f"; ls -li "$H" "$H/docs"; return 1; }
	done
}

flush() {
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache "$1")" >/dev/null
}

test_expect_success 'a new cache shows names that share a file with two links' '
	ws_mount A &&
	bytes_are "$A/docs/report.txt" "version 1" && bytes_are "$A/report-link.txt" "version 1" &&
	test "$(stat -c %h "$A/docs/report.txt")" -ge 2 &&
	test "$(stat -c %h "$A/report-link.txt")" -ge 2 &&
	test "$(stat -c %h "$A/alone.txt")" -eq 1
'

test_expect_success 'an edit of one name on the new cache keeps them one file on the server' '
	echo "version 2 from A" >"$A/report-link.txt" && flush A &&
	one_file docs/report.txt report-link.txt docs/same.txt &&
	bytes_are "$H/docs/report.txt" "version 2 from A" &&
	bytes_are "$H/docs/same.txt" "version 2 from A" &&
	WAIT_SERVER_SECONDS=30 wait_server bytes_are "$A/docs/report.txt" "version 2 from A"
'

test_expect_success 'a second workstation sees every name with the edit, and its append keeps them one' '
	ws_mount B &&
	bytes_are "$B/docs/same.txt" "version 2 from A" &&
	echo "appended on B" >>"$B/docs/same.txt" && flush B &&
	one_file docs/report.txt report-link.txt docs/same.txt &&
	printf "version 2 from A\nappended on B\n" >"$TEST_DIR/want" &&
	cmp "$H/report-link.txt" "$TEST_DIR/want" &&
	WAIT_SERVER_SECONDS=30 wait_server cmp "$A/docs/report.txt" "$TEST_DIR/want"
'

test_expect_success 'links made on one workstation are links for a fresh cache, which keeps them one' '
	echo "made on A" >"$A/made.txt" && ln "$A/made.txt" "$A/docs/made-link.txt" && flush A &&
	one_file made.txt docs/made-link.txt &&
	ws_mount C && bytes_are "$C/docs/made-link.txt" "made on A" &&
	test "$(stat -c %h "$C/made.txt")" -ge 2 &&
	echo "edited on C" >"$C/docs/made-link.txt" && flush C &&
	one_file made.txt docs/made-link.txt && bytes_are "$H/made.txt" "edited on C" &&
	WAIT_SERVER_SECONDS=30 wait_server bytes_are "$A/made.txt" "edited on C"
'

test_expect_success 'an edit made offline keeps them one file once sent' '
	ws_offline B &&
	echo "offline on B" >"$B/report-link.txt" &&
	ws_online B && WAIT_SERVER_SECONDS=60 wait_server ws_connected B && flush B &&
	one_file docs/report.txt report-link.txt docs/same.txt &&
	bytes_are "$H/docs/same.txt" "offline on B" &&
	WAIT_SERVER_SECONDS=30 wait_server bytes_are "$C/docs/report.txt" "offline on B"
'

test_expect_success 'a name removed on the server leaves one: an edit then goes as for any file' '
	rm "$H/docs/same.txt" "$H/docs/report.txt" &&
	ls "$A" "$A/docs" >/dev/null &&
	WAIT_SERVER_SECONDS=30 wait_server eval "ls \"$A\" >/dev/null && test \"\$(stat -c %h \"$A/report-link.txt\")\" -eq 1" &&
	echo "alone now" >"$A/report-link.txt" && flush A &&
	bytes_are "$H/report-link.txt" "alone now" &&
	ws_unmount A && ws_unmount B && ws_unmount C &&
	no_conflicts "$H"
'

test_done
