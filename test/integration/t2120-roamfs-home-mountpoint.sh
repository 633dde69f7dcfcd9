#!/bin/sh
# The home is the mount point, as pam_mount mounts it: ~/.ssh is inside the
# mount.  roamfs must read what connecting needs before it mounts and never
# open a path under its own mount point afterwards, or a reconnection waits
# on itself: the home hangs and nothing reaches the server again.  Each
# authentication (password, a key outside the home, the agent) is tried
# with the server down at mount and coming back later.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
command -v strace >/dev/null || bail_out "strace is missing: apt-get install strace"
fuse_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
at_exit "chmod $fuse_mode /dev/fuse"
U=roamhm$$
PW="pw-$$-Secret"
UD=$TEST_DIR/user			# the user's files outside the home
MP=$TEST_DIR/home/$U			# the home on the workstation: the mount point
SH=$TEST_DIR/server/$U			# the home on the server
mkdir -p "$UD" "$MP"
useradd -M -d "$MP" -s /bin/sh "$U" || bail_out "cannot create user $U"
# Workstation and server are one machine here: the server runs in a mount
# namespace of its own, where the home is not mounted, so that its session
# processes (which start in the user's home) neither go through roamfs nor
# keep its mount alive.
server_ns() {
	unshare --mount --propagation private sh -c 'umount -l "$0" 2>/dev/null; exec "$@"' "$MP" "$@"
}
SSHD_PREFIX=server_ns
at_exit "userdel '$U' 2>/dev/null"
echo "$U:$PW" | chpasswd || bail_out "cannot set a password"
start_sshd "Match User $U" "    PasswordAuthentication yes" \
	"    AuthorizedKeysFile $UD/authorized_keys" || bail_out "cannot start sshd"
mkdir -p "$SH" && echo "from the server" >"$SH/hello.txt" && chown -R "$U" "$SH" && chmod 700 "$SH"
ssh-keygen -q -t ed25519 -N '' -f "$UD/key" || bail_out "ssh-keygen failed"
cp "$UD/key.pub" "$UD/authorized_keys"
cp "$KNOWN_HOSTS" "$UD/global_known_hosts"
chown -R "$U" "$UD" "$MP"
user_binaries || bail_out "cannot copy the binaries for the user"
UROAMFS=$USER_ROAMFS
as_user() {
	run_as "$U" env HOME="$MP" SSH_AUTH_SOCK="${AGENT_SOCK:-}" "$@"
}
at_exit "pkill -9 -u '$U' 2>/dev/null; fusermount3 -uz '$MP' 2>/dev/null"
BASE="port=$SSHD_PORT,GlobalKnownHostsFile=$UD/global_known_hosts${USER_CONFIG:+,config=$USER_CONFIG}"
LOG=$TEST_DIR/roamfs.log

# mount_home CACHE OPTIONS: mount the home as the user, in the foreground
# (in the background of this shell) so that the log goes to $LOG; the
# password, when used, comes on standard input.
mount_home() {
	if [ -n "${USE_PW:-}" ]; then
		printf '%s\n' "$PW" | as_user "$UROAMFS" -f -o "$BASE,cache=$1${2:+,$2}" \
			"$U@127.0.0.1:$SH" "$MP" >>"$LOG" 2>&1 &
	else
		as_user "$UROAMFS" -f -o "$BASE,cache=$1${2:+,$2}" "$U@127.0.0.1:$SH" "$MP" \
			</dev/null >>"$LOG" 2>&1 &
	fi
	wait_for grep -q " $MP fuse.roamfs " /proc/mounts
}

unmount_home() {
	_p=$(roamfs_pid "$1")
	as_user fusermount3 -u "$MP" && wait_gone "$_p" 60
}

