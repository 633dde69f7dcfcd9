#!/bin/sh
# t2131 (issue 12): two workstations edit the same cached file.
# A change made on a version the server no longer holds is a conflict: the
# server's version keeps the name, the other is stored next to it as
# "NAME (conflict WORKSTATION YYYY-MM-DD HHMMSS).EXT" on the server and in
# both mounts, and no version is dropped at the next listing.  Edits one
# after the other (the second workstation saw the first edit) and our own
# successive saves make no conflict copy.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
printf 'original\n' >"$H/doc.txt"
printf 'original\n' >"$H/held.txt"
printf 'original\n' >"$H/seq.txt"
printf 'original\n' >"$H/mine.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 &&
	for f in doc.txt held.txt seq.txt mine.txt; do
		bytes_are "$W1/$f" original && bytes_are "$W2/$f" original || return 1
	done
'

# Both saves are made before either reaches the server (a change waits
# about a second before it is sent): both are made on "original".
test_expect_success 'edits on both sides at once: the server keeps both versions' '
	printf "saved on ws1\n" >"$W1/doc.txt" &&
	printf "saved on ws2\n" >"$W2/doc.txt" &&
	wait_server kept_both "$H" doc.txt ws1 "saved on ws1" ws2 "saved on ws2" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'both workstations show both versions, as the server has them' '
	copy=$(conflicts "$H" doc.txt) &&
	test -n "$copy" &&
	wait_server cmp -s "$W1/$copy" "$H/$copy" &&
	wait_server cmp -s "$W2/$copy" "$H/$copy" &&
	wait_server cmp -s "$W1/doc.txt" "$H/doc.txt" &&
	wait_server cmp -s "$W2/doc.txt" "$H/doc.txt" &&
	ls "$W1" | grep -qxF "$copy" && ls "$W2" | grep -qxF "$copy" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no version is dropped at a later listing' '
	copy=$(conflicts "$H" doc.txt) && test -n "$copy" &&
	sleep 2 &&
	ls "$W1" >/dev/null && ls "$W2" >/dev/null &&
	cmp -s "$W1/$copy" "$H/$copy" &&
	cmp -s "$W2/$copy" "$H/$copy" &&
	kept_both "$H" doc.txt ws1 "saved on ws1" ws2 "saved on ws2" ||
	show_files "$H" "$W1" "$W2"
'

# An application that read the file when it opened it and writes to it
# later: its write is made on the version it opened, whatever came since.
test_expect_success 'a file held open on ws2 while ws1 saved: ws1 keeps the name, ws2 gets the copy' '
	exec 3<>"$W2/held.txt" || return 1
	printf "ws1 saved while ws2 held the file\n" >"$W1/held.txt" &&
	wait_server bytes_are "$H/held.txt" "ws1 saved while ws2 held the file" &&
	printf "ws2 wrote through its old descriptor\n" >&3
	rc=$?
	exec 3>&-
	test $rc -eq 0 &&
	wait_server kept_as "$H" held.txt "ws1 saved while ws2 held the file" \
	    ws2 "ws2 wrote through its old descriptor" &&
	wait_server kept_as "$W1" held.txt "ws1 saved while ws2 held the file" \
	    ws2 "ws2 wrote through its old descriptor" &&
	wait_server kept_as "$W2" held.txt "ws1 saved while ws2 held the file" \
	    ws2 "ws2 wrote through its old descriptor" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'an edit on ws2 after it saw the edit of ws1 makes no conflict copy' '
	printf "first ws1\n" >"$W1/seq.txt" &&
	wait_server bytes_are "$H/seq.txt" "first ws1" &&
	wait_server bytes_are "$W2/seq.txt" "first ws1" &&
	printf "then ws2\n" >"$W2/seq.txt" &&
	wait_server bytes_are "$H/seq.txt" "then ws2" &&
	sleep 2 &&
	test -z "$(conflicts "$H" seq.txt)" &&
	wait_server bytes_are "$W1/seq.txt" "then ws2" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'successive saves of one workstation make no conflict copy' '
	printf "mine 1\n" >"$W1/mine.txt" &&
	wait_server bytes_are "$H/mine.txt" "mine 1" &&
	printf "mine 2\n" >"$W1/mine.txt" &&
	wait_server bytes_are "$H/mine.txt" "mine 2" &&
	printf "mine 3 longer\n" >>"$W1/mine.txt" &&
	wait_server grep -qx "mine 3 longer" "$H/mine.txt" &&
	sleep 2 &&
	test -z "$(conflicts "$H" mine.txt)" && test -z "$(conflicts "$W1" mine.txt)" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no conflict copies but those of the concurrent edits' '
	ls "$H" | grep -F "(conflict" | grep -vF "doc (conflict" | grep -vF "held (conflict" >"$TEST_DIR/extra";
	test ! -s "$TEST_DIR/extra" || { cat "$TEST_DIR/extra"; false; }
'

test_done
