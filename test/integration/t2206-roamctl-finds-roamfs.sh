#!/bin/sh
# t2206 (issue 23): roamctl finds every roamfs of its user, wherever its
# cache is (-o cache=DIR outside the cache root, as one mounts by hand
# like sshfs), from the mount point or any path inside it, without
# --cache-root: each running roamfs leaves a link to its cache in the
# registry (/run/roamfs for root, the runtime directory /run/user/UID for
# a user) and removes it when it exits.  Root's roamctl finds the users'
# too.  A link whose roamfs is gone, a link to a cache of someone else
# and a registry open to others are never used.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
fuse_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
at_exit "chmod $fuse_mode /dev/fuse"
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/Docs/deep"
printf 'pin me\n' >"$H/Docs/a.txt"
M=$TEST_DIR/mnt
ROAM_CACHE=$TEST_DIR/elsewhere/cache
NOROOT=$TEST_DIR/no-cache-root
mkdir -p "$NOROOT" "$TEST_DIR/elsewhere"
OUT=$TEST_DIR/out

# ctl ARGS...: roamctl with a cache root that holds nothing, so that only
# the registry can find a roamfs; its status in $st.
ctl() {
	"$ROAMCTL" --cache-root="$NOROOT" "$@" >"$OUT" 2>&1
	st=$?
	return 0
}

field() { # field NAME: a field of the first object of the JSON array in $OUT
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))[0][sys.argv[2]])' "$OUT" "$1"
}

test_expect_success 'a roamfs with its cache outside the cache root registers itself' '
	mount_roamfs "$M" workstation=A &&
	pid=$(roamfs_pid "$ROAM_CACHE") &&
	test "$(readlink "/run/roamfs/$pid")" = "$ROAM_CACHE" &&
	test "$(stat -c %U:%a /run/roamfs)" = root:755
'

test_expect_success 'roamctl status by mount point and by a path inside it, no --cache-root' '
	ctl --json status "$M" && test $st -le 1 && test "$(field cache)" = "$ROAM_CACHE" &&
	ctl --json status "$M/Docs/deep" && test $st -le 1 && test "$(field cache)" = "$ROAM_CACHE" &&
	test "$(field mountpoint)" = "$M" &&
	ctl --json status && test $st -le 1 && grep -q "\"cache\":\"$ROAM_CACHE\"" "$OUT" ||
	{ cat "$OUT"; false; }
'

test_expect_success 'pin, flush --wait and offline/online by path, no --cache-root' '
	ctl pin "$M/Docs" && test $st -eq 0 &&
	wait_server grep -qx Docs "$H/.config/roamfs/pins" &&
	printf "sent\n" >"$M/new.txt" &&
	ctl flush --wait "$M/Docs" && test $st -eq 0 && bytes_are "$H/new.txt" sent &&
	ctl offline "$M" && test $st -le 1 && ctl online "$M" && test $st -le 1 ||
	{ cat "$OUT"; false; }
'

test_expect_success 'a path in no roamfs: one line that says so' '
	ctl status "$TEST_DIR/nowhere" && test $st -eq 5 &&
	grep -q "$TEST_DIR/nowhere: no roamfs runs there for you" "$OUT" &&
	test "$(wc -l <"$OUT")" -eq 1 || { cat "$OUT"; false; }
'

test_expect_success 'a stale link is skipped and removed; links to caches of others are not used' '
	ln -s "$ROAM_CACHE" /run/roamfs/999999999 &&
	ctl --json status && test $st -le 1 && test ! -L /run/roamfs/999999999 &&
	test "$(grep -o "\"cache\":\"$TEST_DIR[^\"]*\"" "$OUT" | wc -l)" -eq 1 || { cat "$OUT"; false; }
'

U=roamreg$$
useradd -M -d /nonexistent -s /bin/sh "$U" || bail_out "cannot create user $U"
at_exit "userdel '$U' 2>/dev/null"
UID_U=$(id -u "$U")
RUNDIR=/run/user/$UID_U
mkdir -p "$RUNDIR" && chown "$U" "$RUNDIR" && chmod 700 "$RUNDIR"
at_exit "rm -rf '$RUNDIR'"
UD=$TEST_DIR/user
mkdir -p "$UD/mnt" "$UD/caches" && cp "$KNOWN_HOSTS" "$UD/known_hosts" && cp "$SSH_KEY" "$UD/key" &&
    chown -R "$U" "$UD" && chmod 600 "$UD/key"
