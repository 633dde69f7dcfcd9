#!/bin/sh
# t2202 (issue 13): a real PAM login.  pam_mount (Debian's libpam-mount),
# configured with the shipped contrib/pam_mount/pam_mount.conf.xml adapted
# to the test's private sshd and user, mounts the home as the user with
# the password typed at login; a session script (pam_exec, as a desktop
# session would) reads and writes files there; closing the session
# unmounts and the last changes reach the server; a second session finds
# them.  A wrong server password and an unreachable server with an empty
# cache make pam_mount fail its volume, which it reports as success: the
# shipped roamfs-home-check (pam_exec) refuses those sessions, says why,
# and nothing is left mounted or written in the home.  Every system file
# the test changes is restored.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
for t in pamtester pmvarrun; do
	command -v "$t" >/dev/null || bail_out "$t is missing: run scripts/deps.sh (pamtester, libpam-mount-bin)"
done
PAM_MOUNT_SO=$(find /lib /usr/lib -name pam_mount.so -path '*security*' 2>/dev/null | head -n 1)
[ -n "$PAM_MOUNT_SO" ] || bail_out "pam_mount.so is missing: run scripts/deps.sh (libpam-mount)"
CHECK="$top_builddir/contrib/pam/roamfs-home-check"
[ -x "$CHECK" ] || bail_out "$CHECK is missing: run make"
fuse_mode=$(stat -c %a /dev/fuse)
chmod 666 /dev/fuse
at_exit "chmod $fuse_mode /dev/fuse"

U=roampam$$
PW="S3cret-$$ typed at login"
HOME_U=$TEST_DIR/home/$U
useradd -M -d "$HOME_U" -s /bin/sh "$U" || bail_out "cannot create user $U"
at_exit "userdel '$U' 2>/dev/null; rm -f '/run/pam_mount/$U'"
echo "$U:$PW" | chpasswd || bail_out "cannot set a password"
# A case that fails leaves no home mounted and no process of the user.
at_exit "umount -l '$HOME_U' 2>/dev/null; pkill -KILL -u '$U' 2>/dev/null; sleep 0.2"
mkdir -p "$HOME_U" && chown "$U" "$HOME_U" && chmod 700 "$HOME_U"
# Workstation and server are one machine here: the server runs in a mount
# namespace of its own, where the home is not mounted, so that its session
# processes (which start in the user's home) neither go through roamfs nor
# keep its mount busy at logout.
server_ns() {
	unshare --mount --propagation private sh -c 'umount -l "$0" 2>/dev/null; exec "$@"' "$HOME_U" "$@"
}
SSHD_PREFIX=server_ns
start_sshd "Match User $U" "    PasswordAuthentication yes" "    AuthenticationMethods password" \
	|| bail_out "cannot start sshd"
SH=$SERVER/homes/$U
mkdir -p "$SH" && chown "$U" "$SH" && chmod 700 "$SH"
echo "on the server" >"$SH/hello.txt" && chown "$U" "$SH/hello.txt"
cp "$KNOWN_HOSTS" "$TEST_DIR/known_hosts" && chmod 644 "$TEST_DIR/known_hosts"
user_binaries || bail_out "cannot copy roamfs for the user"
# The cache root this build of roamfs uses (configure's localstatedir:
# /var, or the staging prefix under make distcheck; user_site moves it
# where users may enter), as make install and tmpfiles.d make it; the
# directories the test makes go at exit.  The volume and the check get
# the site configuration user_site gives users, if any.
CACHE_ROOT=$USER_CACHE_ROOT
SITE_OPT=${USER_CONFIG:+,config=$USER_CONFIG}
CHECK_ARGS=${USER_CONFIG:+ --config=$USER_CONFIG}
made_root=$CACHE_ROOT
while [ ! -d "$(dirname "$made_root")" ]; do made_root=$(dirname "$made_root"); done
[ ! -d "$made_root" ] || made_root=
mkdir -p "$CACHE_ROOT" && chmod 755 "$CACHE_ROOT" || bail_out "cannot make $CACHE_ROOT"
at_exit "rm -rf '$CACHE_ROOT/$U' '$CACHE_ROOT/.usage.$U' '$CACHE_ROOT/.aside/$U.'*; [ -z '$made_root' ] || rm -rf '$made_root'"
setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups test -x "$CACHE_ROOT" ||
	bail_out "the user cannot reach the cache root $CACHE_ROOT: build in a directory others may enter"
# What the session writes for the test to read: the user may write there.
O=$TEST_DIR/out
mkdir -p "$O" && chmod 777 "$O"
CHECK_U=$TEST_DIR/bin/roamfs-home-check
cp "$CHECK" "$CHECK_U" && chmod 755 "$CHECK_U"

