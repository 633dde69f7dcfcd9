#!/bin/sh
# t2147 (issue 14): offline, the whole session.  A login with the server
# unreachable and a warm cache goes on offline at once; a full working
# session (edit, create, rename, delete, mkdir) is journaled; a file the
# cache never held fails at once with "No route to host", named in the log
# and in roamctl status (the last offline misses), never a hang.  The server
# comes back in the middle of the session, work goes on, and everything
# replays: the bytes, the renames, the deletions and the new folders reach
# the server, an edit that met another workstation's edit keeps both
# versions and one that met its deletion keeps the edit (issue 12), the
# other workstation sees the same tree, and nothing deleted comes back at
# the next login.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/docs" "$H/olddir/sub" "$H/gonedir/sub" "$H/unread"
for f in docs/report.txt docs/notes.txt docs/edit.txt docs/old-name.txt docs/gone.txt \
    docs/never.txt olddir/inner.txt olddir/sub/deep.txt gonedir/g1.txt gonedir/sub/g2.txt \
    unread/never2.txt; do
	printf 'original %s\n' "$f" >"$H/$f"
done
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
C1=$(ws_cache ws1)

# field NAME: a number from roamctl status --json of ws1.
field() {
	"$ROAMCTL" --json status "$C1" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# json_str NAME: a string field of roamctl status --json of ws1, decoded.
json_str() {
	"$ROAMCTL" --json status "$C1" | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        v = json.loads(line)
        for r in (v if isinstance(v, list) else [v]):
            if sys.argv[1] in r:
                sys.stdout.write(str(r[sys.argv[1]]))
' "$1"
}

# miss_fast PATH: reading PATH of ws1 fails within seconds (not the 10 of
# timeout) with "No route to host".
miss_fast() {
	_out=$(timeout 10 cat "$W1/$1" 2>&1 >/dev/null)
	_rc=$?
	[ $_rc -ne 0 ] && [ $_rc -ne 124 ] && printf '%s\n' "$_out" | grep -q 'No route to host' ||
	    { echo "$1: read offline gave status $_rc: $_out"; return 1; }
}

# tree DIR: every name under DIR but roamfs's own (pending markers,
# temporary files, locks), with each regular file's checksum.
tree() {
	(cd "$1" && find . -mindepth 1 \( -name '.roamfs-*' -prune \) -o -print | LC_ALL=C sort |
	    while IFS= read -r _t; do
		if [ -f "$_t" ]; then
			printf '%s %s\n' "$_t" "$(md5sum <"$_t" | cut -d" " -f1)"
		else
			printf '%s/\n' "$_t"
		fi
	    done)
}

# same_tree A B: the two trees hold the same names and bytes.
same_tree() {
	tree "$1" >"$TEST_DIR/tree.a" && tree "$2" >"$TEST_DIR/tree.b" &&
	cmp -s "$TEST_DIR/tree.a" "$TEST_DIR/tree.b"
}

test_expect_success 'ws1 logs in online, reads the files of the session, logs out' '
	ws_mount ws1 &&
	for f in docs/report.txt docs/notes.txt docs/edit.txt docs/old-name.txt docs/gone.txt \
	    olddir/inner.txt olddir/sub/deep.txt gonedir/g1.txt gonedir/sub/g2.txt; do
		bytes_are "$W1/$f" "original $f" || return 1
	done &&
	ls "$W1" "$W1/docs" "$W1/olddir" "$W1/olddir/sub" "$W1/gonedir" "$W1/gonedir/sub" >/dev/null &&
	ws_unmount ws1 &&
	test ! -e "$H/.roamfs-pending.ws1"
'

test_expect_success 'ws2 logs in online and reads the files it will change' '
	ws_mount ws2 &&
	bytes_are "$W2/docs/report.txt" "original docs/report.txt" &&
	bytes_are "$W2/docs/notes.txt" "original docs/notes.txt"
'

LOGIN_SECONDS=
test_expect_success 'with the server unreachable, a login on the warm cache goes on offline at once' '
	ws_offline ws1 || return 1
	# In the background, so that a login that hangs fails the case.
	t0=$(date +%s%N)
	{ ws_mount ws1 2>"$TEST_DIR/login.err"; echo $? >"$TEST_DIR/login.rc"; } &
	at_exit "unmount_quiet \"$W1\""
	WAIT_TRIES=600 wait_for test -s "$TEST_DIR/login.rc" ||
	{ echo "the login did not return within 60 s"; return 1; }
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	LOGIN_SECONDS=$((ms / 1000)).$(printf %03d $((ms % 1000)))
	at_exit "_ws_stop ws1 \"$(ws_pid ws1)\""
	echo "login took $LOGIN_SECONDS s, status $(cat "$TEST_DIR/login.rc")" &&
	[ "$(cat "$TEST_DIR/login.rc")" = 0 ] &&
	[ $ms -lt 15000 ] &&
	grep -q " $W1 fuse.roamfs " /proc/mounts &&
	grep -q "working offline from the cache until the server is back" "$C1/roamfs.log" &&
	bytes_are "$W1/docs/report.txt" "original docs/report.txt" &&
	ls "$W1/docs" | grep -qx never.txt ||
	{ cat "$TEST_DIR/login.err"; tail -n 20 "$C1/roamfs.log"; return 1; }
'
say "offline warm login took ${LOGIN_SECONDS:-?} s (ConnectTimeout is 10 s)"

test_expect_success 'roamctl status says offline' '
	"$ROAMCTL" status "$C1" >"$TEST_DIR/st"
	grep -q "connection:  offline" "$TEST_DIR/st" ||
	{ cat "$TEST_DIR/st"; return 1; }
'

test_expect_success 'offline on ws1: edit, create, mkdir -p, rename a file and a folder, delete a file and a folder' '
	printf "ws1 offline report\n" >"$W1/docs/report.txt" &&
	printf "ws1 offline notes\n" >"$W1/docs/notes.txt" &&
	printf "ws1 offline edit\n" >"$W1/docs/edit.txt" &&
	printf "created offline\n" >"$W1/created.txt" &&
	printf "created offline, moved later\n" >"$W1/docs/to-move.txt" &&
	mkdir -p "$W1/a/b" &&
	printf "inside the new folder\n" >"$W1/a/b/inside.txt" &&
	mkdir "$W1/tmpdir" &&
	mv "$W1/docs/old-name.txt" "$W1/docs/new-name.txt" &&
	mv "$W1/olddir" "$W1/newdir" &&
	printf "added to the renamed folder\n" >"$W1/newdir/added.txt" &&
	rm "$W1/docs/gone.txt" &&
	rm -r "$W1/gonedir" &&
	bytes_are "$W1/docs/new-name.txt" "original docs/old-name.txt" &&
	bytes_are "$W1/newdir/sub/deep.txt" "original olddir/sub/deep.txt" &&
	test ! -e "$W1/docs/old-name.txt" && test ! -e "$W1/olddir" &&
	test ! -e "$W1/docs/gone.txt" && test ! -e "$W1/gonedir" &&
	bytes_are "$W1/a/b/inside.txt" "inside the new folder"
'

test_expect_success 'meanwhile ws2 edits one of those files and deletes another' '
	printf "ws2 online report\n" >"$W2/docs/report.txt" &&
	rm "$W2/docs/notes.txt" &&
	wait_server bytes_are "$H/docs/report.txt" "ws2 online report" &&
	wait_server test ! -e "$H/docs/notes.txt"
'

test_expect_success 'nothing of the offline session reached the server yet' '
	bytes_are "$H/docs/edit.txt" "original docs/edit.txt" &&
	test ! -e "$H/created.txt" && test ! -e "$H/a" &&
	test -e "$H/docs/old-name.txt" && test -d "$H/olddir" &&
	test -e "$H/docs/gone.txt" && test -d "$H/gonedir"
'

test_expect_success 'opening a file never fetched fails at once with No route to host, named in the log' '
	t0=$(date +%s%N) &&
	miss_fast docs/never.txt &&
	t1=$(date +%s%N) &&
	echo "the miss took $(( (t1 - t0) / 1000000 )) ms" &&
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] &&
	grep -q "docs/never.txt: not in the cache and the server is unreachable" "$C1/roamfs.log" ||
	{ tail -n 20 "$C1/roamfs.log"; return 1; }
