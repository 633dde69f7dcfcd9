#!/bin/bash
# t1106: pipelined upload and download: a 300 MB random file, an empty file,
# odd sizes; the request counters prove many requests were in flight; a
# sparse file sends only its data and keeps its holes on the server.
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
# put_at FILE OFFSET BYTES: write BYTES random bytes into FILE at OFFSET.
put_at() {
	head -c "$3" /dev/urandom | dd of="$1" bs=64K seek="$2" oflag=seek_bytes conv=notrunc status=none
}

# 1 MiB and 5000 bytes of data (two 4 KiB blocks) in 1 GiB, ending in a hole.
test_expect_success 'a sparse file: only its data travels, the server keeps the holes' '
	truncate -s 1G "$L/sparse" &&
	put_at "$L/sparse" $((100 << 20)) 1048576 && put_at "$L/sparse" $((700 << 20)) 5000 &&
	echo stale >"$SERVER/sparse" &&
	T --stats put "$L/sparse" "$SERVER/sparse" >"$TEST_DIR/stats" &&
	cat "$TEST_DIR/stats" &&
	test "$(stat -c %s "$SERVER/sparse")" = 1073741824 &&
	cmp "$L/sparse" "$SERVER/sparse" &&
	test "$(stat_of bytes_up "$TEST_DIR/stats")" = $((1048576 + 8192)) &&
	test "$(stat -c %b "$SERVER/sparse")" -lt 4096
'

# sparse_put FILE DATA: the upload sends DATA bytes (up to two 4 KiB blocks
# more, the granularity of holes), and the server file reads the same and
# has no more blocks than that data needs.
sparse_put() {
	T --stats put "$L/$1" "$SERVER/$1" >"$TEST_DIR/stats" &&
	cat "$TEST_DIR/stats" &&
	cmp "$L/$1" "$SERVER/$1" &&
	test "$(stat -c %s "$SERVER/$1")" = "$(stat -c %s "$L/$1")" &&
	up=$(stat_of bytes_up "$TEST_DIR/stats") &&
	test "$up" -ge "$2" && test "$up" -le $(($2 + 8192)) &&
	test "$(stat -c %b "$SERVER/$1")" -le $((($2 + 8192) / 512 + 64))
}

test_expect_success 'sparse files with a leading hole, only a hole, or data to the end' '
	truncate -s 64M "$L/lead" && put_at "$L/lead" $(((64 << 20) - 4096)) 4096 &&
	sparse_put lead 4096 &&
	truncate -s 10M "$L/hole" && sparse_put hole 0 &&
	truncate -s 3M "$L/tail" && put_at "$L/tail" $((1 << 20)) 100000 &&
	put_at "$L/tail" $(((3 << 20) - 100000)) 100000 &&
	test "$(stat -c %s "$L/tail")" = $((3 << 20)) &&
	sparse_put tail 200000
'
test_done