# System files: pam_mount's configuration (its path is fixed) and a PAM
# service of the test's own; both restored at exit.
PMC=/etc/security/pam_mount.conf.xml
if [ -e "$PMC" ]; then
	cp -p "$PMC" "$TEST_DIR/pam_mount.conf.xml.orig" || bail_out "cannot save $PMC"
	at_exit "cp -p '$TEST_DIR/pam_mount.conf.xml.orig' '$PMC'"
else
	at_exit "rm -f '$PMC'"
fi
SERVICE=roamfs-test-$$
at_exit "rm -f /etc/pam.d/$SERVICE"

# pam_mount_conf PORT: the shipped example with the server, its port and
# known hosts of the test, and roamfs at its path here.
pam_mount_conf() {
	sed -e "s|roamfs#%(USER)@server:|$TEST_DIR/bin/roamfs#%(USER)@127.0.0.1:$SERVER/homes/%(USER)|" \
	    -e "s|options=\"password_stdin,nodev,nosuid\"|options=\"password_stdin,nodev,nosuid,port=$1,UserKnownHostsFile=$TEST_DIR/known_hosts$SITE_OPT\"|" \
	    "$top_srcdir/contrib/pam_mount/pam_mount.conf.xml" >"$PMC"
}
pam_mount_conf "$SSHD_PORT" || bail_out "cannot write $PMC"
grep -q "port=$SSHD_PORT" "$PMC" || bail_out "the shipped pam_mount example no longer has the expected volume line"

# The session's work, run by pam_exec once the home is mounted, as the
# user: what $TEST_DIR/session-cmd says.
cat >"$TEST_DIR/session.sh" <<EOF
#!/bin/sh
[ "\$PAM_TYPE" = open_session ] || exit 0
exec setpriv --reuid="\$(id -u "\$PAM_USER")" --regid="\$(id -g "\$PAM_USER")" --init-groups \
    env HOME="$HOME_U" sh "$TEST_DIR/session-cmd" >>"$O/session.out" 2>&1
EOF
chmod 755 "$TEST_DIR/session.sh"
# A login service as a display manager would have it: the login password
# is the user's own (pam_permit stands for the school's directory), and
# pam_mount gives it to roamfs; the check right after pam_mount.
PREPARE="$USER_ROAMCTL${USER_CONFIG:+ --config=$USER_CONFIG} prepare"
cat >"/etc/pam.d/$SERVICE" <<EOF
auth     required  pam_permit.so
auth     optional  pam_mount.so
account  required  pam_permit.so
session  optional  pam_exec.so  log=$TEST_DIR/prepare.log  $PREPARE
session  optional  pam_mount.so
session  requisite pam_exec.so  stdout  $CHECK_U$CHECK_ARGS
session  optional  pam_exec.so  $TEST_DIR/session.sh
EOF
# The same with the check's --notice: a failed mount opens the session on
# a read-only notice instead.
sed "s|stdout  $CHECK_U|stdout  $CHECK_U --notice|" "/etc/pam.d/$SERVICE" >"/etc/pam.d/$SERVICE-notice"
at_exit "rm -f /etc/pam.d/$SERVICE-notice"
grep -q -- "--notice" "/etc/pam.d/$SERVICE-notice" || bail_out "cannot write the --notice service"

# login PASSWORD: a whole session (authenticate, open, work, close) with
# pamtester, through $LOGIN_SERVICE (default $SERVICE); its output in
# $TEST_DIR/login.out, its status returned.
login() {
	printf '%s\n' "$1" | pamtester "${LOGIN_SERVICE:-$SERVICE}" "$U" authenticate open_session close_session \
	    >"$TEST_DIR/login.out" 2>&1
}

# logged_out: the home is unmounted and the user's roamfs has ended (sent
# everything and exited), so that the next login can mount again.
logged_out() {
	wait_server eval "! grep -q \" $HOME_U \" /proc/mounts" &&
	wait_server eval "! pgrep -u \"$U\" -x roamfs >/dev/null" ||
	{ echo "after the logout:"; grep " $HOME_U " /proc/mounts; pgrep -a -u "$U"; false; }
}

test_expect_success 'a session: the home is mounted as the user, files reach the server' '
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	set -e
	grep -q " $HOME_U fuse.roamfs " /proc/mounts
	test "\$(stat -c %U "$HOME_U/hello.txt")" = "$U"
	cat "$HOME_U/hello.txt" >"$O/read.out"
	echo "saved in the first session" >"$HOME_U/work.txt"
	mkdir "$HOME_U/Documents"
	echo "last change, right before logout" >"$HOME_U/Documents/last.txt"
	echo done >"$O/session.ok"
	EOF
	login "$PW" || { cat "$TEST_DIR/login.out" "$O/session.out"; false; }
	test -f "$O/session.ok" && bytes_are "$O/read.out" "on the server" ||
	{ cat "$TEST_DIR/login.out" "$O/session.out"; false; }
