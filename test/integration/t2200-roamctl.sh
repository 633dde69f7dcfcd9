#!/bin/sh
# t2200 (issue 13): roamctl against a live roamfs.  status (text and JSON,
# parsed by Python's json), flush --wait --progress during a large upload
# fed to a zenity stand-in (the percent rises to 100 and the file is on
# the server), offline and online, a server that cannot be reached,
# conflicts and set-aside changes, a flush that follows the unmount, a
# hung roamfs and a killed one (bounded time, clear message), status --all
# flagging a cache left with unsent changes, another user refused by the
# socket, and bad usage.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
printf 'original\n' >"$H/doc.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
C1=$(ws_cache ws1)
C2=$(ws_cache ws2)
CHECK="$top_srcdir/test/tools/zenity-check.py"
OUT=$TEST_DIR/roamctl.out
ERR=$TEST_DIR/roamctl.err

# rc ARGS...: roamctl with the test's cache root; its status in $st,
# standard output in $OUT, standard error in $ERR.
rc() {
	"$ROAMCTL" --cache-root="$TEST_DIR" "$@" >"$OUT" 2>"$ERR"
	st=$?
	return 0
}

# field NAME: a field of the first object of the JSON array in $OUT.
field() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = d[0][sys.argv[2]]
print(str(v).lower() if isinstance(v, bool) else v)' "$OUT" "$1"
}

# shows TEXT: roamctl printed TEXT (out or err), else show both.
shows() {
	grep -qF -- "$1" "$OUT" "$ERR" || { echo "--- out"; cat "$OUT"; echo "--- err"; cat "$ERR"; false; }
}

test_expect_success 'status of a live roamfs, by cache directory: text, exit 0' '
	ws_mount ws1 && bytes_are "$W1/doc.txt" original &&
	wait_server eval "rc status \"$C1\"; test \$st -eq 0" &&
	shows "$W1" && shows "connection:  connected" && shows "everything is on the server"
'

test_expect_success 'status --json, by mount point and with no argument: valid JSON, stable fields' '
	rc --json status "$W1" && test $st -eq 0 &&
	test "$(field mountpoint)" = "$W1" && test "$(field cache)" = "$C1" &&
	test "$(field running)" = true && test "$(field connection)" = connected &&
	test "$(field changes)" = 0 && test "$(field state)" = mounted &&
	test "$(field workstation)" = ws1 && test "$(field pid)" = "$(ws_pid ws1)" &&
	rc --json status && test $st -eq 0 && test "$(field cache)" = "$C1" ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'a change waiting: status says so and exits 1' '
	printf "waiting\n" >"$W1/wait.txt" &&
	rc --json status "$C1" && test $st -eq 1 && test "$(field changes)" -ge 1 &&
	test "$(field oldest_change)" -gt 0 ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'flush --wait --progress during a large upload: zenity sees 0..100, the file is on the server' '
	dd if=/dev/urandom of="$W1/big.bin" bs=1M count=96 status=none &&
	"$ROAMCTL" --cache-root="$TEST_DIR" flush --wait --progress "$W1" >"$OUT" 2>"$ERR" &&
	python3 "$CHECK" "$TEST_DIR/percent" <"$OUT" &&
	cmp "$W1/big.bin" "$H/big.bin" && bytes_are "$H/wait.txt" waiting &&
	say "percentages: $(cat "$TEST_DIR/percent")" &&
	# It moved in between: not only 0 then 100.
	test "$(tr " " "\n" <"$TEST_DIR/percent" | sort -un | grep -cv "^0$\|^100$")" -ge 1 ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'during the upload, status shows it with its progress' '
	# Not "dd && ( ... ) &": that would put dd in the background too,
	# and the flush could start before the file exists.
	dd if=/dev/urandom of="$W1/big2.bin" bs=1M count=128 status=none || return 1
	( while [ ! -e "$TEST_DIR/flushed" ]; do
		"$ROAMCTL" --json status "$C1" 2>/dev/null | grep -o "\"uploading_files\":[1-9][0-9]*,\"uploading_bytes\":[0-9]*,\"uploading_done\":[0-9]*"
	done >"$TEST_DIR/seen" ) & poller=$!
	"$ROAMCTL" --cache-root="$TEST_DIR" flush --wait "$C1" >/dev/null; st=$?
	: >"$TEST_DIR/flushed"; wait $poller
	test $st -eq 0 && cmp "$W1/big2.bin" "$H/big2.bin" &&
	say "seen during the upload: $(sort -u "$TEST_DIR/seen" | head -n 3 | tr "\n" " ")" &&
	grep -q "uploading_bytes\":[1-9]" "$TEST_DIR/seen" ||
	{ echo "flush: $st; seen:"; cat "$TEST_DIR/seen"; ls -l "$H"; tail -n 20 "$C1/roamfs.log"; false; }
