#!/bin/sh
# t2142 (issue 14): the cached contents stay within their budget.  A home
# mounted with cache_max drops the contents of clean files, least recently
# used first, once they pass it; their names stay (listings and stat work
# offline), and the next open fetches them again.  Never dropped: changes
# not on the server yet, files open now, files made here.  roamctl evict
# drops what it is given now.  Checked file by file: what must stay is
# read offline, byte for byte; what went fails offline with the error
# that names the server.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/mail" "$H/docs"
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
	dd if=/dev/urandom of="$H/mail/m$i" bs=1024 count=512 status=none
done
W=$(ws_dir ws1)
C=$(ws_cache ws1)
MiB=1048576

# status_field NAME: a number from roamctl status --json of ws1.
status_field() {
	"$ROAMCTL" --json status "$C" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# at_most BYTES: the cache's contents are within BYTES.
at_most() {
	[ "$(cache_contents "$C")" -le "$1" ]
}

# same FILE...: each file of the mount is byte for byte the server's.
same() {
	for _f; do
		cmp -s "$W/$_f" "$H/$_f" || { echo "$_f differs from the server's"; return 1; }
	done
}

# offline_miss FILE: reading it offline fails at once, with the error of
# a file the cache does not hold.
offline_miss() {
	_out=$(timeout 10 cat "$W/$1" 2>&1 >/dev/null)
	_rc=$?
	[ $_rc -ne 0 ] && [ $_rc -ne 124 ] && printf '%s\n' "$_out" | grep -q 'No route to host' ||
	    { echo "$1: read offline gave status $_rc: $_out"; return 1; }
}

test_expect_success 'reading more than the budget keeps the contents within it' '
	ws_mount ws1 cache_max=2M &&
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		same mail/m$i || return 1
	done &&
	wait_server at_most $((2 * MiB)) ||
	{ du -ab "$C/data"; "$ROAMCTL" status "$C"; tail -n 5 "$C/roamfs.log"; return 1; }
'

test_expect_success 'roamctl status shows the budget and what was dropped' '
	[ "$(status_field cache_max)" = $((2 * MiB)) ] &&
	[ "$(status_field evicted_files)" -ge 8 ] &&
	"$ROAMCTL" status "$C" >"$TEST_DIR/st" &&
	grep -q "contents: .* of a budget of 2.0 MiB; .* files dropped" "$TEST_DIR/st" ||
	{ cat "$TEST_DIR/st"; return 1; }
'

test_expect_success 'the least recently used went first: the last read stay, offline too' '
	ws_offline ws1 &&
	{
		same mail/m11 mail/m12 &&
		offline_miss mail/m01 && offline_miss mail/m02 &&
		ls "$W/mail" | grep -c "^m" | grep -qx 12 &&
		stat -c %s "$W/mail/m01" | grep -qx 524288
	}
	r=$?
	ws_online ws1 && wait_server ws_connected ws1 && return $r
'

test_expect_success 'a dropped file is fetched again when opened' '
	same mail/m01 mail/m02
'

test_expect_success 'changes not on the server yet, open files and new files are never dropped' '
	printf "server copy\n" >"$H/docs/edited.txt" &&
	dd if=/dev/urandom of="$H/docs/held.bin" bs=1024 count=512 status=none &&
	wait_server same docs/edited.txt docs/held.bin mail/m11 mail/m12 &&
	exec 3<"$W/docs/held.bin" &&
	ws_offline ws1 &&
	{
		printf "edited offline\n" >"$W/docs/edited.txt" &&
		dd if=/dev/urandom of="$W/docs/new.bin" bs=1024 count=1536 status=none &&
		cp "$W/docs/new.bin" "$TEST_DIR/new.bin" &&
		WAIT_SERVER_SECONDS=40 wait_server at_most $((2 * MiB + 256 * 1024)) &&
		offline_miss mail/m12 &&
		bytes_are "$W/docs/edited.txt" "edited offline" &&
		cmp "$W/docs/new.bin" "$TEST_DIR/new.bin" &&
		same docs/held.bin &&
		[ "$(status_field cache_kept_over)" -gt 0 ] &&
		grep -q "stay over their budget" "$C/roamfs.log"
	}
	r=$?
	exec 3<&-
	ws_online ws1 && wait_server ws_connected ws1 && return $r
'

test_expect_success 'once sent, those changes are on the server intact' '
	"$ROAMCTL" flush --wait --timeout=60 "$C" >/dev/null &&
	bytes_are "$H/docs/edited.txt" "edited offline" &&
	cmp "$H/docs/new.bin" "$TEST_DIR/new.bin"
'

test_expect_success 'roamctl evict drops a folder now, and says what it kept' '
	same mail/m05 mail/m06 &&
	printf "not sent\n" >"$H/docs/keep.txt" && wait_server same docs/keep.txt &&
	ws_offline ws1 &&
	printf "changed, not sent\n" >"$W/docs/keep.txt" &&
	"$ROAMCTL" --cache-root="$TEST_DIR" evict "$W/mail" >"$TEST_DIR/ev" &&
	grep -q "^$W/mail: dropped [0-9]* cached files" "$TEST_DIR/ev" &&
	offline_miss mail/m05 && offline_miss mail/m06 &&
	"$ROAMCTL" --cache-root="$TEST_DIR" evict "$W/docs/keep.txt" >"$TEST_DIR/ev" &&
	grep -q "dropped 0 cached files .*; kept 1 with changes not on the server" "$TEST_DIR/ev" &&
	bytes_are "$W/docs/keep.txt" "changed, not sent" &&
	ws_online ws1 ||
	{ cat "$TEST_DIR/ev"; return 1; }
'

test_expect_success 'roamctl evict refuses what is not in a home' '
	! "$ROAMCTL" --cache-root="$TEST_DIR" evict /etc/hostname 2>"$TEST_DIR/err" &&
	grep -q "is not in a home mounted by a roamfs" "$TEST_DIR/err" &&
	! "$ROAMCTL" --cache-root="$TEST_DIR" evict "$W/no-such-file" 2>"$TEST_DIR/err" &&
	grep -q "no-such-file: No such file" "$TEST_DIR/err" &&
	! "$ROAMCTL" --cache-root="$TEST_DIR" evict 2>"$TEST_DIR/err" && grep -q "evict takes the files" "$TEST_DIR/err"
'

test_expect_success 'a long write stream stays within the budget once sent' '
	max=0 &&
	for i in $(seq 1 24); do
		dd if=/dev/urandom of="$W/docs/stream$i" bs=1024 count=256 status=none || return 1
		u=$(cache_contents "$C") && [ "$u" -le "$max" ] || max=$u
	done &&
	"$ROAMCTL" flush --wait --timeout=60 "$C" >/dev/null &&
	wait_server at_most $((2 * MiB)) &&
	for i in $(seq 1 24); do
		cmp -s "$W/docs/stream$i" "$H/docs/stream$i" || { echo "stream$i differs"; return 1; }
	done &&
	say "largest contents seen during the stream: $max bytes (budget 2 MiB)"
'

test_expect_success 'the budget holds across a remount, and the log says what was dropped' '
	ws_unmount ws1 &&
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		dd if=/dev/urandom of="$H/mail/m$i" bs=1024 count=512 status=none
	done &&
	ws_mount ws1 cache_max=1M &&
	for i in 01 02 03 04 05 06; do same mail/m$i || return 1; done &&
	wait_server at_most $((1 * MiB)) &&
	grep -q "to keep the cache within its budget" "$C/roamfs.log"
'

# A full cache disk with clean contents on it: they make room, and the
# write goes through; with nothing left to drop, ENOSPC as before.  (The
# database's lock file and the reserve take about 9 MiB of the 40.)
test_expect_success 'a full disk drops clean contents to make room for a write' '
	ws_unmount ws1 &&
	DISK=$TEST_DIR/disk && mkdir -p "$DISK" &&
	mount -t tmpfs -o size=40m,mode=700 roamtest "$DISK" &&
	at_exit "umount -l \"$DISK\"" &&
	mkdir -p "$H/big" &&
	for i in $(seq 1 24); do
		dd if=/dev/urandom of="$H/big/b$i" bs=1M count=1 status=none || return 1
	done &&
	ROAM_CACHE=$DISK/cache SSHD_PORT=$(cat "$TEST_DIR/ws1.proxy/port") \
	    KNOWN_HOSTS=$TEST_DIR/ws1.proxy/known_hosts mount_roamfs "$W" workstation=ws1 &&
	for i in $(seq 1 24); do same big/b$i || return 1; done &&
	df -h "$DISK" &&
	# More than the disk has free, whatever the working set fetched at
	# the mount: only dropping clean contents makes room for it.
	free=$(df --output=avail -BM "$DISK" | tail -n 1 | tr -dc 0-9) &&
	dd if=/dev/urandom of="$TEST_DIR/new6" bs=1M count=$((free + 6)) status=none &&
	cp "$TEST_DIR/new6" "$W/docs/new6" && sync "$W/docs/new6" &&
	cmp "$W/docs/new6" "$TEST_DIR/new6" &&
	grep -q "disk is full: dropped the cached contents" "$DISK/cache/roamfs.log" &&
	"$ROAMCTL" flush --wait --timeout=60 "$DISK/cache" >/dev/null &&
	cmp "$H/docs/new6" "$TEST_DIR/new6" &&
	same big/b1 big/b24 ||
	{ tail -n 5 "$DISK/cache/roamfs.log"; df -h "$DISK"; return 1; }
'

test_expect_success 'with nothing clean left to drop, a full disk still says ENOSPC' '
	ws_offline ws1 &&
	{
		! dd if=/dev/urandom of="$W/docs/huge" bs=1M count=80 conv=fsync 2>"$TEST_DIR/dd.err" &&
		grep -q "No space left on device" "$TEST_DIR/dd.err" &&
		rm "$W/docs/huge" && ! test -e "$W/docs/huge"
	}
	r=$?
	ws_online ws1
	fusermount3 -u "$W"
	return $r
'

test_done