'

test_expect_success 'closing the session unmounted the home and sent the last changes' '
	logged_out &&
	wait_server bytes_are "$SH/work.txt" "saved in the first session" &&
	wait_server bytes_are "$SH/Documents/last.txt" "last change, right before logout" &&
	test "$(stat -c %U "$SH/work.txt")" = "$U" &&
	test -z "$(ls -A "$HOME_U")" &&
	test "$(stat -c %U:%a "$CACHE_ROOT/$U")" = "$U:700"
'

test_expect_success 'a second session finds them' '
	rm -f "$O/session.ok" &&
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	set -e
	cat "$HOME_U/work.txt" "$HOME_U/Documents/last.txt" >"$O/read.out"
	echo done >"$O/session.ok"
	EOF
	login "$PW" && test -f "$O/session.ok" &&
	test "$(cat "$O/read.out")" = "saved in the first session
last change, right before logout" &&
	logged_out ||
	{ cat "$TEST_DIR/login.out" "$O/session.out"; false; }
'

# A pupil who made a folder in the user's place under a cache root that
# an older roamfs left open to all (1777), to lock the user out: roamctl
# prepare closes the root, moves the folder aside and says so, and the
# login works with a new cache.
P=roamsq$$
useradd -M -d /nonexistent -s /bin/sh "$P" || bail_out "cannot create user $P"
at_exit "userdel '$P' 2>/dev/null"
test_expect_success 'a pupil squats the cache in an old 1777 root: the user still logs in, the squat is moved aside' '
	rm -rf "$CACHE_ROOT/$U" "$O/session.ok" && : >"$TEST_DIR/prepare.log" &&
	chmod 1777 "$CACHE_ROOT" &&
	setpriv --reuid="$P" --regid="$(id -g "$P")" --init-groups mkdir -m 755 "$CACHE_ROOT/$U" &&
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	cat "$HOME_U/work.txt" >"$O/read.out" && echo done >"$O/session.ok"
	EOF
	login "$PW" && test -f "$O/session.ok" && bytes_are "$O/read.out" "saved in the first session" &&
	logged_out &&
	test "$(stat -c %U:%a "$CACHE_ROOT")" = root:755 &&
	test "$(stat -c %U:%a "$CACHE_ROOT/$U")" = "$U:700" &&
	ls -d "$CACHE_ROOT/.aside/$U".* >/dev/null &&
	test "$(stat -c %U "$CACHE_ROOT/.aside/$U".*)" = "$P" &&
	grep -q "was writable by others (mode 1777): it is 0755 now" "$TEST_DIR/prepare.log" &&
	grep -q "$CACHE_ROOT/$U was not a cache of $U (a folder of uid $(id -u "$P") ($P)): moved aside" \
	    "$TEST_DIR/prepare.log" &&
	! setpriv --reuid="$P" --regid="$(id -g "$P")" --init-groups mkdir "$CACHE_ROOT/another" 2>/dev/null ||
	{ cat "$TEST_DIR/login.out" "$O/session.out" "$TEST_DIR/prepare.log"; ls -la "$CACHE_ROOT"; false; }
'

# no_session_count: pam_mount counts no open session of the user (a
# refused session, never closed, must not leave its count: the next
# logout would then leave the home mounted).
no_session_count() {
	[ ! -s "/run/pam_mount/$U" ] || [ "$(cat "/run/pam_mount/$U")" = 0 ] ||
	{ echo "pam_mount still counts $(cat "/run/pam_mount/$U") session(s)"; false; }
}

# refused: the last login was refused, said why to the user, ran no
# session, and left the home unmounted and empty.
refused() {
	! grep -q "successfully opened a session" "$TEST_DIR/login.out" &&
	grep -q "could not be opened from the school server" "$TEST_DIR/login.out" &&
	test ! -f "$O/session.ok" &&
	! grep -q " $HOME_U " /proc/mounts &&
	no_session_count &&
	test -z "$(ls -A "$HOME_U")" ||
	{ cat "$TEST_DIR/login.out"; ls -lA "$HOME_U" "$O"; grep " $HOME_U " /proc/mounts; false; }
}

