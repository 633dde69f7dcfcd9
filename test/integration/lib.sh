# lib.sh: shared helpers for the integration tests, sourced by each tNNNN-*.sh.
#
# Each test script prints TAP.  test_expect_success runs one titled,
# &&-chained block in a subshell-free eval; test_done prints the plan.
# start_sshd starts a private OpenSSH server on 127.0.0.1 with throwaway
# host and user keys; everything lives under $TEST_DIR and is removed at exit.

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

test_count=0
test_failures=0
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/roamtest.XXXXXX")
chmod 755 "$TEST_DIR"
export TEST_DIR
ROAMFS="$top_builddir/roamfs"
ROAMCTL="$top_builddir/roamctl"
ACLWATCH="$top_builddir/aclwatch"
export ROAMFS ROAMCTL ACLWATCH
_cleanup_cmds=""

# Run a command at exit (last registered runs first).
at_exit() {
	_cleanup_cmds="$1; $_cleanup_cmds"
}

_lib_cleanup() {
	set +e
	eval "$_cleanup_cmds"
	_user_reports_home
	if [ -z "${KEEP_TEST_DIR:-}" ]; then
		# Never recurse into a mount that is still up.
		if ! grep -q " $TEST_DIR" /proc/mounts; then
			rm -rf "$TEST_DIR"
		fi
	fi
}
trap _lib_cleanup EXIT
trap 'exit 130' INT TERM

# Sanitizer reports of processes run as another user.  scripts/test.sh
# sends reports to files in the build directory (log_path=DIR/asan), which
# another user cannot reach when the checkout is private (root's home is
# 0700).  Such processes get USER_ASAN_OPTIONS and USER_UBSAN_OPTIONS
# instead (run_as passes them), whose log_path is in a directory of
# TEST_DIR that anyone may write; at exit the reports found there go to
# the real directory, where they fail the run as any other.
_user_san() {
	_v=$1
	_p=$(printf '%s\n' "$_v" | sed -n 's/^\(.*[:, ]\)\{0,1\}log_path=\([^:, ]*\).*/\2/p')
	if [ -z "$_p" ]; then
		printf '%s\n' "$_v"
		return
	fi
	printf '%s %s\n' "$(basename "$_p")" "$(dirname "$_p")" >>"$TEST_DIR/sanitizer-dirs"
	printf '%s\n' "$_v" | sed "s|log_path=[^:, ]*|log_path=$TEST_DIR/sanitizer/$(basename "$_p")|"
}
mkdir -p "$TEST_DIR/sanitizer"
chmod 1777 "$TEST_DIR/sanitizer"
[ -z "${ASAN_OPTIONS+set}" ] || USER_ASAN_OPTIONS=$(_user_san "$ASAN_OPTIONS")
[ -z "${UBSAN_OPTIONS+set}" ] || USER_UBSAN_OPTIONS=$(_user_san "$UBSAN_OPTIONS")
export USER_ASAN_OPTIONS USER_UBSAN_OPTIONS

