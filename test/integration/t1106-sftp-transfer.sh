#!/bin/bash
# t1106: pipelined upload and download: a 300 MB random file, an empty file,
# odd sizes; the request counters prove many requests were in flight.
. "$top_srcdir/test/integration/lib.sh"
require_root
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
T() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 "$@"; }
L="$TEST_DIR/local"; mkdir -p "$L"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# stat_of FIELD FILE: a counter from the --stats line.
stat_of() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$2"; }

test_expect_success '300 MB random file: upload and download, same sha256' '
	head -c 300M /dev/urandom >"$L/big" &&
	want=$(sha "$L/big") &&
	T put "$L/big" "$SERVER/big" &&
	test "$(sha "$SERVER/big")" = "$want" &&
	T get "$SERVER/big" "$L/big.back" &&
	test "$(sha "$L/big.back")" = "$want" &&
	rm -f "$SERVER/big" "$L/big.back"
'

test_expect_success 'empty file: upload creates it, download truncates' '
	: >"$L/empty" &&
	echo stale >"$SERVER/empty" &&
	T put "$L/empty" "$SERVER/empty" &&
	test -f "$SERVER/empty" && test ! -s "$SERVER/empty" &&
	echo stale >"$L/empty.back" &&
	T get "$SERVER/empty" "$L/empty.back" &&
	test -f "$L/empty.back" && test ! -s "$L/empty.back"
'

test_expect_success 'odd sizes: 1 byte, 1234567 bytes, one chunk plus one byte' '
	for n in 1 1234567 261121 32769; do
		head -c $n /dev/urandom >"$L/odd" &&
		T put "$L/odd" "$SERVER/odd" && cmp "$L/odd" "$SERVER/odd" &&
		T get "$SERVER/odd" "$L/odd.back" && cmp "$L/odd" "$L/odd.back" ||
		return 1
	done
'

test_expect_success '64 MB upload is pipelined (many WRITEs, more than one in flight)' '
	head -c 64M /dev/urandom >"$L/m64" &&
	T --stats put "$L/m64" "$SERVER/m64" >"$TEST_DIR/stats" &&
	cat "$TEST_DIR/stats" &&
	cmp "$L/m64" "$SERVER/m64" &&
	test "$(stat_of write "$TEST_DIR/stats")" -ge 64 &&
	test "$(stat_of bytes_up "$TEST_DIR/stats")" = 67108864 &&
	test "$(stat_of max_in_flight "$TEST_DIR/stats")" -gt 1
'

test_expect_success '64 MB download is pipelined too' '
	T --stats get "$SERVER/m64" "$L/m64.back" >"$TEST_DIR/stats" &&
	cat "$TEST_DIR/stats" &&
	cmp "$L/m64" "$L/m64.back" &&
	test "$(stat_of read "$TEST_DIR/stats")" -ge 64 &&
	test "$(stat_of bytes_down "$TEST_DIR/stats")" = 67108864 &&
	test "$(stat_of max_in_flight "$TEST_DIR/stats")" -gt 1
'
test_done
