#!/bin/sh
# t2133 (issue 12): a delete against an edit, both ways, and a
# rename against a change made meanwhile.  A delete (or a rename away)
# replayed after another workstation edited the file keeps the edited file;
# an edit replayed after another workstation deleted the file keeps the
# edit; a rename onto a name that another workstation created meanwhile
# does not overwrite it: ours becomes the conflict copy.  Every workstation
# then shows what the server holds.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
for f in deleted-here.txt deleted-there.txt moved.txt draft.txt memo.txt; do
	printf 'original %s\n' "$f" >"$H/$f"
done
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 &&
	for f in deleted-here.txt deleted-there.txt moved.txt draft.txt memo.txt; do
		bytes_are "$W1/$f" "original $f" && bytes_are "$W2/$f" "original $f" || return 1
	done
'

test_expect_success 'a delete replayed after an edit elsewhere keeps the edited file' '
	ws_offline ws2 &&
	rm "$W2/deleted-here.txt" &&
	printf "edited on ws1\n" >"$W1/deleted-here.txt" &&
	wait_server bytes_are "$H/deleted-here.txt" "edited on ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws2 &&
	sleep 3 &&	# the replay of the delete, once reconnected
	bytes_are "$H/deleted-here.txt" "edited on ws1" &&
	wait_server bytes_are "$W2/deleted-here.txt" "edited on ws1" &&
	bytes_are "$W1/deleted-here.txt" "edited on ws1" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'an edit replayed after a delete elsewhere keeps the edit' '
	ws_offline ws2 &&
	printf "edited on ws2 offline\n" >"$W2/deleted-there.txt" &&
	rm "$W1/deleted-there.txt" &&
	wait_server test ! -e "$H/deleted-there.txt" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server has_text "$H" "edited on ws2 offline" &&
	wait_server has_text "$W1" "edited on ws2 offline" &&
	wait_server has_text "$W2" "edited on ws2 offline" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'a rename away replayed after an edit elsewhere keeps the edit' '
	ws_offline ws2 &&
	mv "$W2/moved.txt" "$W2/moved-away.txt" &&
	printf "edited on ws1 before the move\n" >"$W1/moved.txt" &&
	wait_server bytes_are "$H/moved.txt" "edited on ws1 before the move" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws2 &&
	sleep 3 &&	# the replay of the rename, once reconnected
	has_text "$H" "edited on ws1 before the move" &&
	wait_server has_text "$W1" "edited on ws1 before the move" &&
	wait_server has_text "$W2" "edited on ws1 before the move" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'a rename onto a name created elsewhere meanwhile: ours becomes the conflict copy' '
	ws_offline ws2 &&
	mv "$W2/draft.txt" "$W2/final.txt" &&
	printf "final made on ws1\n" >"$W1/final.txt" &&
	wait_server bytes_are "$H/final.txt" "final made on ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server kept_as "$H" final.txt "final made on ws1" ws2 "original draft.txt" &&
	wait_server kept_as "$W1" final.txt "final made on ws1" ws2 "original draft.txt" &&
	wait_server kept_as "$W2" final.txt "final made on ws1" ws2 "original draft.txt" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no conflict copies but the one of the rename' '
	sleep 2 &&
	no_conflicts "$H" -not -name "final (conflict *" ||
	show_files "$H" "$W1" "$W2"
'

# Found by t2150 (seed 6): the rename away became an upload of ours at the
# end of the journal, and the chmod journaled after the rename was sent
# first, to the other workstation's file at the new name: it took that file
# for ours, and the upload then replaced it.
test_expect_success 'a rename away after an edit elsewhere, onto a name made elsewhere, then a chmod: nothing lost' '
	ws_offline ws2 &&
	mv "$W2/memo.txt" "$W2/memo-final.txt" && chmod 600 "$W2/memo-final.txt" &&
	printf "memo edited on ws1\n" >"$W1/memo.txt" &&
	printf "memo-final made on ws1\n" >"$W1/memo-final.txt" &&
	wait_server bytes_are "$H/memo.txt" "memo edited on ws1" &&
	wait_server bytes_are "$H/memo-final.txt" "memo-final made on ws1" &&
	ws_online ws2 &&
	WAIT_SERVER_SECONDS=60 wait_server kept_as "$H" memo-final.txt "memo-final made on ws1" \
	    ws2 "original memo.txt" &&
	bytes_are "$H/memo.txt" "memo edited on ws1" &&
	stat_is "$H/memo-final.txt" %a 644 ||
	show_files "$H" "$W1" "$W2"
'

test_done
