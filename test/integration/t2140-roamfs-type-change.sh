#!/bin/sh
# t2140 (issue 12): a type change keeps both.  One workstation makes a
# folder or a symbolic link while it is offline, the other makes a file of
# the same name meanwhile (or the other way round): the server's object
# keeps the name, the one replayed later takes its conflict name, with what
# was saved in it, on the server and on both workstations.  A folder
# removed here that is a file on the server now is kept, not set aside.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/gone"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

test_expect_success 'two workstations mount the home' '
	ws_mount ws1 && ws_mount ws2 &&
	ls "$W1/gone" "$W2/gone" >/dev/null	# listed: known empty offline too
'

test_expect_success 'a folder made offline, a file of its name made elsewhere: both kept' '
	ws_offline ws2 &&
	mkdir "$W2/Project" && mkdir "$W2/Project/src" &&
	printf "inside, from ws2\n" >"$W2/Project/src/inner.txt" &&
	printf "the file of ws1\n" >"$W1/Project" &&
	wait_server bytes_are "$H/Project" "the file of ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server one_conflict "$H" Project ws2 &&
	wait_server bytes_are "$CONFLICT/src/inner.txt" "inside, from ws2" &&
	bytes_are "$H/Project" "the file of ws1" &&
	for w in "$W1" "$W2"; do
		wait_server eval "ls \"\$w\" >/dev/null && one_conflict \"\$w\" Project ws2" &&
		wait_server bytes_are "$CONFLICT/src/inner.txt" "inside, from ws2" &&
		wait_server bytes_are "$w/Project" "the file of ws1" || return 1
	done ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'work saved later in the folder under its new name reaches the server' '
	one_conflict "$W2" Project ws2 &&
	printf "saved after\n" >"$CONFLICT/src/later.txt" &&
	one_conflict "$H" Project ws2 &&
	wait_server bytes_are "$CONFLICT/src/later.txt" "saved after" ||
	show_files "$H" "$W2"
'

test_expect_success 'a link made offline, a file of its name made elsewhere: both kept' '
	ws_offline ws2 &&
	ln -s "target-of-ws2" "$W2/shortcut" &&
	printf "the file of ws1\n" >"$W1/shortcut" &&
	wait_server bytes_are "$H/shortcut" "the file of ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server one_conflict "$H" shortcut ws2 &&
	link_is "$CONFLICT" "target-of-ws2" &&
	bytes_are "$H/shortcut" "the file of ws1" &&
	wait_server eval "ls \"\$W2\" >/dev/null && one_conflict \"\$W2\" shortcut ws2" &&
	link_is "$CONFLICT" "target-of-ws2" &&
	wait_server bytes_are "$W2/shortcut" "the file of ws1" ||
	show_files "$H" "$W2"
'

test_expect_success 'a file made offline, a folder of its name made elsewhere: both kept' '
	ws_offline ws2 &&
	printf "the file of ws2\n" >"$W2/Notes" &&
	mkdir "$W1/Notes" && printf "in the folder of ws1\n" >"$W1/Notes/a.txt" &&
	wait_server bytes_are "$H/Notes/a.txt" "in the folder of ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server one_conflict "$H" Notes ws2 &&
	bytes_are "$CONFLICT" "the file of ws2" &&
	wait_server eval "ls \"\$W2\" >/dev/null && bytes_are \"\$W2/Notes/a.txt\" \"in the folder of ws1\"" &&
	one_conflict "$W2" Notes ws2 && bytes_are "$CONFLICT" "the file of ws2" ||
	show_files "$H" "$W2"
'

test_expect_success 'a folder removed offline that is a file elsewhere now: the file is kept' '
	ws_offline ws2 &&
	rmdir "$W2/gone" &&
	rmdir "$W1/gone" && printf "a file now\n" >"$W1/gone" &&
	wait_server bytes_are "$H/gone" "a file now" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server eval "ls \"\$W2\" >/dev/null && bytes_are \"\$W2/gone\" \"a file now\"" &&
	bytes_are "$H/gone" "a file now" ||
	show_files "$H" "$W2"
'

test_expect_success 'nothing was set aside, and no other conflict copies' '
	! grep -i "set aside" "$(ws_cache ws1)/roamfs.log" "$(ws_cache ws2)/roamfs.log" &&
	no_conflicts "$H" -not -name "Project (conflict *" -not -name "shortcut (conflict *" \
	    -not -name "Notes (conflict *" ||
	show_files "$H"
'

test_done
