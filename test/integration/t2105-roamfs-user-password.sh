#!/bin/sh
# As pam_mount does it: an unprivileged user mounts through the setuid
# fusermount3, with the password on standard input, against a server that
# only allows password authentication for that user.  The password stays
# in locked memory, out of a core dump that gdb writes as root after a
# reconnection, and out of reach of the user's other programs (issue 23).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
# Debian's udev rule makes /dev/fuse 0666 so that users can mount through
# fusermount3; some minimal systems leave it 0600.  Use Debian's default.
fuse_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
at_exit "chmod $fuse_mode /dev/fuse"
U=roamtest$$
PW="S3cret-$$ with spaces"
useradd -M -d "/nonexistent" -s /bin/sh "$U" || bail_out "cannot create user $U"
at_exit "userdel '$U' 2>/dev/null"
echo "$U:$PW" | chpasswd || bail_out "cannot set a password"
start_sshd "Match User $U" "    PasswordAuthentication yes" "    AuthenticationMethods password" \
	|| bail_out "cannot start sshd"
H=$SERVER/$U
mkdir -p "$H" && chown "$U" "$H" && chmod 700 "$H"
echo "server side" >"$H/hello.txt" && chown "$U" "$H/hello.txt"
UD=$TEST_DIR/user
mkdir -p "$UD/mnt" && cp "$KNOWN_HOSTS" "$UD/known_hosts" && chown -R "$U" "$UD"
# The build directory may be closed to the user: it runs copies.
user_binaries || bail_out "cannot copy roamfs for the user"
as_user() {
	run_as "$U" "$@"
}
OPTS="password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,cache=$UD/cache${USER_CONFIG:+,config=$USER_CONFIG}"

test_expect_success 'the user mounts with the password on stdin' '
	printf "%s\n" "$PW" | as_user "$USER_ROAMFS" -o "$OPTS" "$U@127.0.0.1:$H" "$UD/mnt" &&
	at_exit "fusermount3 -uz \"$UD/mnt\" 2>/dev/null" &&
	grep -q " $UD/mnt fuse.roamfs " /proc/mounts &&
	test "$(as_user cat "$UD/mnt/hello.txt")" = "server side"
'

test_expect_success 'the password shows neither in the process list nor in the logs' '
	pid=$(roamfs_pid "$UD/cache") &&
	test -n "$pid" &&
	! tr "\\0" " " <"/proc/$pid/cmdline" | grep -F -q "$PW" &&
	! grep -F -q "$PW" "$SSHD_LOG" &&
	grep -q "mounted on $UD/mnt" "$UD/cache/roamfs.log" &&
	! grep -F -q "$PW" "$UD/cache/roamfs.log"
'

