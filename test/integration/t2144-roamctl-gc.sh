#!/bin/sh
# t2144 (issue 14): roamctl gc, as the hourly roamfs-gc.timer runs it.  Of
# the caches under the cache root, it removes those not used for
# cache_expire days (their directory and usage file gone, the space freed
# said), trims those over cache_max (their files read back, fetched
# again), then the idle ones over cache_total, the least recently used
# first; it never touches a cache a roamfs runs on, and never removes nor
# trims one with changes not on the server, whose changes still go at the
# next login.  --dry-run changes nothing; --json gives one record per
# cache; others than root and a bad configuration are refused.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
ROOT=$TEST_DIR/root
ROOT2=$TEST_DIR/root2
mkdir -p "$ROOT" "$ROOT2" && chmod 1777 "$ROOT" "$ROOT2"
CONF=$TEST_DIR/roamfs.conf
printf 'cache_root = %s\n' "$ROOT" >"$CONF"
MiB=1048576
KiB512=524288
for u in anne bruno carla dora erik fritz gina hanna; do
	mkdir -p "$SERVER/$u"
	for i in 1 2 3 4 5 6 7 8; do
		dd if=/dev/urandom of="$SERVER/$u/f$i" bs=1024 count=512 status=none
	done
done
OUT=$TEST_DIR/gc.out
ERR=$TEST_DIR/gc.err

# login USER WS [CONFIG [OPTIONS]]: mount USER's home on workstation WS,
# with its cache ROOT/USER of the configuration (default $CONF).
login() {
	_c=${3:-$CONF}
	_r=$(sed -n 's/^cache_root = //p' "$_c")
	SERVER_HOME=$SERVER/$1 ws_mount "$2" "config=$_c,cache=$_r/$1${4:+,$4}"
}

# logout USER WS [ROOT]: unmount as at logout and wait for roamfs to end.
logout() {
	ROAM_CACHE=${3:-$ROOT}/$1 unmount_roamfs "$(ws_dir "$2")"
}

# read_all WS USER N...: read files fN of the user's home, checking the bytes.
read_all() {
	_m=$(ws_dir "$1") _u=$2
	shift 2
	for _i; do
		cmp -s "$_m/f$_i" "$SERVER/$_u/f$_i" || { echo "$_u/f$_i differs"; return 1; }
	done
}

# age CACHE DAYS: the cache was last used DAYS days ago.
age() {
	touch -d "$2 days ago" "$1/db/data.mdb"
}

# gc ARGS...: roamctl gc; its output in $OUT and $ERR, its status in $st.
gc() {
	"$ROAMCTL" "$@" >"$OUT" 2>"$ERR"
	st=$?
	return 0
}

# snapshot DIR...: every file under the directories with its size, blocks
# and mtime (LMDB's lock file left out: a reader takes a slot in it).
snapshot() {
	find "$@" ! -name lock.mdb -printf '%p %s %b %T@\n' | sort
}

# show: the output of the last gc, for a failing case.
show() {
	echo "status $st"; cat "$OUT" "$ERR"; ls -la "$ROOT" "$ROOT2"; return 1
}

test_expect_success 'four users leave caches: old, recent, old with unsent changes, in use' '
	login anne ws1 && read_all ws1 anne 1 2 && logout anne ws1 &&
	login bruno ws2 && read_all ws2 bruno 1 2 && logout bruno ws2 &&
	login carla ws3 "" flush_timeout=2 && read_all ws3 carla 1 && ws_offline ws3 &&
	printf "written offline\n" >"$(ws_dir ws3)/offline.txt" && logout carla ws3 &&
	test ! -e "$SERVER/carla/offline.txt" &&
	login dora ws4 && read_all ws4 dora 1 2 &&
	age "$ROOT/anne" 200 && age "$ROOT/bruno" 3 && age "$ROOT/carla" 200 &&
	age "$ROOT/dora" 200 && echo 1048576 >"$ROOT/.usage.anne" &&
	mkdir -p "$TEST_DIR/outside" && echo keep >"$TEST_DIR/outside/keep.txt" &&
	ln -s "$TEST_DIR/outside" "$ROOT/anne/data/link" &&
	ln -s "$TEST_DIR/outside/keep.txt" "$ROOT/anne/tmp/file-link"
'

