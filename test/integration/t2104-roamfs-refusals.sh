#!/bin/sh
# Bad input gets a clear one-line error, a non-zero exit, no hang, and no
# mount: unknown host key, unreachable server with an empty cache,
# malformed options, unreadable exclusion file, a cache that is not ours,
# a cache already in use, a damaged cache, a bad or dead mount point.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
mkdir -p "$H" "$M"
OPTS="port=$SSHD_PORT,IdentityFile=$SSH_KEY"

# refused OUTFILE ROAMFS-ARGS... MOUNTPOINT: roamfs must fail within 60 s,
# say so in one or two lines, and leave the mount point alone.
refused() {
	_out=$1; shift
	for _mp; do :; done
	_before=$(grep -c " $_mp " /proc/mounts)
	if timeout 60 "$ROAMFS" "$@" >"$_out" 2>&1; then
		echo "roamfs succeeded"; return 1
	fi
	_st=$?
	cat "$_out"
	[ "$_st" -ne 124 ] || { echo "roamfs hung"; return 1; }
	[ "$(wc -l <"$_out")" -le 2 ] || { echo "more than two lines"; return 1; }
	[ "$(grep -c " $_mp " /proc/mounts)" = "$_before" ]
}

test_expect_success 'unknown host key: refused with the fingerprint and how to accept it' '
	: >"$TEST_DIR/empty_known" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$TEST_DIR/empty_known,cache=$TEST_DIR/c1" \
	    "root@127.0.0.1:$H" "$M" &&
	fp=$(ssh-keygen -lf "$SSHD_DIR/host_key.pub" | cut -d" " -f2) &&
	grep -F -q "$fp" "$TEST_DIR/out" &&
	grep -q "ssh-keyscan" "$TEST_DIR/out"
'

test_expect_success 'a known hosts file that is a directory is named as the problem' '
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$TEST_DIR,cache=$TEST_DIR/c13" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "known hosts file $TEST_DIR is not a regular file" "$TEST_DIR/out" &&
	! grep -q "ssh-keyscan" "$TEST_DIR/out"
'

test_expect_success 'changed host key: refused' '
	ssh-keygen -q -t ed25519 -N "" -f "$TEST_DIR/other_key" &&
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d" " -f1-2 "$TEST_DIR/other_key.pub")" >"$TEST_DIR/wrong_known" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$TEST_DIR/wrong_known,cache=$TEST_DIR/c2" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -qi "changed\|does not match\|mismatch" "$TEST_DIR/out"
'

test_expect_success 'unreachable server with an empty cache: clear error, no hang' '
	port=$(free_port) &&
	refused "$TEST_DIR/out" -o "port=$port,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c3" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -qi "refused\|unreachable\|connect" "$TEST_DIR/out"
'

test_expect_success 'malformed options are named' '
	refused "$TEST_DIR/out" -o port=abc "root@127.0.0.1:$H" "$M" &&
	grep -q "port=abc" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" -o "$OPTS,frobnicate" "root@127.0.0.1:$H" "$M" &&
	grep -q "frobnicate" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" "no-colon-here" "$M" &&
	grep -q "user@" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" "ann@[]:" "$M" &&
	grep -q "host name is empty" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" -o StrictHostKeyChecking=no "root@127.0.0.1:$H" "$M" &&
	grep -q "host key" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" -o "$OPTS,workstation=pc/07" "root@127.0.0.1:$H" "$M" &&
	grep -q "workstation=pc/07: the name may not contain" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" -o "$OPTS,workstation=a:b" "root@127.0.0.1:$H" "$M" &&
	grep -q "workstation=a:b: the name may not contain" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" -o "$OPTS,workstation=" "root@127.0.0.1:$H" "$M" &&
	grep -q "workstation= needs a value" "$TEST_DIR/out" &&
	refused "$TEST_DIR/out" -o "$OPTS,attr_ttl=-1" "root@127.0.0.1:$H" "$M" &&
	grep -q "attr_ttl=-1: expected a whole number from 0 to 86400" "$TEST_DIR/out"
'

