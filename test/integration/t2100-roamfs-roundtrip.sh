#!/bin/sh
# Every kind of change made through roamfs reaches the server with the
# right bytes, mode and mtime; the server side is checked directly.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
mkdir -p "$H/docs" "$H/mail/cur"
printf 'hello from the server\n' >"$H/existing.txt"
printf 'in a directory\n' >"$H/docs/note.txt"
ln -s docs/note.txt "$H/link-to-note"
chmod 640 "$H/docs/note.txt"
touch -d '2020-01-02 03:04:05' "$H/docs/note.txt"

test_expect_success 'mount returns once the mount is ready' '
	mount_roamfs "$M" &&
	grep -q " $M fuse.roamfs " /proc/mounts
'

test_expect_success 'server files are read through the mount' '
	test "$(cat "$M/existing.txt")" = "hello from the server" &&
	test "$(cat "$M/docs/note.txt")" = "in a directory"
'

test_expect_success 'files show as owned by the mounting user, server mode and mtime' '
	test "$(stat -c %u:%g "$M/docs/note.txt")" = "$(id -u):$(id -g)" &&
	test "$(stat -c %a "$M/docs/note.txt")" = 640 &&
	test "$(stat -c %Y "$M/docs/note.txt")" = "$(stat -c %Y "$H/docs/note.txt")"
'

test_expect_success 'the home and its directories count their subdirectories in their link counts' '
	ls "$M" >/dev/null &&
	test "$(stat -c %h "$M")" = "$(stat -c %h "$H")" &&
	test "$(stat -c %h "$M/docs")" = 2
'

test_expect_success 'a symbolic link from the server reads back' '
	test "$(readlink "$M/link-to-note")" = docs/note.txt &&
	test "$(cat "$M/link-to-note")" = "in a directory"
'

test_expect_success 'a new file reaches the server with its bytes' '
	head -c 300000 /dev/urandom >"$TEST_DIR/rand" &&
	cp "$TEST_DIR/rand" "$M/new.bin" &&
	wait_server cmp "$TEST_DIR/rand" "$H/new.bin"
'

test_expect_success 'mode and mtime reach the server' '
	printf "x" >"$M/timed" &&
	chmod 600 "$M/timed" &&
	touch -d "2019-05-06 07:08:09" "$M/timed" &&
	wait_server stat_is "$H/timed" %a:%Y "600:$(date -d "2019-05-06 07:08:09" +%s)"
'

test_expect_success 'chmod of a server file propagates' '
	chmod 604 "$M/existing.txt" &&
	wait_server stat_is "$H/existing.txt" %a 604
'

test_expect_success 'an edit of a server file propagates' '
	printf "changed\n" >>"$M/docs/note.txt" &&
	wait_server grep -q changed "$H/docs/note.txt" &&
	test "$(head -n 1 "$H/docs/note.txt")" = "in a directory"
'

test_expect_success 'mkdir, rename and rmdir propagate' '
	mkdir "$M/newdir" &&
	echo a >"$M/newdir/a" &&
	wait_server test -f "$H/newdir/a" &&
	mv "$M/newdir" "$M/moved" &&
	wait_server test -f "$H/moved/a" &&
	test ! -e "$H/newdir" &&
	rm "$M/moved/a" && rmdir "$M/moved" &&
	wait_server test ! -e "$H/moved"
'

# A new directory costs one round trip (MKDIR and an LSTAT together); a
# SETSTAT follows only when the server's umask took mode bits away.
test_expect_success 'new directories reach the server with their modes' '
	mkdir -m 0700 "$M/d700" && mkdir -m 0777 "$M/d777" && mkdir -m 2750 "$M/d2750" &&
	echo x >"$M/d2750/f" &&
	wait_server test -f "$H/d2750/f" &&
	stat_is "$H/d700" %a 700 && stat_is "$H/d777" %a 777 && stat_is "$H/d2750" %a 2750
'

test_expect_success 'rename over an existing file replaces it on the server' '
	echo one >"$M/r1" && echo two >"$M/r2" &&
	wait_server test -f "$H/r2" &&
	mv "$M/r1" "$M/r2" &&
	wait_server content_is "$H/r2" one &&
	test ! -e "$H/r1"
'

test_expect_success 'deletions propagate, also of symbolic links' '
	rm "$M/existing.txt" "$M/link-to-note" &&
	wait_server test ! -e "$H/existing.txt" &&
	wait_server test ! -L "$H/link-to-note"
'