test_expect_success '--dry-run says what it would do and changes nothing' '
	snapshot "$ROOT/anne" "$ROOT/bruno" "$ROOT/carla" >"$TEST_DIR/before" &&
	gc --config="$CONF" gc --dry-run && test $st -eq 0 &&
	snapshot "$ROOT/anne" "$ROOT/bruno" "$ROOT/carla" >"$TEST_DIR/after" &&
	cmp -s "$TEST_DIR/before" "$TEST_DIR/after" && test -e "$ROOT/.usage.anne" &&
	grep -q "^would remove $ROOT/anne (user root, last used [0-9-]* [0-9:]*): [0-9.]* MiB to free$" "$OUT" &&
	grep -q "^kept $ROOT/carla (user root): [1-9][0-9]* changes* not on the server yet; they go at root.s next login$" "$OUT" &&
	grep -q "^kept $ROOT/dora (user root): in use by a running roamfs$" "$OUT" &&
	! grep -q bruno "$OUT" && test ! -s "$ERR" &&
	tail -n 1 "$OUT" | grep -qx "would free [0-9.]* MiB in all (1 caches to remove, 0 to trim, 2 kept); --dry-run: nothing was changed" ||
	{ diff "$TEST_DIR/before" "$TEST_DIR/after"; show; }
'

test_expect_success 'gc removes the old cache and says how much it freed; the others stay as they were' '
	want=$(du -sB1 "$ROOT/anne" | cut -f1) &&
	want=$(awk -v b="$want" "BEGIN { printf \"%.1f MiB\", b / 1048576 }") &&
	snapshot "$ROOT/bruno" "$ROOT/carla" >"$TEST_DIR/before" &&
	gc --config="$CONF" gc && test $st -eq 0 &&
	test ! -e "$ROOT/anne" && test ! -e "$ROOT/.usage.anne" &&
	bytes_are "$TEST_DIR/outside/keep.txt" keep &&
	grep -qx "removed $ROOT/anne (user root, last used [0-9-]* [0-9:]*): $want freed" "$OUT" &&
	grep -q "^kept $ROOT/carla (user root): [1-9][0-9]* changes* not on the server yet" "$OUT" &&
	grep -q "^kept $ROOT/dora (user root): in use by a running roamfs$" "$OUT" &&
	tail -n 1 "$OUT" | grep -qx "freed $want in all (1 caches removed, 0 trimmed, 2 kept)" &&
	snapshot "$ROOT/bruno" "$ROOT/carla" >"$TEST_DIR/after" &&
	cmp -s "$TEST_DIR/before" "$TEST_DIR/after" && [ "$(cache_contents "$ROOT/bruno")" -eq $MiB ] &&
	test ! -s "$ERR" || show
'

test_expect_success 'another file system mounted in an old cache: it stays whole, said, status 1' '
	cp -a "$ROOT/bruno" "$ROOT/ivan" && age "$ROOT/ivan" 300 &&
	mkdir "$ROOT/ivan/tmp/mnt" && mount -t tmpfs gc-test "$ROOT/ivan/tmp/mnt" &&
	at_exit "umount \"$ROOT/ivan/tmp/mnt\" 2>/dev/null" &&
	echo mine >"$ROOT/ivan/tmp/mnt/other.txt" &&
	gc --config="$CONF" gc && test $st -eq 1 &&
	bytes_are "$ROOT/ivan/tmp/mnt/other.txt" mine &&
	test "$(wc -l <"$ERR")" -eq 1 &&
	grep -qx "roamctl: cannot remove $ROOT/ivan: another file system is mounted in it; look at what it holds and remove it by hand" "$ERR" &&
	grep -qx "kept $ROOT/ivan (user root): could not be removed: a file system is mounted in it" "$OUT" &&
	tail -n 1 "$OUT" | grep -qx "freed 0 B in all (0 caches removed, 0 trimmed, 3 kept)" &&
	test -d "$ROOT/ivan/db" && test -s "$ROOT/ivan/lock" &&
	[ "$(find "$ROOT/ivan/data" -type f | wc -l)" -eq 2 ] &&
	umount "$ROOT/ivan/tmp/mnt" &&
	gc --config="$CONF" gc && test $st -eq 0 && test ! -e "$ROOT/ivan" &&
	grep -q "^removed $ROOT/ivan " "$OUT" && test -d "$ROOT/bruno/db" || show
'

