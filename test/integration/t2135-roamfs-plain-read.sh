#!/bin/sh
# t2135 (issue 12): close-to-open coherence without listings.  A
# workstation that only opens and stats files it has cached (cat, stat: no
# ls) sees, within a few seconds of their reaching the server, the
# contents, modes, deletions, renames and new names that another
# workstation or the admin made there.  Offline, the cache is served at
# once.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/sub"
for f in note.txt mode.txt gone.txt old-name.txt sub/inner.txt still.txt; do
	printf 'version 1 of %s\n' "$f" >"$H/$f"
done
chmod 644 "$H/mode.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)

# show FILE...: print each file's first bytes (newline |, NUL @), or why it
# cannot be read, for a failing case: never a listing of the mount, which
# would refresh what this test checks is refreshed without one.  Returns 1.
show() {
	for _f; do
		printf '%s: %s\n' "$_f" "$(head -c 100 "$_f" 2>&1 | tr '\n\0' '|@')"
	done
	return 1
}

test_expect_success 'two workstations mount the home and cache the files' '
	ws_mount ws1 && ws_mount ws2 &&
	for f in note.txt mode.txt gone.txt old-name.txt sub/inner.txt still.txt; do
		bytes_are "$W1/$f" "version 1 of $f" && bytes_are "$W2/$f" "version 1 of $f" || return 1
	done &&
	stat_is "$W2/mode.txt" %a 644
'

test_expect_success 'an edit on ws1 reads on ws2 with a plain cat' '
	printf "version 2 of note.txt, from ws1\n" >"$W1/note.txt" &&
	wait_server bytes_are "$H/note.txt" "version 2 of note.txt, from ws1" &&
	wait_server bytes_are "$W2/note.txt" "version 2 of note.txt, from ws1" ||
	show "$H/note.txt" "$W2/note.txt"
'

test_expect_success 'a file the admin restored on the server (older mtime) reads on ws2' '
	printf "restored by the admin\n" >"$H/sub/inner.txt" &&
	touch -d "2020-01-01 10:00:00" "$H/sub/inner.txt" &&
	wait_server bytes_are "$W2/sub/inner.txt" "restored by the admin" ||
	show "$H/sub/inner.txt" "$W2/sub/inner.txt"
'

test_expect_success 'a chmod on ws1 shows in stat on ws2' '
	chmod 600 "$W1/mode.txt" &&
	wait_server stat_is "$H/mode.txt" %a 600 &&
	wait_server stat_is "$W2/mode.txt" %a 600 ||
	{ stat -c "%n %a" "$H/mode.txt" "$W1/mode.txt" "$W2/mode.txt"; false; }
'

test_expect_success 'a file deleted on ws1 is gone on ws2' '
	rm "$W1/gone.txt" &&
	wait_server test ! -e "$H/gone.txt" &&
	wait_server test ! -e "$W2/gone.txt" ||
	show "$H/gone.txt" "$W2/gone.txt"
'

test_expect_success 'a file renamed on ws1 opens on ws2 by its new name only' '
	mv "$W1/old-name.txt" "$W1/new-name.txt" &&
	wait_server test -f "$H/new-name.txt" &&
	wait_server bytes_are "$W2/new-name.txt" "version 1 of old-name.txt" &&
	wait_server test ! -e "$W2/old-name.txt" ||
	show "$H/new-name.txt" "$W2/new-name.txt" "$H/old-name.txt" "$W2/old-name.txt"
'

test_expect_success 'a file made on ws1 opens on ws2 by its name' '
	printf "new on ws1\n" >"$W1/fresh.txt" &&
	wait_server bytes_are "$H/fresh.txt" "new on ws1" &&
	wait_server bytes_are "$W2/fresh.txt" "new on ws1" ||
	show "$H/fresh.txt" "$W2/fresh.txt"
'

# still.txt changed nowhere: it is still cached, and its attributes are
# older than any attr_ttl by now.
test_expect_success 'offline, a cached file opens at once' '
	ws_offline ws2 &&
	t0=$(date +%s%N) &&
	cat "$W2/still.txt" >"$TEST_DIR/offline-read" &&
	cat "$W2/still.txt" >/dev/null &&
	t1=$(date +%s%N) &&
	ws_online ws2 &&
	echo "two opens offline took $(( (t1 - t0) / 1000000 )) ms" &&
	test $(( (t1 - t0) / 1000000 )) -lt 2000 &&
	bytes_are "$TEST_DIR/offline-read" "version 1 of still.txt"
'

test_done