# Move the reports of user processes (PREFIX.PID) to the directory of
# their log_path, once the copies in TEST_DIR/bin have exited.
_user_reports_home() {
	[ -s "$TEST_DIR/sanitizer-dirs" ] || return 0
	for _p in /proc/[0-9]*; do
		case $(readlink "$_p/exe" 2>/dev/null) in
		"$TEST_DIR"/bin/*) wait_gone "${_p#/proc/}" 60 ;;
		esac
	done
	for _f in "$TEST_DIR"/sanitizer/*; do
		[ -e "$_f" ] || continue
		_n=$(basename "$_f")
		_d=$(awk -v p="${_n%%.*}" '$1 == p { print $2; exit }' "$TEST_DIR/sanitizer-dirs")
		[ -n "$_d" ] || _d=$(awk '{ print $2; exit }' "$TEST_DIR/sanitizer-dirs")
		mkdir -p "$_d" && mv "$_f" "$_d/user.$_n" ||
			{ echo "# sanitizer report $_f could not be moved to $_d:"; cat "$_f"; }
	done
}

# user_binaries: copy roamfs (and roamctl, once it exists) where any user
# may run them: the build directory may be closed to others.  Sets
# USER_ROAMFS (and USER_ROAMCTL) to the copies, and USER_CONFIG and
# USER_CACHE_ROOT (user_site).
user_binaries() {
	mkdir -p "$TEST_DIR/bin" &&
	chmod 755 "$TEST_DIR/bin" &&
	cp "$ROAMFS" "$TEST_DIR/bin/roamfs" &&
	chmod 755 "$TEST_DIR/bin/roamfs" || return 1
	USER_ROAMFS=$TEST_DIR/bin/roamfs
	export USER_ROAMFS
	if [ -f "$ROAMCTL" ]; then
		cp "$ROAMCTL" "$TEST_DIR/bin/roamctl" && chmod 755 "$TEST_DIR/bin/roamctl" || return 1
		USER_ROAMCTL=$TEST_DIR/bin/roamctl
		export USER_ROAMCTL
	fi
	user_site
}

# user_site: the site configuration and cache root for processes run as
# another user.  Installed, roamfs keeps them under /etc and /var, which
# every user may enter; under make distcheck they lie in the staging
# prefix inside the build tree, which users cannot enter when the checkout
# is private (root's home is 0700), and roamfs rightly refuses a site
# configuration it cannot read.  There, users get a copy of the site
# configuration in TEST_DIR naming a cache root there.  Sets USER_CONFIG
# (empty when the default serves; else give it to user processes:
# roamfs -o config=, roamctl --config=) and USER_CACHE_ROOT (which may not
# exist yet: make it 0755 as make install does, and the users' caches in
# it with roamctl prepare).
user_site() {
	_us_help=$("$ROAMFS" --help 2>&1)
	_us_conf=$(printf '%s\n' "$_us_help" | sed -n 's|.*site configuration (default \(/.*\));$|\1|p')
	USER_CACHE_ROOT=$(printf '%s\n' "$_us_help" | sed -n 's|.*config.s cache_root, else \(/.*\))$|\1|p')
	USER_CONFIG=
	export USER_CONFIG USER_CACHE_ROOT
	[ -n "$_us_conf" ] && [ -n "$USER_CACHE_ROOT" ] ||
	    { echo "roamfs --help no longer names its site configuration and cache root"; return 1; }
	others_reach "$(dirname "$_us_conf")" && others_reach "$USER_CACHE_ROOT" && return 0
	USER_CONFIG=$TEST_DIR/site/roamfs.conf
	mkdir -p "$TEST_DIR/site" && chmod 755 "$TEST_DIR/site" || return 1
	if [ -e "$_us_conf" ]; then
		grep -v '^[[:space:]]*cache_root[[:space:]]*=' "$_us_conf" >"$USER_CONFIG" || [ $? -eq 1 ] || return 1
	else
		: >"$USER_CONFIG" || return 1
	fi
	others_reach "$USER_CACHE_ROOT" || USER_CACHE_ROOT=$TEST_DIR/cache-root
	echo "cache_root = $USER_CACHE_ROOT" >>"$USER_CONFIG" && chmod 644 "$USER_CONFIG" &&
	say "users cannot enter $(dirname "$_us_conf") (a private build tree, as under make distcheck):" \
	    "their roamfs and roamctl get the site configuration $USER_CONFIG"
}

# others_reach PATH: a user without privileges may enter PATH, or would
# once it is made (its nearest existing directory); PATH need not exist.
others_reach() {
	_or=$1
	while [ ! -d "$_or" ]; do _or=$(dirname "$_or"); done
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$_or"
}

# run_as USER CMD...: run a command as USER with the user's groups,
# HOME=/nonexistent and the sanitizer options for user processes.
run_as() {
	_u=$1
	shift
	setpriv --reuid="$(id -u "$_u")" --regid="$(id -g "$_u")" --init-groups env HOME=/nonexistent \
	    ${USER_ASAN_OPTIONS+"ASAN_OPTIONS=$USER_ASAN_OPTIONS"} \
	    ${USER_UBSAN_OPTIONS+"UBSAN_OPTIONS=$USER_UBSAN_OPTIONS"} "$@"
}

say() {
	printf '# %s\n' "$*"
}

# Run a case's commands in this shell, so that "return 1" ends the case
# and at_exit registrations and variables persist.
_run_case() {
	eval "$1"
}

# test_expect_success TITLE COMMANDS: one test case.
test_expect_success() {
	test_count=$((test_count + 1))
	if _run_case "$2" >"$TEST_DIR/case.out" 2>&1 </dev/null; then
		printf 'ok %d - %s\n' "$test_count" "$1"
	else
		test_failures=$((test_failures + 1))
		printf 'not ok %d - %s\n' "$test_count" "$1"
		sed 's/^/#   /' "$TEST_DIR/case.out" | tail -n 40
	fi
}

# test_expect_failure is not offered: a test either passes or fails.

# test_done: print the plan and exit with the right status.
test_done() {
	printf '1..%d\n' "$test_count"
	[ "$test_failures" -eq 0 ]
	exit $?
}

# bail_out REASON: a needed facility is missing; that is a failure, not a skip.
bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 1
}

require_root() {
	[ "$(id -u)" -eq 0 ] || bail_out "this test must run as root (it starts sshd and creates users)"
}

require_fuse() {
	[ -c /dev/fuse ] || bail_out "/dev/fuse is missing: load the fuse module"
	command -v fusermount3 >/dev/null || bail_out "fusermount3 is missing: apt-get install fuse3"
}

# free_port: print a TCP port on 127.0.0.1 that nobody listens on.
free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# wait_for CMD...: retry a command for up to 10 seconds (WAIT_TRIES tenths).
wait_for() {
	_i=0
	while ! "$@" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt "${WAIT_TRIES:-100}" ] || return 1
		sleep 0.1
	done
}

# start_sshd [extra sshd_config lines...]: private sshd on 127.0.0.1.
# Sets SSHD_PORT, SSH_KEY (user private key), KNOWN_HOSTS, SERVER (a
# directory owned by root for server-side files) and SSHD_LOG.
start_sshd() {
	SSHD_DIR="$TEST_DIR/sshd"
	mkdir -p "$SSHD_DIR" /run/sshd
	chmod 700 "$SSHD_DIR"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/user_key" || return 1
	cp "$SSHD_DIR/user_key.pub" "$SSHD_DIR/authorized_keys"
	SSHD_PORT=$(free_port)
	SSH_KEY="$SSHD_DIR/user_key"
	KNOWN_HOSTS="$SSHD_DIR/known_hosts"
	SSHD_LOG="$SSHD_DIR/sshd.log"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$SSHD_DIR/host_key.pub")" >"$KNOWN_HOSTS"
	{
		echo "Port $SSHD_PORT"
		echo "ListenAddress 127.0.0.1"
		echo "HostKey $SSHD_DIR/host_key"
		echo "AuthorizedKeysFile $SSHD_DIR/authorized_keys .ssh/authorized_keys"
		echo "PidFile $SSHD_DIR/sshd.pid"
		echo "StrictModes no"
		echo "UsePAM no"
		echo "PermitRootLogin yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "Subsystem sftp ${SSHD_SFTP:-internal-sftp}"
		echo "LogLevel ${SSHD_LOGLEVEL:-INFO}"
		for l in "$@"; do echo "$l"; done
	} >"$SSHD_DIR/sshd_config"
	# -r: no re-exec; re-exec fails in some sandboxes and changes nothing here.
	# SSHD_PREFIX (say unshare -m) runs it in another setting.
	${SSHD_PREFIX:-} /usr/sbin/sshd -r -f "$SSHD_DIR/sshd_config" -E "$SSHD_LOG" || return 1
	wait_for test -s "$SSHD_DIR/sshd.pid" || return 1
	at_exit "kill \$(cat '$SSHD_DIR/sshd.pid' 2>/dev/null) 2>/dev/null"
	SERVER="$TEST_DIR/server"
	mkdir -p "$SERVER"
	export SSHD_PORT SSH_KEY KNOWN_HOSTS SERVER SSHD_LOG
}

# restart_sshd: start the private sshd again after a test stopped it, and
# wait until it takes logins.
restart_sshd() {
	${SSHD_PREFIX:-} /usr/sbin/sshd -r -f "$SSHD_DIR/sshd_config" -E "$SSHD_LOG" &&
	wait_for ssh_server true
}

# log_sftp_requests [LEVEL]: make the next start_sshd log every SFTP request
# the server receives to $SFTP_LOG (OpenSSH's sftp-server at level INFO;
# VERBOSE also logs realpath and stat).
log_sftp_requests() {
	SFTP_LOG=$TEST_DIR/sftp.log
	: >"$SFTP_LOG"
	cat >"$TEST_DIR/sftp-logged" <<EOS
#!/bin/sh
exec /usr/lib/openssh/sftp-server -e -l ${1:-INFO} 2>>"$SFTP_LOG"
EOS
	chmod 755 "$TEST_DIR/sftp-logged"
	SSHD_SFTP=$TEST_DIR/sftp-logged
	export SFTP_LOG
}

# server_sessions: the session processes of the private sshd, its children
# and theirs (internal-sftp serves in the latter), one pid a line.
server_sessions() {
	for _p in $(pgrep -P "$(cat "$SSHD_DIR/sshd.pid")"); do
		echo "$_p"
		pgrep -P "$_p"
	done
	return 0
}

# stop_sshd: stop the private sshd and its sessions (a roamfs then works
# offline); restart_sshd starts it again.
stop_sshd() {
	_m=$(cat "$SSHD_DIR/sshd.pid")
	kill $(server_sessions) "$_m" 2>/dev/null
	wait_gone "$_m" 10
}

# server_blocked_in_open: some session process of the private sshd sits in
# openat(2) (sftp-server opening a FIFO, which waits for a peer that never
# comes): a server state a test can wait for instead of a timer.
server_blocked_in_open() {
	for q in $(server_sessions); do
		grep -q "^257 " /proc/$q/syscall 2>/dev/null && return 0
	done
	return 1
}

# kill_session_when_blocked PID: once the server sits in open(2), kill its
# session processes (also the one blocked in open, which would otherwise
# outlive the test) and set rc to the exit status of the client PID; if the
# server never gets there, kill the client and leave rc=none.
kill_session_when_blocked() {
	rc=none
	if wait_for server_blocked_in_open; then
		_s=$(pgrep -P "$(cat "$SSHD_DIR/sshd.pid")")
		_c=$(for _p in $_s; do pgrep -P "$_p"; done)
		kill $_s
		[ -z "$_c" ] || kill -9 $_c	# it may restart open(2) after a SIGTERM
		wait "$1"; rc=$?
	else
		kill "$1"
	fi
}

# ssh_server CMD: run a shell command on the private server as root.
ssh_server() {
	ssh -q -p "$SSHD_PORT" -i "$SSH_KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" \
	    -o BatchMode=yes root@127.0.0.1 "$@"
}

# unmount_quiet DIR: unmount if mounted, lazily as a last resort.
unmount_quiet() {
	if grep -q " $1 " /proc/mounts; then
		fusermount3 -u "$1" 2>/dev/null || fusermount3 -uz "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
	fi
	return 0
}

# roamfs_pid CACHE: pid of the roamfs holding a cache (from its lock file).
roamfs_pid() {
	head -n 1 "$1/lock" 2>/dev/null
}

# mount_roamfs MOUNTPOINT [OPTIONS]: mount $SERVER_HOME from the private
# sshd as root with the test key; the cache is $ROAM_CACHE.
mount_roamfs() {
	_mp=$1
	mkdir -p "$_mp"
	: "${ROAM_CACHE:=$TEST_DIR/cache}"
	: "${SERVER_HOME:=$SERVER/home}"
	mkdir -p "$SERVER_HOME"
	set -- -o "port=$SSHD_PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$ROAM_CACHE${2:+,$2}" \
	    "root@127.0.0.1:$SERVER_HOME" "$_mp"
	if [ -n "${ROAMFS_DEBUG_LOG:-}" ]; then
		# For debugging a test: foreground with debug messages, in the background.
		"$ROAMFS" ${ROAMFS_DEBUG_FLAGS:--d} "$@" >>"$ROAMFS_DEBUG_LOG" 2>&1 &
		wait_for grep -q " $_mp fuse.roamfs " /proc/mounts || return 1
	else
		"$ROAMFS" "$@" || return	# with roamfs's status
	fi
	at_exit "unmount_quiet '$_mp'"
}

# wait_gone PID [SECONDS]: wait for a process to exit (default 60 s).
# A zombie counts as gone: it has exited, only its reaping is pending.
running() {
	kill -0 "$1" 2>/dev/null && ! grep -q "^State:.*Z" "/proc/$1/status" 2>/dev/null
}

wait_gone() {
	_n=0
	while running "$1"; do
		_n=$((_n + 1))
		[ $_n -lt $(( ${2:-60} * 10 )) ] || return 1
		sleep 0.1
	done
}

# unmount_roamfs MOUNTPOINT: unmount as pam_mount does and wait until
# roamfs has sent the journal and exited.
unmount_roamfs() {
	_pid=$(roamfs_pid "$ROAM_CACHE")
	fusermount3 -u "$1" || return 1
	[ -z "$_pid" ] || wait_gone "$_pid" 120
}

# wait_server CMD...: retry a check of the server side for up to
# $WAIT_SERVER_SECONDS (20) seconds.  Checks that compare a value use the
# predicates below, which read the value afresh on every try.
wait_server() {
	_i=0
	while ! "$@" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt $(( ${WAIT_SERVER_SECONDS:-20} * 10 )) ] || return 1
		sleep 0.1
	done
}

# content_is FILE TEXT: the file holds exactly TEXT (no trailing newline kept).
content_is() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

# stat_is FILE FORMAT VALUE: stat -c FORMAT of the file (not followed) is VALUE.
stat_is() {
	[ "$(stat -c "$2" "$1" 2>/dev/null)" = "$3" ]
}

# link_is LINK TARGET: a symbolic link pointing to TARGET.
link_is() {
	[ "$(readlink "$1" 2>/dev/null)" = "$2" ]
}

# through_linksim MS SECONDS: put test/bench/linksim (MS ms each way,
# 100 Mbit/s, for SECONDS at most) between roamfs and the private sshd:
# SSHD_PORT and KNOWN_HOSTS name it from now on, for the workstations too.
through_linksim() {
	_tl=$top_builddir/test/bench/linksim
	[ -x "$_tl" ] || bail_out "$_tl is missing: run make check"
	"$_tl" -l 0 -t "127.0.0.1:$SSHD_PORT" -r "$1" -b 100 -T "$2" >"$TEST_DIR/linksim.port" \
	    2>"$TEST_DIR/linksim.log" &
	at_exit "kill $! 2>/dev/null"
	wait_for test -s "$TEST_DIR/linksim.port" ||
	    bail_out "linksim did not start: $(cat "$TEST_DIR/linksim.log")"
	SSHD_PORT=$(cat "$TEST_DIR/linksim.port")
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$SSHD_DIR/host_key.pub")" >>"$KNOWN_HOSTS"
}

# Workstations: several roamfs mounts of one server home, as when a pupil
# moves from one PC to another.  Each workstation NAME has its own cache
# ($TEST_DIR/NAME.cache), mount point ($TEST_DIR/NAME) and TCP proxy to the
# private sshd (test/tools/proxy-tool, files in $TEST_DIR/NAME.proxy), so
# that ws_offline can cut that workstation's link alone while the server
# and the other workstations stay up.  A workstation keeps its proxy, hence
# its port and its cache, across ws_unmount and ws_mount.  The mounts use
# roamfs's default options (dir_ttl and the others), since what a user
# sees on the second workstation is what the tests check; WS_OPTIONS
# (say WS_OPTIONS=dir_ttl=1) adds options to every workstation's mount.
PROXY_TOOL="$top_builddir/test/tools/proxy-tool"

# require_workstations: the proxy the workstations go through is built.
require_workstations() {
	[ -x "$PROXY_TOOL" ] ||
	    bail_out "$PROXY_TOOL is missing: run make check, or make test/tools/proxy-tool"
}

# ws_dir NAME: the workstation's mount point.
ws_dir() {
	printf '%s\n' "$TEST_DIR/$1"
}

# ws_cache NAME: the workstation's cache directory (its log is roamfs.log there).
ws_cache() {
	printf '%s\n' "$TEST_DIR/$1.cache"
}

# ws_pid NAME: the pid of the workstation's roamfs (empty when none runs).
ws_pid() {
	roamfs_pid "$TEST_DIR/$1.cache"
}

# ws_label NAME: the workstation's name as roamfs writes it into conflict
# names: NAME, which ws_mount gives it with -o workstation=NAME.
ws_label() {
	printf '%s\n' "$1"
}

# _ws_proxy NAME: start the workstation's proxy to the private sshd unless
# it runs, and write a known_hosts file for the proxy's port.
_ws_proxy() {
	_ws_p=$TEST_DIR/$1.proxy
	if [ -s "$_ws_p/pid" ] && running "$(cat "$_ws_p/pid")"; then
		return 0
	fi
	[ -x "$PROXY_TOOL" ] || { echo "$PROXY_TOOL is missing: run make check"; return 1; }
	mkdir -p "$_ws_p" && : >"$_ws_p/port" || return 1
	"$PROXY_TOOL" -t "$SSHD_PORT" -s "$_ws_p/state" -T "${WS_PROXY_SECONDS:-1800}" \
	    >"$_ws_p/port" 2>"$_ws_p/log" </dev/null &
	echo $! >"$_ws_p/pid"
	at_exit "kill $! 2>/dev/null"
	wait_for test -s "$_ws_p/port" ||
	    { echo "the proxy of workstation $1 did not start: $(cat "$_ws_p/log")"; return 1; }
	echo "[127.0.0.1]:$(cat "$_ws_p/port") $(cut -d' ' -f1-2 "$SSHD_DIR/host_key.pub")" \
	    >"$_ws_p/known_hosts"
}

# ws_mount NAME [OPTIONS]: mount $SERVER_HOME (default $SERVER/home) on
# workstation NAME, through its proxy, with mount_roamfs; OPTIONS as there.
ws_mount() {
	_ws_p=$TEST_DIR/$1.proxy
	_ws_o=${WS_OPTIONS:-}
	_ws_o="workstation=$1${_ws_o:+,$_ws_o}"
	[ -z "${2:-}" ] || _ws_o="${_ws_o:+$_ws_o,}$2"
	_ws_proxy "$1" &&
	ROAM_CACHE=$TEST_DIR/$1.cache SSHD_PORT=$(cat "$_ws_p/port") \
	    KNOWN_HOSTS=$_ws_p/known_hosts mount_roamfs "$TEST_DIR/$1" "$_ws_o" || return
	# Registered after mount_roamfs's, so it runs first: a roamfs still
	# flushing (say to a workstation left offline) is not left behind.
	at_exit "_ws_stop '$1' '$(ws_pid "$1")'"
}

# _ws_stop NAME PID: at exit, unmount and end that roamfs, flushed or not.
_ws_stop() {
	unmount_quiet "$TEST_DIR/$1"
	[ -z "$2" ] || wait_gone "$2" 10 || kill -9 "$2" 2>/dev/null
}

# ws_unmount NAME: unmount as pam_mount does at logout and wait until
# roamfs has sent its journal and exited (flush_timeout when offline).
ws_unmount() {
	ROAM_CACHE=$TEST_DIR/$1.cache unmount_roamfs "$TEST_DIR/$1"
}

# _ws_signal NAME SIGNAL STATE: signal the proxy, wait for its new state.
_ws_signal() {
	_ws_p=$TEST_DIR/$1.proxy
	[ -s "$_ws_p/pid" ] || { echo "workstation $1 has no proxy: ws_mount it first"; return 1; }
	kill -"$2" "$(cat "$_ws_p/pid")" &&
	wait_for grep -q "^$3 " "$_ws_p/state" ||
	    { echo "the proxy of workstation $1 did not go $3: $(cat "$_ws_p/state" "$_ws_p/log")"; return 1; }
}

# ws_offline NAME: cut the workstation's link: its connections are reset at
# once and new ones fail, as when its network cable is pulled.
ws_offline() {
	_ws_signal "$1" USR1 offline
}

# ws_online NAME: restore the link; roamfs reconnects on its own (after
# its backoff, 1 s doubling up to 30 s while it stayed offline).
ws_online() {
	_ws_signal "$1" USR2 online
}

# ws_connected NAME: the workstation's roamfs holds a connection through
# its proxy (a predicate for wait_server after ws_online).
ws_connected() {
	grep -q '^online live=[1-9]' "$TEST_DIR/$1.proxy/state"
}

# conflict_glob NAME [WS]: the shell pattern of the conflict copies of a
# file NAME (a base name) that issue 12 specifies:
# "NAME (conflict WORKSTATION YYYY-MM-DD HHMMSS).EXT", the extension last;
# WORKSTATION is ws_label WS, or anything without WS.
conflict_glob() {
	_cg_b=$1
	_cg_e=
	case $_cg_b in
	?*.*) _cg_e=.${_cg_b##*.}; _cg_b=${_cg_b%.*} ;;
	esac
	if [ -n "${2:-}" ]; then
		_cg_w=$(ws_label "$2")
	else
		_cg_w='*'
	fi
	_cg_d='[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9] [0-2][0-9][0-5][0-9][0-6][0-9]'
	printf '%s (conflict %s %s)%s\n' "$_cg_b" "$_cg_w" "$_cg_d" "$_cg_e"
}

# conflicts DIR NAME [WS]: print the names in DIR that are conflict copies
# of NAME (made by WS, or by any workstation), one a line.
conflicts() {
	_cf_pat=$(conflict_glob "$2" "${3:-}")
	ls -A "$1" 2>/dev/null | while IFS= read -r _cf_n; do
		case $_cf_n in
		$_cf_pat) printf '%s\n' "$_cf_n" ;;
		esac
	done
}

# one_conflict DIR NAME [WS]: DIR holds exactly one conflict copy of NAME
# (by WS); sets CONFLICT to its path.
one_conflict() {
	CONFLICT=
	[ "$(conflicts "$1" "$2" "${3:-}" | wc -l)" -eq 1 ] || return 1
	CONFLICT=$1/$(conflicts "$1" "$2" "${3:-}")
}

# no_conflicts DIR...: nothing under the directories is named like a
# conflict copy (prints what is, for the failure's output).
no_conflicts() {
	_nc=$(find "$@" -name '* (conflict *' 2>/dev/null)
	[ -z "$_nc" ] || { printf 'unexpected conflict copies:\n%s\n' "$_nc"; return 1; }
}

# cache_contents CACHE: the bytes of a cache's contents, the blocks of its
# data and tmp files, as roamfs counts them against its budgets (issue 14).
cache_contents() {
	find "$1/data" "$1/tmp" -type f -printf '%b\n' 2>/dev/null |
	    awk '{ s += $1 } END { printf "%d\n", s * 512 }'
}

# bytes_are FILE TEXT: the file holds exactly TEXT and a newline, compared
# byte for byte (content_is cannot see NUL bytes: the shell drops them).
bytes_are() {
	printf '%s\n' "$2" >"$TEST_DIR/bytes_are.want" &&
	cmp -s "$1" "$TEST_DIR/bytes_are.want"
}

# kept_as DIR NAME TEXT WS CTEXT: DIR/NAME holds TEXT and DIR holds exactly
# one conflict copy of NAME, made by workstation WS, holding CTEXT (each
# followed by a newline, byte for byte).
kept_as() {
	bytes_are "$1/$2" "$3" &&
	[ "$(conflicts "$1" "$2" | wc -l)" -eq 1 ] &&
	one_conflict "$1" "$2" "$4" &&
	bytes_are "$CONFLICT" "$5"
}

# kept_both DIR NAME WSA TEXTA WSB TEXTB: WSA and WSB both changed NAME and
# DIR keeps both versions, whichever reached the server first: NAME holds
# one, the only conflict copy of NAME (named after the other) the other.
kept_both() {
	kept_as "$1" "$2" "$4" "$5" "$6" || kept_as "$1" "$2" "$6" "$3" "$4"
}

# has_text ROOT TEXT: some file under ROOT has a line that is exactly TEXT.
has_text() {
	grep -rqxF -e "$2" "$1"
}

# show_files DIR...: print what the directories hold, each file with its
# size and first bytes (newline shown as |, NUL as @), for the output of a
# failing case ("check || show_files ..."); returns 1.
show_files() {
	for _sf in "$@"; do
		echo "--- $_sf"
		find "$_sf" -mindepth 1 2>&1 | sort | while IFS= read -r _sf_f; do
			if [ -f "$_sf_f" ] && [ ! -L "$_sf_f" ]; then
				printf '%s (%s bytes): %s\n' "${_sf_f#"$_sf"/}" "$(stat -c %s "$_sf_f")" \
				    "$(head -c 120 "$_sf_f" | tr '\n\0' '|@')"
			else
				printf '%s\n' "${_sf_f#"$_sf"/}"
			fi
		done
	done
	return 1
}