'

test_expect_success 'a folder never listed fails at once too, and so does a file in it' '
	out=$(timeout 10 ls "$W1/unread" 2>&1)
	rc=$?
	echo "ls: $rc $out" &&
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && printf "%s\n" "$out" | grep -q "No route to host" &&
	out=$(timeout 10 cat "$W1/unread/never2.txt" 2>&1)
	rc=$?
	echo "cat: $rc $out" &&
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && printf "%s\n" "$out" | grep -q "No route to host"
'

# roamfs.8 (PINS, THE WORKING SET AND OFFLINE MISSES): "opening a file that
# is not cached fails at once with EHOSTUNREACH; the log names the file, and
# roamctl status shows the last five".  A file in a folder never listed is
# not cached either: its name (or at least its folder's) must be told.
test_expect_success 'the file in the folder never listed is named in the log and in roamctl status' '
	grep "unreachable" "$C1/roamfs.log" | grep -q "unread" &&
	json_str offline_missed | grep -q "^unread" ||
	{ grep -v " info: " "$C1/roamfs.log"; "$ROAMCTL" status "$C1"; return 1; }
'

test_expect_success 'roamctl status lists the misses, most recent first, in text and JSON' '
	miss_fast docs/never.txt &&
	"$ROAMCTL" status "$C1" >"$TEST_DIR/st"
	grep -q "not cached, missed offline (most recent first): docs/never.txt" "$TEST_DIR/st" &&
	[ "$(json_str offline_missed | head -n 1)" = docs/never.txt ] &&
	[ "$(field offline_misses)" -ge 2 ] ||
	{ cat "$TEST_DIR/st"; "$ROAMCTL" --json status "$C1"; return 1; }
