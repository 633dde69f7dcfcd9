#!/bin/bash
# t1101: every SFTP client operation against a private sshd, checked on the
# server side directly in its filesystem.
. "$top_srcdir/test/integration/lib.sh"
require_root
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
[ -x "$TOOL" ] || bail_out "$TOOL is not built"
T() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 "$@"; }
L="$TEST_DIR/local"; mkdir -p "$L"

test_expect_success 'realpath . is the login home' '
	home=$(getent passwd root | cut -d: -f6) &&
	test "$(T realpath .)" = "$home" &&
	mkdir -p "$SERVER/a" && test "$(T realpath "$SERVER/a/../")" = "$SERVER" && rmdir "$SERVER/a"
'

test_expect_success 'mkdir creates a directory with the mode asked' '
	T mkdir "$SERVER/d" 750 &&
	test -d "$SERVER/d" &&
	test "$(stat -c %a "$SERVER/d")" = 750
'

test_expect_success 'put uploads the bytes and the permission bits' '
	printf "hello\nworld\n" >"$L/f" && chmod 640 "$L/f" &&
	T put "$L/f" "$SERVER/d/f" &&
	cmp "$L/f" "$SERVER/d/f" &&
	test "$(stat -c %a "$SERVER/d/f")" = 640
'

test_expect_success 'put truncates an existing longer file' '
	head -c 100000 /dev/urandom >"$SERVER/d/long" &&
	T put "$L/f" "$SERVER/d/long" &&
	cmp "$L/f" "$SERVER/d/long"
'

test_expect_success 'put --fsync works' '
	T --fsync put "$L/f" "$SERVER/d/synced" && cmp "$L/f" "$SERVER/d/synced"
'

test_expect_success 'get downloads the bytes, truncating the local file' '
	head -c 5000 /dev/urandom >"$SERVER/d/g" &&
	head -c 9000 /dev/urandom >"$L/g" &&
	T get "$SERVER/d/g" "$L/g" &&
	cmp "$SERVER/d/g" "$L/g"
'

test_expect_success 'stat gives the server size, mode, owner and mtime' '
	touch -d @1700000000 "$SERVER/d/g" &&
	out=$(T stat "$SERVER/d/g") &&
	test "$out" = "mode=$(printf %o 0x$(stat -c %f "$SERVER/d/g")) size=5000 uid=0 gid=0 atime=$(stat -c %X "$SERVER/d/g") mtime=1700000000"
'

test_expect_success 'symlink creates a link with the target given first' '
	T symlink "some/target" "$SERVER/d/sl" &&
	test -L "$SERVER/d/sl" &&
	test "$(readlink "$SERVER/d/sl")" = some/target
'

test_expect_success 'readlink reads a server symlink' '
	ln -s "/x/y z" "$SERVER/d/sl2" &&
	test "$(T readlink "$SERVER/d/sl2")" = "/x/y z"
'

test_expect_success 'lstat sees the link, stat follows it' '
	ln -s g "$SERVER/d/tog" &&
	T lstat "$SERVER/d/tog" | grep "^mode=120777 size=1 " &&
	T stat "$SERVER/d/tog" | grep "^mode=100644 size=5000 "
'

test_expect_success 'ls lists every entry except . and .. with attributes' '
	T ls "$SERVER/d" | sort >"$TEST_DIR/ls.out" &&
	test "$(wc -l <"$TEST_DIR/ls.out")" = "$(ls -A "$SERVER/d" | wc -l)" &&
	grep -x "100644 5000 g" "$TEST_DIR/ls.out" &&
	grep -x "120777 11 sl" "$TEST_DIR/ls.out" &&
	! grep " \.\.\?$" "$TEST_DIR/ls.out"
'

test_expect_success 'ls of a large directory reads every batch' '
	mkdir "$SERVER/big" &&
	(cd "$SERVER/big" && seq 1 1500 | xargs touch) &&
	test "$(T ls "$SERVER/big" | wc -l)" = 1500