'

test_expect_success 'roamctl offline: no network use, files work, flush --wait says offline (4)' '
	rc offline "$C1" && test $st -eq 0 &&
	rc --json status "$C1" && test "$(field connection)" = offline-by-request &&
	printf "made offline\n" >"$W1/offline.txt" && bytes_are "$W1/offline.txt" "made offline" &&
	sleep 3 && test ! -e "$H/offline.txt" &&
	rc flush --wait "$C1" && test $st -eq 4 && shows "offline on request" ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'roamctl online: the change reaches the server, flush --wait exits 0' '
	rc online "$C1" && test $st -eq 0 &&
	rc flush --wait --timeout=60 "$C1" && test $st -eq 0 &&
	bytes_are "$H/offline.txt" "made offline" ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'server unreachable: flush --wait exits 4 in bounded time and says why' '
	ws_offline ws1 &&
	printf "while the link is down\n" >"$W1/down.txt" &&
	start=$(date +%s) &&
	rc flush --wait --timeout=120 "$C1" &&
	test $st -eq 4 && test $(( $(date +%s) - start )) -lt 60 &&
	shows "cannot be reached" &&
	rc --json status "$C1" && test "$(field connection)" = offline &&
	test "$(field offline_since)" -gt 0 ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'flush --wait --timeout: exit 3 while the server stays away' '
	rc flush --wait --timeout=1 "$C1" &&
	{ test $st -eq 3 || test $st -eq 4; } &&
	ws_online ws1 && wait_server ws_connected ws1 &&
	rc flush --wait --timeout=60 "$C1" && test $st -eq 0 &&
	bytes_are "$H/down.txt" "while the link is down" ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'conflicts: both names, the workstation, in text and JSON' '
	ws_mount ws2 && bytes_are "$W2/doc.txt" original &&
	printf "saved on ws1\n" >"$W1/doc.txt" &&
	printf "saved on ws2\n" >"$W2/doc.txt" &&
	wait_server kept_both "$H" doc.txt ws1 "saved on ws1" ws2 "saved on ws2" &&
	copy=$(conflicts "$H" doc.txt) && test -n "$copy" &&
	loser=$(echo "$copy" | sed -n "s/.*(conflict \([^ ]*\) .*/\1/p") &&
	if [ "$loser" = ws1 ]; then C=$C1; else C=$C2; fi &&
	rc conflicts "$C" && test $st -eq 0 && shows "doc.txt" && shows "$copy" &&
	rc --json conflicts "$C" &&
	python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