# AddressSanitizer replaces mlock with a no-op, and its shadow memory
# makes a core file of terabytes: those two are not checked there.
ASAN_BUILD=
! ldd "$ROAMFS" 2>/dev/null | grep -q libasan || ASAN_BUILD=1
# in_core TEXT: the core file written below holds TEXT.
in_core() {
	python3 -c 'import mmap, sys
with open(sys.argv[1], "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
    sys.exit(0 if m.find(sys.argv[2].encode()) >= 0 else 1)' "$TEST_DIR/core.$pid" "$1"
}
test_expect_success 'the password is in locked memory, not in a core dump, and the user cannot read it out' '
	pid=$(roamfs_pid "$UD/cache") && test -n "$pid" || return 1
	if [ -z "$ASAN_BUILD" ]; then
		test "$(awk "/^VmLck:/ { print \$2 }" "/proc/$pid/status")" -gt 0 ||
		{ grep "^Vm" "/proc/$pid/status"; return 1; }
	fi
	# Not dumpable: the user may not read its memory or attach to it.
	! as_user cat "/proc/$pid/environ" >/dev/null 2>&1 || { echo "the user read environ"; return 1; }
	! as_user dd if="/proc/$pid/mem" bs=1 count=1 status=none >/dev/null 2>&1 ||
	{ echo "the user read its memory"; return 1; }
	# Reconnect once, so that the password was used again by now.
	kill $(server_sessions) 2>/dev/null
	sleep 1
	echo reconnected | as_user tee "$UD/mnt/again.txt" >/dev/null &&
	wait_server test -e "$H/again.txt" || { echo "no reconnection"; return 1; }
	if [ -n "$ASAN_BUILD" ]; then
		say "AddressSanitizer build: no VmLck nor core file checked"
		return 0
	fi
	# gdb as root still writes a core; the password page is left out.
	gcore -o "$TEST_DIR/core" "$pid" >"$TEST_DIR/gcore.out" 2>&1 &&
	# The core holds what roamfs keeps (the mount point), not the password
	# (searched through mmap: grep would hold long runs without a newline).
	in_core "$UD/mnt" && ! in_core "$PW" ||
	{ cat "$TEST_DIR/gcore.out"; grep "^Vm" "/proc/$pid/status";
	  in_core "$PW" && echo "the password is in the core"; false; }
	r=$?
	rm -f "$TEST_DIR/core.$pid"
	return $r
'

test_expect_success 'files show as the user, and the user writes to the server as itself' '
	test "$(as_user stat -c %U "$UD/mnt/hello.txt")" = "$U" &&
	echo "from the workstation" | as_user tee "$UD/mnt/new.txt" >/dev/null &&
	pid=$(roamfs_pid "$UD/cache") &&
	as_user fusermount3 -u "$UD/mnt" &&
	wait_gone "$pid" 60 &&
	test "$(cat "$H/new.txt")" = "from the workstation" &&
	test "$(stat -c %U "$H/new.txt")" = "$U"
'

test_expect_success 'the cache belongs to the user and is closed to others' '
	test "$(stat -c %U:%a "$UD/cache")" = "$U:700" &&
	test "$(stat -c %U:%a "$UD/cache/roamfs.log")" = "$U:600"
'

# Run by hand, with no cache option, where root never made the user's
# cache under the (root's, 0755) cache root: a cache of the user's own
# under ~/.cache, or one line saying what to do when that lies in the
# mount point (issue 23).
mkdir -p "$TEST_DIR/croot" && chmod 755 "$TEST_DIR/croot"
printf 'cache_root = %s\n' "$TEST_DIR/croot" >"$TEST_DIR/croot.conf" && chmod 644 "$TEST_DIR/croot.conf"
mkdir -p "$UD/home" && chown "$U" "$UD/home"
HANDOPTS="password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$TEST_DIR/croot.conf"

test_expect_success 'by hand with no cache made for the user: a cache of their own under ~/.cache' '
	printf "%s\n" "$PW" | as_user env HOME="$UD/home" "$USER_ROAMFS" -o "$HANDOPTS" "$U@127.0.0.1:$H" "$UD/mnt" \
	    2>"$TEST_DIR/hand.err" &&
	own=$UD/home/.cache/roamfs/$U@127.0.0.1 &&
	test "$(as_user cat "$UD/mnt/hello.txt")" = "server side" &&
	test "$(stat -c %U:%a "$own")" = "$U:700" && test ! -e "$TEST_DIR/croot/$U" &&
	grep -q "no cache for you under $TEST_DIR/croot (root makes it with roamctl prepare): using $own" \
	    "$TEST_DIR/hand.err"
	r=$?
	pid=$(roamfs_pid "$own") && as_user fusermount3 -u "$UD/mnt" && wait_gone "$pid" 60 &&
	test $r -eq 0 || { cat "$TEST_DIR/hand.err"; ls -la "$UD/home/.cache/roamfs" "$TEST_DIR/croot"; false; }
'

test_expect_success 'by hand, ~/.cache in the mount point: a line that says what to do, last' '
	if printf "%s\n" "$PW" | as_user env HOME="$UD/mnt" XDG_CACHE_HOME= "$USER_ROAMFS" -o "$HANDOPTS" \
	    "$U@127.0.0.1:$H" "$UD/mnt" >"$TEST_DIR/out" 2>&1; then
		fusermount3 -u "$UD/mnt"
		return 1
	fi
	cat "$TEST_DIR/out" &&
	# (Before it, a warning that the default keys under the mount are not read.)
	tail -n 1 "$TEST_DIR/out" | grep -q "you have no cache under $TEST_DIR/croot: root makes it (roamctl prepare $U, which the PAM session runs at login); or give a cache directory outside $UD/mnt with -o cache=DIR" &&
	! grep -q " $UD/mnt " /proc/mounts
'

test_expect_success 'a wrong password is refused with a clear message' '
	if printf "wrong\n" | as_user timeout 60 "$USER_ROAMFS" -o "$OPTS" "$U@127.0.0.1:$H" "$UD/mnt" >"$TEST_DIR/out" 2>&1; then
		return 1
	fi
	cat "$TEST_DIR/out" &&
	grep -qi "password\|authenticat" "$TEST_DIR/out" &&
	! grep -q " $UD/mnt " /proc/mounts
'

# refused_home DIR CACHE: the user's mount of the server directory DIR
# fails at once, in one line that says why, and leaves nothing mounted.
refused_home() {
	if printf "%s\n" "$PW" | as_user timeout 60 "$USER_ROAMFS" -o "password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,cache=$2${USER_CONFIG:+,config=$USER_CONFIG}" \
	    "$U@127.0.0.1:$1" "$UD/mnt" >"$TEST_DIR/out" 2>&1; then
		fusermount3 -u "$UD/mnt"
		return 1
	fi
	cat "$TEST_DIR/out" &&
	test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -q "cannot use $1 on 127.0.0.1 as the home: Permission denied (you may not list or enter it)" "$TEST_DIR/out" &&
	! grep -q " $UD/mnt " /proc/mounts
}

test_expect_success 'a home the user may not read (root, 0700) is refused at mount' '
	mkdir -p "$SERVER/root-home" && chmod 700 "$SERVER/root-home" &&
	refused_home "$SERVER/root-home" "$UD/cache-root"
'

test_expect_success 'a home the user may read but not enter (0600) is refused at mount' '
	mkdir -p "$SERVER/closed-home" && chown "$U" "$SERVER/closed-home" &&
	chmod 600 "$SERVER/closed-home" &&
	refused_home "$SERVER/closed-home" "$UD/cache-closed"
'

test_done
