#!/bin/sh
# t2137 (issue 12): mail on two workstations.  A maildir flag
# rename (cur/ID:2,S to cur/ID:2,FS) replayed after another workstation
# expunged the message is not dropped silently: the message is kept, or
# the workstation logs that the flag change met an expunge (a conflict, not
# the "set aside" of a change the server refused).
# An expunge replayed after another workstation renamed the message for a
# flag does not bring the message back.  A flag rename of a message that
# another workstation moved from new/ and flagged meanwhile lands with the
# flags of both (issue 22), once.  Two appends to one mbox at once
# lose no message (both kept: in the mbox, or one in a conflict copy).
# Every workstation then shows the server's maildir.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
MD=Maildir
mkdir -p "$H/$MD/cur" "$H/$MD/new" "$H/$MD/tmp"
ID1=1767000001.M1P1.mailhost
ID2=1767000002.M2P2.mailhost
ID3=1767000003.M3P3.mailhost
ID4=1767000004.M4P4.mailhost
for id in $ID1 $ID2 $ID3; do
	printf 'From: teacher@example.org\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
	    "$id" "$id" >"$H/$MD/cur/$id:2,S"
done
printf 'From: pupil@example.org\nMessage-ID: <%s@example.org>\n\nbody of %s\n' \
    "$ID4" "$ID4" >"$H/$MD/new/$ID4"
printf 'From alice@example.org Mon Mar  2 08:00:00 2026\nSubject: zero\n\nmessage zero\n\n' >"$H/mbox"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

# names DIR: the names in DIR, sorted, one a line, but roamfs's markers
# at the server home's root (.roamfs-session.NAME while mounted).
names() {
	ls -A "$1" | grep -v '^\.roamfs-' | sort
}

# same_names DIR...: the directories hold the same names.
same_names() {
	_a=$(names "$1") || return 1
	shift
	for _d; do
		[ "$(names "$_d")" = "$_a" ] || return 1
	done
}

test_expect_success 'two workstations mount the home and cache the mail' '
	ws_mount ws1 && ws_mount ws2 &&
	for id in $ID1 $ID2 $ID3; do
		grep -q "body of $id" "$W1/$MD/cur/$id:2,S" &&
		grep -q "body of $id" "$W2/$MD/cur/$id:2,S" || return 1
	done &&
	cmp "$W1/mbox" "$H/mbox" && cmp "$W2/mbox" "$H/mbox"
'

test_expect_success 'a flag rename of a message expunged elsewhere is not dropped silently' '
	ws_offline ws2 &&
	mv "$W2/$MD/cur/$ID1:2,S" "$W2/$MD/cur/$ID1:2,FS" &&
	rm "$W1/$MD/cur/$ID1:2,S" &&
	wait_server test ! -e "$H/$MD/cur/$ID1:2,S" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws2 &&
	sleep 3 &&	# the replay of the rename, once reconnected
	{ grep -q "body of $ID1" "$H/$MD/cur/$ID1:2,FS" ||
	    grep -F "$ID1" "$(ws_cache ws2)/roamfs.log" | grep -vF "set aside" | grep .; } ||
	{ echo "the message is gone and ws2 logs no conflict for it (a set-aside is not one):";
	  tail -n 5 "$(ws_cache ws2)/roamfs.log"; show_files "$H/$MD" "$W2/$MD"; }
'

test_expect_success 'both workstations then show the maildir of the server' '
	wait_server same_names "$H/$MD/cur" "$W1/$MD/cur" "$W2/$MD/cur" ||
	show_files "$H/$MD" "$W1/$MD" "$W2/$MD"
'

test_expect_success 'an expunge replayed after a flag rename elsewhere does not bring the message back' '
	ws_offline ws1 &&
	rm "$W1/$MD/cur/$ID2:2,S" &&
	mv "$W2/$MD/cur/$ID2:2,S" "$W2/$MD/cur/$ID2:2,RS" &&
	wait_server test -f "$H/$MD/cur/$ID2:2,RS" &&
	ws_online ws1 &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws1 &&
	sleep 3 &&	# the replay of the expunge, once reconnected
	WAIT_SERVER_SECONDS=30 wait_server eval "! ls \"\$H/\$MD/cur\" | grep -qF \$ID2" &&
	wait_server eval "! ls \"\$W1/\$MD/cur\" | grep -qF \$ID2" &&
	wait_server eval "! ls \"\$W2/\$MD/cur\" | grep -qF \$ID2" ||
	show_files "$H/$MD" "$W1/$MD" "$W2/$MD"
'

test_expect_success 'a flag rename of a message flagged elsewhere meanwhile keeps both flags' '
	grep -q "body of $ID4" "$W2/$MD/new/$ID4" &&
	ws_offline ws2 &&
	mv "$W1/$MD/new/$ID4" "$W1/$MD/cur/$ID4:2,FS" &&
	wait_server test -f "$H/$MD/cur/$ID4:2,FS" &&
	mv "$W2/$MD/new/$ID4" "$W2/$MD/cur/$ID4:2,RS" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws2 &&
	WAIT_SERVER_SECONDS=30 wait_server test -f "$H/$MD/cur/$ID4:2,FRS" &&
	test "$(ls "$H/$MD/cur" "$H/$MD/new" | grep -cF "$ID4")" -eq 1 &&
	grep -q "body of $ID4" "$H/$MD/cur/$ID4:2,FRS" &&
	wait_server test -f "$W1/$MD/cur/$ID4:2,FRS" &&
	wait_server test -f "$W2/$MD/cur/$ID4:2,FRS" &&
	for d in "$W1" "$W2"; do
		test "$(ls "$d/$MD/cur" "$d/$MD/new" | grep -cF "$ID4")" -eq 1 || return 1
	done ||
	show_files "$H/$MD" "$W1/$MD" "$W2/$MD"
'

test_expect_success 'the untouched message is still there, once, on every side' '
	for d in "$H" "$W1" "$W2"; do
		test "$(ls "$d/$MD/cur" | grep -cF "$ID3")" -eq 1 &&
		grep -q "body of $ID3" "$d/$MD/cur/$ID3:2,S" || return 1
	done
'

test_expect_success 'two appends to one mbox at once lose no message' '
	printf "From bob@example.org Mon Mar  2 09:00:00 2026\nSubject: one\n\nappended on ws1\n\n" >>"$W1/mbox" &&
	printf "From carol@example.org Mon Mar  2 09:00:01 2026\nSubject: two\n\nappended on ws2\n\n" >>"$W2/mbox" &&
	wait_server has_text "$H" "appended on ws1" &&
	wait_server has_text "$H" "appended on ws2" &&
	sleep 2 &&
	has_text "$H" "appended on ws1" && has_text "$H" "appended on ws2" &&
	test "$(head -n 1 "$H/mbox")" = "From alice@example.org Mon Mar  2 08:00:00 2026" &&
	grep -qx "message zero" "$H/mbox" &&
	test "$(conflicts "$H" mbox | wc -l)" -le 1 ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'both workstations show the mbox files of the server' '
	wait_server same_names "$H" "$W1" "$W2" &&
	ls "$H" | grep "^mbox" >"$TEST_DIR/mboxes" &&
	same=1 &&
	while IFS= read -r f; do
		wait_server cmp -s "$H/$f" "$W1/$f" && wait_server cmp -s "$H/$f" "$W2/$f" ||
		    { same=0; break; }
	done <"$TEST_DIR/mboxes" &&
	test $same = 1 ||
	show_files "$H" "$W1" "$W2"
'

test_done
