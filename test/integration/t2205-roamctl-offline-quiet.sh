#!/bin/sh
# t2205 (issue 23): roamctl offline is offline.  After it, roamfs holds no
# connection to the server and opens none, whatever the user does: lists
# folders whose listing expired, reads what is cached and what is not,
# writes and removes files, pins a folder (the prefetcher's work), asks
# for a flush.  The workstation's proxy counts the connections (live and
# ever accepted) and the server logs every SFTP request: neither moves
# while offline.  After roamctl online the changes reach the server and
# the pinned files are fetched.  roamctl status names a file that could
# not be read offline, an escape sequence in its name printed defused.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
log_sftp_requests VERBOSE
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/Docs" "$H/Later"
printf 'cached\n' >"$H/doc.txt"
printf 'to remove\n' >"$H/gone.txt"
for f in a b c; do
	dd if=/dev/urandom of="$H/Docs/$f.bin" bs=1024 count=200 status=none
done
printf 'never opened\n' >"$H/Later/x.txt"
# A name with an escape sequence that would retitle a terminal (issue 23:
# roamctl prints names users chose).
EVIL=$(printf 'evil\033]2;pwned\007.txt')
mkdir -p "$H/Odd" && printf 'odd\n' >"$H/Odd/$EVIL"
W=$(ws_dir ws1)
C=$(ws_cache ws1)
P=$TEST_DIR/ws1.proxy/state

proxy_field() { # proxy_field NAME: live or accepted, from the proxy's state
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$P"
}

requests() { # the number of lines the server logged
	wc -l <"$SFTP_LOG"
}

field() { # field NAME: a number from roamctl status --json
	"$ROAMCTL" --json status "$C" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

all_pinned_cached() {
	[ "$(field pinned_files)" -gt 0 ] &&
	[ "$(field pinned_files_cached)" = "$(field pinned_files)" ]
}

test_expect_success 'mounted and used: connections open' '
	ws_mount ws1 dir_ttl=1 &&
	bytes_are "$W/doc.txt" cached && ls "$W/Docs" "$W/Odd" >/dev/null &&
	test "$(proxy_field live)" -ge 1
'

test_expect_success 'roamctl offline closes every connection' '
	"$ROAMCTL" offline "$C" >"$TEST_DIR/out" &&
	wait_server eval "test \"\$(proxy_field live)\" -eq 0" ||
	{ cat "$P" "$TEST_DIR/out"; false; }
'

test_expect_success 'while offline, nothing the user does reaches the server' '
	accepted=$(proxy_field accepted) && before=$(requests) &&
	"$ROAMCTL" --cache-root="$TEST_DIR" pin "$W/Docs" >"$TEST_DIR/pin.out" 2>&1 &&
	printf "made offline\n" >"$W/new.txt" && rm "$W/gone.txt" || return 1
	"$ROAMCTL" flush "$C" >/dev/null 2>&1	# says offline, sends nothing
	for i in 1 2 3 4 5 6; do
		ls -R "$W" >/dev/null 2>&1
		bytes_are "$W/doc.txt" cached || { echo "doc.txt unreadable offline"; return 1; }
		cat "$W/Later/x.txt" >/dev/null 2>&1 && { echo "an uncached file was read"; return 1; }
		sleep 1
	done
	test "$(proxy_field live)" -eq 0 && test "$(proxy_field accepted)" -eq "$accepted" &&
	test "$(requests)" -eq "$before" &&
	test ! -e "$H/new.txt" && test -e "$H/gone.txt" &&
	grep -q "Later: not in the cache and roamfs works offline on request (roamctl online ends it)" \
	    "$C/roamfs.log" ||
	{ cat "$P" "$TEST_DIR/pin.out"; echo "requests: $before then $(requests)";
	  tail -n 20 "$SFTP_LOG"; tail -n 20 "$C/roamfs.log"; false; }
'

test_expect_success 'roamctl status names the file not cached, its escape sequence defused' '
	! cat "$W/Odd/$EVIL" >/dev/null 2>&1 || { echo "read while offline"; return 1; }
	"$ROAMCTL" status "$C" >"$TEST_DIR/status.out" 2>&1
	grep -q "evil?]2;pwned?.txt" "$TEST_DIR/status.out" &&
	! grep -q "$(printf "\033")" "$TEST_DIR/status.out" &&
	"$ROAMCTL" --json status "$C" >"$TEST_DIR/status.json"
	test $? -le 1 &&
	python3 -c "import json, sys; d = json.load(open(sys.argv[1]))[0]; assert \"evil\x1b]2;pwned\x07.txt\" in d[\"offline_missed\"], d" \
	    "$TEST_DIR/status.json" ||
	{ od -c "$TEST_DIR/status.out" | head -n 40; cat "$TEST_DIR/status.json"; false; }
'

test_expect_success 'roamctl online: the changes go, the pins are fetched' '
	"$ROAMCTL" online "$C" >/dev/null &&
	wait_server bytes_are "$H/new.txt" "made offline" &&
	wait_server test ! -e "$H/gone.txt" &&
	WAIT_SERVER_SECONDS=40 wait_server all_pinned_cached &&
	test "$(proxy_field live)" -ge 1 ||
	{ cat "$P"; "$ROAMCTL" status "$C"; tail -n 20 "$C/roamfs.log"; false; }
'

test_done
