#!/bin/sh
# t2141 (issue 12 §3, issue 13): changes still on their way.  A workstation
# whose journal holds changes leaves a marker at the server home's root
# (.roamfs-pending.NAME: its name, how many changes, since when); it is
# switched off (kill -9) before they are sent.  Another workstation's login
# logs it in one line, never shows the marker in a listing, and roamctl
# status names the workstation and since when (text and JSON).  When the
# first one comes back and its changes arrive, the marker goes, and the
# other workstation's status drops it at its next listing of the home.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
printf 'from the server\n' >"$H/shared.txt"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
C2=$(ws_cache ws2)
M=$H/.roamfs-pending.ws1
OUT=$TEST_DIR/status.out

test_expect_success 'a workstation with changes on their way leaves a marker, then is switched off' '
	ws_mount ws1 && bytes_are "$W1/shared.txt" "from the server" &&
	dd if=/dev/urandom of="$TEST_DIR/essay.bin" bs=1M count=128 status=none &&
	cp "$TEST_DIR/essay.bin" "$W1/essay.bin" &&
	wait_server test -s "$M" &&
	pid=$(ws_pid ws1) && kill -9 "$pid" && wait_gone "$pid" 10 && unmount_quiet "$W1" &&
	grep -qx "workstation ws1" "$M" && grep -q "^changes [1-9]" "$M" &&
	grep -q "^since 20[0-9-]* [0-9:]* ([0-9]*)$" "$M" ||
	{ ls -la "$H"; cat "$M"; false; }
'

test_expect_success 'the other workstation logs it at login and never lists the marker' '
	ws_mount ws2 && ls -a "$W2" >"$TEST_DIR/ls.out" &&
	grep -qx shared.txt "$TEST_DIR/ls.out" && ! grep -q roamfs-pending "$TEST_DIR/ls.out" &&
	test ! -e "$W2/.roamfs-pending.ws1" &&
	wait_server grep -q "workstation ws1 holds changes to this home that have not reached the server yet (since 20" "$C2/roamfs.log" ||
	{ cat "$TEST_DIR/ls.out"; tail -n 5 "$C2/roamfs.log"; false; }
'

test_expect_success 'roamctl status names it and since when, in text and JSON' '
	since=$(stat -c %Y "$M") &&
	"$ROAMCTL" --cache-root="$TEST_DIR" status "$C2" >"$OUT" &&
	grep -q "^  unsent changes on other workstations: ws1 (since $(date -d "@$since" "+%Y-%m-%d %H:%M:%S"))$" "$OUT" &&
	"$ROAMCTL" --cache-root="$TEST_DIR" --json status "$C2" >"$OUT" &&
	python3 -c "import json, sys
d = json.load(open(sys.argv[1]))[0]
assert d[\"elsewhere\"] == \"ws1\" and d[\"elsewhere_since\"] == sys.argv[2], d" "$OUT" "$since" ||
	{ cat "$OUT"; false; }
'

test_expect_success 'back on, its changes arrive and the marker goes; the other status drops it' '
	ws_mount ws1 && ws_unmount ws1 &&
	cmp "$TEST_DIR/essay.bin" "$H/essay.bin" &&
	test ! -e "$M" &&
	wait_server eval "ls \"$W2\" >/dev/null && \"$ROAMCTL\" --cache-root=\"$TEST_DIR\" status \"$C2\" >\"$OUT\" && ! grep -q \"other workstations\" \"$OUT\"" ||
	{ ls -la "$H"; cat "$OUT"; false; }
'

test_done
