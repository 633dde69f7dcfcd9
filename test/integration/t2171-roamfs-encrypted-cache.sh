#!/bin/sh
# t2171 (issue 23): a cache encrypted at rest.  On a loop-mounted ext4
# image made with -O encrypt, a user's cache under a cache root with
# cache_encrypt = required is encrypted (fscrypt, v2 policy) with a random
# key wrapped with the login password given on standard input (Argon2id).
# While mounted everything works; after the logout the key is removed:
# the cache's names and contents are ciphertext, on the mount and on the
# disk, and DIR/state says every change was sent.  The next login with
# the password reads everything, also offline.  A key login gets a clear
# refusal, a wrong password the server's; a password changed on the
# server opens a new cache (and a cache still holding unsent changes is
# kept aside, locked with the old password, and said so; roamctl recover
# puts it back with the new password, and its changes go).  required
# where the file system cannot encrypt, or with no password, refuses in
# one line.  roamctl gc keeps a locked cache without failing.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
TOOL=$top_builddir/test/tools/fscrypt-tool
[ -x "$TOOL" ] || bail_out "$TOOL is missing: run make check, or make test/tools/fscrypt-tool"
fuse_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
at_exit "chmod $fuse_mode /dev/fuse"
U=roamenc$$
PW="Enc-$$ secret words"
PW2="Changed-$$ at the office"
useradd -M -d /nonexistent -s /bin/sh "$U" || bail_out "cannot create user $U"
at_exit "userdel '$U' 2>/dev/null"
echo "$U:$PW" | chpasswd || bail_out "cannot set a password"
start_sshd "Match User $U" "    PasswordAuthentication yes" "    AuthenticationMethods password" \
	|| bail_out "cannot start sshd"
H=$SERVER/$U
mkdir -p "$H" && chown "$U" "$H" && chmod 700 "$H"
MARK="essay text $$ that must not lie in clear on the disk"
printf '%s\n' "$MARK" >"$H/essay-about-the-sea.txt" && chown "$U" "$H/essay-about-the-sea.txt"
IMG=$TEST_DIR/ws.img
FS=$TEST_DIR/fs
mkdir -p "$FS"
truncate -s 128M "$IMG" && mkfs.ext4 -q -O encrypt "$IMG" || bail_out "cannot make an ext4 image with -O encrypt"
mount -o loop "$IMG" "$FS" || bail_out "cannot mount the image (loop devices?)"
at_exit "umount -l '$FS' 2>/dev/null"
ROOT=$FS/croot
CONF=$TEST_DIR/enc.conf
printf 'cache_root = %s\ncache_encrypt = required\n' "$ROOT" >"$CONF" && chmod 644 "$CONF"
"$ROAMCTL" --config="$CONF" prepare "$U" || bail_out "roamctl prepare failed"
C=$ROOT/$U
UD=$TEST_DIR/user
mkdir -p "$UD/mnt" && cp "$KNOWN_HOSTS" "$UD/known_hosts" && chown -R "$U" "$UD"
user_binaries || bail_out "cannot copy roamfs for the user"
OPTS="password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$CONF"

# mount_with PASSWORD [OPTIONS]: the user mounts with PASSWORD on stdin;
# roamfs's output in $TEST_DIR/mount.out.
mount_with() {
	printf '%s\n' "$1" | run_as "$U" "$USER_ROAMFS" -o "$OPTS${2:+,$2}" "$U@127.0.0.1:$H" "$UD/mnt" \
	    >"$TEST_DIR/mount.out" 2>&1
}

# logout: unmount as pam_mount does, and wait for roamfs to end.
logout() {
	_p=$(roamfs_pid "$C")
	run_as "$U" fusermount3 -u "$UD/mnt" && { [ -z "$_p" ] || wait_gone "$_p" 60; }
}
at_exit "fusermount3 -uz '$UD/mnt' 2>/dev/null"

# id_of: the key identifier of the cache (its db directory's policy).
id_of() {
	"$TOOL" policy "$C/db"
}

test_expect_success 'the first login makes an encrypted cache; all works' '
	mount_with "$PW" || { cat "$TEST_DIR/mount.out"; return 1; }
	test "$(run_as "$U" cat "$UD/mnt/essay-about-the-sea.txt")" = "$MARK" &&
	echo "written at school $$" | run_as "$U" tee "$UD/mnt/new-secret-name.txt" >/dev/null &&
	wait_server bytes_are "$H/new-secret-name.txt" "written at school $$" &&
	test "$(stat -c %U:%a "$C/key")" = "$U:600" &&
	id=$(id_of) && test "$id" != none &&
	test "$("$TOOL" policy "$C/data")" = "$id" && test "$("$TOOL" policy "$C/tmp")" = "$id" &&
	test "$("$TOOL" present "$C" "$id")" = present &&
	grep -q "is encrypted with a key wrapped with your login password" "$C/roamfs.log"
'