test_expect_success 'the home in use goes on working; a cache kept logs in as before' '
	read_all ws4 dora 3 && printf "still here\n" >"$(ws_dir ws4)/note.txt" &&
	wait_server bytes_are "$SERVER/dora/note.txt" "still here" &&
	login bruno ws2 && read_all ws2 bruno 1 3 && logout bruno ws2
'

test_expect_success 'the changes kept reach the server at the next login, online' '
	ws_online ws3 && login carla ws3 &&
	wait_server bytes_are "$SERVER/carla/offline.txt" "written offline" &&
	read_all ws3 carla 1 2 && logout carla ws3
'

test_expect_success 'a cache over cache_max is trimmed within it, least recently used first, keeping its last use' '
	login erik ws5 && read_all ws5 erik 1 2 3 4 5 6 7 8 && logout erik ws5 &&
	[ "$(cache_contents "$ROOT/erik")" -eq $((4 * MiB)) ] && age "$ROOT/erik" 2 &&
	touch -r "$ROOT/erik/db/data.mdb" "$TEST_DIR/erik.used" &&
	printf "cache_root = %s\ncache_max = 2M\n" "$ROOT" >"$TEST_DIR/max.conf" &&
	gc --config="$TEST_DIR/max.conf" gc && test $st -eq 0 &&
	[ "$(cache_contents "$ROOT/erik")" -le $((2 * MiB)) ] && [ "$(cache_contents "$ROOT/erik")" -gt 0 ] &&
	grep -q "^trimmed $ROOT/erik (user root, over its own budget, cache_max): [0-9.]* MiB freed; what went is fetched again when opened$" "$OUT" &&
	! grep -q "bruno\|carla" "$OUT" &&
	tail -n 1 "$OUT" | grep -q "in all (0 caches removed, 1 trimmed, 1 kept)$" &&
	test ! "$ROOT/erik/db/data.mdb" -nt "$TEST_DIR/erik.used" &&
	test ! "$ROOT/erik/db/data.mdb" -ot "$TEST_DIR/erik.used" || show
'

test_expect_success 'the trimmed home: the last read stay offline, the others are fetched again' '
	login erik ws5 && ws_offline ws5 &&
	read_all ws5 erik 7 8 && ! timeout 10 cat "$(ws_dir ws5)/f1" >/dev/null 2>&1 &&
	ws_online ws5 && wait_server ws_connected ws5 &&
	read_all ws5 erik 1 2 3 4 5 6 7 8 &&
	[ "$(cache_contents "$ROOT/erik")" -eq $((4 * MiB)) ] && logout erik ws5
'

test_expect_success 'the machine budget: idle caches are trimmed least recently used first, one in use is not' '
	printf "cache_root = %s\n" "$ROOT2" >"$TEST_DIR/root2.conf" &&
	printf "cache_root = %s\ncache_total = 4M\ncache_expire = 0\n" "$ROOT2" >"$TEST_DIR/total.conf" &&
	login fritz ws6 "$TEST_DIR/root2.conf" && read_all ws6 fritz 1 2 3 4 &&
	logout fritz ws6 "$ROOT2" &&
	login gina ws7 "$TEST_DIR/root2.conf" && read_all ws7 gina 1 2 3 4 &&
	logout gina ws7 "$ROOT2" &&
	login hanna ws8 "$TEST_DIR/root2.conf" && read_all ws8 hanna 1 2 &&
	age "$ROOT2/fritz" 400 && age "$ROOT2/gina" 1 &&
	gc --json --config="$TEST_DIR/total.conf" gc && test $st -eq 0 &&
	python3 - "$OUT" "$ROOT2" <<-'EOF' &&
	import json, sys
	recs = {r["cache"]: r for r in json.load(open(sys.argv[1]))}
	root = sys.argv[2]
	f, g, h = recs[root + "/fritz"], recs[root + "/gina"], recs[root + "/hanna"]
	assert len(recs) == 3, recs
	assert f["action"] == "trimmed" and f["freed_bytes"] >= 1468007, f
	assert "cache_total" in f["reason"] and f["user"] == "root" and f["last_used"] > 0, f
	assert g["action"] == "none" and g["freed_bytes"] == 0, g
	assert h["action"] == "kept" and h["reason"] == "in use by a running roamfs", h
	assert f["last_used"] < g["last_used"], (f, g)
	EOF
	[ "$(cache_contents "$ROOT2/gina")" -eq $((2 * MiB)) ] &&
	[ "$(cache_contents "$ROOT2/hanna")" -eq $MiB ] &&
	[ "$(cache_contents "$ROOT2/fritz")" -lt $((2 * MiB)) ] &&
	[ $(( $(cache_contents "$ROOT2/fritz") + 3 * MiB )) -le 3774873 ] &&
	read_all ws8 hanna 1 2 || show
