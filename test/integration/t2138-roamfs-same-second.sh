#!/bin/sh
# t2138 (issue 12): edits of the same size within the same second.
# SFTP version 3 gives sizes and whole-second mtimes; two versions of a
# file with the same size made in the same second look alike there.  To
# make that happen whatever the speed of the machine, every version here
# has the mtime F, a second a few seconds ahead (touch -m: the mtime alone;
# the atime is the mount's): the workstations see each version before its
# second is over, as they would see a file saved twice within one second.
# The other workstation still sees the new contents once the second is
# over, and two such edits made at once on two workstations keep both.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
F=$(( $(date +%s) + 30 ))
M=$F
printf 'version 0\n' >"$H/same.txt"
printf 'version 0\n' >"$H/race.txt"
printf 'version 0\n' >"$H/alone.txt"
touch -m -d "@$F" "$H/same.txt" "$H/race.txt" "$H/alone.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

# edit FILE TEXT: save TEXT into FILE with the mtime of the old version,
# before its second has come (else this is no longer the case tested).
edit() {
	[ "$(date +%s)" -lt "$F" ] || { echo "too slow: the second $F has passed"; return 1; }
	printf '%s\n' "$2" >"$1" && touch -m -d "@$F" "$1"
}

# past_second: the second F and the slack after it are over.
past_second() {
	[ "$(date +%s)" -gt $((F + 1)) ]
}

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 &&
	for f in same.txt race.txt alone.txt; do
		bytes_are "$W1/$f" "version 0" && bytes_are "$W2/$f" "version 0" &&
		stat_is "$W2/$f" %s:%Y "10:$M" || return 1
	done
'

test_expect_success 'two edits of the same size in the same second on both sides keep both versions' '
	edit "$W1/race.txt" "ws1 edit!" &&
	edit "$W2/race.txt" "ws2 edit!" &&
	wait_server kept_both "$H" race.txt ws1 "ws1 edit!" ws2 "ws2 edit!" &&
	wait_server kept_both "$W1" race.txt ws1 "ws1 edit!" ws2 "ws2 edit!" &&
	wait_server kept_both "$W2" race.txt ws1 "ws1 edit!" ws2 "ws2 edit!" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'edits over versions seen within their second reach the server' '
	edit "$W1/same.txt" "version 1" &&
	edit "$W2/alone.txt" "version 2" &&
	wait_server bytes_are "$H/same.txt" "version 1" &&
	wait_server bytes_are "$H/alone.txt" "version 2" &&
	stat_is "$H/same.txt" %s:%Y "10:$M" && stat_is "$H/alone.txt" %s:%Y "10:$M" ||
	show_files "$H"
'

test_expect_success 'once the second is over, the other workstation reads the new contents' '
	WAIT_SERVER_SECONDS=60 wait_server past_second &&
	wait_server eval "ls \"\$W2\" >/dev/null && bytes_are \"\$W2/same.txt\" \"version 1\"" &&
	wait_server eval "ls \"\$W1\" >/dev/null && bytes_are \"\$W1/alone.txt\" \"version 2\"" &&
	stat_is "$W2/same.txt" %s:%Y "10:$M" && stat_is "$W1/alone.txt" %s:%Y "10:$M" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no conflict copies but the one of the race' '
	no_conflicts "$H" -not -name "race (conflict *" ||
	show_files "$H"
'

test_done
