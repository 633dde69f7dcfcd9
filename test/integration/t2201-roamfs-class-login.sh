#!/bin/sh
# t2201 (issue 13): a class logging in at once.  sshd drops the
# handshakes past MaxStartups; roamfs tries a dropped handshake again
# (jittered backoff, within its login budget), so that 12 simultaneous
# logins against "MaxStartups 2:100:4" all mount online: cold (an empty
# cache: a failure would be an empty home) and warm (a failure would go on
# offline from a stale cache).  A server that refuses connections is still
# given up at once.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd "MaxStartups 2:100:4" || bail_out "cannot start sshd"
N=12

# login_all: mount the N homes at once; each one's output and status in
# $TEST_DIR/out.I.
login_all() {
	for i in $(seq 1 $N); do
		(
			"$ROAMFS" -o "port=$SSHD_PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/cache$i" \
			    "root@127.0.0.1:$SERVER/home$i" "$TEST_DIR/m$i" >"$TEST_DIR/out.$i" 2>&1
			echo "status $?" >>"$TEST_DIR/out.$i"
		) &
	done
	wait
	for i in $(seq 1 $N); do
		at_exit "unmount_quiet '$TEST_DIR/m$i'"
	done
}

# all_mounted: every login returned 0 and its home is a roamfs mount.
all_mounted() {
	for i in $(seq 1 $N); do
		grep -qx "status 0" "$TEST_DIR/out.$i" &&
		grep -q " $TEST_DIR/m$i fuse.roamfs " /proc/mounts ||
		{ echo "login $i: $(cat "$TEST_DIR/out.$i")"; return 1; }
	done
}

# logout_all: unmount every home and wait for its roamfs to exit.
logout_all() {
	for i in $(seq 1 $N); do
		pid=$(roamfs_pid "$TEST_DIR/cache$i")
		fusermount3 -u "$TEST_DIR/m$i" || return 1
		wait_gone "$pid" 60 || return 1
	done
}

for i in $(seq 1 $N); do
	mkdir -p "$SERVER/home$i" "$TEST_DIR/m$i"
	printf 'home %s\n' "$i" >"$SERVER/home$i/name.txt"
done

test_expect_success "$N cold logins at once: every one mounts and reads its home" '
	login_all && all_mounted &&
	for i in $(seq 1 $N); do
		bytes_are "$TEST_DIR/m$i/name.txt" "home $i" || return 1
	done &&
	say "$(grep -c "past MaxStartups" "$SSHD_LOG") handshakes dropped by sshd" &&
	grep -q "past MaxStartups" "$SSHD_LOG" &&
	grep -ql "cut the SSH handshake" "$TEST_DIR"/out.* >/dev/null
'

test_expect_success 'they log out' '
	logout_all
'

test_expect_success "$N warm logins at once: every one mounts online, not from a stale cache" '
	for i in $(seq 1 $N); do
		printf "new since the last login\n" >"$SERVER/home$i/new.txt" || return 1
	done &&
	: >"$SSHD_LOG" &&
	login_all && all_mounted &&
	for i in $(seq 1 $N); do
		WAIT_SERVER_SECONDS=60 wait_server bytes_are "$TEST_DIR/m$i/new.txt" \
		    "new since the last login" || { echo "home $i"; return 1; }
		! grep -q "working offline" "$TEST_DIR/out.$i" || return 1
	done &&
	say "$(grep -c "past MaxStartups" "$SSHD_LOG") handshakes dropped by sshd"
'

test_expect_success 'a server that refuses connections is given up at once, not retried' '
	logout_all &&
	port=$(free_port) && start=$(date +%s) &&
	! "$ROAMFS" -o "port=$port,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/refused" \
	    "root@127.0.0.1:$SERVER/home1" "$TEST_DIR/m1" 2>"$TEST_DIR/refused.err" &&
	test $(( $(date +%s) - start )) -lt 5 &&
	grep -q "Connection refused" "$TEST_DIR/refused.err" &&
	! grep -q "cut the handshake" "$TEST_DIR/refused.err"
'

test_done