# roundtrip CACHE OPTIONS: a warm cache, then a mount with the server down,
# work offline, the server back: the work arrives, the home answers, the
# logout goes through, and roamfs opened nothing under the mount point.
roundtrip() {
	mount_home "$1" "$2" &&
	test "$(as_user timeout -s KILL 20 cat "$MP/hello.txt")" = "from the server" &&
	unmount_home "$1" &&
	stop_sshd &&
	mount_home "$1" "$2" &&
	echo "made offline" | as_user tee "$MP/offline-$3.txt" >/dev/null &&
	pid=$(roamfs_pid "$1") &&
	{ strace -f -qq -e trace=%file,connect -o "$TEST_DIR/strace-$3" -p "$pid" & } &&
	spid=$! &&
	sleep 1 &&
	restart_sshd &&
	WAIT_SERVER_SECONDS=90 wait_server content_is "$SH/offline-$3.txt" "made offline" &&
	as_user timeout -s KILL 20 ls "$MP" >"$TEST_DIR/ls" &&
	grep -qx "offline-$3.txt" "$TEST_DIR/ls" &&
	echo "after the reconnection" | as_user timeout -s KILL 20 tee "$MP/after-$3.txt" >/dev/null &&
	# Detach before roamfs exits: LeakSanitizer cannot run under ptrace.
	kill "$spid" && wait "$spid";
	unmount_home "$1" &&
	content_is "$SH/after-$3.txt" "after the reconnection" &&
	grep -F "$MP" "$TEST_DIR/strace-$3" | head -n 5;
	test -s "$TEST_DIR/strace-$3" &&
	! grep -F "\"$MP/" "$TEST_DIR/strace-$3"
}

test_expect_success 'the default ~/.ssh/known_hosts under the mount point is left out, and said so' '
	USE_PW=1 mount_home "$UD/cache-pw" password_stdin &&
	grep -F "$MP/.ssh/known_hosts lies under the mount point $MP" "$LOG" &&
	unmount_home "$UD/cache-pw"
'

test_expect_success 'password: the server down at mount and back later; nothing hangs' '
	USE_PW=1 roundtrip "$UD/cache-pw" password_stdin pw
'

test_expect_success 'a key outside the home: the server down at mount and back later' '
	roundtrip "$UD/cache-key" "IdentityFile=$UD/key" key
'

test_expect_success 'the agent: the server down at mount and back later' '
	AGENT_SOCK=$UD/agent.sock &&
	eval "$(as_user ssh-agent -a "$AGENT_SOCK" -s)" >/dev/null &&
	at_exit "kill $SSH_AGENT_PID 2>/dev/null" &&
	as_user ssh-add -q "$UD/key" &&
	roundtrip "$UD/cache-agent" "" agent
'

test_expect_success 'default keys under the mount point are not read, and said so' '
	AGENT_SOCK= &&
	mkdir -p "$MP/.ssh" && cp "$UD/key" "$MP/.ssh/id_ed25519" && chown -R "$U" "$MP/.ssh" &&
	: >"$LOG" &&
	! as_user timeout 60 "$UROAMFS" -f -o "$BASE,cache=$UD/cache-nokey" "$U@127.0.0.1:$SH" "$MP" \
		</dev/null >"$LOG" 2>&1 &&
	cat "$LOG" &&
	grep -F "default keys in $MP/.ssh lie under the mount point" "$LOG" &&
	grep -F "refused the login as $U" "$LOG" &&
	! grep -q " $MP fuse.roamfs " /proc/mounts &&
	rm -r "$MP/.ssh"
'

test_expect_success 'an unknown host key names the file roamfs reads, not one in the mount' '
	: >"$UD/empty_known_hosts" &&
	! printf "%s\n" "$PW" | as_user timeout 60 "$UROAMFS" -f \
		-o "port=$SSHD_PORT,GlobalKnownHostsFile=$UD/empty_known_hosts,password_stdin,cache=$UD/cache-kh${USER_CONFIG:+,config=$USER_CONFIG}" \
		"$U@127.0.0.1:$SH" "$MP" >"$TEST_DIR/err" 2>&1 &&
	cat "$TEST_DIR/err" &&
	grep -F "ssh-keyscan -p $SSHD_PORT 127.0.0.1 >> $UD/empty_known_hosts" "$TEST_DIR/err" &&
	! grep -F ">> $MP" "$TEST_DIR/err"
'

test_expect_success 'files named under the mount point are refused before anything else' '
	for o in "UserKnownHostsFile=$MP/.ssh/known_hosts" "IdentityFile=$MP/.ssh/id_ed25519" \
	    "GlobalKnownHostsFile=$MP/kh" "exclude=$MP/exclude" "cache=$MP/.cache/roamfs"; do
		! as_user timeout 20 "$UROAMFS" -f -o "port=$SSHD_PORT,$o${USER_CONFIG:+,config=$USER_CONFIG}" "$U@127.0.0.1:$SH" "$MP" \
			</dev/null >"$TEST_DIR/err" 2>&1 || return 1
		cat "$TEST_DIR/err"
		tail -n 1 "$TEST_DIR/err" | grep -F "${o%%=*}=$MP" |
			grep -q "under the mount point $MP" || return 1
	done
'

test_done
