#!/bin/sh
# What a FUSE mount needs, checked before the server is reached, each
# with its own one-line message: a mount point with a file system already
# mounted on it (a tmpfs, another roamfs), /dev/fuse that the user may not
# open, a user without fusermount3.  The refused mounts point at a port
# where nobody listens: a message about the network would mean roamfs
# tried to connect first.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
command -v unshare >/dev/null || bail_out "unshare is missing: apt-get install util-linux"
fuse_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
at_exit "chmod $fuse_mode /dev/fuse"
U=roamtest$$
PW="pw-$$"
useradd -M -d /nonexistent -s /bin/sh "$U" || bail_out "cannot create user $U"
at_exit "userdel '$U' 2>/dev/null"
echo "$U:$PW" | chpasswd || bail_out "cannot set a password"
start_sshd "Match User $U" "    PasswordAuthentication yes" || bail_out "cannot start sshd"
DEAD=$(free_port)
H=$SERVER/$U
mkdir -p "$H" "$SERVER/home" && chown "$U" "$H"
UD=$TEST_DIR/user
mkdir -p "$UD/mnt" && cp "$KNOWN_HOSTS" "$UD/known_hosts" && chown -R "$U" "$UD"
M=$TEST_DIR/mnt
mkdir -p "$M"
# The build directory may be closed to the user: it runs copies.
user_binaries || bail_out "cannot copy roamfs for the user"
as_user() {
	run_as "$U" "$@"
}
UOPTS="password_stdin,UserKnownHostsFile=$UD/known_hosts${USER_CONFIG:+,config=$USER_CONFIG}"

# refused OUT PATTERN COMMAND...: the command, given the password on its
# standard input, fails with status 1 and one line matching PATTERN.
refused() {
	_out=$1 _pat=$2
	shift 2
	printf "%s\n" "$PW" | "$@" >"$_out" 2>&1
	_rc=$?
	cat "$_out"
	echo "status $_rc"
	test "$_rc" -eq 1 &&
	test "$(wc -l <"$_out")" -eq 1 &&
	grep -q "$_pat" "$_out"
}

test_expect_success 'a tmpfs mounted on the mount point is named' '
	mount -t tmpfs roamtest "$M" &&
	at_exit "umount -l \"$M\" 2>/dev/null" &&
	refused "$TEST_DIR/out" "mount point $M already has a file system mounted on it (tmpfs): unmount that first (umount $M)" \
	    timeout 60 "$ROAMFS" -o "port=$DEAD,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c1" \
	    "root@127.0.0.1:$SERVER/home" "$M" &&
	test "$(grep -c " $M " /proc/mounts)" -eq 1 &&
	umount "$M"
'

test_expect_success 'a roamfs mounted on the mount point is named' '
	mount_roamfs "$M" &&
	refused "$TEST_DIR/out" "mount point $M already has a file system mounted on it (fuse.roamfs): unmount that first (fusermount3 -u $M)" \
	    timeout 60 "$ROAMFS" -o "port=$DEAD,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c2" \
	    "root@127.0.0.1:$SERVER/home" "$M" &&
	test "$(grep -c " $M " /proc/mounts)" -eq 1 &&
	unmount_roamfs "$M"
'

test_expect_success 'a user mounting on its own roamfs mount is told the same' '
	printf "%s\n" "$PW" | as_user "$USER_ROAMFS" -o "$UOPTS,port=$SSHD_PORT,cache=$UD/cache" "$U@127.0.0.1:$H" "$UD/mnt" &&
	at_exit "fusermount3 -uz \"$UD/mnt\" 2>/dev/null" &&
	refused "$TEST_DIR/out" "mount point $UD/mnt already has a file system mounted on it (fuse.roamfs)" \
	    as_user timeout 60 "$USER_ROAMFS" -o "$UOPTS,port=$DEAD,cache=$UD/c3" "$U@127.0.0.1:$H" "$UD/mnt" &&
	test "$(grep -c " $UD/mnt " /proc/mounts)" -eq 1 &&
	as_user fusermount3 -u "$UD/mnt"
'

test_expect_success '/dev/fuse that the user may not open is named' '
	chmod 600 /dev/fuse &&
	{
		refused "$TEST_DIR/out" "you may not open /dev/fuse (mode 600, owner uid 0): an admin must make it 0666" \
		    as_user timeout 60 "$USER_ROAMFS" -o "$UOPTS,port=$DEAD,cache=$UD/c4" "$U@127.0.0.1:$H" "$UD/mnt"
		r=$?
		chmod 666 /dev/fuse
		test "$r" -eq 0
	} &&
	! grep -q " $UD/mnt " /proc/mounts
'

# fusermount3 hidden behind a file that cannot run, in a mount namespace
# of the test's own; run_as cannot cross exec, so its work is spelt out.
test_expect_success 'a user without fusermount3 is told to install fuse3' '
	: >"$TEST_DIR/no-fusermount" &&
	refused "$TEST_DIR/out" "cannot run fusermount3.*install fuse3" \
	    env ASAN_OPTIONS="${USER_ASAN_OPTIONS-}" UBSAN_OPTIONS="${USER_UBSAN_OPTIONS-}" timeout 60 unshare -m sh -c "mount --bind \"\$0\" /usr/bin/fusermount3 && exec \"\$@\"" "$TEST_DIR/no-fusermount" \
	    setpriv --reuid="$U" --regid="$U" --init-groups env HOME=/nonexistent \
	    "$USER_ROAMFS" -o "$UOPTS,port=$DEAD,cache=$UD/c5" "$U@127.0.0.1:$H" "$UD/mnt" &&
	! grep -q " $UD/mnt " /proc/mounts
'

test_expect_success 'a mount point the user may not write to is named' '
	mkdir -p "$TEST_DIR/root-owned" &&
	refused "$TEST_DIR/out" "you may not write to the mount point $TEST_DIR/root-owned" \
	    as_user timeout 60 "$USER_ROAMFS" -o "$UOPTS,port=$DEAD,cache=$UD/c6" "$U@127.0.0.1:$H" "$TEST_DIR/root-owned"
'

test_done