test_expect_success 'a private key open to others is refused, as ssh refuses it' '
	cp "$SSH_KEY" "$TEST_DIR/open_key" && chmod 644 "$TEST_DIR/open_key" &&
	refused "$TEST_DIR/out" -o "port=$SSHD_PORT,IdentityFile=$TEST_DIR/open_key,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c14" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "chmod 600 $TEST_DIR/open_key" "$TEST_DIR/out" &&
	chmod 600 "$TEST_DIR/open_key" &&
	ROAM_CACHE=$TEST_DIR/c14 SSH_KEY=$TEST_DIR/open_key mount_roamfs "$M" &&
	ROAM_CACHE=$TEST_DIR/c14 unmount_roamfs "$M"
'

test_expect_success 'an unreadable exclusion file is refused' '
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c4,exclude=$TEST_DIR/no-such-file" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "no-such-file" "$TEST_DIR/out"
'

test_expect_success 'a cache owned by another user is refused' '
	mkdir -m 700 "$TEST_DIR/c5" && chown nobody "$TEST_DIR/c5" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c5" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "belongs to" "$TEST_DIR/out"
'

test_expect_success 'a cache readable by others is refused' '
	mkdir -m 755 "$TEST_DIR/c6" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c6" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "chmod 700" "$TEST_DIR/out"
'

test_expect_success 'a second roamfs on a cache in use is refused' '
	ROAM_CACHE=$TEST_DIR/c7 &&
	mount_roamfs "$M" &&
	mkdir -p "$TEST_DIR/mnt2" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c7" \
	    "root@127.0.0.1:$H" "$TEST_DIR/mnt2" &&
	grep -q "in use" "$TEST_DIR/out" &&
	unmount_roamfs "$M"
'

test_expect_success 'a cache made for another server is refused' '
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c7" \
	    "root@127.0.0.1:$SERVER" "$M" &&
	grep -q "belongs to" "$TEST_DIR/out"
'

test_expect_success 'a missing or non-directory mount point is named before connecting' '
	port=$(free_port) &&
	refused "$TEST_DIR/out" -o "port=$port,IdentityFile=$SSH_KEY,cache=$TEST_DIR/c8" \
	    "root@127.0.0.1:$H" "$TEST_DIR/no-such-dir" &&
	grep -q "mount point $TEST_DIR/no-such-dir does not exist" "$TEST_DIR/out" &&
	: >"$TEST_DIR/plain-file" &&
	refused "$TEST_DIR/out" -o "port=$port,IdentityFile=$SSH_KEY,cache=$TEST_DIR/c8" \
	    "root@127.0.0.1:$H" "$TEST_DIR/plain-file" &&
	grep -q "plain-file is not a directory" "$TEST_DIR/out" &&
	test ! -e "$TEST_DIR/c8"
'

test_expect_success 'the mount point of a roamfs killed earlier: told to unmount it' '
	ROAM_CACHE=$TEST_DIR/c9 &&
	mount_roamfs "$M" &&
	kill -9 "$(roamfs_pid "$ROAM_CACHE")" &&
	wait_for sh -c "! stat \"$M\" 2>/dev/null" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c10" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "fusermount3 -u $M" "$TEST_DIR/out" &&
	fusermount3 -u "$M" &&
	mount_roamfs "$M" && echo back >"$M/after-kill" && unmount_roamfs "$M" &&
	content_is "$H/after-kill" back
'

test_expect_success 'a first mount that never reached the server does not bind the cache to it' '
	port=$(free_port) &&
	refused "$TEST_DIR/out" -o "port=$port,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c11" \
	    "root@127.0.0.1:$H" "$M" &&
	ROAM_CACHE=$TEST_DIR/c11 &&
	mount_roamfs "$M" && echo typo-fixed >"$M/typo" && unmount_roamfs "$M" &&
	content_is "$H/typo" typo-fixed &&
	refused "$TEST_DIR/out" -o "port=$port,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c11" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "belongs to" "$TEST_DIR/out"
'

test_expect_success 'a damaged cache database is named, with what to do' '
	mkdir -m 700 "$TEST_DIR/c12" "$TEST_DIR/c12/db" &&
	echo garbage >"$TEST_DIR/c12/db/data.mdb" &&
	refused "$TEST_DIR/out" -o "$OPTS,UserKnownHostsFile=$KNOWN_HOSTS,cache=$TEST_DIR/c12" \
	    "root@127.0.0.1:$H" "$M" &&
	grep -q "$TEST_DIR/c12/db is damaged.*move the cache directory aside" "$TEST_DIR/out" &&
	test "$(cat "$TEST_DIR/c12/db/data.mdb")" = garbage
'

test_done
