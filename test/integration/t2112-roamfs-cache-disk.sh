#!/bin/sh
# A cache disk that is full, nearly full or read-only at mount: roamfs
# says so in one line and exits with status 1, never with a crash.  LMDB
# writes its lock file through a shared mapping: a page of it the disk has
# no room for would kill roamfs with SIGBUS (status 135), at once or hours
# later, so the lock file gets all its blocks before LMDB maps it.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
M=$TEST_DIR/mnt
DISK=$TEST_DIR/disk
OUT=$TEST_DIR/out
mkdir -p "$DISK" "$SERVER/home"
echo hello >"$SERVER/home/hello"

# new_disk SIZE ROOM_KIB: a fresh tmpfs of SIZE on $DISK with ROOM_KIB free.
new_disk() {
	if grep -q " $DISK " /proc/mounts; then umount "$DISK" || umount -l "$DISK" || return 1; fi
	mount -t tmpfs -o "size=$1,mode=700" roamtest "$DISK" || return 1
	_k=$(df --output=size "$DISK" | tail -n 1)
	[ "$_k" -eq "$2" ] || dd if=/dev/zero of="$DISK/filler" bs=1k count=$((_k - $2)) 2>/dev/null
	test "$(df --output=avail "$DISK" | tail -n 1)" -eq "$2"
}
at_exit "umount -l '$DISK' 2>/dev/null"

# try_mount: mount, keeping the output in $OUT and the status in $rc; a
# mount that should have failed but did not is undone, so that the next
# case starts afresh.
try_mount() {
	mount_roamfs "$M" >"$OUT" 2>&1
	rc=$?
	mounted=no
	if grep -q " $M " /proc/mounts; then
		mounted=yes
		unmount_roamfs "$M"
	fi
	return 0
}

# refused PATTERN: the last mount failed with status 1 and one line
# matching PATTERN, left nothing mounted and made no cache.
refused() {
	cat "$OUT"
	echo "status $rc, mounted: $mounted"
	test "$rc" -eq 1 &&
	test "$(wc -l <"$OUT")" -eq 1 &&
	grep -q "$1" "$OUT" &&
	test "$mounted" = no &&
	test ! -e "$ROAM_CACHE/db/data.mdb"
}

ROAM_CACHE=$DISK/cache
for room in 0 8 40 1200; do
	test_expect_success "a new cache on a disk with $room KiB free is refused in one line" '
		new_disk 4m '"$room"' &&
		try_mount &&
		refused "no room for a new cache in $ROAM_CACHE: .* free space there"
	'
done

test_expect_success 'a read-only cache disk is refused in one line' '
	new_disk 4m 4096 &&
	mount -o remount,ro "$DISK" &&
	try_mount &&
	refused "cannot create the cache directory $ROAM_CACHE: Read-only file system: mount its file system read-write"
'

test_expect_success 'the lock file of the database has all its blocks' '
	new_disk 8m 8192 &&
	mount_roamfs "$M" &&
	content_is "$M/hello" hello &&
	echo kept >"$M/kept" &&
	unmount_roamfs "$M" &&
	content_is "$SERVER/home/kept" kept &&
	l=$ROAM_CACHE/db/lock.mdb &&
	stat -c "%s bytes, %b blocks of %B" "$l" &&
	test "$(stat -c "%b * %B >= %s" "$l" | xargs expr)" -eq 1
'

# A lock file with holes, as an older roamfs left it (LMDB may also
# recreate it whenever no process has the database open).
test_expect_success 'a cache whose disk filled up since still mounts, and files can be deleted' '
	test -f "$ROAM_CACHE/reserve" &&
	rm "$ROAM_CACHE/db/lock.mdb" &&
	truncate -s 16512 "$ROAM_CACHE/db/lock.mdb" &&
	dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null;
	test "$(df --output=avail "$DISK" | tail -n 1)" -eq 0 &&
	{ ROAMFS_DEBUG_LOG=$TEST_DIR/roamfs.log ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M"; r=$?; } &&
	cat "$TEST_DIR/roamfs.log" &&
	test "$r" -eq 0 &&
	grep -q "disk of the cache $ROAM_CACHE is full" "$TEST_DIR/roamfs.log" &&
	content_is "$M/kept" kept &&
	rm "$M/kept" &&
	test ! -e "$M/kept" &&
	unmount_roamfs "$M" &&
	test ! -e "$SERVER/home/kept"
'

test_done
