#!/bin/sh
# t2138 (issue 12, pending): edits of the same size within the same second.
# SFTP version 3 gives sizes and whole-second mtimes; two versions of a
# file with the same size made in the same second look alike there.  The
# second of each edit is pinned with touch -m (the mtime alone: the atime
# is the mount's), so that the server shows the same size and mtime before
# and after, whatever the speed of the machine.  The other workstation
# still sees the new contents, and two such edits made at once on two
# workstations still keep both versions.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
M=$(( $(date +%s) - 3600 ))
printf 'version 0\n' >"$H/same.txt"
printf 'version 0\n' >"$H/race.txt"
touch -d "@$M" "$H/same.txt" "$H/race.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

# edit FILE TEXT: save TEXT into FILE within the second of the old version.
edit() {
	printf '%s\n' "$2" >"$1" && touch -m -d "@$M" "$1"
}

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 &&
	for f in same.txt race.txt; do
		bytes_are "$W1/$f" "version 0" && bytes_are "$W2/$f" "version 0" &&
		stat_is "$W2/$f" %s:%Y "10:$M" || return 1
	done
'

test_expect_success 'an edit of the same size in the same second on ws1 shows on ws2' '
	edit "$W1/same.txt" "version 1" &&
	wait_server bytes_are "$H/same.txt" "version 1" &&
	wait_server stat_is "$H/same.txt" %s:%Y "10:$M" &&
	wait_server eval "ls \"\$W2\" >/dev/null && bytes_are \"\$W2/same.txt\" \"version 1\"" ||
	show_files "$H" "$W2"
'

test_expect_success 'two edits of the same size in the same second on both sides keep both versions' '
	edit "$W1/race.txt" "ws1 edit!" &&
	edit "$W2/race.txt" "ws2 edit!" &&
	wait_server kept_both "$H" race.txt ws1 "ws1 edit!" ws2 "ws2 edit!" &&
	wait_server kept_both "$W1" race.txt ws1 "ws1 edit!" ws2 "ws2 edit!" &&
	wait_server kept_both "$W2" race.txt ws1 "ws1 edit!" ws2 "ws2 edit!" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no conflict copies but the one of the race' '
	no_conflicts "$H" -not -name "race (conflict *" ||
	show_files "$H"
'

test_done
