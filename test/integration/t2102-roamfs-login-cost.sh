#!/bin/sh
# Login cost: mounting a home of 100,000 files and reading .bashrc lists
# only the directories on the way.  Counted in server requests (the
# server's own SFTP log), not with a stopwatch.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
log_sftp_requests
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt

test_expect_success 'a home of 100,000 files' '
	python3 - "$H" <<-PY
	import os, sys
	h = sys.argv[1]
	for d in range(1000):
	    p = os.path.join(h, "dir%03d" % d, "sub")
	    os.makedirs(p)
	    for f in range(100):
	        open(os.path.join(p if f % 2 else os.path.dirname(p), "file%03d" % f), "w").close()
	with open(os.path.join(h, ".bashrc"), "w") as f:
	    f.write("export PS1=roam\n")
	PY
	test "$(find "$H" -type f | wc -l)" -ge 100001
'

test_expect_success 'mount and read .bashrc' '
	: >"$SFTP_LOG" &&
	mount_roamfs "$M" &&
	test "$(cat "$M/.bashrc")" = "export PS1=roam"
'

# The home is opened twice: once by the mount, which checks in the
# round trip of its STAT that the user may list the home, once to list it.
test_expect_success 'only the home directory was listed, only .bashrc opened' '
	cat "$SFTP_LOG" &&
	test "$(grep -c "opendir" "$SFTP_LOG")" = 2 &&
	test "$(grep -c "opendir \"$H\"" "$SFTP_LOG")" = 2 &&
	grep "open \"" "$SFTP_LOG" >"$TEST_DIR/opens" &&
	test "$(wc -l <"$TEST_DIR/opens")" = 1 &&
	grep -q "/.bashrc\"" "$TEST_DIR/opens"
'

test_expect_success 'a deeper path lists only the directories on its way' '
	: >"$SFTP_LOG" &&
	test -f "$M/dir500/sub/file001" &&
	cat "$SFTP_LOG" &&
	test "$(grep -c opendir "$SFTP_LOG")" = 2
'

test_expect_success 'unmount' '
	unmount_roamfs "$M"
'

test_done
