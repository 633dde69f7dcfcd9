#!/bin/sh
# A daemonised roamfs keeps a log in its cache directory, DIR/roamfs.log,
# also where no syslog daemon runs (as on this test's machine): its mount,
# the changes the server refuses and its unmount are there, each line with
# its local time and level, and a message carrying a path of 4,000 bytes
# is kept whole.  The server here is read-only (internal-sftp -R), so every
# change is refused and set aside.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
SSHD_SFTP="internal-sftp -R"
start_sshd || bail_out "cannot start sshd"
M=$TEST_DIR/mnt
ROAM_CACHE=$TEST_DIR/cache
LOG=$ROAM_CACHE/roamfs.log
H=$SERVER/home
mkdir -p "$H"
echo hello >"$H/hello"
[ -S /dev/log ] && say "a syslog daemon listens on /dev/log; the log file is checked all the same"
STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} roamfs\[[0-9]+\] '

test_expect_success 'a daemonised roamfs writes its mount to DIR/roamfs.log' '
	mount_roamfs "$M" &&
	content_is "$M/hello" hello &&
	cat "$LOG" &&
	grep -E -q "${STAMP}info: root@127.0.0.1:$H mounted on $M \(cache $ROAM_CACHE\)$" "$LOG" &&
	test "$(stat -c %U:%a "$LOG")" = root:600
'

# 20 directories of 195 bytes and a file: a path of 3,928 bytes.
test_expect_success 'a change the server refuses is logged whole, even with a 4,000-byte path' '
	rel=$(python3 -c "print(\"/\".join([\"d%02d\" % i + \"x\" * 192 for i in range(20)]) + \"/file.txt\")") &&
	test "${#rel}" -eq 3928 &&
	mkdir -p "$M/$(dirname "$rel")" &&
	echo refused >"$M/$rel" &&
	wait_server grep -q -F " $rel " "$LOG" &&
	line=$(grep -F " $rel " "$LOG") &&
	echo "$line" | cut -c 1-100 &&
	echo "$line" | grep -E -q "${STAMP}error: could not (apply store of|upload) $rel (on|to) the server: Permission denied; the change is set aside \(the local copy is kept\) and listed by roamctl$" &&
	test "${#line}" -gt 4000 &&
	content_is "$M/$rel" refused
'

test_expect_success 'the unmount is written too' '
	unmount_roamfs "$M" &&
	grep -E -q "${STAMP}info: unmounted from $M$" "$LOG"
'

test_expect_success 'a second mount appends to the same log' '
	mount_roamfs "$M" &&
	test "$(grep -c "mounted on $M " "$LOG")" -eq 2 &&
	unmount_roamfs "$M"
'

test_done
