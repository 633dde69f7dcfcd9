#!/bin/sh
# t2143 (issue 14): the machine's budget (cache_total in roamfs.conf) over
# several users' caches under the cache root.  The roamfs processes running
# share it: each publishes the size of its contents in the root
# (.usage.NAME) and keeps what the others leave; the file goes when its
# roamfs ends, and the budget is then the other's alone.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
ROOT=$TEST_DIR/root
mkdir -p "$ROOT" && chmod 1777 "$ROOT"
CONF=$TEST_DIR/roamfs.conf
printf 'cache_root = %s\ncache_total = 3M\n' "$ROOT" >"$CONF"
MiB=1048576
for u in anne bruno; do
	mkdir -p "$SERVER/$u"
	for i in 1 2 3 4 5 6 7 8; do
		dd if=/dev/urandom of="$SERVER/$u/f$i" bs=1024 count=512 status=none
	done
done
A=$(ws_dir ws1)
B=$(ws_dir ws2)

# total_at_most BYTES: both caches together keep at most BYTES.
total_at_most() {
	[ $(( $(cache_contents "$ROOT/anne") + $(cache_contents "$ROOT/bruno") )) -le "$1" ]
}

# at_most CACHE BYTES: one cache keeps at most BYTES (an idle one is
# roamctl gc's to trim).
at_most() {
	[ "$(cache_contents "$1")" -le "$2" ]
}

# read_all MOUNT USER N...: read files fN of the user, checking the bytes.
read_all() {
	_m=$1 _u=$2
	shift 2
	for _i; do
		cmp -s "$_m/f$_i" "$SERVER/$_u/f$_i" || { echo "$_u/f$_i differs"; return 1; }
	done
}

test_expect_success 'a first user reads within the machine budget: nothing is dropped' '
	SERVER_HOME=$SERVER/anne ws_mount ws1 "config=$CONF,cache=$ROOT/anne" &&
	read_all "$A" anne 1 2 3 4 &&
	wait_for test -s "$ROOT/.usage.anne" &&
	sleep 1 && [ "$(cache_contents "$ROOT/anne")" -eq $((2 * MiB)) ]
'

test_expect_success 'a second user sharing the machine: both stay within it together' '
	SERVER_HOME=$SERVER/bruno ws_mount ws2 "config=$CONF,cache=$ROOT/bruno" &&
	read_all "$B" bruno 1 2 3 4 &&
	WAIT_SERVER_SECONDS=40 wait_server total_at_most $((3 * MiB)) ||
	{ cat "$ROOT"/.usage.*; "$ROAMCTL" status "$ROOT/bruno"; return 1; }
'

test_expect_success 'roamctl status shows the share of the machine budget' '
	"$ROAMCTL" status "$ROOT/bruno" >"$TEST_DIR/st" &&
	grep -q "of a budget of 1.0 MiB (this workstation.s, shared" "$TEST_DIR/st" ||
	{ cat "$TEST_DIR/st"; return 1; }
'

test_expect_success 'when the second user logs out, the first may use the whole budget' '
	ROAM_CACHE=$ROOT/bruno unmount_roamfs "$B" &&
	! test -e "$ROOT/.usage.bruno" &&
	read_all "$A" anne 5 6 7 8 &&
	WAIT_SERVER_SECONDS=40 wait_server at_most "$ROOT/anne" $((3 * MiB)) &&
	[ "$(cache_contents "$ROOT/anne")" -ge $((2 * MiB)) ] ||
	{ ls -la "$ROOT"; cache_contents "$ROOT/anne"; "$ROAMCTL" status "$ROOT/anne"; return 1; }
'

test_expect_success 'a usage file of another owner does not count' '
	touch "$ROOT/.usage.mallory" && mkdir -p "$ROOT/mallory" &&
	chown nobody "$ROOT/.usage.mallory" && echo 999999999 >"$ROOT/.usage.mallory" &&
	sleep 12 &&
	[ "$(cache_contents "$ROOT/anne")" -ge $((2 * MiB)) ]
'

test_done
