#!/bin/sh
# t2204 (issue 13): the wait at shutdown, contrib/shutdown/roamfs-shutdown-
# wait, as roamfs-shutdown.service runs it (here without systemd as PID 1):
# it follows every running roamfs of the machine until its changes are on
# the server, printing percent lines for the console; with one workstation
# cut off it gives up at --timeout, says which cache keeps how many
# changes, and the others' changes are on the server; a roamfs that ended
# with changes left is reported too; nothing running returns 0 at once.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
C1=$(ws_cache ws1)
C2=$(ws_cache ws2)
WAIT="$top_builddir/contrib/shutdown/roamfs-shutdown-wait"
[ -x "$WAIT" ] || bail_out "$WAIT is missing: run make"
export ROAMCTL
OUT=$TEST_DIR/wait.out

# shutdown_wait ARGS...: the script on the test's cache root; status in $st.
shutdown_wait() {
	"$WAIT" --cache-root="$TEST_DIR" "$@" >"$OUT" 2>&1
	st=$?
	return 0
}

test_expect_success 'no roamfs running: 0 at once, everything is on the server' '
	mkdir -p "$TEST_DIR/empty" &&
	"$WAIT" --cache-root="$TEST_DIR/empty" >"$OUT" 2>&1 &&
	grep -q "everything is on the server" "$OUT" || { cat "$OUT"; false; }
'

test_expect_success 'two homes with changes: it waits until both are on the server, with percent lines' '
	ws_mount ws1 && ws_mount ws2 &&
	dd if=/dev/urandom of="$W1/report.bin" bs=1M count=48 status=none &&
	printf "from the second home\n" >"$W2/second.txt" &&
	shutdown_wait && test $st -eq 0 &&
	cmp "$W1/report.bin" "$H/report.bin" && bytes_are "$H/second.txt" "from the second home" &&
	grep -q "^roamfs-shutdown-wait: 100%$" "$OUT" &&
	grep -q "everything is on the server" "$OUT" &&
	! grep -q "stay in" "$OUT" || { cat "$OUT"; false; }
'

test_expect_success 'one workstation cut off: bounded by --timeout, says what stays where, the other home is sent' '
	ws_offline ws1 &&
	printf "saved while the network is down\n" >"$W1/late.txt" &&
	printf "the other home is online\n" >"$W2/online.txt" &&
	start=$(date +%s) &&
	shutdown_wait --timeout=8 && end=$(date +%s) &&
	test $st -eq 3 -o $st -eq 4 && test $((end - start)) -lt 40 && ! grep -q "100%" "$OUT" &&
	grep -q "^roamfs-shutdown-wait: $W1: [1-9][0-9]* change(s) stay in $C1; they go at the next login" "$OUT" &&
	! grep -q ": $W2: .* stay in" "$OUT" &&
	bytes_are "$H/online.txt" "the other home is online" && test ! -e "$H/late.txt" ||
	{ echo "status $st"; cat "$OUT"; false; }
'

test_expect_success 'a roamfs that ended with changes left: reported from its cache' '
	pid=$(ws_pid ws1) && kill -9 "$pid" && wait_gone "$pid" 10 &&
	unmount_quiet "$W1" &&
	shutdown_wait --timeout=5 && test $st -eq 4 &&
	grep -q "^roamfs-shutdown-wait: $W1: [1-9][0-9]* change(s) stay in $C1" "$OUT" ||
	{ echo "status $st"; cat "$OUT"; false; }
'

test_expect_success 'bad usage: one line, status 2' '
	"$WAIT" --timeout=soon >"$OUT" 2>&1; st=$?
	test $st -eq 2 && test "$(wc -l <"$OUT")" -eq 1 && grep -q "timeout" "$OUT" &&
	"$WAIT" --now >"$OUT" 2>&1; st=$?
	test $st -eq 2 && test "$(wc -l <"$OUT")" -eq 1 && grep -q "unknown argument --now" "$OUT"
'

test_done