'

test_expect_success 'the trimmed idle cache reads back whole at its next login' '
	login fritz ws6 "$TEST_DIR/root2.conf" && read_all ws6 fritz 1 2 3 4 &&
	logout fritz ws6 "$ROOT2"
'

# hold_lock CACHE SECONDS [THEN]: as gc does, hold the cache's lock for
# SECONDS (then run THEN under it), in the background; returns once held.
hold_lock() {
	rm -f "$TEST_DIR/held"
	flock "$1/lock" sh -c "touch '$TEST_DIR/held'; sleep $2; ${3:-:}" &
	_hl=0
	while [ ! -e "$TEST_DIR/held" ] && [ $_hl -lt 100 ]; do sleep 0.1; _hl=$((_hl + 1)); done
	test -e "$TEST_DIR/held"
}

test_expect_success 'a login while gc holds the idle cache waits for it and gets in' '
	hold_lock "$ROOT/bruno" 3 && lock_pid=$! &&
	login bruno ws2 2>"$TEST_DIR/err" &&
	! running $lock_pid &&
	read_all ws2 bruno 1 2 3 &&
	grep -q "is locked by a program that is not a running roamfs (roamctl gc?): waiting up to 30 s" \
	    "$TEST_DIR/err" &&
	logout bruno ws2 || { cat "$TEST_DIR/err"; return 1; }
'

test_expect_success 'a login while gc removes the cache waits, then makes it anew' '
	hold_lock "$ROOT/bruno" 2 "rm -rf \"$ROOT/bruno\"" &&
	login bruno ws2 2>"$TEST_DIR/err" &&
	test -d "$ROOT/bruno/db" && test -s "$ROOT/bruno/lock" &&
	read_all ws2 bruno 1 2 3 4 &&
	grep -q "was removed while waiting for its lock: making it anew" "$TEST_DIR/err" &&
	logout bruno ws2 || { cat "$TEST_DIR/err"; return 1; }
'

test_expect_success 'a running roamfs on the cache still refuses a second one at once' '
	login bruno ws2 &&
	t0=$(date +%s) &&
	! login bruno ws9 2>"$TEST_DIR/err" &&
	[ $(( $(date +%s) - t0 )) -lt 10 ] &&
	grep -q "is in use by another roamfs (pid [0-9]*)" "$TEST_DIR/err" &&
	read_all ws2 bruno 1 && logout bruno ws2 ||
	{ cat "$TEST_DIR/err"; return 1; }
'

test_expect_success 'cache_expire = 0: an old cache is never removed' '
	age "$ROOT/bruno" 3000 &&
	printf "cache_root = %s\ncache_expire = 0\n" "$ROOT" >"$TEST_DIR/never.conf" &&
	gc --config="$TEST_DIR/never.conf" gc && test $st -eq 0 &&
	test -d "$ROOT/bruno/db" && ! grep -q bruno "$OUT" || show
'

test_expect_success 'others than root are refused with one line, status 2, nothing touched' '
	user_binaries &&
	run_as nobody "$USER_ROAMCTL" --config="$CONF" gc >"$OUT" 2>"$ERR"; st=$?
	test $st -eq 2 && test ! -s "$OUT" && test "$(wc -l <"$ERR")" -eq 1 &&
	grep -q "^roamctl: gc .* run it as root$" "$ERR" && test -d "$ROOT/bruno/db" || show
'

test_expect_success 'a bad configuration is refused with one line naming it, nothing touched' '
	printf "cache_root = %s\ncache_expire = soon\n" "$ROOT" >"$TEST_DIR/bad.conf" &&
	gc --config="$TEST_DIR/bad.conf" gc && test $st -eq 2 && test ! -s "$OUT" &&
	test "$(wc -l <"$ERR")" -eq 1 && grep -q "bad.conf:2: cache_expire" "$ERR" &&
	test -d "$ROOT/bruno/db" &&
	gc --config="$CONF" gc /home/x && test $st -eq 2 && grep -q "takes no mount point" "$ERR" &&
	gc --config="$CONF" status --dry-run && test $st -eq 2 || show
'

test_done
