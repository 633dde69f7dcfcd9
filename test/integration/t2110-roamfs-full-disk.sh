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
mkdir -p "$H" "$DISK"
mount -t tmpfs -o size=24m,mode=700 roamtest "$DISK" || bail_out "cannot mount a tmpfs"
at_exit "umount -l '$DISK'"
ROAM_CACHE=$DISK/cache
LOG=$TEST_DIR/roamfs.log
: >"$LOG"

test_expect_success 'the cache keeps a reserve' '
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" sync_interval=1 &&
	test "$(stat -c %s "$ROAM_CACHE/reserve")" -ge 1048576
'

test_expect_success 'writing past the free space fails with ENOSPC; saved files stay whole' '
	echo kept >"$M/before" && sync "$M/before" &&
	! dd if=/dev/urandom of="$M/big" bs=1M count=40 conv=fsync 2>"$TEST_DIR/dd.err" &&
	cat "$TEST_DIR/dd.err" &&
	grep -q "No space left on device" "$TEST_DIR/dd.err" &&
	test "$(df --output=avail "$DISK" | tail -n 1)" -lt 64 &&
	content_is "$M/before" kept
'

test_expect_success 'on the full disk a deletion goes through, says so, and frees the space' '
	rm "$M/big" &&
	test ! -e "$M/big" &&
	grep -q "disk of the cache $ROAM_CACHE is full" "$LOG" &&
	wait_for sh -c "test \"\$(df --output=avail \"$DISK\" | tail -n 1)\" -gt 10000" &&
	echo after >"$M/after" && content_is "$M/after" after
'

test_expect_success 'the reserve is made again once there is room' '
	wait_for test -f "$ROAM_CACHE/reserve" &&
	test "$(stat -c %s "$ROAM_CACHE/reserve")" -ge 1048576
'

test_expect_success 'the server gets the kept files and not the deleted one' '
	unmount_roamfs "$M" &&
	content_is "$H/before" kept &&
	content_is "$H/after" after &&
	test ! -e "$H/big"
'

test_done
