#!/bin/sh
# The site configuration, roamfs.conf(5), as roamfs -o config=FILE and
# roamctl --config=FILE read it: its cache_root holds the default cache
# (CACHE_ROOT/USER) and is where roamctl looks for caches; its dir_ttl is
# the default that -o dir_ttl overrides; a malformed, unreadable,
# world-writable or missing file stops roamfs before it mounts, with one
# line naming FILE:LINE.  The refused mounts point at a port where nobody
# listens: a message about the network would mean roamfs went on.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
DEAD=$(free_port)
mkdir -p "$TEST_DIR/conf"

# conf NAME LINE...: write the lines to $TEST_DIR/conf/NAME.conf (0644), print its path.
conf() {
	_cf=$TEST_DIR/conf/$1.conf
	shift
	printf '%s\n' "$@" >"$_cf" && chmod 644 "$_cf" && printf '%s\n' "$_cf"
}

# roamfs_conf MOUNTPOINT HOME OPTIONS: mount the server directory HOME as
# root, with no cache= (the default cache, which the configuration places).
roamfs_conf() {
	mkdir -p "$1" "$2" &&
	"$ROAMFS" -o "port=$SSHD_PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,$3" \
	    "root@127.0.0.1:$2" "$1" || return
	at_exit "unmount_quiet '$1'"
}

# unmount_cache MOUNTPOINT CACHE: unmount and wait until the roamfs of CACHE has exited.
unmount_cache() {
	_uc=$(roamfs_pid "$2")
	fusermount3 -u "$1" && { [ -z "$_uc" ] || wait_gone "$_uc" 60; }
}

# listed DIR NAME: ls DIR shows NAME.
listed() {
	ls "$1" | grep -qx "$2"
}

CROOT=$TEST_DIR/croot
mkdir -p "$CROOT"
M1=$TEST_DIR/m1
C1=$(conf root "# the cache root of this test" "" "cache_root = $CROOT/   # a trailing / is dropped")

test_expect_success 'the configuration'"'"'s cache_root holds the default cache, CACHE_ROOT/USER' '
	roamfs_conf "$M1" "$SERVER/home" "config=$C1" &&
	grep -q " $M1 fuse.roamfs " /proc/mounts &&
	echo hello >"$M1/a.txt" &&
	test -f "$CROOT/root/db/data.mdb" && test -s "$CROOT/root/roamfs.log" &&
	content_is "$CROOT/root/mountpoint" "$M1" &&
	test "$(roamfs_pid "$CROOT/root")" -gt 0 &&
	wait_server content_is "$SERVER/home/a.txt" hello
'

test_expect_success 'roamctl --config=FILE finds the cache under its cache_root' '
	"$ROAMCTL" --config="$C1" --json status "$M1" >"$TEST_DIR/status.json"
	rc=$?
	cat "$TEST_DIR/status.json"
	test "$rc" -le 1 &&
	python3 - "$TEST_DIR/status.json" "$CROOT/root" "$M1" <<-\EOF
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert len(r) == 1 and r[0]["cache"] == sys.argv[2] and r[0]["running"], r
	assert r[0]["mountpoint"] == sys.argv[3], r
	EOF
'

test_expect_success 'a running roamfs is found whatever the cache root (its registry)' '
	"$ROAMCTL" --config="$C1" --cache-root="$TEST_DIR/elsewhere" status "$M1" >"$TEST_DIR/out" 2>&1
	test $? -le 1 || { cat "$TEST_DIR/out"; false; }
'

test_expect_success 'roamctl refuses a malformed --config with FILE:LINE, and a missing one' '
	bad=$(conf roamctl-bad "cache_root = $CROOT" "cache_root = /again") &&
	"$ROAMCTL" --config="$bad" status "$M1" >"$TEST_DIR/out" 2>&1
	rc=$?
	cat "$TEST_DIR/out"
	test "$rc" -eq 2 && test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -qx "roamctl: $bad:2: cache_root is set again (first on line 1): keep one of the two lines" "$TEST_DIR/out" &&
	"$ROAMCTL" --config="$TEST_DIR/none.conf" status "$M1" >"$TEST_DIR/out" 2>&1
	rc=$?
	cat "$TEST_DIR/out"
	test "$rc" -eq 2 && test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -q "^roamctl: the site configuration $TEST_DIR/none.conf does not exist" "$TEST_DIR/out"
'

test_expect_success 'unmounted, the cache under cache_root is on the server' '
	unmount_cache "$M1" "$CROOT/root" &&
	! grep -q " $M1 " /proc/mounts &&
	content_is "$SERVER/home/a.txt" hello
'

test_expect_success 'roamfs gone, its cache is found under the cache root: --cache-root overrides the configuration' '
	"$ROAMCTL" --config="$C1" --cache-root="$TEST_DIR/elsewhere" status "$M1" >"$TEST_DIR/out" 2>&1
	rc=$?
	cat "$TEST_DIR/out"
	test "$rc" -eq 5 &&
	grep -q "$M1: no roamfs runs there for you, and no cache under $TEST_DIR/elsewhere was mounted there" "$TEST_DIR/out" ||
	return 1
	"$ROAMCTL" --config="$C1" status "$M1" >"$TEST_DIR/out" 2>&1
	grep -q "no roamfs is running on the cache $CROOT/root (last mounted on $M1)" "$TEST_DIR/out" ||
	{ cat "$TEST_DIR/out"; false; }
'

