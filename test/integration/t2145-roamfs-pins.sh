#!/bin/sh
# t2145 (issue 14): pinned files and folders.  roamctl pin writes the pin
# list into the home (.config/roamfs/pins), so the pins roam: a second
# workstation that never opened the files fetches them in the background
# after login and can read them offline, byte for byte.  Pinned files stay
# through eviction; a file neither pinned nor opened fails offline at
# once, and roamctl status names it.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
ODD='#notes, odd dir'
mkdir -p "$H/Docs/sub/deeper" "$H/Mail" "$H/$ODD"
for f in a b c; do
	dd if=/dev/urandom of="$H/Docs/$f.bin" bs=1024 count=300 status=none
	dd if=/dev/urandom of="$H/Docs/sub/deeper/$f.odt" bs=1024 count=100 status=none
done
printf 'odd\n' >"$H/$ODD/x.txt"
for i in 1 2 3 4 5 6; do
	dd if=/dev/urandom of="$H/Mail/m$i" bs=1024 count=400 status=none
done
W1=$(ws_dir ws1)
W2=$(ws_dir ws2)
PINNED="Docs/a.bin Docs/b.bin Docs/c.bin Docs/sub/deeper/a.odt Docs/sub/deeper/b.odt Docs/sub/deeper/c.odt"

