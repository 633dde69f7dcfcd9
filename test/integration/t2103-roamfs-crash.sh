#!/bin/sh
# kill -9 of roamfs during a stream of fsynced writes loses nothing that
# was fsynced: the next roamfs on the same cache sends it, and the server
# never holds a torn file.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt

# The writer appends numbered lines to a few files, fsyncs after each line,
# and records each acknowledged line; it stops when the mount dies.
cat >"$TEST_DIR/writer.py" <<'PY'
import os, sys
mnt, ack = sys.argv[1], sys.argv[2]
fds = [os.open(os.path.join(mnt, "log%d.txt" % i), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) for i in range(3)]
with open(ack, "w") as a:
    n = 0
    try:
        while True:
            i = n % 3
            os.write(fds[i], b"line %08d %s\n" % (n, b"x" * 200))
            os.fsync(fds[i])
            a.write("%d %d\n" % (i, n)); a.flush()
            n += 1
    except OSError:
        pass
PY

acked_more_than() {
	[ -f "$TEST_DIR/ack" ] && [ "$(wc -l <"$TEST_DIR/ack")" -gt "$1" ]
}

test_expect_success 'kill -9 during a stream of fsynced writes' '
	mount_roamfs "$M" || return 1
	pid=$(roamfs_pid "$ROAM_CACHE")
	python3 "$TEST_DIR/writer.py" "$M" "$TEST_DIR/ack" &
	writer=$!
	wait_for acked_more_than 300 || { kill $writer; return 1; }
	kill -9 "$pid"
	wait_gone "$pid" 10 || { kill $writer; return 1; }
	wait $writer	# its next write fails: the mount is dead
	fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
	test "$(wc -l <"$TEST_DIR/ack")" -gt 300
'

test_expect_success 'remount on the same cache and unmount' '
	mount_roamfs "$M" &&
	unmount_roamfs "$M"
'

test_expect_success 'the server holds every fsynced line, whole' '
	for i in 0 1 2; do
		awk -v i=$i "\$1 == i { print \$2 }" "$TEST_DIR/ack" >"$TEST_DIR/want$i" &&
		sed -n "s/^line \([0-9]*\) x*$/\1/p" "$H/log$i.txt" | sed "s/^0*\([0-9]\)/\1/" >"$TEST_DIR/got$i" &&
		test "$(wc -l <"$H/log$i.txt")" = "$(wc -l <"$TEST_DIR/got$i")" &&
		head -n "$(wc -l <"$TEST_DIR/want$i")" "$TEST_DIR/got$i" | cmp - "$TEST_DIR/want$i" || return 1
	done
'

test_expect_success 'no temporary upload is left on the server' '
	test -z "$(find "$H" -name ".roamfs-tmp.*")"
'

# A new file closed without fsync keeps its size in memory for a moment;
# kill -9 then must not leave the inode at size 0 while the cache holds
# the bytes (the contents survive a crash of roamfs, not of the machine).
test_expect_success 'kill -9 right after new files were closed without fsync' '
	mount_roamfs "$M" || return 1
	pid=$(roamfs_pid "$ROAM_CACHE")
	for i in 1 2 3 4 5; do
		printf "unsynced %s\n" $i >"$M/new$i.txt" || return 1
	done
	kill -9 "$pid"
	wait_gone "$pid" 10 || return 1
	fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
'

test_expect_success 'after a remount they read back whole and reach the server' '
	mount_roamfs "$M" || return 1
	for i in 1 2 3 4 5; do
		test "$(stat -c %s "$M/new$i.txt")" = 11 &&
		test "$(cat "$M/new$i.txt")" = "unsynced $i" || return 1
	done
	unmount_roamfs "$M" &&
	for i in 1 2 3 4 5; do
		content_is "$H/new$i.txt" "unsynced $i" || return 1
	done
'

# Downloads are not fsynced: a crash of the machine can leave a cached copy
# cut short.  Its next open sees the size differ from the inode's and
# fetches it again.
test_expect_success 'a cached copy cut short (as a crash can leave it) is fetched again' '
	head -c 100000 /dev/urandom >"$H/fetched.bin" &&
	mount_roamfs "$M" &&
	cmp "$H/fetched.bin" "$M/fetched.bin" &&
	ino=$(stat -c %i "$M/fetched.bin") &&
	unmount_roamfs "$M" &&
	data="$ROAM_CACHE/data/$(printf %016x "$ino")" &&
	test "$(stat -c %s "$data")" = 100000 &&
	truncate -s 4096 "$data" &&
	: >"$TEST_DIR/roamfs.log" &&
	ROAMFS_DEBUG_LOG=$TEST_DIR/roamfs.log mount_roamfs "$M" &&
	cmp "$H/fetched.bin" "$M/fetched.bin" &&
	grep "cut short by a crash" "$TEST_DIR/roamfs.log" &&
	test "$(stat -c %s "$data")" = 100000 &&
	unmount_roamfs "$M"
'

# A file unlinked while open keeps its inode and cached copy until the
# last close; after a kill -9 nobody holds it any more, and the next mount
# drops both, where the files that still have a name stay.
test_expect_success 'a file unlinked while open, then kill -9: the next mount drops its copy' '
	mount_roamfs "$M" || return 1
	pid=$(roamfs_pid "$ROAM_CACHE")
	printf "kept\n" >"$M/kept.txt" && printf "open, then unlinked\n" >"$M/orphan.txt" &&
	kept="$ROAM_CACHE/data/$(printf %016x "$(stat -c %i "$M/kept.txt")")" &&
	data="$ROAM_CACHE/data/$(printf %016x "$(stat -c %i "$M/orphan.txt")")" || return 1
	sleep 600 <"$M/orphan.txt" &
	holder=$!
	# The shell opens the file in the child: wait until it holds it.
	wait_for eval "readlink /proc/$holder/fd/0 | grep -q orphan.txt" &&
	rm "$M/orphan.txt" && test -f "$data" &&
	test "$(cat /proc/$holder/fd/0)" = "open, then unlinked" ||
	{ echo "the holder did not hold orphan.txt: $(readlink /proc/$holder/fd/0)"; kill $holder; return 1; }
	kill -9 "$pid"
	wait_gone "$pid" 10
	kill $holder; wait $holder
	fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
	mount_roamfs "$M" &&
	test ! -e "$data" && test -f "$kept" &&
	content_is "$M/kept.txt" kept &&
	unmount_roamfs "$M" &&
	test ! -e "$H/orphan.txt" && content_is "$H/kept.txt" kept ||
	{ ls -la "$ROAM_CACHE/data" "$H"; echo "orphan $data kept $kept"; cat "$M/kept.txt" "$H/kept.txt";
	  tail -n 15 "$ROAM_CACHE/roamfs.log"; false; }
'

test_done
