#!/bin/sh
# t2203 (issue 13): the logout screen, contrib/logout/roamfs-logout.  With
# a display, it feeds roamctl's progress to zenity: a stand-in checks the
# protocol (percentages that never go back and end at 100, '#' texts) and
# the file is on the server when it returns.  On a console it draws a text
# bar that ends at 100%.  An idle home or no roamfs returns at once; a
# server that cannot be reached returns roamctl's "offline" status (4).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
W1=$(ws_dir ws1)
C1=$(ws_cache ws1)
HOOK="$top_builddir/contrib/logout/roamfs-logout"
[ -x "$HOOK" ] || bail_out "$HOOK is missing: run make"
export ROAMCTL
# A zenity stand-in: checks what it is fed, and records its arguments.
mkdir -p "$TEST_DIR/fakebin"
cat >"$TEST_DIR/fakebin/zenity" <<EOF2
#!/bin/sh
echo "\$*" >"$TEST_DIR/zenity.args"
exec python3 "$top_srcdir/test/tools/zenity-check.py" "$TEST_DIR/zenity.percent" \
    >"$TEST_DIR/zenity.out" 2>&1
EOF2
chmod 755 "$TEST_DIR/fakebin/zenity"

test_expect_success 'an idle home and a path with no roamfs: the hook returns 0 at once' '
	ws_mount ws1 && ls "$W1" >/dev/null &&
	wait_server eval "\"$ROAMCTL\" status \"$C1\" >/dev/null" &&
	"$HOOK" --text "$C1" >"$TEST_DIR/out" 2>&1 &&
	test ! -s "$TEST_DIR/out" &&
	"$HOOK" --text "$TEST_DIR/not-a-home" >"$TEST_DIR/out" 2>&1
'

test_expect_success 'with a display: zenity is fed the real progress, the file is on the server' '
	dd if=/dev/urandom of="$W1/report.bin" bs=1M count=64 status=none &&
	DISPLAY=:99 PATH="$TEST_DIR/fakebin:$PATH" "$HOOK" "$C1" &&
	test -s "$TEST_DIR/zenity.percent" && ! test -s "$TEST_DIR/zenity.out" &&
	grep -q -- "--progress" "$TEST_DIR/zenity.args" &&
	grep -q -- "--auto-close" "$TEST_DIR/zenity.args" &&
	say "percentages: $(cat "$TEST_DIR/zenity.percent")" &&
	cmp "$W1/report.bin" "$H/report.bin" ||
	{ cat "$TEST_DIR/zenity.out" "$TEST_DIR/zenity.args"; false; }
'

test_expect_success 'on a console: a text bar that ends at 100%' '
	dd if=/dev/urandom of="$W1/notes.bin" bs=1M count=32 status=none &&
	"$HOOK" --text "$C1" >"$TEST_DIR/out" 2>&1 &&
	tr "\r" "\n" <"$TEST_DIR/out" | grep -q "^\[#\{40\}\] 100%" &&
	cmp "$W1/notes.bin" "$H/notes.bin" ||
	{ cat -A "$TEST_DIR/out" | tail -n 5; false; }
'

test_expect_success 'a server that cannot be reached: the hook returns 4 in bounded time' '
	ws_offline ws1 &&
	printf "saved while the network is down\n" >"$W1/late.txt" &&
	start=$(date +%s) &&
	{ "$HOOK" --text "$C1" >"$TEST_DIR/out" 2>&1; st=$?; } &&
	test $st -eq 4 && test $(( $(date +%s) - start )) -lt 60 &&
	grep -q "cannot be reached" "$TEST_DIR/out" &&
	ws_online ws1 ||
	{ echo "status $st"; cat "$TEST_DIR/out"; false; }
'

test_expect_success 'after the unmount, once roamfs has sent everything and exited: 0' '
	WAIT_SERVER_SECONDS=60 wait_server ws_connected ws1 &&
	ws_unmount ws1 &&
	bytes_are "$H/late.txt" "saved while the network is down" &&
	"$HOOK" --text "$C1" >"$TEST_DIR/out" 2>&1 ||
	{ cat "$TEST_DIR/out"; false; }
'

test_done
