#!/bin/bash
# t1107: a connection lost in the middle of a request gives ENOTCONN and a
# clear line, never a hang.
. "$top_srcdir/test/integration/lib.sh"
require_root
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
L="$TEST_DIR/local"; mkdir -p "$L"
mkfifo "$SERVER/fifo"

test_expect_success 'server session killed while OPEN waits: ENOTCONN and the cause' '
	"$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 \
	    get "$SERVER/fifo" "$L/x" 2>"$TEST_DIR/err" &
	kill_session_when_blocked $!
	cat "$TEST_DIR/err"
	test "$rc" = 1 &&
	grep -F "SFTP connection lost: " "$TEST_DIR/err" &&
	grep -F "get $SERVER/fifo: ENOTCONN" "$TEST_DIR/err"
'
test_done
