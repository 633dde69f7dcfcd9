#!/bin/sh
# t2162 (issue 22, 2): an edit that meets a rename made elsewhere lands.
# Workstation A renames the folder d to e; B, offline meanwhile and still
# showing d, edits d/old.txt and makes d/new.txt.  Back online, B's edit
# lands in the renamed place, e/old.txt, since the file there is still the
# version B's edit started from; the new file makes d again (a name B
# saved in).  When A also changed the file after its rename, both versions
# are kept in the renamed folder: B's as a conflict copy next to A's.
# A folder removed on A whose file has an identical copy (same size and
# second) in a sibling folder that B knows: B's edit makes the folder
# again, and never lands on the copy.
# Nothing is set aside, and every view ends equal to the server's.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/d" "$H/p"
echo "original old" >"$H/d/old.txt"
echo "original doc" >"$H/p/doc.txt"
mkdir -p "$H/r" "$H/s"
echo "same notes" >"$H/r/notes.txt"
cp -p "$H/r/notes.txt" "$H/s/notes.txt"
A=$(ws_dir A)
B=$(ws_dir B)

test_expect_success 'two workstations show the folders' '
	ws_mount A && ws_mount B &&
	bytes_are "$B/d/old.txt" "original old" && bytes_are "$B/p/doc.txt" "original doc" &&
	bytes_are "$A/d/old.txt" "original old" && bytes_are "$A/p/doc.txt" "original doc" &&
	bytes_are "$B/r/notes.txt" "same notes" && bytes_are "$B/s/notes.txt" "same notes"
'

test_expect_success 'A renames the folders (and edits one file after), B edits offline' '
	ws_offline B &&
	mv "$A/d" "$A/e" && mv "$A/p" "$A/q" && rm -r "$A/r" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	sleep 1 && echo "edited on A" >"$A/q/doc.txt" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	test -d "$H/e" && ! test -e "$H/d" && bytes_are "$H/q/doc.txt" "edited on A" &&
	echo "edited on B" >"$B/d/old.txt" &&
	echo "new on B" >"$B/d/new.txt" &&
	echo "doc edited on B" >"$B/p/doc.txt" &&
	echo "notes edited on B" >"$B/r/notes.txt"
'

test_expect_success 'back online, the edit lands in the renamed folder' '
	ws_online B &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected B &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache B)" >/dev/null &&
	bytes_are "$H/e/old.txt" "edited on B" &&
	bytes_are "$H/d/new.txt" "new on B" &&
	! test -e "$H/d/old.txt" ||
	{ show_files "$H"; tail -n 5 "$(ws_cache B)/roamfs.log"; false; }
'

test_expect_success 'an edit of a file changed after the rename goes next to it as a conflict copy' '
	kept_as "$H/q" doc.txt "edited on A" B "doc edited on B" &&
	! test -e "$H/p" &&
	grep -q "p/doc.txt: its folder was renamed on another workstation, and the file changed there since" "$(ws_cache B)/roamfs.log" ||
	{ show_files "$H"; false; }
'

test_expect_success 'an edit in a removed folder makes it again, never lands on a copy elsewhere' '
	bytes_are "$H/r/notes.txt" "notes edited on B" &&
	bytes_are "$H/s/notes.txt" "same notes" ||
	{ show_files "$H"; false; }
'

test_expect_success 'nothing was set aside, and every view ends equal to the server' '
	! grep -E "set aside|could not" "$(ws_cache B)/roamfs.log" &&
	wait_server bytes_are "$B/e/old.txt" "edited on B" &&
	wait_server bytes_are "$A/e/old.txt" "edited on B" &&
	wait_server bytes_are "$A/d/new.txt" "new on B" &&
	wait_server eval "! test -e \"$B/d/old.txt\"" ||
	{ show_files "$H" "$A" "$B"; false; }
'

test_done