test_expect_success 'after the logout the key is gone: names and contents are ciphertext, also on the disk' '
	id=$(id_of) && logout &&
	test "$("$TOOL" present "$C" "$id")" = absent &&
	! ls "$C/db" | grep -q "data.mdb" &&
	f=$(find "$C/data" -type f | head -n 1) && test -n "$f" && ! cat "$f" >/dev/null 2>&1 &&
	test "$(cat "$C/state")" = clean &&
	sync && umount "$FS" &&
	! grep -a -q "$MARK" "$IMG" && ! grep -a -q "new-secret-name" "$IMG" &&
	! grep -a -q "essay-about-the-sea" "$IMG" &&
	mount -o loop "$IMG" "$FS"
'

test_expect_success 'roamctl status --all and gc, as root, read the locked cache without its key' '
	"$ROAMCTL" --config="$CONF" status --all >"$TEST_DIR/status.out" 2>&1; st=$?
	cat "$TEST_DIR/status.out"
	# (0, or 1 when another roamfs of root runs with changes waiting.)
	test $st -le 1 && grep -q "encrypted:   locked: its key opens with $U.s password" "$TEST_DIR/status.out" &&
	grep -q "waiting:     nothing: all reached the server" "$TEST_DIR/status.out" &&
	"$ROAMCTL" --config="$CONF" gc >"$TEST_DIR/gc.out" 2>&1; st=$?
	cat "$TEST_DIR/gc.out"
	test $st -eq 0 && test -f "$C/key" && test -d "$C/db"
'

test_expect_success 'the next login with the password reads everything, also offline' '
	stop_sshd &&
	mount_with "$PW" || { cat "$TEST_DIR/mount.out"; restart_sshd; return 1; }
	test "$(run_as "$U" cat "$UD/mnt/essay-about-the-sea.txt")" = "$MARK" &&
	test "$(run_as "$U" cat "$UD/mnt/new-secret-name.txt")" = "written at school $$"
	r=$?
	restart_sshd && logout && return $r
'

test_expect_success 'a key login on the encrypted cache: one line that says why' '
	if run_as "$U" "$USER_ROAMFS" -o "port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$CONF" \
	    "$U@127.0.0.1:$H" "$UD/mnt" </dev/null >"$TEST_DIR/out" 2>&1; then
		run_as "$U" fusermount3 -u "$UD/mnt"
		return 1
	fi
	cat "$TEST_DIR/out" && test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -q "the cache $C is encrypted with your login password, and this login gave none" "$TEST_DIR/out"
'

test_expect_success 'a wrong password: the server'"'"'s refusal, the cache untouched' '
	! mount_with "not the password" && cat "$TEST_DIR/mount.out" &&
	grep -q "refused the login" "$TEST_DIR/mount.out" &&
	! grep -q " $UD/mnt " /proc/mounts && test -f "$C/key" && test ! -e "$C"/locked-*
'

test_expect_success 'the password changed on the server: a clean cache is made anew' '
	old=$(id_of) &&
	echo "$U:$PW2" | chpasswd &&
	mount_with "$PW2" || { cat "$TEST_DIR/mount.out"; return 1; }
	test "$(run_as "$U" cat "$UD/mnt/essay-about-the-sea.txt")" = "$MARK" &&
	test "$(id_of)" != "$old" &&
	grep -q "your password changed: the cache $C, whose changes were all on the server, is made anew" \
	    "$C/roamfs.log" && logout
'

test_expect_success 'changes unsent when the password changes are kept aside, and said' '
	stop_sshd &&
	mount_with "$PW2" || { cat "$TEST_DIR/mount.out"; restart_sshd; return 1; }
	echo "made offline $$" | run_as "$U" tee "$UD/mnt/offline.txt" >/dev/null
	pid=$(roamfs_pid "$C")
	run_as "$U" fusermount3 -u "$UD/mnt"; wait_gone "$pid" 60
	test "$(cat "$C/state")" = dirty &&
	echo "$U:$PW" | chpasswd && restart_sshd &&
	mount_with "$PW" || { cat "$TEST_DIR/mount.out"; return 1; }
	cat "$TEST_DIR/mount.out"
	grep -q "held changes made here that may not be on the server: they are kept in $C/locked-" \
	    "$C/roamfs.log" &&
	ls -d "$C"/locked-*/db "$C"/locked-*/key >/dev/null &&
	test "$(run_as "$U" cat "$UD/mnt/essay-about-the-sea.txt")" = "$MARK" && logout
'

test_expect_success 'roamctl recover puts the kept cache back with the new password: its change reaches the server' '
	locked=$(ls -d "$C"/locked-*) && test -d "$locked" || return 1
	printf "%s\n%s\n" "wrong old" "$PW" | run_as "$U" "$USER_ROAMCTL" --config="$CONF" recover "$locked" >"$TEST_DIR/out" 2>&1 &&
	{ cat "$TEST_DIR/out"; return 1; }
	grep -q "the old password does not open $locked" "$TEST_DIR/out" && test -f "$locked/key" &&
	printf "%s\n%s\n" "$PW2" "$PW" | run_as "$U" "$USER_ROAMCTL" --config="$CONF" recover "$locked" >"$TEST_DIR/out" 2>&1 &&
	grep -q "is back in place in $C, opened by the new password" "$TEST_DIR/out" &&
	test ! -e "$locked" && test ! -e "$H/offline.txt" &&
	mount_with "$PW" && wait_server bytes_are "$H/offline.txt" "made offline $$" &&
	test "$(run_as "$U" cat "$UD/mnt/offline.txt")" = "made offline $$" && logout ||
	{ cat "$TEST_DIR/out" "$TEST_DIR/mount.out"; tail -n 5 "$C/roamfs.log"; false; }
