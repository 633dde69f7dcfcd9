#!/bin/sh
# Hard links stay one file on the server and in the cache, an edit of a
# linked file is kept across a remount, a name removed after a rename over
# a linked file stays removed, and no change that needed nothing is set
# aside.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
mkdir -p "$H"
LOG=$TEST_DIR/roamfs.log
: >"$LOG"
mount_logged() {
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M"
}
same_inode() {
	test "$(stat -c %i "$1")" = "$(stat -c %i "$2")"
}
nothing_set_aside() {
	! grep -i "set aside" "$LOG"
}

test_expect_success 'an edit of a hard-linked file reaches both names, as one file' '
	mount_logged &&
	echo one >"$M/f" && ln "$M/f" "$M/g" &&
	wait_server test -f "$H/g" &&
	same_inode "$H/f" "$H/g" &&
	echo two >>"$M/f" &&
	wait_server content_is "$H/g" "$(printf "one\ntwo")" &&
	content_is "$H/f" "$(printf "one\ntwo")" &&
	same_inode "$H/f" "$H/g" &&
	test "$(stat -c %h "$H/f")" = 2
'

test_expect_success 'a shorter rewrite through the other name cuts the shared file' '
	printf "x\n" >"$M/g" &&
	wait_server content_is "$H/f" x &&
	content_is "$H/g" x &&
	same_inode "$H/f" "$H/g"
'

test_expect_success 'after a remount both names show the edit, still one file' '
	unmount_roamfs "$M" &&
	mount_logged &&
	content_is "$M/f" x && content_is "$M/g" x &&
	same_inode "$M/f" "$M/g" &&
	test "$(stat -c %h "$M/g")" = 2 &&
	nothing_set_aside
'

test_expect_success 'a file with three names, one renamed away: all stay one file' '
	echo v1 >"$M/t1" && ln "$M/t1" "$M/t2" && ln "$M/t1" "$M/t3" &&
	wait_server test -f "$H/t3" &&
	mv "$M/t3" "$M/t3-renamed" &&
	echo v2 >>"$M/t2" &&
	wait_server content_is "$H/t3-renamed" "$(printf "v1\nv2")" &&
	same_inode "$H/t1" "$H/t3-renamed" && same_inode "$H/t1" "$H/t2" &&
	test ! -e "$H/t3"
'

test_expect_success 'a linked file rewritten with a hole gets zeros there, not its old bytes' '
	head -c 65536 /dev/zero | tr "\\0" x >"$M/sp" && ln "$M/sp" "$M/splnk" &&
	wait_server test -f "$H/splnk" &&
	wait_server stat_is "$H/sp" %s 65536 &&
	truncate -s 0 "$M/sp" && printf y | dd of="$M/sp" bs=1 seek=61440 conv=notrunc 2>/dev/null &&
	wait_server stat_is "$H/splnk" %s 61441 &&
	cmp "$M/sp" "$H/splnk" && same_inode "$H/sp" "$H/splnk"
'

# The issue's sequence: dst has a second name, src is renamed over dst,
# then dst is removed.  Run with the replay catching it at each step.
replace_and_remove() {
	d=$M/r$1 && mkdir "$d" &&
	echo SRC >"$d/src" && sleep "$2" &&
	echo DST >"$d/dst" && sleep "$2" &&
	ln "$d/dst" "$d/dstlnk" && sleep "$2" &&
	mv "$d/src" "$d/dst" && sleep "$2" &&
	rm "$d/dst"
}

test_expect_success 'a name removed after a rename over a linked file stays removed' '
	for i in 0 1 2 3; do
		replace_and_remove $i "0.$((i * 4))" || return 1
	done &&
	sleep 5 &&
	for i in 0 1 2 3; do
		test ! -e "$M/r$i/dst" && test ! -e "$M/r$i/src" &&
		content_is "$M/r$i/dstlnk" DST || return 1
	done &&
	unmount_roamfs "$M" &&
	for i in 0 1 2 3; do
		ls -la "$H/r$i" &&
		test ! -e "$H/r$i/dst" && test ! -e "$H/r$i/src" &&
		content_is "$H/r$i/dstlnk" DST || return 1
	done &&
	mount_logged &&
	for i in 0 1 2 3; do
		test ! -e "$M/r$i/dst" && content_is "$M/r$i/dstlnk" DST || return 1
	done &&
	unmount_roamfs "$M"
'

# A file still being written is not sent while it is busy, but a link
# made to it meanwhile needs it on the server first.  O_DIRECT: each write
# reaches roamfs at once instead of waiting in the kernel's page cache.
test_expect_success 'a link to a file still being written reaches the server' '
	mount_logged &&
	python3 -c "
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
buf = mmap.mmap(-1, 4096)
buf.write(b\"x\" * 4095 + b\"\\n\")
os.pwrite(fd, buf, 0)
os.link(sys.argv[1], sys.argv[2])
for i in range(1, 60):
    os.pwrite(fd, buf, i * 4096)
    time.sleep(0.05)
os.close(fd)
" "$M/busy" "$M/busylnk" &&
	unmount_roamfs "$M" &&
	test "$(wc -l <"$H/busylnk")" = 60 &&
	same_inode "$H/busy" "$H/busylnk"
'

test_expect_success 'nothing was set aside' '
	cat "$LOG" &&
	nothing_set_aside
'

test_done