'

test_expect_success 'mv renames' '
	T mv "$SERVER/d/f" "$SERVER/d/f2" &&
	test ! -e "$SERVER/d/f" && cmp "$L/f" "$SERVER/d/f2"
'

test_expect_success 'mv replaces an existing target atomically (posix-rename)' '
	echo old >"$SERVER/d/target" &&
	T mv "$SERVER/d/f2" "$SERVER/d/target" &&
	test ! -e "$SERVER/d/f2" && cmp "$L/f" "$SERVER/d/target"
'

test_expect_success 'mv renames a symlink, not its target' '
	T mv "$SERVER/d/sl" "$SERVER/d/sl3" &&
	test -L "$SERVER/d/sl3" && test ! -e "$SERVER/d/sl" && test ! -L "$SERVER/d/sl"
'

test_expect_success 'ln makes a hard link' '
	T ln "$SERVER/d/target" "$SERVER/d/hard" &&
	test "$(stat -c %i "$SERVER/d/target")" = "$(stat -c %i "$SERVER/d/hard")" &&
	test "$(stat -c %h "$SERVER/d/hard")" = 2
'

test_expect_success 'chmod, truncate and utime set attributes' '
	T chmod 600 "$SERVER/d/hard" &&
	test "$(stat -c %a "$SERVER/d/hard")" = 600 &&
	T truncate "$SERVER/d/hard" 3 &&
	test "$(stat -c %s "$SERVER/d/hard")" = 3 &&
	T utime "$SERVER/d/hard" 1600000000 1650000000 &&
	test "$(stat -c %X.%Y "$SERVER/d/hard")" = 1600000000.1650000000
'

test_expect_success 'lutime (lsetstat) sets the times of a link, not of its target' '
	echo t >"$SERVER/d/lt" && touch -d @1500000000 "$SERVER/d/lt" &&
	ln -s lt "$SERVER/d/ltl" && ln -s missing "$SERVER/d/dangling" &&
	T lutime "$SERVER/d/ltl" 1600000000 1650000000 &&
	test "$(stat -c %X.%Y "$SERVER/d/ltl")" = 1600000000.1650000000 &&
	test "$(stat -c %X.%Y "$SERVER/d/lt")" = 1500000000.1500000000 &&
	T lutime "$SERVER/d/dangling" 1600000001 1650000001 &&
	test "$(stat -c %X.%Y "$SERVER/d/dangling")" = 1600000001.1650000001 &&
	test ! -e "$SERVER/d/missing"
'

test_expect_success 'utime (setstat) follows a link, as OpenSSH does' '
	T utime "$SERVER/d/ltl" 1400000000 1450000000 &&
	test "$(stat -c %X.%Y "$SERVER/d/lt")" = 1400000000.1450000000 &&
	test "$(stat -c %Y "$SERVER/d/ltl")" = 1650000000
'

test_expect_success 'rm removes a file and a symlink (not its target)' '
	T rm "$SERVER/d/hard" && test ! -e "$SERVER/d/hard" &&
	T rm "$SERVER/d/tog" && test ! -L "$SERVER/d/tog" && test -f "$SERVER/d/g"
'

test_expect_success 'rmdir removes an empty directory' '
	mkdir "$SERVER/empty" &&
	T rmdir "$SERVER/empty" && test ! -e "$SERVER/empty"
'

test_expect_success 'statvfs matches the server filesystem' '
	out=$(T statvfs "$SERVER") &&
	echo "$out" | grep "^bsize=$(stat -f -c %S "$SERVER") " &&
	echo "$out" | grep " blocks=$(stat -f -c %b "$SERVER") " &&
	echo "$out" | grep " namemax=255 "
'

test_expect_success 'request counters count what was sent' '
	out=$(T --stats stat "$SERVER/d/g") &&
	echo "$out" | grep "stats: requests=[0-9]* .* stat=1 "
'
test_done
