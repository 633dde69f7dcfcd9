#!/bin/sh
# Sparse files written on the mount reach the server with the same bytes
# and stay sparse there: only their data travels (the server's allocated
# blocks prove it), alone and in a batch of uploads; SEEK_DATA and
# SEEK_HOLE on the mount answer from the cache file.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
R=$TEST_DIR/ref
LOG=$TEST_DIR/roamfs.log
MiB=1048576
mkdir -p "$H" "$R"
: >"$LOG"

# put_at FILE MIB COUNT: COUNT MiB of the random chunk at MIB MiB in FILE.
head -c $((2 * MiB)) /dev/urandom >"$TEST_DIR/chunk"
put_at() {
	dd if="$TEST_DIR/chunk" of="$1" bs=1M seek="$2" count="$3" conv=notrunc status=none
}

# make_sparse DIR NAME GIB: GIB GiB with data at 100 MiB (2 MiB), 700 MiB
# and 24 MiB before the end (1 MiB each), ending in a hole; want_ranges
# GIB prints what SEEK_DATA/SEEK_HOLE give for it.
make_sparse() {
	truncate -s "$3G" "$1/$2" &&
	put_at "$1/$2" 100 2 && put_at "$1/$2" 700 1 && put_at "$1/$2" $(($3 * 1024 - 24)) 1
}
want_ranges() {
	printf "%s\n" "$((100 * MiB)) $((102 * MiB))" "$((700 * MiB)) $((701 * MiB))" \
	    "$((($1 * 1024 - 24) * MiB)) $((($1 * 1024 - 23) * MiB))"
}

# ranges FILE: the data ranges SEEK_DATA/SEEK_HOLE give, one "start end" a line.
ranges() {
	python3 - "$1" <<-'PY'
	import os, sys
	fd = os.open(sys.argv[1], os.O_RDONLY)
	off = 0
	while True:
	    try:
	        d = os.lseek(fd, off, os.SEEK_DATA)
	    except OSError:
	        break
	    off = os.lseek(fd, d, os.SEEK_HOLE)
	    print(d, off)
	PY
}

# on_server FILE: the server holds FILE as the reference has it, sparse
# (at most 8 MiB allocated for its 4 MiB of data).
on_server() {
	test "$(stat -c %s "$H/$1")" = "$(stat -c %s "$R/$1")" &&
	cmp "$R/$1" "$H/$1" &&
	test "$(stat -c %b "$H/$1")" -le $((8 * MiB / 512))
}

# Files made in the excluded scratch/ and moved into the home are uploaded
# as new when they enter it (and so, moved at once, together).
echo /scratch/ >"$TEST_DIR/exclude"

# seek_is FILE OFFSET WHENCE WANT: lseek(OFFSET, SEEK_WHENCE) answers WANT.
# The kernel sends the RELEASE of a closed file without waiting for it, so
# a writer may still count as open for a moment after close: callers
# wait_for this, since until then the answer is all data.
seek_is() {
	test "$(python3 -c "import os, sys; print(os.lseek(os.open(sys.argv[1], os.O_RDONLY), $2, os.SEEK_$3))" "$1")" = "$4"
}

test_expect_success 'mount' '
	ROAMFS_DEBUG_LOG=$LOG mount_roamfs "$M" "exclude=$TEST_DIR/exclude"
'

test_expect_success 'a sparse file of 3 GiB written on the mount reads back' '
	make_sparse "$R" disk.img 3 && make_sparse "$M" disk.img 3 &&
	test "$(stat -c %s "$M/disk.img")" = $((3 << 30)) &&
	cmp -i $((99 * MiB)) -n $((4 * MiB)) "$R/disk.img" "$M/disk.img" &&
	cmp -i $((3 * 1024 * MiB - 25 * MiB)) "$R/disk.img" "$M/disk.img" &&
	truncate -s 256M "$M/head.img" && put_at "$M/head.img" 0 1 &&
	truncate -s 256M "$R/head.img" && put_at "$R/head.img" 0 1
'

test_expect_success 'SEEK_DATA and SEEK_HOLE on the mount give the data ranges' '
	wait_for seek_is "$M/disk.img" 0 DATA $((100 * MiB)) &&
	ranges "$M/disk.img" >"$TEST_DIR/got" &&
	cat "$TEST_DIR/got" &&
	want_ranges 3 | cmp - "$TEST_DIR/got" &&
	wait_for seek_is "$M/head.img" 0 HOLE $MiB &&
	seek_is "$M/head.img" 0 DATA 0 &&
	! seek_is "$M/head.img" $((256 * MiB)) DATA $((256 * MiB)) 2>/dev/null
'

test_expect_success 'the upload sends the data only: the server file is the same and sparse' '
	WAIT_SERVER_SECONDS=60 wait_server test -f "$H/disk.img" &&
	on_server disk.img &&
	ranges "$H/disk.img" >"$TEST_DIR/got" && want_ranges 3 | cmp - "$TEST_DIR/got"
'

# While a writer has the file open, the kernel may hold pages the cache
# file lacks: all data until it closes.
test_expect_success 'while the file is open for writing, SEEK_DATA and SEEK_HOLE answer all data' '
	python3 - "$M/open.img" <<-PY &&
	import os, sys
	fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
	os.pwrite(fd, b"x" * 4096, 1 << 20)
	os.ftruncate(fd, 4 << 20)
	r = os.open(sys.argv[1], os.O_RDONLY)
	got = (os.lseek(r, 0, os.SEEK_DATA), os.lseek(r, 0, os.SEEK_HOLE),
	       os.lseek(fd, 2 << 20, os.SEEK_DATA))
	sys.exit(0 if got == (0, 4 << 20, 2 << 20) else "open for writing: %r" % (got,))
	PY
	wait_for seek_is "$M/open.img" 0 DATA $MiB &&
	seek_is "$M/open.img" 0 HOLE 0 &&
	seek_is "$M/open.img" $MiB HOLE $((MiB + 4096))
'

test_expect_success 'sparse files uploaded together (one batch) keep their holes too' '
	mkdir "$M/scratch" &&
	make_sparse "$R" a.img 1 && make_sparse "$R" b.img 1 &&
	truncate -s 512M "$R/c.img" && put_at "$R/c.img" 511 1 &&
	cp --sparse=always "$R/a.img" "$R/b.img" "$R/c.img" "$M/scratch/" &&
	mv "$M/scratch/a.img" "$M/scratch/b.img" "$M/scratch/c.img" "$M/" &&
	unmount_roamfs "$M" &&
	grep "replayed [3-9] uploads together" "$LOG" &&
	on_server a.img && on_server b.img && on_server c.img && on_server head.img &&
	ranges "$H/a.img" >"$TEST_DIR/got" && want_ranges 1 | cmp - "$TEST_DIR/got" &&
	ranges "$H/b.img" >"$TEST_DIR/got" && want_ranges 1 | cmp - "$TEST_DIR/got" &&
	test "$(ranges "$H/c.img")" = "$((511 * MiB)) $((512 * MiB))"
'

test_expect_success 'nothing was set aside' '
	! grep "set aside" "$LOG"
'

test_done
