#!/bin/sh
# touch -h on a symbolic link changes the link's times on the server, not
# its target's (SETSTAT follows links; lsetstat@openssh.com does not), also
# when the link dangles; a server without lsetstat leaves the server side
# alone and nothing is set aside.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
LOG=$TEST_DIR/roamfs.log
mkdir -p "$H"
echo target >"$H/t"
touch -d @1500000000 "$H/t"
ln -s t "$H/l"
: >"$LOG"

# times_are FILE ATIME.MTIME: the file's own times (links not followed).
times_are() {
	[ "$(stat -c %X.%Y "$1" 2>/dev/null)" = "$2" ]
}

D1=$(date -d '2021-03-04 05:06:07' +%s)
D2=$(date -d '2022-04-05 06:07:08' +%s)
D3=$(date -d '2023-05-06 07:08:09' +%s)
D4=$(date -d '2019-01-02 03:04:05' +%s)

test_expect_success 'mount' '
	ROAMFS_DEBUG_LOG=$LOG mount_roamfs "$M" &&
	test "$(readlink "$M/l")" = t
'

test_expect_success 'touch -h on a link to a server file: the link gets the time, the target keeps its own' '
	touch -h -d @$D1 "$M/l" &&
	test "$(stat -c %Y "$M/l")" = $D1 &&
	wait_server times_are "$H/l" $D1.$D1 &&
	test -L "$H/l" && test "$(readlink "$H/l")" = t &&
	times_are "$H/t" 1500000000.1500000000 &&
	test "$(stat -c %Y "$M/t")" = 1500000000
'

test_expect_success 'touch -h on a dangling link made on the mount reaches the server link' '
	ln -s nowhere "$M/dl" &&
	touch -h -d @$D2 "$M/dl" &&
	wait_server times_are "$H/dl" $D2.$D2 &&
	test "$(readlink "$H/dl")" = nowhere &&
	test ! -e "$H/nowhere" && test ! -e "$M/nowhere"
'

test_expect_success 'touch -h -m: the server link gets the atime the mount shows' '
	touch -h -m -d @$D3 "$M/l" &&
	at=$(stat -c %X "$M/l") && test "$at" = $D1 &&
	wait_server times_are "$H/l" $at.$D3 &&
	times_are "$H/t" 1500000000.1500000000
'

test_expect_success 'nothing was set aside' '
	unmount_roamfs "$M" &&
	! grep "set aside" "$LOG"
'

# The same server without the extension (sftp-server -P hides what it denies).
test_expect_success 'a server without lsetstat@openssh.com' '
	stop_sshd &&
	sed -i "s|^Subsystem sftp .*|Subsystem sftp internal-sftp -P lsetstat|" "$SSHD_DIR/sshd_config" &&
	restart_sshd &&
	: >"$LOG" &&
	ROAMFS_DEBUG_LOG=$LOG mount_roamfs "$M" &&
	# (a warm login opens the SFTP channel after the mount returns)
	wait_for grep -q "extensions 0x" "$LOG" &&
	ext=$(sed -n "s/.*extensions 0x\([0-9a-f]*\).*/\1/p" "$LOG" | head -n 1) &&
	test -n "$ext" && test $((0x$ext & 0x20)) = 0
'

# (Reading a link on the server, as readlink above, may move its atime.)
test_expect_success 'without lsetstat, a link time change stays local: the target and the server link keep theirs' '
	touch -h -d @$D4 "$M/l" && touch -h -d @$D4 "$M/dl" &&
	echo after >"$M/after" &&
	unmount_roamfs "$M" &&
	content_is "$H/after" after &&
	times_are "$H/t" 1500000000.1500000000 &&
	times_are "$H/l" $D1.$D3 && stat_is "$H/dl" %Y $D2
'

test_expect_success 'without lsetstat, nothing is set aside and the debug log says it once' '
	! grep "set aside" "$LOG" &&
	test "$(grep -c "lacks lsetstat@openssh.com" "$LOG")" = 1
'

test_expect_success 'the mount still shows the local time of the link' '
	ROAMFS_DEBUG_LOG=$LOG mount_roamfs "$M" &&
	test "$(stat -c %Y "$M/l")" = $D4 &&
	test "$(stat -c %Y "$M/t")" = 1500000000 &&
	unmount_roamfs "$M"
'

test_done
