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
test_done