e = [x for x in d if x[\"kind\"] == \"copy\"]
assert e and e[0][\"path\"] == \"doc.txt\" and e[0][\"copy\"] == sys.argv[2], d
assert e[0][\"workstation\"] == sys.argv[3] and e[0][\"when\"] > 0 and e[0][\"why\"], d" \
	    "$OUT" "$copy" "$loser" &&
	rc --json status "$C" && test "$(field conflicts)" -ge 1 ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'set-aside: a change the server refuses is listed, its data kept' '
	mkdir -p "$H/locked" && wait_server test -d "$W1/locked" &&
	chattr +i "$H/locked" && at_exit "chattr -i \"$H/locked\"" &&
	printf "refused by the server\n" >"$W1/locked/note.txt" &&
	printf "not UTF-8\n" >"$W1/locked/$(printf "latin1-\351t\351.txt")" &&
	rc flush --wait --timeout=60 "$C1" && test $st -eq 1 && shows "change(s) for good; they are set aside" &&
	wait_server eval "rc --json set-aside \"$C1\"; grep -q latin1- \"$OUT\" && grep -q locked/note.txt \"$OUT\"" &&
	python3 -c "import json, sys
d = json.load(open(sys.argv[1], encoding=\"utf-8\"))
e = [x for x in d if x[\"path\"] == \"locked/note.txt\"]
assert e and e[0][\"change\"] == \"store\" and e[0][\"why\"], d
assert [x for x in d if x[\"path\"] == \"locked/latin1-\ufffdt\ufffd.txt\"], d" "$OUT" &&
	rc set-aside "$C1" && shows "locked/note.txt" &&
	rc --json status "$C1" && test "$(field set_aside)" -ge 1 &&
	bytes_are "$W1/locked/note.txt" "refused by the server" ||
	{ cat "$OUT" "$ERR"; false; }
'

# aside_id PATH: the number roamctl set-aside gives the change of PATH
# (bytes that are not UTF-8 show as U+FFFD there).
aside_id() {
	"$ROAMCTL" --cache-root="$TEST_DIR" --json set-aside "$C1" | python3 -c "import json, sys
p = sys.argv[1].encode(\"utf-8\", \"surrogateescape\").decode(\"utf-8\", \"replace\")
print([x[\"id\"] for x in json.load(sys.stdin) if x[\"path\"] == p][0])" "$1"
}

test_expect_success 'set-aside retry: once the server takes it, the change arrives and leaves the list' '
	id=$(aside_id locked/note.txt) && chattr -i "$H/locked" &&
	rc set-aside retry "$id" "$C1" && test $st -eq 0 && shows "is sent again" &&
	wait_server bytes_are "$H/locked/note.txt" "refused by the server" &&
	rc --json set-aside "$C1" && ! grep -q "locked/note.txt" "$OUT" &&
	rc set-aside retry "$id" "$C1" && test $st -eq 1 && shows "no change set aside has the number $id" &&
	rc set-aside retry soon "$C1" && test $st -eq 2 ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'set-aside discard: asks unless --yes; a new file goes, an edit gives way to the server' '
	latin=$(printf "latin1-\351t\351.txt") &&
	id=$(aside_id "locked/$latin") &&
	rc set-aside discard "$id" "$C1" </dev/null && test $st -eq 2 && shows "add --yes" &&
	test -e "$W1/locked/$latin" &&
	mkdir -p "$H/shut" && printf "the server version\n" >"$H/shut/keep.txt" &&
	wait_server bytes_are "$W1/shut/keep.txt" "the server version" &&
	chattr +i "$H/shut" && at_exit "chattr -i \"$H/shut\"" &&
	printf "an edit the server refuses\n" >"$W1/shut/keep.txt" &&
	wait_server eval "aside_id shut/keep.txt >/dev/null 2>&1" &&
	id2=$(aside_id shut/keep.txt) &&
	rc set-aside discard --yes "$id" "$C1" && test $st -eq 0 && shows "is dropped" &&
	rc set-aside discard --yes "$id2" "$C1" && test $st -eq 0 &&
	wait_server eval "ls \"$W1/locked\" >/dev/null; test ! -e \"$W1/locked/$latin\"" &&
	test ! -e "$H/locked/$latin" &&
	bytes_are "$W1/shut/keep.txt" "the server version" &&
	bytes_are "$H/shut/keep.txt" "the server version" &&
	rc --json set-aside "$C1" && test "$(cat "$OUT")" = "[]" ||
	{ cat "$OUT" "$ERR"; ls -la "$W1/locked" "$W1/shut"; false; }
'

test_expect_success 'after the unmount, flush --wait follows the last changes to the server' '
	ws_offline ws2 &&
	printf "written just before logout\n" >"$W2/last.txt" &&
	pid=$(ws_pid ws2) && fusermount3 -u "$W2" &&
	wait_server eval "rc --json status \"$C2\"; test \"\$(field state)\" = unmounted-flushing" &&
	ws_online ws2 &&
	rc flush --wait --timeout=90 "$W2" && test $st -eq 0 &&
	bytes_are "$H/last.txt" "written just before logout" &&
	wait_gone "$pid" 30 ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'a hung roamfs: status answers within seconds that it does not answer (5)' '
	pid=$(ws_pid ws1) && kill -STOP "$pid" &&
	start=$(date +%s) && rc status "$C1" && kill -CONT "$pid" &&
	test $st -eq 5 && test $(( $(date +%s) - start )) -lt 15 && shows "does not answer" ||
	{ kill -CONT "$pid"; cat "$OUT" "$ERR"; false; }
'

test_expect_success 'another user is refused by the socket (file mode, then SO_PEERCRED)' '
	user_binaries &&
	run_as nobody "$USER_ROAMCTL" ${USER_CONFIG:+"--config=$USER_CONFIG"} status "$C1" >"$OUT" 2>"$ERR"; st=$?
	test $st -ne 0 && test $st -ne 2 || return 1
	chmod 755 "$C1" && chmod 666 "$C1/control" &&
	run_as nobody "$USER_ROAMCTL" ${USER_CONFIG:+"--config=$USER_CONFIG"} --json status "$C1" >"$OUT" 2>"$ERR"; st=$?
	chmod 700 "$C1" && chmod 600 "$C1/control" &&
	test $st -eq 1 && shows "only that user and root" && ! grep -q changes "$OUT" &&
	grep -q "refused a roamctl request from user" "$C1/roamfs.log" ||
	{ echo "status $st"; cat "$OUT" "$ERR"; tail -n 3 "$C1/roamfs.log"; false; }
'

test_expect_success 'kill -9: a stale socket gives a clear message (5); status --all flags unsent changes' '
	ws_offline ws1 &&
	printf "left behind\n" >"$W1/left.txt" && sleep 1 &&
	pid=$(ws_pid ws1) && kill -9 "$pid" && wait_gone "$pid" 10 &&
	fusermount3 -u "$W1" 2>/dev/null; test -S "$C1/control" &&
	rc status "$C1" && test $st -eq 5 && shows "no roamfs is running on the cache" &&
	rc --json status --all && test $st -eq 1 &&
	python3 -c "import json, sys
d = {x[\"cache\"]: x for x in json.load(open(sys.argv[1]))}
assert d[sys.argv[2]][\"running\"] is False and d[sys.argv[2]][\"changes\"] >= 1, d
assert d[sys.argv[2]][\"user\"] == \"root\" and d[sys.argv[2]][\"last_used\"] > 1700000000, d
assert d[sys.argv[3]][\"running\"] is False and d[sys.argv[3]][\"changes\"] == 0, d" \
	    "$OUT" "$C1" "$C2" &&
	rc status --all && shows "switched off before they reached the server" &&
	shows "not running, last used 20" && shows "user:        root" &&
	ws_online ws1
'

test_expect_success 'the changes of the killed roamfs go at its next mount' '
	ws_mount ws1 &&
	rc flush --wait --timeout=60 "$C1" && test $st -eq 0 &&
	bytes_are "$H/left.txt" "left behind" ||
	{ cat "$OUT" "$ERR"; false; }
'

test_expect_success 'bad usage and unknown homes: one line, distinct exit statuses' '
	rc frobnicate && test $st -eq 2 && shows "unknown command" &&
	rc flush --wait --timeout=soon && test $st -eq 2 && shows "number of seconds" &&
	rc status --progress && test $st -eq 2 &&
	rc status "$TEST_DIR/nowhere" && test $st -eq 5 && shows "no roamfs runs there for you" &&
	# No roamfs left running (the registry would find it).
	for w in ws1 ws2; do
		! grep -q " $(ws_dir $w) " /proc/mounts || ws_unmount $w || return 1
	done || return 1
	"$ROAMCTL" --cache-root="$TEST_DIR/empty" status >"$OUT" 2>"$ERR"; test $? -eq 5 &&
	shows "no roamfs is running" &&
	test "$(wc -l <"$ERR")" -eq 1
'

test_done