test_expect_success 'symbolic links and hard links propagate' '
	ln -s some/target "$M/sl" &&
	echo shared >"$M/hl1" && ln "$M/hl1" "$M/hl2" &&
	wait_server link_is "$H/sl" some/target &&
	wait_server test -f "$H/hl2" &&
	test "$(stat -c %i "$H/hl1")" = "$(stat -c %i "$H/hl2")" &&
	test "$(stat -c %h "$M/hl1")" = 2
'

test_expect_success 'truncate and append propagate' '
	printf "0123456789" >"$M/tr" &&
	truncate -s 4 "$M/tr" &&
	printf "xy" >>"$M/tr" &&
	wait_server content_is "$H/tr" 0123xy
'

# The server holds every file of the burst with its bytes, mode and mtime.
# cp -a copies in directory order and the replayer lets each change settle
# for a second, so the last file to arrive is not known in advance.
burst_arrived() {
	diff -r "$TEST_DIR/burst" "$H/burst" >/dev/null &&
	(cd "$H/burst" && stat -c "%n %a %Y %s" *) | cmp -s "$TEST_DIR/want" -
}

test_expect_success 'a burst of new files arrives whole, with modes and times' '
	mkdir "$TEST_DIR/burst" &&
	python3 - "$TEST_DIR/burst" <<-PY &&
	import os, sys
	d = sys.argv[1]
	for i in range(400):
	    p = os.path.join(d, "f%03d é" % i)
	    with open(p, "wb") as f:
	        f.write(os.urandom([0, 1, 4096, 70000][i % 4] + i))
	    os.chmod(p, [0o600, 0o644, 0o640, 0o755][i % 3])
	    os.utime(p, (1600000000 + i, 1600000000 + i))
	PY
	cp -a "$TEST_DIR/burst" "$M/burst" &&
	(cd "$TEST_DIR/burst" && stat -c "%n %a %Y %s" *) >"$TEST_DIR/want" &&
	WAIT_SERVER_SECONDS=60 wait_server burst_arrived &&
	diff -r "$TEST_DIR/burst" "$H/burst" &&
	(cd "$H/burst" && stat -c "%n %a %Y %s" *) >"$TEST_DIR/got" &&
	cmp "$TEST_DIR/want" "$TEST_DIR/got"
'

test_expect_success 'no temporary upload names are left on the server' '
	sleep 1 &&
	test -z "$(find "$H" -name ".roamfs-tmp.*")"
'

test_expect_success 'unmount waits until the last change is on the server' '
	head -c 5000000 /dev/urandom >"$TEST_DIR/last" &&
	cp "$TEST_DIR/last" "$M/last.bin" &&
	unmount_roamfs "$M" &&
	cmp "$TEST_DIR/last" "$H/last.bin"
'

test_expect_success 'a new mount serves the cache and sees server changes' '
	echo "from elsewhere" >"$H/other-workstation.txt" &&
	mount_roamfs "$M" &&
	test "$(cat "$M/other-workstation.txt")" = "from elsewhere" &&
	cmp "$TEST_DIR/last" "$M/last.bin" &&
	unmount_roamfs "$M"
'

# mount(8) runs its helpers with a fixed PATH: name the uninstalled binary
# by its path in mount.fuse's "program#source" form.
test_expect_success 'mount -t fuse works, as from /etc/fstab' '
	mount -t fuse \
	    -o "port=$SSHD_PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$ROAM_CACHE,_netdev,nodev" \
	    "$ROAMFS#root@127.0.0.1:$H" "$M" &&
	grep -q " $M fuse.roamfs " /proc/mounts &&
	test "$(cat "$M/other-workstation.txt")" = "from elsewhere" &&
	unmount_roamfs "$M"
'

# The mkdir is replayed after the server got a file of that name: the
# record is set aside and the server's file keeps its bytes and mode.  A
# new cache, so that no listing of the home is asked again in between.
test_expect_success 'a mkdir over a file made meanwhile on the server leaves the file alone' '
	ROAM_CACHE=$TEST_DIR/cache-clash SERVER_HOME=$SERVER/home-clash &&
	mount_roamfs "$M" && ls "$M" >/dev/null &&
	echo "server file" >"$SERVER_HOME/clash" && chmod 600 "$SERVER_HOME/clash" &&
	mkdir -m 0755 "$M/clash" &&
	echo after >"$M/after" &&
	wait_server test -f "$SERVER_HOME/after" &&
	content_is "$SERVER_HOME/clash" "server file" && stat_is "$SERVER_HOME/clash" %a 600 &&
	unmount_roamfs "$M"
'

test_done