'

test_expect_success 'a local-only file (the trash) keeps the state dirty: the cache is not all on the server' '
	cp "$top_srcdir/contrib/exclude" "$TEST_DIR/exclude" && chmod 644 "$TEST_DIR/exclude" &&
	mount_with "$PW" "exclude=$TEST_DIR/exclude" || { cat "$TEST_DIR/mount.out"; return 1; }
	run_as "$U" mkdir -p "$UD/mnt/.local/share/Trash/files" &&
	echo "thrown away" | run_as "$U" tee "$UD/mnt/.local/share/Trash/files/old.txt" >/dev/null &&
	logout && test "$(cat "$C/state")" = dirty &&
	mount_with "$PW" "exclude=$TEST_DIR/exclude" &&
	run_as "$U" rm "$UD/mnt/.local/share/Trash/files/old.txt" && logout &&
	test "$(cat "$C/state")" = clean
'

test_expect_success 'a plain cache made before is made anew encrypted once all of it is on the server' '
	mkdir -p "$FS/own" && chown "$U" "$FS/own" &&
	printf "cache_root = %s\ncache_encrypt = no\n" "$ROOT" >"$TEST_DIR/no.conf" &&
	printf "cache_root = %s\n" "$ROOT" >"$TEST_DIR/maybe.conf" &&
	chmod 644 "$TEST_DIR/no.conf" "$TEST_DIR/maybe.conf" &&
	P=$FS/own/cache &&
	printf "%s\n" "$PW" | run_as "$U" "$USER_ROAMFS" -o "password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$TEST_DIR/no.conf,cache=$P" \
	    "$U@127.0.0.1:$H" "$UD/mnt" &&
	test "$(run_as "$U" cat "$UD/mnt/essay-about-the-sea.txt")" = "$MARK" &&
	test ! -e "$P/key" && test "$("$TOOL" policy "$P/db")" = none &&
	pid=$(roamfs_pid "$P") && run_as "$U" fusermount3 -u "$UD/mnt" && wait_gone "$pid" 60 &&
	test "$(cat "$P/state")" = clean &&
	printf "%s\n" "$PW" | run_as "$U" "$USER_ROAMFS" -o "password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$TEST_DIR/maybe.conf,cache=$P" \
	    "$U@127.0.0.1:$H" "$UD/mnt" &&
	test "$(run_as "$U" cat "$UD/mnt/essay-about-the-sea.txt")" = "$MARK" &&
	test -f "$P/key" && test "$("$TOOL" policy "$P/db")" != none &&
	grep -q "the plain cache $P is made anew, encrypted" "$P/roamfs.log" &&
	pid=$(roamfs_pid "$P") && run_as "$U" fusermount3 -u "$UD/mnt" && wait_gone "$pid" 60
'

test_expect_success 'required where the file system cannot encrypt, or without a password: one line' '
	mkdir -p "$TEST_DIR/plainroot" && chmod 755 "$TEST_DIR/plainroot" &&
	printf "cache_root = %s\ncache_encrypt = required\n" "$TEST_DIR/plainroot" >"$TEST_DIR/plain.conf" &&
	chmod 644 "$TEST_DIR/plain.conf" &&
	"$ROAMCTL" --config="$TEST_DIR/plain.conf" prepare "$U" &&
	if printf "%s\n" "$PW" | run_as "$U" "$USER_ROAMFS" -o "password_stdin,port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$TEST_DIR/plain.conf" \
	    "$U@127.0.0.1:$H" "$UD/mnt" >"$TEST_DIR/out" 2>&1; then
		run_as "$U" fusermount3 -u "$UD/mnt"
		return 1
	fi
	cat "$TEST_DIR/out" && test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -q "cache_encrypt = required, and the file system of the cache $TEST_DIR/plainroot/$U cannot encrypt" "$TEST_DIR/out" &&
	"$ROAMCTL" --config="$CONF" prepare "$U" && rm -rf "$C" && "$ROAMCTL" --config="$CONF" prepare "$U" &&
	if run_as "$U" "$USER_ROAMFS" -o "port=$SSHD_PORT,UserKnownHostsFile=$UD/known_hosts,config=$CONF" \
	    "$U@127.0.0.1:$H" "$UD/mnt" </dev/null >"$TEST_DIR/out" 2>&1; then
		run_as "$U" fusermount3 -u "$UD/mnt"
		return 1
	fi
	cat "$TEST_DIR/out" && test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -q "cache_encrypt = required, and this login gave no password" "$TEST_DIR/out"
'

test_done
