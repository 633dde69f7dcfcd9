#!/bin/sh
# A large file opened read-only is streamed: the open returns at once and
# each read waits only for its own range.  The server is frozen (SIGSTOP)
# in the middle of a download, so what is read then can only come from a
# download that has not finished.  roamfs reaches sshd through linksim at
# 100 Mbit/s, so that a download of SIZE lasts about two seconds and is
# surely caught running.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
through_linksim 1 600

SIZE=$((24 << 20))
H=$SERVER/home
M=$TEST_DIR/mnt
C=$TEST_DIR/cache
mkdir -p "$H"
head -c $SIZE /dev/urandom >"$H/big.bin"
head -c $SIZE /dev/urandom >"$H/other.bin"
head -c 4096 "$H/big.bin" >"$TEST_DIR/big.head"

freeze_server() { kill -STOP $(server_sessions); }
thaw_server() { kill -CONT $(server_sessions); }
# A download has written at least a MiB of its temporary file.
downloading() {
	for _f in "$C"/tmp/*; do
		[ -f "$_f" ] && [ "$(stat -c %s "$_f")" -ge 1048576 ] && return 0
	done
	return 1
}
at_exit "thaw_server 2>/dev/null"

test_expect_success 'the start of a file reads while its download is stopped halfway' '
	mount_roamfs "$M" &&
	ls "$M" >/dev/null &&
	{ cat "$M/big.bin" >"$TEST_DIR/big.first" & } && _cat=$! &&
	wait_for downloading &&
	freeze_server &&
	head -c 4096 "$M/big.bin" >"$TEST_DIR/big.read" &&
	cmp "$TEST_DIR/big.head" "$TEST_DIR/big.read" &&
	! test -e "$C/data/$(printf %016x "$(stat -c %i "$M/big.bin")")" &&
	thaw_server &&
	wait $_cat &&
	cmp "$H/big.bin" "$TEST_DIR/big.first"
'

test_expect_success 'the streamed file is then the cached copy' '
	cmp "$H/big.bin" "$C/data/$(printf %016x "$(stat -c %i "$M/big.bin")")" &&
	cmp "$H/big.bin" "$M/big.bin"
'

test_expect_success 'two readers of one file share its download' '
	{ cat "$M/other.bin" >"$TEST_DIR/o1" & } && _cat=$! &&
	cat "$M/other.bin" >"$TEST_DIR/o2" &&
	wait $_cat &&
	cmp "$H/other.bin" "$TEST_DIR/o1" &&
	cmp "$H/other.bin" "$TEST_DIR/o2" &&
	test -z "$(ls "$C/tmp")" &&
	unmount_roamfs "$M"
'

test_expect_success 'a download cut by a lost connection fails the read, then succeeds again' '
	head -c $SIZE /dev/urandom >"$H/third.bin" &&
	head -c $SIZE /dev/urandom >"$H/fourth.bin" &&
	mount_roamfs "$M" &&
	ls "$M" >/dev/null &&
	{ cat "$M/third.bin" >"$TEST_DIR/t1" 2>"$TEST_DIR/t1.err"; echo $? >"$TEST_DIR/t1.rc"; } &
	wait_for downloading &&
	kill -9 $(server_sessions) &&
	wait_for test -s "$TEST_DIR/t1.rc" &&
	test "$(cat "$TEST_DIR/t1.rc")" != 0 &&
	grep -q "Input/output error" "$TEST_DIR/t1.err" &&
	wait_for sh -c "test -z \"\$(ls '$C/tmp')\"" &&
	WAIT_SERVER_SECONDS=40 wait_server cmp "$H/third.bin" "$M/third.bin"
'

test_expect_success 'unmounting during a download ends it and leaves no temporary file' '
	{ cat "$M/fourth.bin" >/dev/null 2>&1 & } &&
	wait_for downloading &&
	freeze_server &&
	_cat=$! && kill $_cat &&
	# The reader ends once roamfs answers the interrupt of the kernel; until
	# then it holds the file open and the unmount would be refused (busy).
	wait_gone "$_cat" 10 &&
	_pid=$(roamfs_pid "$C") &&
	fusermount3 -u "$M" &&
	thaw_server &&
	wait_gone "$_pid" 30 &&
	test -z "$(ls "$C/tmp")"
'

test_expect_success 'the next mount downloads it whole' '
	mount_roamfs "$M" &&
	cmp "$H/fourth.bin" "$M/fourth.bin" &&
	unmount_roamfs "$M"
'

test_expect_success 'with the server down, opening an uncached large file fails at once' '
	head -c $SIZE /dev/urandom >"$H/fifth.bin" &&
	mkdir "$H/later" &&
	mount_roamfs "$M" &&
	wait_for test -e "$M/fifth.bin" &&
	_s=$(server_sessions) &&
	kill "$(cat "$SSHD_DIR/sshd.pid")" && kill -9 $_s &&
	! ls "$M/later" 2>/dev/null &&
	! cat "$M/fifth.bin" >/dev/null 2>"$TEST_DIR/cat.err" &&
	cat "$TEST_DIR/cat.err" &&
	grep -q "No route to host" "$TEST_DIR/cat.err" &&
	wait_for sh -c "test -z \"\$(ls '$C/tmp')\"" &&
	unmount_roamfs "$M"
'

test_done
