#!/bin/sh
# The POSIX behaviour suite gives the same results through roamfs as in a
# plain local directory, but for the documented differences in
# roamfs-posix.ignore; and what it did reaches the server.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
start_sshd || bail_out "cannot start sshd"
M=$TEST_DIR/mnt
POSIXSUITE=$top_builddir/test/integration/posix/posixsuite
export POSIXSUITE

test_expect_success 'mount' '
	mount_roamfs "$M"
'

test_expect_success 'posixsuite: roamfs behaves as a local directory' '
	sh "$top_srcdir/test/integration/posix-compare.sh" "$M" "" \
	    "$top_srcdir/test/integration/roamfs-posix.ignore"
'

test_expect_success 'the same suite run a second time on the warm mount' '
	sh "$top_srcdir/test/integration/posix-compare.sh" "$M" "" \
	    "$top_srcdir/test/integration/roamfs-posix.ignore"
'

test_expect_success 'unmount sends everything; the server matches the mount' '
	mkdir "$M/tree" && cp -a "$top_srcdir/test/integration" "$M/tree/" &&
	unmount_roamfs "$M" &&
	diff -r "$top_srcdir/test/integration" "$SERVER/home/tree/integration"
'

test_done
