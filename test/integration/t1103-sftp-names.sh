#!/bin/bash
# t1103: unusual names travel byte for byte: 255 bytes, non-UTF-8 bytes,
# spaces and newlines.
. "$top_srcdir/test/integration/lib.sh"
require_root
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
T() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 "$@"; }
echo data >"$TEST_DIR/f"
N255=$(printf 'n%.0s' $(seq 1 255))
LATIN1=$'caf\xe9-\xff\xfe'
ODD=$'a b\nc  d\n'

# roundtrip NAME: put, stat, ls, get and rm of NAME in a fresh directory.
roundtrip() {
	d="$SERVER/$RANDOM" && mkdir "$d" &&
	T put "$TEST_DIR/f" "$d/$1" &&
	cmp "$TEST_DIR/f" "$d/$1" &&
	T stat "$d/$1" | grep -q " size=5 " &&
	T ls "$d" >"$TEST_DIR/ls" &&
	printf '100644 5 %s\n' "$1" | cmp - "$TEST_DIR/ls" &&
	T get "$d/$1" "$TEST_DIR/back" && cmp "$TEST_DIR/f" "$TEST_DIR/back" &&
	T rm "$d/$1" && test -z "$(ls -A "$d")"
}

test_expect_success 'a 255-byte name' 'roundtrip "$N255"'
test_expect_success 'non-UTF-8 bytes in a name' 'roundtrip "$LATIN1"'
test_expect_success 'spaces and newlines in a name' 'roundtrip "$ODD"'

test_expect_success 'mkdir, symlink and mv with non-UTF-8 and newline names' '
	T mkdir "$SERVER/$LATIN1" && test -d "$SERVER/$LATIN1" &&
	T symlink "$ODD" "$SERVER/$LATIN1/$ODD" &&
	test "$(readlink "$SERVER/$LATIN1/$ODD"; echo .)" = "$ODD
." &&
	T mv "$SERVER/$LATIN1/$ODD" "$SERVER/$LATIN1/$N255" &&
	test -L "$SERVER/$LATIN1/$N255"
'

test_expect_success 'a 256-byte name fails and creates nothing' '
	! T put "$TEST_DIR/f" "$SERVER/${N255}x" &&
	test -z "$(ls "$SERVER" | grep -a "^${N255}")"
'
test_done