field() { # field WS NAME: a number from roamctl status --json
	"$ROAMCTL" --json status "$(ws_cache "$1")" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

pins_are() { # pins_are WS N: the roamfs of WS knows N pins
	[ "$(field "$1" pins)" = "$2" ]
}

evicted_at_least() { # evicted_at_least WS N: N files were dropped from its cache
	[ "$(field "$1" evicted_files)" -ge "$2" ]
}

all_pinned_cached() { # all_pinned_cached WS
	[ "$(field "$1" pinned_files)" -gt 0 ] &&
	[ "$(field "$1" pinned_files_cached)" = "$(field "$1" pinned_files)" ]
}

same_all() { # same_all MOUNT FILE...
	_m=$1
	shift
	for _f; do
		cmp -s "$_m/$_f" "$H/$_f" || { echo "$_f differs from the server's"; return 1; }
	done
}

test_expect_success 'roamctl pin writes the pin list into the home, on the server' '
	ws_mount ws1 &&
	"$ROAMCTL" --cache-root="$TEST_DIR" pin "$W1/Docs" "$W1/$ODD" >"$TEST_DIR/out" &&
	grep -q "Docs: pinned: fetched in the background" "$TEST_DIR/out" &&
	wait_server grep -qx Docs "$H/.config/roamfs/pins" &&
	wait_server grep -qxF "./$ODD" "$H/.config/roamfs/pins" ||
	{ cat "$TEST_DIR/out" "$H/.config/roamfs/pins"; return 1; }
'

test_expect_success 'the pinned files are fetched in the background' '
	WAIT_SERVER_SECONDS=40 wait_server all_pinned_cached ws1 &&
	[ "$(field ws1 pinned_files)" -eq 7 ] &&
	"$ROAMCTL" --cache-root="$TEST_DIR" pins "$W1" >"$TEST_DIR/out" &&
	grep -q "Docs: 6 of 6 files cached .*: available offline" "$TEST_DIR/out" ||
	{ cat "$TEST_DIR/out"; "$ROAMCTL" status "$(ws_cache ws1)"; return 1; }
'

test_expect_success 'a second workstation that never opened them has them offline' '
	ws_mount ws2 cache_max=1M &&
	{ WAIT_SERVER_SECONDS=40 wait_server all_pinned_cached ws2 ||
	{ "$ROAMCTL" status "$(ws_cache ws2)"; tail -n 20 "$(ws_cache ws2)/roamfs.log"; false; }; } &&
	ws_offline ws2 &&
	{
		same_all "$W2" $PINNED "$ODD/x.txt"
	}
	r=$?
	ws_online ws2 && return $r
'

test_expect_success 'pinned files stay through eviction, over the budget' '
	wait_server same_all "$W2" Mail/m1 &&
	same_all "$W2" Mail/m1 Mail/m2 Mail/m3 Mail/m4 Mail/m5 Mail/m6 &&
	WAIT_SERVER_SECONDS=40 wait_server evicted_at_least ws2 3 &&
	ws_offline ws2 &&
	{
		same_all "$W2" $PINNED
	}
	r=$?
	ws_online ws2 && return $r
'

test_expect_success 'a file neither pinned nor cached fails offline at once and is named' '
	"$ROAMCTL" --cache-root="$TEST_DIR" evict "$W2/Mail/m1" >/dev/null &&
	ws_offline ws2 &&
	{
		! timeout 10 cat "$W2/Mail/m1" >/dev/null 2>"$TEST_DIR/err" &&
		grep -q "No route to host" "$TEST_DIR/err" &&
		"$ROAMCTL" status "$(ws_cache ws2)" >"$TEST_DIR/st" &&
		grep -q "missed offline (most recent first): Mail/m1" "$TEST_DIR/st" &&
		grep -q "Mail/m1: not in the cache and the server is unreachable" \
		    "$(ws_cache ws2)/roamfs.log"
	}
	r=$?
	ws_online ws2
	[ $r -eq 0 ] || { cat "$TEST_DIR/err" "$TEST_DIR/st"; return 1; }
'

test_expect_success 'pinning what a pin covers, unpinning what is not pinned' '
	"$ROAMCTL" --cache-root="$TEST_DIR" pin "$W1/Docs/sub" >"$TEST_DIR/out" &&
	grep -q "already pinned as part of Docs" "$TEST_DIR/out" &&
	! "$ROAMCTL" --cache-root="$TEST_DIR" unpin "$W1/Docs/sub" 2>"$TEST_DIR/err" &&
	grep -q "is pinned as part of Docs: unpin that folder" "$TEST_DIR/err" &&
	! "$ROAMCTL" --cache-root="$TEST_DIR" unpin "$W1/Mail" 2>"$TEST_DIR/err" &&
	grep -q "Mail is not pinned" "$TEST_DIR/err" &&
	! "$ROAMCTL" --cache-root="$TEST_DIR" pin /etc 2>"$TEST_DIR/err" &&
	grep -q "is not in a home mounted by a roamfs" "$TEST_DIR/err" &&
	! "$ROAMCTL" --cache-root="$TEST_DIR" pin "$W1" 2>"$TEST_DIR/err" &&
	grep -q "is the whole home" "$TEST_DIR/err"
'

test_expect_success 'roamctl pins --json lists each pin' '
	"$ROAMCTL" --cache-root="$TEST_DIR" --json pins "$W1" >"$TEST_DIR/out" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); p=sorted(x[\"path\"] for x in d); assert p == [\"#notes, odd dir\", \"Docs\"], p" "$TEST_DIR/out"
'

test_expect_success 'unpin: the list on the server drops it, for every workstation at its next login' '
	"$ROAMCTL" --cache-root="$TEST_DIR" unpin "$W1/Docs" >"$TEST_DIR/out" &&
	grep -q "Docs: unpinned" "$TEST_DIR/out" &&
	wait_server sh -c "! grep -qx Docs \"$H/.config/roamfs/pins\"" &&
	ws_unmount ws2 && ws_mount ws2 &&
	WAIT_SERVER_SECONDS=40 wait_server pins_are ws2 1
'

test_expect_success 'a broken line in the pin list is skipped and logged with its line' '
	printf "Docs\n..\nMail\n" >"$H/.config/roamfs/pins" &&
	ws_unmount ws2 && ws_mount ws2 &&
	WAIT_SERVER_SECONDS=40 wait_server grep -q "pins:2: not a path in the home" "$(ws_cache ws2)/roamfs.log" &&
	WAIT_SERVER_SECONDS=40 wait_server pins_are ws2 2
'

test_done
