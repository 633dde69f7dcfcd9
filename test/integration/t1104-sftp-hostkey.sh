#!/bin/bash
# t1104: the server host key is checked against known_hosts; unknown and
# changed keys are refused with the fingerprint and what to do.
. "$top_srcdir/test/integration/lib.sh"
require_root
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
TK() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$1" root@127.0.0.1 realpath .; }
FP=$(ssh-keygen -lf "$SSHD_DIR/host_key.pub" | cut -d' ' -f2)
KH="$TEST_DIR/kh"

test_expect_success 'the right key is accepted' '
	TK "$KNOWN_HOSTS" >"$TEST_DIR/out" && test -s "$TEST_DIR/out"
'

test_expect_success 'an unknown host (empty known_hosts) is refused with its fingerprint' '
	: >"$KH" &&
	TK "$KH" 2>"$TEST_DIR/err"; rc=$?; cat "$TEST_DIR/err";
	test $rc = 2 &&
	test "$(wc -l <"$TEST_DIR/err")" = 1 &&
	grep -F "EPERM" "$TEST_DIR/err" &&
	grep -F "unknown" "$TEST_DIR/err" &&
	grep -F "ssh-ed25519 $FP" "$TEST_DIR/err" &&
	grep -F "ssh-keyscan -p $SSHD_PORT 127.0.0.1 >> $KH" "$TEST_DIR/err" &&
	test ! -s "$KH"
'

test_expect_success 'a known_hosts for other hosts only is refused as unknown' '
	echo "[127.0.0.1]:1 $(cut -d" " -f1-2 "$SSHD_DIR/host_key.pub")" >"$KH" &&
	! TK "$KH" 2>"$TEST_DIR/err" && grep -F "unknown" "$TEST_DIR/err"
'

test_expect_success 'a changed key is refused, naming the attack risk and the line' '
	ssh-keygen -q -t ed25519 -N "" -f "$TEST_DIR/other_key" &&
	{ echo "# a comment"; echo "[127.0.0.1]:$SSHD_PORT $(cut -d" " -f1-2 "$TEST_DIR/other_key.pub")"; } >"$KH" &&
	TK "$KH" 2>"$TEST_DIR/err"; rc=$?; cat "$TEST_DIR/err";
	test $rc = 2 &&
	grep -F "CHANGED" "$TEST_DIR/err" &&
	grep -F "attack" "$TEST_DIR/err" &&
	grep -F "$FP" "$TEST_DIR/err" &&
	grep -F "$KH line 2" "$TEST_DIR/err" &&
	grep -F "ssh-keygen -R" "$TEST_DIR/err"
'

test_expect_success 'a known key of another type is refused too' '
	ssh-keygen -q -t ecdsa -N "" -f "$TEST_DIR/ecdsa_key" &&
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d" " -f1-2 "$TEST_DIR/ecdsa_key.pub")" >"$KH" &&
	! TK "$KH" 2>"$TEST_DIR/err" && cat "$TEST_DIR/err" && grep -F "$FP" "$TEST_DIR/err"
'
test_expect_success 'a hashed known_hosts line is accepted' '
	ssh-keyscan -H -p "$SSHD_PORT" 127.0.0.1 2>/dev/null >"$KH" &&
	grep -q "^|1|" "$KH" &&
	TK "$KH" >"$TEST_DIR/out" && test -s "$TEST_DIR/out"
'

test_expect_success 'a tab between the fields and a CRLF line end are read' '
	printf "[127.0.0.1]:%s\t%s\r\n" "$SSHD_PORT" "$(cut -d" " -f1-2 "$SSHD_DIR/host_key.pub")" >"$KH" &&
	TK "$KH" >"$TEST_DIR/out" && test -s "$TEST_DIR/out"
'

test_expect_success 'the key in the global file alone is accepted' '
	: >"$KH" &&
	"$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KH" -g "$KNOWN_HOSTS" root@127.0.0.1 realpath . >"$TEST_DIR/out" &&
	test -s "$TEST_DIR/out"
'

test_expect_success 'a changed key in the global file names that file and line' '
	: >"$KH" &&
	{ echo; echo "[127.0.0.1]:$SSHD_PORT $(cut -d" " -f1-2 "$TEST_DIR/other_key.pub")"; } >"$TEST_DIR/global" &&
	"$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KH" -g "$TEST_DIR/global" root@127.0.0.1 realpath . 2>"$TEST_DIR/err";
	rc=$?; cat "$TEST_DIR/err"; test $rc = 2 &&
	grep -F "CHANGED" "$TEST_DIR/err" && grep -F "$TEST_DIR/global line 2" "$TEST_DIR/err"
'

test_expect_success 'an unreadable known_hosts file is named instead of the key' '
	mkdir -p "$TEST_DIR/khdir" &&
	! TK "$TEST_DIR/khdir" 2>"$TEST_DIR/err" && cat "$TEST_DIR/err" &&
	grep -F "$TEST_DIR/khdir is not a regular file" "$TEST_DIR/err"
'
test_done