'

test_expect_success 'the cached files still read offline, with the offline changes' '
	bytes_are "$W1/docs/report.txt" "ws1 offline report" &&
	bytes_are "$W1/docs/edit.txt" "ws1 offline edit" &&
	bytes_are "$W1/newdir/inner.txt" "original olddir/inner.txt" &&
	[ "$(field changes)" -gt 0 ]
'

test_expect_success 'the server comes back in the middle of the session; work goes on' '
	printf "ws1 offline edit\nthen online\n" >"$W1/docs/edit.txt" &&
	ws_online ws1 &&
	printf "made after the server came back\n" >"$W1/after.txt" &&
	mv "$W1/docs/to-move.txt" "$W1/docs/moved.txt" &&
	rmdir "$W1/tmpdir" &&
	printf "more in the new folder\n" >"$W1/a/more.txt" &&
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws1 &&
	printf "ws1 offline edit\nthen online\nand once connected\n" >"$W1/docs/edit.txt"
'

test_expect_success 'every change replays: bytes, renames, deletions, new folders' '
	WAIT_SERVER_SECONDS=60 wait_server bytes_are "$H/after.txt" "made after the server came back" &&
	wait_server bytes_are "$H/docs/edit.txt" "$(printf "ws1 offline edit\nthen online\nand once connected")" &&
	wait_server bytes_are "$H/a/more.txt" "more in the new folder" &&
	bytes_are "$H/created.txt" "created offline" &&
	bytes_are "$H/a/b/inside.txt" "inside the new folder" &&
	bytes_are "$H/docs/moved.txt" "created offline, moved later" &&
	test ! -e "$H/docs/to-move.txt" &&
	test ! -e "$H/tmpdir" &&
	bytes_are "$H/docs/new-name.txt" "original docs/old-name.txt" &&
	test ! -e "$H/docs/old-name.txt" &&
	test ! -e "$H/olddir" &&
	bytes_are "$H/newdir/inner.txt" "original olddir/inner.txt" &&
	bytes_are "$H/newdir/sub/deep.txt" "original olddir/sub/deep.txt" &&
	bytes_are "$H/newdir/added.txt" "added to the renamed folder" &&
	test ! -e "$H/docs/gone.txt" &&
	test ! -e "$H/gonedir" &&
	bytes_are "$H/docs/never.txt" "original docs/never.txt" ||
	show_files "$H"
