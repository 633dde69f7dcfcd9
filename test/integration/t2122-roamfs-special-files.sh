#!/bin/sh
# FIFOs and unix sockets made in the home (ssh's ControlPath, gpg-agent,
# editor servers) work on the mount and stay in the cache: never sent to
# the server, also when renamed or hard-linked, never removed by a
# listing, kept across a remount.  Device nodes are refused (EPERM).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
LOG=$TEST_DIR/roamfs.log
mkdir -p "$H/sub"
echo "synced file" >"$H/victim"

# fifo_works FIFO: a writer and a reader meet in the FIFO.
fifo_works() {
	timeout 10 cat "$1" >"$TEST_DIR/fifo.out" &
	_r=$!
	echo "through the fifo" | timeout 10 tee "$1" >/dev/null &&
	wait $_r &&
	content_is "$TEST_DIR/fifo.out" "through the fifo"
}

# socket_works PATH: a unix socket server bound at PATH answers a client.
socket_works() {
	timeout 20 python3 - "$1" <<-'PY'
	import os, socket, sys, threading
	path = sys.argv[1]
	srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	srv.bind(path)
	srv.listen(1)
	def serve():
	    c, _ = srv.accept()
	    c.sendall(c.recv(16).upper())
	    c.close()
	t = threading.Thread(target=serve)
	t.start()
	cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	cli.connect(path)
	cli.sendall(b"ping")
	got = cli.recv(16)
	t.join()
	srv.close()
	sys.exit(0 if got == b"PING" else 1)
	PY
}

# no_special_on_server: the server holds no FIFO or socket, nor their names.
no_special_on_server() {
	test -z "$(find "$H" -type p -o -type s)" &&
	test ! -e "$H/fifo" && test ! -e "$H/fifo2" && test ! -e "$H/plink" &&
	test ! -e "$H/agent.sock" && test ! -e "$H/.ssh/cm-root@127.0.0.1:22" &&
	test ! -e "$H/sub/moved"
}

test_expect_success 'mount' '
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" dir_ttl=1 &&
	test "$(cat "$M/victim")" = "synced file"
'

test_expect_success 'mkfifo works and a reader and a writer meet in it' '
	mkfifo -m 0600 "$M/fifo" &&
	test -p "$M/fifo" && stat_is "$M/fifo" %a 600 &&
	fifo_works "$M/fifo"
'

test_expect_success 'a unix socket server in the mount answers a client' '
	socket_works "$M/agent.sock" &&
	test -S "$M/agent.sock" &&
	mkdir -m 700 "$M/.ssh" &&
	socket_works "$M/.ssh/cm-root@127.0.0.1:22" &&
	test -S "$M/.ssh/cm-root@127.0.0.1:22"
'

test_expect_success 'device nodes are refused with EPERM' '
	python3 - "$M" <<-PY
	import errno, os, stat, sys
	for name, kind in (("null", stat.S_IFCHR), ("blk", stat.S_IFBLK)):
	    try:
	        os.mknod(os.path.join(sys.argv[1], name), kind | 0o600, os.makedev(1, 3))
	    except OSError as e:
	        if e.errno != errno.EPERM:
	            sys.exit("%s: %s" % (name, e))
	    else:
	        sys.exit("%s: created" % name)
	PY
	! mknod "$M/null" c 1 3 2>"$TEST_DIR/mknod.err" &&
	grep "Operation not permitted" "$TEST_DIR/mknod.err" &&
	test ! -e "$M/null" && test ! -e "$M/blk"
'

test_expect_success 'nothing of them reaches the server' '
	echo marker >"$M/marker" &&
	wait_server test -f "$H/marker" &&
	wait_server test -d "$H/.ssh" &&
	no_special_on_server
'

test_expect_success 'a FIFO renamed, also into a synced directory, stays local' '
	mv "$M/fifo" "$M/fifo2" &&
	test -p "$M/fifo2" && test ! -e "$M/fifo" &&
	mv "$M/fifo2" "$M/sub/moved" &&
	test -p "$M/sub/moved" &&
	fifo_works "$M/sub/moved" &&
	echo marker2 >"$M/marker2" && wait_server test -f "$H/marker2" &&
	no_special_on_server
'

test_expect_success 'a hard link to a FIFO works and stays local' '
	ln "$M/sub/moved" "$M/plink" &&
	test -p "$M/plink" && stat_is "$M/plink" %h 2 &&
	echo marker3 >"$M/marker3" && wait_server test -f "$H/marker3" &&
	no_special_on_server
'

test_expect_success 'a FIFO renamed over a synced file: the file leaves the server' '
	mkfifo "$M/f3" &&
	mv "$M/f3" "$M/victim" &&
	test -p "$M/victim" &&
	wait_server test ! -e "$H/victim"
'

test_expect_success 'a file of the same name made on the server does not remove the FIFO' '
	echo "from the server" >"$H/sub/moved" &&
	sleep 2 && ls -l "$M/sub" >/dev/null &&
	test -p "$M/sub/moved" && test -p "$M/plink" &&
	fifo_works "$M/sub/moved" &&
	content_is "$H/sub/moved" "from the server"
'

test_expect_success 'after unmount has sent everything the server has none of them' '
	unmount_roamfs "$M" &&
	test -f "$H/marker3" &&
	test -z "$(find "$H" -type p -o -type s)" &&
	test ! -e "$H/victim" && test ! -e "$H/plink" && test ! -e "$H/agent.sock" &&
	test ! -e "$H/.ssh/cm-root@127.0.0.1:22" &&
	content_is "$H/sub/moved" "from the server"
'

test_expect_success 'after a remount they are still listed with their type and work' '
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" dir_ttl=1 &&
	ls -l "$M" "$M/sub" "$M/.ssh" &&
	test -p "$M/sub/moved" && test -p "$M/plink" && test -p "$M/victim" &&
	test -S "$M/agent.sock" && test -S "$M/.ssh/cm-root@127.0.0.1:22" &&
	test "$(ls -l "$M/plink" | cut -c1)" = p &&
	test "$(ls -l "$M/agent.sock" | cut -c1)" = s &&
	fifo_works "$M/plink"
'

test_expect_success 'they are removed like files, and the server keeps its own' '
	rm "$M/plink" "$M/sub/moved" "$M/victim" "$M/agent.sock" "$M/.ssh/cm-root@127.0.0.1:22" &&
	sleep 2 && ls "$M/sub" >/dev/null &&
	test -f "$M/sub/moved" && test "$(cat "$M/sub/moved")" = "from the server" &&
	unmount_roamfs "$M" &&
	content_is "$H/sub/moved" "from the server" &&
	test -d "$H/.ssh"
'

test_expect_success 'no change was set aside' '
	test -s "$LOG" && ! grep "set aside" "$LOG"
'

test_done