UH=$SERVER/$U
mkdir -p "$UH" && chown "$U" "$UH"
user_binaries || bail_out "cannot copy roamfs for the user"
as_user() {
	run_as "$U" env XDG_RUNTIME_DIR="$RUNDIR" "$@"
}
# uctl ARGS...: the user's roamctl (cache root that holds nothing), output
# in $OUT; true when it exits 0 or 1 (changes waiting).
uctl() {
	# The site configuration users get (make distcheck: the default one is
	# in the staging prefix, closed to them).
	as_user "$USER_ROAMCTL" ${USER_CONFIG:+--config="$USER_CONFIG"} --cache-root="$NOROOT" "$@" >"$OUT" 2>&1
	[ $? -le 1 ]
}

test_expect_success 'a user mount registers in the runtime directory; the user and root find it' '
	as_user "$USER_ROAMFS" -o "port=$SSHD_PORT,IdentityFile=$UD/key,UserKnownHostsFile=$UD/known_hosts,cache=$UD/caches/c1${USER_CONFIG:+,config=$USER_CONFIG}" \
	    "root@127.0.0.1:$UH" "$UD/mnt" &&
	at_exit "fusermount3 -uz \"$UD/mnt\" 2>/dev/null" &&
	upid=$(roamfs_pid "$UD/caches/c1") &&
	test "$(readlink "$RUNDIR/roamfs/$upid")" = "$UD/caches/c1" &&
	test "$(stat -c %U:%a "$RUNDIR/roamfs")" = "$U:700" &&
	uctl --json status "$UD/mnt" && test "$(field cache)" = "$UD/caches/c1" &&
	ctl --json status "$UD/caches/c1" && test $st -le 1 &&
	ctl --json status && grep -q "\"cache\":\"$UD/caches/c1\"" "$OUT" ||
	{ cat "$OUT"; false; }
'

test_expect_success 'a link of the user to a cache that is not theirs: root does not take it' '
	as_user ln -s "$ROAM_CACHE" "$RUNDIR/roamfs/1" &&
	ctl --json status && test $st -le 1 &&
	test "$(grep -o "\"cache\":\"$ROAM_CACHE\"" "$OUT" | wc -l)" -eq 1 &&
	uctl --json status && ! grep -q "\"cache\":\"$ROAM_CACHE\"" "$OUT" || { cat "$OUT"; false; }
'

test_expect_success 'a registry open to others is not used' '
	chmod 777 "$RUNDIR/roamfs" &&
	ctl --json status &&
	! grep -q "\"cache\":\"$UD/caches/c1\"" "$OUT" &&
	chmod 700 "$RUNDIR/roamfs" || { chmod 700 "$RUNDIR/roamfs"; cat "$OUT"; false; }
'

test_expect_success 'at exit each roamfs removes its link' '
	as_user fusermount3 -u "$UD/mnt" && wait_gone "$upid" 60 &&
	test ! -e "$RUNDIR/roamfs/$upid" &&
	unmount_roamfs "$M" && test ! -e "/run/roamfs/$pid"
'

test_expect_success 'mounted before the runtime directory exists (pam_mount before pam_systemd): registered once it does' '
	rm -rf "$RUNDIR" &&
	run_as "$U" "$USER_ROAMFS" -o "port=$SSHD_PORT,IdentityFile=$UD/key,UserKnownHostsFile=$UD/known_hosts,cache=$UD/caches/c2${USER_CONFIG:+,config=$USER_CONFIG}" \
	    "root@127.0.0.1:$UH" "$UD/mnt" &&
	upid=$(roamfs_pid "$UD/caches/c2") &&
	mkdir "$RUNDIR" && chown "$U" "$RUNDIR" && chmod 700 "$RUNDIR" &&
	WAIT_SERVER_SECONDS=25 wait_server test -L "$RUNDIR/roamfs/$upid" &&
	uctl --json status "$UD/mnt" && test "$(field cache)" = "$UD/caches/c2" &&
	as_user fusermount3 -u "$UD/mnt" && wait_gone "$upid" 60 && test ! -e "$RUNDIR/roamfs/$upid" ||
	{ cat "$OUT"; ls -la "$RUNDIR" "$RUNDIR/roamfs"; false; }
'

test_done