'

# Once the replay's connection is back, so is the one that serves
# applications: it does not wait out its own backoff (up to 30 s) first.
test_expect_success 'with the changes on the server, a file never fetched opens at the first try' '
	out=$(timeout 20 cat "$W1/unread/never2.txt" 2>&1)
	rc=$?
	echo "cat: $rc $out" &&
	[ $rc = 0 ] && [ "$out" = "original unread/never2.txt" ] ||
	{ tail -n 20 "$C1/roamfs.log"; return 1; }
'

test_expect_success 'the edit that met an edit elsewhere keeps both versions, the server'"'"'s under the name' '
	WAIT_SERVER_SECONDS=60 wait_server kept_as "$H/docs" report.txt "ws2 online report" ws1 "ws1 offline report" &&
	wait_server kept_as "$W1/docs" report.txt "ws2 online report" ws1 "ws1 offline report" &&
	wait_server kept_as "$W2/docs" report.txt "ws2 online report" ws1 "ws1 offline report" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'the edit that met a delete elsewhere keeps the edit, at its name' '
	WAIT_SERVER_SECONDS=60 wait_server has_text "$H/docs" "ws1 offline notes" &&
	bytes_are "$H/docs/notes.txt" "ws1 offline notes" &&
	test -z "$(conflicts "$H/docs" notes.txt)" &&
	wait_server bytes_are "$W2/docs/notes.txt" "ws1 offline notes" &&
	bytes_are "$W1/docs/notes.txt" "ws1 offline notes" ||
	show_files "$H" "$W1" "$W2"
'

test_expect_success 'no conflict copies but the one of report.txt' '
	no_conflicts "$H" -not -name "report (conflict ws1 *).txt" &&
	no_conflicts "$W1" -not -name "report (conflict ws1 *).txt" ||
	show_files "$H"
'

test_expect_success 'roamctl flush --wait ends with status 0 and no change waiting' '
	timeout 90 "$ROAMCTL" flush --wait --timeout=60 "$C1" >"$TEST_DIR/flush" 2>&1 ||
	{ echo "flush: $?"; cat "$TEST_DIR/flush"; return 1; }
	[ "$(field changes)" = 0 ] &&
	"$ROAMCTL" status "$C1" >"$TEST_DIR/st" ||
	{ cat "$TEST_DIR/st"; "$ROAMCTL" --json status "$C1"; return 1; }
'

test_expect_success 'ws1 shows what the server holds' '
	wait_server same_tree "$H" "$W1" ||
	{ diff "$TEST_DIR/tree.a" "$TEST_DIR/tree.b"; return 1; }
'

test_expect_success 'ws2 sees the same tree as the server after its listings' '
	WAIT_SERVER_SECONDS=30 wait_server same_tree "$H" "$W2" ||
	{ diff "$TEST_DIR/tree.a" "$TEST_DIR/tree.b"; return 1; }
'

test_expect_success 'after ws1 logs out and in again, nothing deleted comes back' '
	ws_unmount ws1 &&
	test ! -e "$H/.roamfs-pending.ws1" &&
	ws_mount ws1 &&
	ls -R "$W1" >/dev/null &&
	sleep 6 &&
	ls -R "$W1" >/dev/null &&
	for p in docs/old-name.txt docs/gone.txt gonedir olddir docs/to-move.txt tmpdir; do
		test ! -e "$W1/$p" && test ! -e "$H/$p" || { echo "$p is back"; return 1; }
	done &&
	bytes_are "$W1/docs/new-name.txt" "original docs/old-name.txt" &&
	bytes_are "$W1/a/b/inside.txt" "inside the new folder" &&
	kept_as "$W1/docs" report.txt "ws2 online report" ws1 "ws1 offline report" &&
	same_tree "$H" "$W1" ||
	{ diff "$TEST_DIR/tree.a" "$TEST_DIR/tree.b"; show_files "$H" "$W1"; }
'

test_done
