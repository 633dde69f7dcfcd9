#!/bin/sh
# t2161 (issue 22, 6): a home open on two workstations at once is known.
# While a workstation has the home mounted, the server home holds its
# session marker (.roamfs-session.NAME, an empty folder: its atime says
# since when, its mtime is renewed every minute), made 20 s after the
# mount.  Another workstation's listing of the home logs in plain words
# that the home is open there too and that the browser and the mail
# program should run on one of them; roamctl status says it (text and
# JSON), and so does the desktop notice (contrib/session, with notify-send
# or on standard error).  The marker never shows in a listing, goes at the
# unmount, and one left by a workstation that stopped without unmounting
# expires.
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
M=$H/.roamfs-session.ws1
OUT=$TEST_DIR/status.out

NOTICE=$top_builddir/contrib/session/roamfs-session-notice
[ -x "$NOTICE" ] || bail_out "$NOTICE is missing: run make"
export ROAMCTL
# A notify-send stand-in: records its arguments, one a line.
mkdir -p "$TEST_DIR/fakebin"
cat >"$TEST_DIR/fakebin/notify-send" <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >>"$TEST_DIR/notify.args"
EOF2
chmod 755 "$TEST_DIR/fakebin/notify-send"

# status_of CACHE: roamctl status of that workstation, into OUT.
status_of() {
	"$ROAMCTL" --cache-root="$TEST_DIR" status "$1" >"$OUT"
}

test_expect_success 'a mounted home holds its session marker on the server, soon after the login' '
	ws_mount ws1 && bytes_are "$W1/shared.txt" "from the server" &&
	mounted=$(date +%s) &&
	! test -e "$M" &&
	WAIT_SERVER_SECONDS=40 wait_server test -d "$M" &&
	since=$(stat -c %X "$M") && test "$since" -le "$mounted" &&
	test "$since" -ge $((mounted - 5)) &&
	ls -a "$W1" >"$TEST_DIR/ls.out" && ! grep -q roamfs-session "$TEST_DIR/ls.out"
'

test_expect_success 'a second workstation is told in plain words that the home is open on the first' '
	ws_mount ws2 && ls -a "$W2" >"$TEST_DIR/ls.out" &&
	grep -qx shared.txt "$TEST_DIR/ls.out" && ! grep -q roamfs-session "$TEST_DIR/ls.out" &&
	wait_server grep -q "this home is open on workstation ws1 too (since 20.*): run the web browser and the mail program on one of them only" "$C2/roamfs.log" ||
	{ cat "$TEST_DIR/ls.out"; tail -n 5 "$C2/roamfs.log"; false; }
'

test_expect_success 'roamctl status says where else the home is open, and since when' '
	since=$(stat -c %X "$M") &&
	status_of "$C2" &&
	grep -q "^  also open on: ws1 (since $(date -d "@$since" "+%Y-%m-%d %H:%M:%S"))$" "$OUT" &&
	"$ROAMCTL" --cache-root="$TEST_DIR" --json status "$C2" >"$OUT" &&
	python3 -c "import json, sys
d = json.load(open(sys.argv[1]))[0]
assert d[\"open_elsewhere\"] == \"ws1\" and d[\"open_elsewhere_since\"] == sys.argv[2], d" "$OUT" "$since" ||
	{ cat "$OUT"; false; }
'

test_expect_success 'the desktop notice tells the user, once, in plain words' '
	DISPLAY=:99 PATH="$TEST_DIR/fakebin:$PATH" "$NOTICE" --wait=30 "$C2" &&
	test "$(grep -c "^Your home is open on another computer too$" "$TEST_DIR/notify.args")" -eq 1 &&
	grep -q "^It is open on ws1 (since 20.*)\. Use the web browser and the mail program on one computer only" "$TEST_DIR/notify.args" &&
	grep -qx -- "--urgency=critical" "$TEST_DIR/notify.args" &&
	"$NOTICE" --wait=0 "$C2" 2>"$TEST_DIR/err" &&
	grep -q "^roamfs: Your home is open on another computer too\. It is open on ws1" "$TEST_DIR/err" &&
	"$NOTICE" --wait=0 "$TEST_DIR/not-a-home" 2>"$TEST_DIR/err" && test ! -s "$TEST_DIR/err" &&
	! "$NOTICE" --wait=soon "$C2" 2>"$TEST_DIR/err" && grep -q "whole seconds" "$TEST_DIR/err" ||
	{ cat "$TEST_DIR/notify.args" "$TEST_DIR/err"; false; }
'

test_expect_success 'both are on the server at once: each is told of the other' '
	WAIT_SERVER_SECONDS=40 wait_server test -d "$H/.roamfs-session.ws2" &&
	wait_server eval "ls \"$W1\" >/dev/null && grep -q \"this home is open on workstation ws2 too\" \"$(ws_cache ws1)/roamfs.log\""
'

test_expect_success 'the marker goes at the unmount; the other status drops it at its next listing' '
	ws_unmount ws1 &&
	test ! -e "$M" &&
	wait_server eval "ls \"$W2\" >/dev/null && status_of \"$C2\" && ! grep -q \"also open on\" \"$OUT\"" ||
	{ ls -la "$H"; cat "$OUT"; false; }
'

test_expect_success 'the marker of a workstation that stopped without unmounting expires' '
	mkdir "$H/.roamfs-session.gone" "$H/.roamfs-session.alive" &&
	touch -d "-10 minutes" "$H/.roamfs-session.gone" &&
	wait_server eval "ls \"$W2\" >/dev/null && status_of \"$C2\" && grep -q \"also open on: alive\" \"$OUT\"" &&
	! grep -q "gone" "$OUT" && ! grep -q "workstation gone" "$C2/roamfs.log" ||
	{ ls -la "$H"; cat "$OUT"; false; }
'

test_expect_success 'the second workstation leaves no marker behind' '
	ws_unmount ws2 &&
	test ! -e "$H/.roamfs-session.ws2"
'

test_done