# dir_ttl = 0 lists a directory once per mount: a file made on the server
# later never shows, also well after the default dir_ttl (5 s).  With
# -o dir_ttl=1 over the same file, it shows within seconds.
TTL=$(conf ttl "cache_root = $TEST_DIR/ttl-root" "dir_ttl = 0   # once per mount" "attr_ttl = 0")
mkdir -p "$TEST_DIR/ttl-root"

test_expect_success 'the configuration'"'"'s dir_ttl is the default' '
	H=$SERVER/home-a && mkdir -p "$H" && echo old >"$H/old" &&
	roamfs_conf "$TEST_DIR/ma" "$H" "config=$TTL" &&
	listed "$TEST_DIR/ma" old && echo new >"$H/new" &&
	sleep 7 &&
	ls "$TEST_DIR/ma" && ! listed "$TEST_DIR/ma" new &&
	unmount_cache "$TEST_DIR/ma" "$TEST_DIR/ttl-root/root"
'

test_expect_success '-o dir_ttl on the command line overrides the configuration'"'"'s' '
	H=$SERVER/home-b && mkdir -p "$H" && echo old >"$H/old" &&
	rm -rf "$TEST_DIR/ttl-root/root" &&
	roamfs_conf "$TEST_DIR/mb" "$H" "config=$TTL,dir_ttl=1" &&
	listed "$TEST_DIR/mb" old && echo new >"$H/new" &&
	wait_for listed "$TEST_DIR/mb" new &&
	unmount_cache "$TEST_DIR/mb" "$TEST_DIR/ttl-root/root"
'

# refused FILE LINE PATTERN: roamfs -o config=FILE fails with status 1 and
# one line, "roamfs: FILE:LINE: ..." matching PATTERN (LINE empty: "FILE: ..."
# or a line naming FILE), before the mount point holds anything.
M2=$TEST_DIR/m2
mkdir -p "$M2"
refused() {
	_f=$1 _l=$2 _pat=$3
	timeout 60 "$ROAMFS" -o "port=$DEAD,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,config=$_f" \
	    "root@127.0.0.1:$SERVER/home" "$M2" >"$TEST_DIR/out" 2>&1
	_rc=$?
	cat "$TEST_DIR/out"
	echo "status $_rc"
	test "$_rc" -eq 1 &&
	test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	if [ -n "$_l" ]; then
		grep -q "^roamfs: $_f:$_l: $_pat" "$TEST_DIR/out"
	else
		grep -q "^roamfs: .*$_f.*$_pat" "$TEST_DIR/out"
	fi &&
	! grep -q " $M2 " /proc/mounts &&
	test ! -e "$CROOT/root2"
}
# A cache root no good file names: a refused mount must not make a cache there.
NOROOT="cache_root = $CROOT/root2"

test_expect_success 'an unknown key is refused with FILE:LINE' '
	refused "$(conf unknown "$NOROOT" "# next" "cache_maxx = 1G")" 3 \
	    "unknown key '"'"'cache_maxx'"'"': see roamfs.conf(5) for the keys, or remove the line$"
'

test_expect_success 'a line without = is refused with FILE:LINE' '
	refused "$(conf noeq "$NOROOT" "cache_max 10G")" 2 \
	    "'"'"'cache_max 10G'"'"' has no '"'"'='"'"': write KEY = VALUE (see roamfs.conf(5))$"
'

test_expect_success 'a bad size (12Q) is refused with FILE:LINE' '
	refused "$(conf size "$NOROOT" "cache_max = 12Q  # Q?")" 2 \
	    "cache_max = 12Q: expected a size such as 500M, 20G or 10%"
'

test_expect_success 'a percentage of 150% is refused with FILE:LINE' '
	refused "$(conf pct "$NOROOT" "cache_total = 150%")" 2 \
	    "cache_total = 150%: a percentage must be from 1% to 100%$"
'

test_expect_success 'a key set twice is refused with the line of each' '
	refused "$(conf dup "$NOROOT" "dir_ttl = 5" "" "dir_ttl = 6")" 4 \
	    "dir_ttl is set again (first on line 2): keep one of the two lines$"
'

test_expect_success 'a relative cache_root is refused with FILE:LINE' '
	refused "$(conf rel "cache_root = var/cache/roamfs")" 1 \
	    "cache_root = var/cache/roamfs: give an absolute path, starting with '"'"'/'"'"'"
'

test_expect_success 'a number out of range is refused with FILE:LINE' '
	refused "$(conf range "$NOROOT" "sync_interval = 0")" 2 \
	    "sync_interval = 0: expected a whole number of seconds from 1 to 60$"
'

test_expect_success 'a file any user may write to is refused' '
	f=$(conf open "$NOROOT" "dir_ttl = 9") && chmod 646 "$f" &&
	refused "$f" "" "any user may change this site configuration (mode 646): let only root write to it (chmod o-w $f)$"
'

test_expect_success 'a configuration named with config= must exist' '
	refused "$TEST_DIR/conf/none.conf" "" "does not exist: check the file name (roamfs.conf(5))$"
'

test_expect_success 'a bad -o cache_max is refused in one line' '
	timeout 60 "$ROAMFS" -o "port=$DEAD,IdentityFile=$SSH_KEY,cache_max=12Q" \
	    "root@127.0.0.1:$SERVER/home" "$M2" >"$TEST_DIR/out" 2>&1
	rc=$?
	cat "$TEST_DIR/out"
	test "$rc" -eq 1 && test "$(wc -l <"$TEST_DIR/out")" -eq 1 &&
	grep -q "^roamfs: option cache_max=12Q: expected a size such as 500M, 20G or 10%" "$TEST_DIR/out" &&
	! grep -q " $M2 " /proc/mounts
'

test_done
