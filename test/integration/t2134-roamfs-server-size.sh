#!/bin/sh
# t2134 (issue 12): files that grew or shrank on the server while
# cached on a workstation.  Once the workstation lists their directory
# (within a few seconds of the change), it reads the server's bytes, all of
# them and no more (no file cut to the old length, none padded with NUL
# bytes), and an append goes at the server's end of file: nothing of the
# other side is overwritten, and an mbox that another workstation appended
# to loses no message.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
printf 'line 1\n' >"$H/grow.txt"
seq 1 200 | sed 's/^/a long line of the old version, number /' >"$H/shrink.txt"
MSG1='From alice@example.org Mon Mar  2 08:00:00 2026
Subject: one

first message
'
MSG2='From bob@example.org Mon Mar  2 08:05:00 2026
Subject: two

second message, delivered on ws2
'
MSG3='From carol@example.org Mon Mar  2 08:10:00 2026
Subject: three

third message, saved on ws1
'
printf '%s\n' "$MSG1" >"$H/mbox"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

# seen_as FILE SERVER_FILE: after a listing of its directory, FILE reads
# as SERVER_FILE, byte for byte, and has its size.
seen_as() {
	ls "$(dirname "$1")" >/dev/null &&
	cmp -s "$1" "$2" &&
	[ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ]
}

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 &&
	cmp "$W1/grow.txt" "$H/grow.txt" &&
	cmp "$W1/shrink.txt" "$H/shrink.txt" &&
	cmp "$W1/mbox" "$H/mbox" &&
	cmp "$W2/mbox" "$H/mbox"
'

test_expect_success 'a file that grew on the server reads whole on the workstation' '
	printf "line 1\nline 2, added on the server\n" >"$H/grow.txt" &&
	wait_server seen_as "$W1/grow.txt" "$H/grow.txt" ||
	show_files "$H" "$W1"
'

test_expect_success 'a file that shrank on the server reads without the old tail or NUL bytes' '
	printf "short now\n" >"$H/shrink.txt" &&
	wait_server seen_as "$W1/shrink.txt" "$H/shrink.txt" ||
	show_files "$H" "$W1"
'

# The server changed these files a while ago (at least the wait above):
# the appends below are made on the server's versions.
test_expect_success 'an append to the file that grew goes at the end of the server version' '
	printf "appended on ws1\n" >>"$W1/grow.txt" &&
	wait_server bytes_are "$H/grow.txt" "line 1
line 2, added on the server
appended on ws1" ||
	show_files "$H" "$W1"
'

test_expect_success 'an append to the file that shrank goes at the end of the server version' '
	printf "appended on ws1\n" >>"$W1/shrink.txt" &&
	wait_server bytes_are "$H/shrink.txt" "short now
appended on ws1" ||
	show_files "$H" "$W1"
'

test_expect_success 'an mbox that ws2 appended to loses no message when ws1 appends' '
	printf "%s\n" "$MSG2" >>"$W2/mbox" &&
	wait_server grep -q "second message" "$H/mbox" &&
	{ wait_server seen_as "$W1/mbox" "$H/mbox" ||
	    echo "ws1 does not show the mbox of the server after 20 s; appending anyway"; } &&
	printf "%s\n" "$MSG3" >>"$W1/mbox" &&
	printf "%s\n%s\n%s\n" "$MSG1" "$MSG2" "$MSG3" >"$TEST_DIR/mbox.want" &&
	wait_server cmp -s "$H/mbox" "$TEST_DIR/mbox.want" &&
	wait_server seen_as "$W2/mbox" "$H/mbox" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no conflict copies: every change was made on the server version' '
	no_conflicts "$H" "$W1" "$W2"
'

test_done
