#!/bin/sh
# The roamfs demo: build, start a private SFTP server on 127.0.0.1, mount a
# roaming home from it, change files, and watch the changes reach the server
# and the flush finish at unmount.  Cleans up after itself.  Run as root on
# Debian 12:  bash scripts/demo.sh
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
build="${BUILD_DIR:-$top/build}"
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p "$build" && cd "$build"
[ -f Makefile ] || "$top/configure" >configure.out 2>&1 || { tail -n 20 configure.out; exit 1; }
make -j"$(nproc)" roamfs >make.out 2>&1 || { tail -n 30 make.out; exit 1; }

top_srcdir=$top top_builddir=$build
. "$top/test/integration/lib.sh"
step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "A private SFTP server on 127.0.0.1 (OpenSSH, throwaway keys, internal-sftp)"
start_sshd
H=$SERVER/home/ann
M=$TEST_DIR/ann
mkdir -p "$H/Maildir/new" "$H/Maildir/cur" "$H/Documents" "$M"
printf 'export PS1="ann$ "\n' >"$H/.bashrc"
printf 'Subject: welcome\n\nHello Ann.\n' >"$H/Maildir/new/1700000000.M1.server"
printf 'Homework\n' >"$H/Documents/homework.txt"
echo "server home: $H"

step "Mount the home with roamfs (nothing is copied)"
"$ROAMFS" -f -o "port=$SSHD_PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/cache" \
	"root@127.0.0.1:$H" "$M" 2>"$TEST_DIR/roamfs.log" &
pid=$!
at_exit "kill $pid 2>/dev/null; unmount_quiet '$M'"
wait_for grep -q " $M fuse.roamfs " /proc/mounts
show ls -la "$M"
show cat "$M/.bashrc"

step "Work: write, rename, delete (the application never waits for the network)"
show sh -c "echo 'Essay, first draft' > '$M/Documents/essay.txt'"
show mv "$M/Documents/homework.txt" "$M/Documents/homework-done.txt"
show mv "$M/Maildir/new/1700000000.M1.server" "$M/Maildir/cur/1700000000.M1.server:2,S"
show rm "$M/Maildir/cur/1700000000.M1.server:2,S"
show ln -s Documents/essay.txt "$M/essay-link"

step "The changes arrive on the server"
wait_for test -f "$H/Documents/essay.txt" || true
sleep 1
show find "$H" -path "$H/.roamfs*" -prune -o -print
show cat "$H/Documents/essay.txt"

step "Log out: fusermount3 -u, as pam_mount does; roamfs sends what is left, then exits"
head -c 20000000 /dev/urandom >"$M/Documents/video.bin"
show fusermount3 -u "$M"
wait "$pid" && echo "roamfs exited with status 0"
sed 's/^/  log: /' "$TEST_DIR/roamfs.log"
show ls -la "$H/Documents"

step "Log in again: the deleted mail does not come back"
"$ROAMFS" -o "port=$SSHD_PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/cache" \
	"root@127.0.0.1:$H" "$M"
show ls -la "$M/Maildir/new" "$M/Maildir/cur"
pid=$(roamfs_pid "$TEST_DIR/cache")
show fusermount3 -u "$M"
wait_gone "$pid"
step "Done; the server, the mount and the cache are removed"
