#!/bin/sh
# t2203 (issue 13): the logout screen, contrib/logout/roamfs-logout.  With
# a display, it feeds roamctl's progress to zenity: a stand-in checks the
# protocol (percentages that never go back and end at 100, '#' texts) and
# the file is on the server when it returns.  On a console it draws a text
# bar that ends at 100%.  An idle home or no roamfs returns at once; a
# server that cannot be reached returns roamctl's "offline" status (4).
# At the unmount itself, roamfs logs that programs still held files open
# only when they did: not for a plain unmount whose FUSE loop is slow to
# end (a busy machine), still for a lazy one with a file open; a lazy one
# held by a current directory alone is said to be so.
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

# fuse_readers PID: the threads of roamfs waiting in read(2) on /dev/fuse,
# its FUSE loop, one a line.
fuse_readers() {
	for _tk in /proc/$1/task/*; do
		read -r _nr _fd _rest <"$_tk/syscall" 2>/dev/null || continue
		[ "$_nr" = 0 ] && [ "$(readlink "/proc/$1/fd/$((_fd))")" = /dev/fuse ] && echo "${_tk##*/}"
	done
	return 0
}

# slow_loop PID: make the FUSE loop of roamfs PID slow to see an unmount,
# as on a busy machine: strace holds the end of each of its reads on
# /dev/fuse for 3 s; its other threads run as usual.  Sets SLOW (strace's pid).
slow_loop() {
	_tids=$(fuse_readers "$1")
	[ -n "$_tids" ] || { echo "no thread of roamfs $1 waits on /dev/fuse"; return 1; }
	strace -qq -o /dev/null -e trace=read -e inject=read:delay_exit=3000000 \
	    $(printf -- "-p %s " $_tids) &
	SLOW=$!
	at_exit "kill $SLOW 2>/dev/null"
	for _t in $_tids; do
		wait_for grep -q "^TracerPid:[[:space:]]*$SLOW\$" "/proc/$1/task/$_t/status" ||
		    { echo "strace did not attach to thread $_t"; return 1; }
	done
}

HELD="unmounted while programs still held files open"
W3=$(ws_dir ws3)
C3=$(ws_cache ws3)
test_expect_success 'a plain unmount with nothing open, the loop slow to end: no "files open" line, roamfs ends' '
	ws_mount ws3 && echo "written" >"$W3/plain.txt" &&
	pid=$(ws_pid ws3) && test -n "$pid" &&
	slow_loop "$pid" &&
	fusermount3 -u "$W3" &&
	wait_gone "$pid" 60 && wait "$SLOW" &&
	grep -q "unmounted from $W3" "$C3/roamfs.log" &&
	! grep "$HELD\|kernel kept it in use" "$C3/roamfs.log" &&
	bytes_are "$H/plain.txt" "written" ||
	{ tail -n 20 "$C3/roamfs.log"; false; }
'

test_expect_success 'a lazy unmount with a file open, the loop as slow: the line is logged, roamfs ends' '
	ws_mount ws3 && echo "held" >"$W3/held.txt" &&
	pid=$(ws_pid ws3) && test -n "$pid" &&
	{ sh -c "exec 3<\"\$0\"; echo started; exec sleep 120" "$W3/held.txt" >"$TEST_DIR/holder.out" & } &&
	holder=$! && at_exit "kill $holder 2>/dev/null" &&
	wait_for grep -q started "$TEST_DIR/holder.out" &&
	slow_loop "$pid" &&
	fusermount3 -u -z "$W3" &&
	wait_gone "$pid" 60 &&
	grep -q "$W3 was $HELD there" "$C3/roamfs.log" &&
	kill "$holder" ||
	{ tail -n 20 "$C3/roamfs.log"; false; }
'

test_expect_success 'a lazy unmount with only a current directory there: said so, roamfs ends' '
	ws_mount ws3 && pid=$(ws_pid ws3) && test -n "$pid" &&
	{ sh -c "cd \"\$0\" && echo started && exec sleep 120" "$W3" >"$TEST_DIR/cwd.out" & } &&
	holder=$! && at_exit "kill $holder 2>/dev/null" &&
	wait_for grep -q started "$TEST_DIR/cwd.out" &&
	fusermount3 -u -z "$W3" &&
	wait_gone "$pid" 60 &&
	grep -q "$W3 was unmounted while the kernel kept it in use" "$C3/roamfs.log" &&
	test "$(grep -c "$HELD" "$C3/roamfs.log")" -eq 1 &&
	kill "$holder" ||
	{ tail -n 20 "$C3/roamfs.log"; false; }
'

test_done
