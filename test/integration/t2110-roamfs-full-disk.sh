#!/bin/sh
# A full cache disk: the writer is told (ENOSPC), what was saved stays
# whole, and the user can still delete files to make room.  roamfs keeps
# a reserve file in the cache for that: a deletion must be recorded in
# LMDB, and LMDB needs new pages to commit.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
DISK=$TEST_DIR/disk
mkdir -p "$H/old" "$DISK"
mount -t tmpfs -o size=24m,mode=700 roamtest "$DISK" || bail_out "cannot mount a tmpfs"
at_exit "umount -l '$DISK'"
ROAM_CACHE=$DISK/cache
LOG=$TEST_DIR/roamfs.log
: >"$LOG"
# 1,000 files on the server: deleting them offline makes the journal grow
# by far more than the free pages LMDB may hold.
i=0
while [ $i -lt 1000 ]; do
	echo "$i" >"$H/old/f$i"
	i=$((i + 1))
done

test_expect_success 'the cache keeps a reserve' '
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" sync_interval=1 &&
	test "$(ls "$M/old" | wc -l)" = 1000 &&
	test "$(stat -c %s "$ROAM_CACHE/reserve")" -ge 1048576
'

test_expect_success 'writing past the free space fails with ENOSPC; saved files stay whole' '
	echo kept >"$M/before" && sync "$M/before" &&
	: >"$M/lost" &&
	! dd if=/dev/urandom of="$M/big" bs=1M count=40 conv=fsync 2>"$TEST_DIR/dd.err" &&
	cat "$TEST_DIR/dd.err" &&
	grep -q "No space left on device" "$TEST_DIR/dd.err" &&
	content_is "$M/before" kept
'

# With the writeback cache the kernel takes the bytes at write(2) and
# reports the failure at close(2).  The file must not show them afterwards.
# (The failed dd's file was cut where it failed, which freed some room:
# fill the disk first.)
test_expect_success 'a write fails at close and the file does not show the lost bytes' '
	dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null;
	python3 -c "
import errno, sys
data = b\"lost\" * 65536
f = open(sys.argv[1], \"r+b\")
f.write(data)
try:
    f.close()
except OSError as e:
    print(\"close:\", e)
    sys.exit(0 if e.errno == errno.ENOSPC else 1)
sys.exit(1)
" "$M/lost" &&
	wait_for sh -c "! grep -q lost \"$M/lost\" 2>/dev/null"
'

test_expect_success 'offline, on the full disk, deleting 1,000 files goes through and says so' '
	stop_sshd &&
	dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null;
	test "$(df --output=avail "$DISK" | tail -n 1)" -lt 64 &&
	rm -r "$M/old" &&
	test ! -e "$M/old" &&
	grep -q "disk of the cache $ROAM_CACHE is full" "$LOG"
'

avail_kb() {
	df --output=avail "$DISK" | tail -n 1
}
test_expect_success 'removing the big file frees its space; new files fit again' '
	want=$(( $(avail_kb) + $(stat -c %s "$M/big") / 2048 )) &&
	rm "$M/big" &&
	test ! -e "$M/big" &&
	WAIT_TRIES=600 wait_for sh -c "test \"\$(df --output=avail \"$DISK\" | tail -n 1)\" -ge $want" &&
	rm "$DISK/filler" &&
	echo after >"$M/after" && content_is "$M/after" after
'

test_expect_success 'the reserve is made again once there is room' '
	wait_for test -f "$ROAM_CACHE/reserve" &&
	test "$(stat -c %s "$ROAM_CACHE/reserve")" -ge 1048576
'

test_expect_success 'the server gets the kept files and the deletions' '
	restart_sshd &&
	unmount_roamfs "$M" &&
	content_is "$H/before" kept &&
	content_is "$H/after" after &&
	test ! -e "$H/big" &&
	test ! -e "$H/old" &&
	! grep -q lost "$H/lost" 2>/dev/null
'

# A save larger than the free space: the kernel writes the pages back in
# no set order, so without care the cache file kept later pages after a
# hole of zeros, the mount showed the application's size, and the upload
# sent the zeros.  Now the file is cut at the first failure, the mount
# shows what the cache holds, and the server gets only a prefix of what the
# application wrote.
cache_file() {
	printf '%s/data/%016x' "$ROAM_CACHE" "$(stat -c %i "$1")"
}
mount_shows_cache() {
	_c=$(cache_file "$M/save") &&
	test "$(stat -c %s "$M/save")" = "$(stat -c %s "$_c")" &&
	cmp "$M/save" "$_c"
}
is_prefix() {	# FILE OF: FILE holds the first bytes of OF, and some
	_n=$(stat -c %s "$1") && test "$_n" -gt 0 &&
	cmp -n "$_n" "$1" "$2"
}
test_expect_success 'a save that does not fit fails at close; the mount shows what the cache holds' '
	head -c 30000000 /dev/urandom >"$TEST_DIR/src" &&
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" sync_interval=1 &&
	python3 -c "
import errno, sys
data = open(sys.argv[2], \"rb\").read()
f = open(sys.argv[1], \"wb\")
try:
    f.write(data)
    f.close()
except OSError as e:
    print(\"save:\", e)
    sys.exit(0 if e.errno == errno.ENOSPC else 1)
sys.exit(1)
" "$M/save" "$TEST_DIR/src" &&
	{ wait_for mount_shows_cache || {
		echo "the mount shows $(stat -c %s "$M/save") bytes, the cache holds $(stat -c %s "$(cache_file "$M/save")")"
		false
	}; } &&
	test "$(stat -c %s "$M/save")" -lt 30000000 &&
	is_prefix "$M/save" "$TEST_DIR/src"
'

test_expect_success 'the server receives only bytes the application wrote, as the cache holds them' '
	unmount_roamfs "$M" &&
	is_prefix "$H/save" "$TEST_DIR/src" &&
	test "$(stat -c %s "$H/save")" -lt 30000000 &&
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" sync_interval=1 &&
	cmp "$M/save" "$H/save"
'

test_expect_success 'saved again once there is room, the whole file arrives' '
	head -c 8000000 "$TEST_DIR/src" >"$M/save" &&
	unmount_roamfs "$M" &&
	cmp "$H/save" "$TEST_DIR/src" -n 8000000 &&
	test "$(stat -c %s "$H/save")" = 8000000
'

test_done