test_expect_success 'a wrong server password: the session is refused with a message' '
	rm -f "$O/session.ok" &&
	echo "echo done >$O/session.ok" >"$TEST_DIR/session-cmd" &&
	! login "not the password" && refused &&
	grep -qi "password\|authenticat" "$TEST_DIR/login.out"
'

test_expect_success 'an unreachable server with an empty cache: the session is refused' '
	rm -rf "$CACHE_ROOT/$U" "$O/session.ok" &&
	pam_mount_conf "$(free_port)" &&
	! login "$PW"; st=$?
	pam_mount_conf "$SSHD_PORT" && test $st -eq 0 && refused
'

test_expect_success 'after the refusals, a good login works, finds the files, and its logout unmounts' '
	rm -f "$O/session.ok" &&
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	cat "$HOME_U/work.txt" >"$O/read.out" && echo done >"$O/session.ok"
	EOF
	login "$PW" && test -f "$O/session.ok" &&
	bytes_are "$O/read.out" "saved in the first session" &&
	logged_out ||
	{ cat "$TEST_DIR/login.out" "$O/session.out"; false; }
'

# A program of the user that outlives the session (a user service, dbus,
# gvfs) holding a file open for writing at logout, with data it wrote
# still in the kernel's page cache: the home must still be unmounted,
# that data sent, roamfs must end, and the next login must mount afresh.
# holder.sh FILE PIDFILE: such a program.
cat >"$TEST_DIR/holder.sh" <<'EOF'
exec 3>>"$1"
echo "appended by a program that stays" >&3
echo $$ >"$2"
exec sleep 120
EOF
chmod 755 "$TEST_DIR/holder.sh"
test_expect_success 'a program still holding a file open at logout: home unmounted, its data sent, roamfs ends' '
	rm -f "$O/session.ok" "$O/holder.pid" &&
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	set -e
	echo "written by the session" >"$HOME_U/held.txt"
	cd /
	setsid sh "$TEST_DIR/holder.sh" "$HOME_U/held.txt" "$O/holder.pid" </dev/null >/dev/null 2>&1 &
	while [ ! -s "$O/holder.pid" ]; do sleep 0.1; done
	echo done >"$O/session.ok"
	EOF
	login "$PW" && test -f "$O/session.ok" && holder=$(cat "$O/holder.pid") &&
	at_exit "kill $holder 2>/dev/null" &&
	kill -0 "$holder" && logged_out &&
	bytes_are "$SH/held.txt" "written by the session
appended by a program that stays" &&
	grep -q "unmounted while programs still held files open" "$CACHE_ROOT/$U/roamfs.log" &&
	kill -0 "$holder" ||
	{ cat "$TEST_DIR/login.out" "$O/session.out"; grep " $HOME_U " /proc/mounts; pgrep -a -u "$U";
	  cat "$SH/held.txt"; tail -n 20 "$CACHE_ROOT/$U/roamfs.log"; false; }
'

test_expect_success 'with that program still running, the next login finds the file' '
	rm -f "$O/session.ok" &&
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	cat "$HOME_U/held.txt" >"$O/read.out" && echo done >"$O/session.ok"
	EOF
	holder=$(cat "$O/holder.pid") && kill -0 "$holder" &&
	login "$PW" && test -f "$O/session.ok" &&
	bytes_are "$O/read.out" "written by the session
appended by a program that stays" &&
	logged_out && kill "$holder" && wait_server eval "! kill -0 $holder" ||
	{ cat "$TEST_DIR/login.out" "$O/session.out"; false; }
'

test_expect_success 'with --notice: a failed mount opens the session on a read-only notice, gone at logout' '
	rm -f "$O/session.ok" "$O/notice.write" &&
	cat >"$TEST_DIR/session-cmd" <<-EOF &&
	cat "$HOME_U/YOUR FILES ARE NOT HERE.txt" >"$O/notice.out"
	if echo "lost" >"$HOME_U/saved.txt"; then echo wrote >"$O/notice.write"; fi
	echo done >"$O/session.ok"
	EOF
	LOGIN_SERVICE=$SERVICE-notice login "not the password" && test -f "$O/session.ok" &&
	grep -q "could not be opened from the school server" "$O/notice.out" &&
	grep -q "(for the administrator: " "$O/notice.out" &&
	grep -q "logged in without them" "$TEST_DIR/login.out" &&
	test ! -e "$O/notice.write" && grep -qi "read-only" "$O/session.out" &&
	! grep -q " $HOME_U " /proc/mounts && test -z "$(ls -A "$HOME_U")" && no_session_count ||
	{ cat "$TEST_DIR/login.out" "$O/session.out" "$O/notice.out"; grep " $HOME_U " /proc/mounts; false; }
'

test_done
