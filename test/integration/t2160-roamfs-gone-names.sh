#!/bin/sh
# t2160 (issue 22): POSIX at the edges of two workstations.  B still
# shows names that A removed on the server; what B's user does with them
# then is what POSIX says of a name that does not exist: an open with
# O_CREAT makes a new file (an editor's "echo x > f" must not fail with
# ENOENT), O_APPEND starts from an empty file, an open without O_CREAT
# says ENOENT; and once B's listing shows the names gone (the open that
# found one gone lists its folder again), mkdir, symlink and link make
# them anew; in a folder whose stale listing still shows them too (the
# kernel's lookup before it makes a name asks the server).  Each open is in a folder of its own, whose listing is stale.  What B
# makes reaches the server and A.  B lists its folders once a minute
# (dir_ttl=60), so that its listing still shows the names when its user
# acts, as any workstation's does for a moment; its kernel has just looked
# them up (ls -l), as a user's shell or file manager has.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H/d" "$H/e" "$H/k" "$H/n"
for n in m s l src; do echo "old $n" >"$H/n/$n"; done
for n in f m s l src; do echo "old $n" >"$H/d/$n"; done
echo "old g" >"$H/e/g"
echo "old h" >"$H/k/h"
A=$(ws_dir A)
B=$(ws_dir B)

test_expect_success 'two workstations show the same folder, B has the files cached' '
	ws_mount A && ws_mount B dir_ttl=60 &&
	for n in d/f d/m d/s d/l d/src e/g k/h n/m n/s n/l n/src; do
		bytes_are "$B/$n" "old ${n#*/}" || return 1
	done &&
	test -f "$A/d/f"
'

test_expect_success 'A removes them; they reach the server' '
	(cd "$A/d" && rm f m s l) && rm "$A/e/g" "$A/k/h" &&
	(cd "$A/n" && rm m s l) &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	! test -e "$H/d/f" && ! test -e "$H/d/m" &&
	# past attr_ttl (3 s): B asks the server at its next open
	sleep 4
'

test_expect_success 'on B, "echo x > f" over a name removed on the server makes the file' '
	ls -l "$B/d" >/dev/null &&
	echo x >"$B/d/f" 2>"$TEST_DIR/err" || { cat "$TEST_DIR/err"; return 1; }
	bytes_are "$B/d/f" x
'

test_expect_success 'on B, "echo y >> g" starts from an empty file' '
	ls -l "$B/e" >/dev/null &&
	echo y >>"$B/e/g" 2>"$TEST_DIR/err" || { cat "$TEST_DIR/err"; return 1; }
	bytes_are "$B/e/g" y
'

test_expect_success 'on B, reading a name removed on the server says ENOENT' '
	ls -l "$B/k" >/dev/null &&
	! cat "$B/k/h" 2>"$TEST_DIR/err" >/dev/null &&
	grep -q "No such file or directory" "$TEST_DIR/err" &&
	! test -e "$B/k/h"
'

test_expect_success 'on B, mkdir, ln -s and ln of names removed on the server make them' '
	mkdir "$B/d/m" && test -d "$B/d/m" &&
	ln -s target "$B/d/s" && link_is "$B/d/s" target &&
	ln "$B/d/src" "$B/d/l" && bytes_are "$B/d/l" "old src" &&
	test "$(stat -c %h "$B/d/src")" = 2
'

test_expect_success 'on B, mkdir, ln -s and ln make names removed on the server in a folder not listed since' '
	ls -l "$B/n" >"$TEST_DIR/ls.out" && grep -q " m$" "$TEST_DIR/ls.out" &&
	mkdir "$B/n/m" && test -d "$B/n/m" &&
	ln -s target "$B/n/s" && link_is "$B/n/s" target &&
	ln "$B/n/src" "$B/n/l" && bytes_are "$B/n/l" "old src" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache B)" >/dev/null &&
	test -d "$H/n/m" && link_is "$H/n/s" target && bytes_are "$H/n/l" "old src"
'

test_expect_success 'what B made is on the server and A sees it, no conflict copy' '
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache B)" >/dev/null &&
	bytes_are "$H/d/f" x && bytes_are "$H/e/g" y && ! test -e "$H/k/h" &&
	test -d "$H/d/m" && link_is "$H/d/s" target && bytes_are "$H/d/l" "old src" &&
	no_conflicts "$H" &&
	wait_server bytes_are "$A/d/f" x && wait_server bytes_are "$A/e/g" y &&
	wait_server test -d "$A/d/m" && link_is "$A/d/s" target &&
	! grep -E "set aside|could not" "$(ws_cache B)/roamfs.log"
'

test_done
