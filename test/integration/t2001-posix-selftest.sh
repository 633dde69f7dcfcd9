#!/bin/sh
# t2001: the POSIX behaviour suite itself: plain directories compare equal,
# the comparison fails on a filesystem that really differs (sshfs, a noexec
# tmpfs) and names the differing steps, and the ignore list works.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/test/integration/lib.sh"

require_root
require_fuse
SUITE="$top_builddir/test/integration/posix/posixsuite"
COMPARE="$top_srcdir/test/integration/posix-compare.sh"
[ -x "$SUITE" ] || bail_out "$SUITE is missing: run 'make check' to build it"
command -v sshfs >/dev/null || bail_out "sshfs is missing: apt-get install sshfs"
export POSIXSUITE="$SUITE"
export POSIX_REFERENCE_BASE="$TEST_DIR"

test_expect_success 'posixsuite refuses a directory that is not empty' '
	mkdir "$TEST_DIR/full" && touch "$TEST_DIR/full/x" &&
	! "$SUITE" "$TEST_DIR/full" >"$TEST_DIR/full.out" 2>"$TEST_DIR/full.err" &&
	grep "not empty" "$TEST_DIR/full.err"
'

test_expect_success 'transcript of a plain directory shows Linux semantics' '
	mkdir "$TEST_DIR/plain" &&
	"$SUITE" "$TEST_DIR/plain" >"$TEST_DIR/plain.out" &&
	grep -x "== 33 misc-special" "$TEST_DIR/plain.out" &&
	grep -x "open-excl.excl-existing: open(\"f\", O_WRONLY | O_CREAT | O_EXCL, 0644) = -1 EEXIST" "$TEST_DIR/plain.out" &&
	grep -x "open-append.content: content \"hello world!\"" "$TEST_DIR/plain.out" &&
	grep -x "rename-files.file-over-dir: rename(\"f\", \"d\") = -1 EISDIR" "$TEST_DIR/plain.out" &&
	grep -x "rename-dirs.dir-into-own-subdir: rename(\"p\", \"p/q/r\") = -1 EINVAL" "$TEST_DIR/plain.out" &&
	grep -x "io-big.fstat: type reg mode 0644 nlink 1 size 5368709124 owner me/me" "$TEST_DIR/plain.out" &&
	grep -x "unlink-open.fstat: type reg mode 0644 nlink 0 size 8 owner me/me" "$TEST_DIR/plain.out" &&
	grep -x "link-hard.link-dir: link(\"d\", \"dl\") = -1 EPERM" "$TEST_DIR/plain.out" &&
	grep -x "names-long.create-256: open(name, O_WRONLY | O_CREAT, 0644) = -1 ENAMETOOLONG" "$TEST_DIR/plain.out" &&
	grep -x "mmap-shared.read-after-msync: pread(6@4096) = 6 \"mapped\"" "$TEST_DIR/plain.out" &&
	! grep "\.setup:" "$TEST_DIR/plain.out"
'

test_expect_success 'two plain directories compare equal' '
	mkdir "$TEST_DIR/a" "$TEST_DIR/b" &&
	"$COMPARE" "$TEST_DIR/a" "$TEST_DIR/b" >"$TEST_DIR/ab.diff" &&
	test ! -s "$TEST_DIR/ab.diff" &&
	test -z "$(ls -A "$TEST_DIR/a")" && test -z "$(ls -A "$TEST_DIR/b")"
'

# tmpfs gained user xattrs in Linux 6.6; older kernels differ there only.
test_expect_success 'a plain directory and tmpfs compare equal (xattrs aside)' '
	mkdir "$TEST_DIR/tmpfs" &&
	mount -t tmpfs -o size=64m roamtest "$TEST_DIR/tmpfs" &&
	"$COMPARE" "$TEST_DIR/tmpfs" >"$TEST_DIR/tmpfs.diff"; rc=$?
	umount "$TEST_DIR/tmpfs" && test $rc -le 1 &&
	! grep "^[-+][a-z]" "$TEST_DIR/tmpfs.diff" | grep -v "^[-+]xattr-user\."
'

# A noexec bind mount of a directory on the reference filesystem: exactly
# one step must differ.
test_expect_success 'a noexec bind mount differs in exactly the X_OK step' '
	mkdir "$TEST_DIR/noexec-src" "$TEST_DIR/noexec" &&
	mount --bind "$TEST_DIR/noexec-src" "$TEST_DIR/noexec" &&
	mount -o remount,bind,noexec "$TEST_DIR/noexec" &&
	"$COMPARE" "$TEST_DIR/noexec" >"$TEST_DIR/noexec.diff"; rc=$?
	test $rc -eq 1 &&
	grep -x "+misc-access.x-ok-0755: access(\"f\", X_OK) = -1 EACCES" "$TEST_DIR/noexec.diff" &&
	grep -x "\-misc-access.x-ok-0755: access(\"f\", X_OK) = 0" "$TEST_DIR/noexec.diff" &&
	test "$(grep -c "^[-+][a-z]" "$TEST_DIR/noexec.diff")" -eq 2
'
at_exit "umount '$TEST_DIR/noexec' 2>/dev/null"

test_expect_success 'the ignore list removes documented steps and insists on reasons' '
	echo "misc-access.x-ok-0755" >"$TEST_DIR/noreason" &&
	printf "%s\n" "# known differences of a noexec mount" \
	    "misc-access.x-ok-0755   # noexec forbids X_OK whatever the mode" >"$TEST_DIR/ignore" &&
	"$COMPARE" "$TEST_DIR/noexec" "" "$TEST_DIR/noreason" >/dev/null 2>"$TEST_DIR/noreason.err"; rc1=$?
	"$COMPARE" "$TEST_DIR/noexec" "" "$TEST_DIR/ignore" >"$TEST_DIR/ignored.diff"; rc2=$?
	test $rc1 -eq 2 && grep "reason" "$TEST_DIR/noreason.err" &&
	test $rc2 -eq 0 && test ! -s "$TEST_DIR/ignored.diff"
'

test_expect_success 'start sshd and mount its directory with sshfs' '
	start_sshd &&
	mkdir "$TEST_DIR/sshfs" &&
	sshfs -o "IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,port=$SSHD_PORT,BatchMode=yes" \
	    "root@127.0.0.1:$SERVER" "$TEST_DIR/sshfs" &&
	grep -q " $TEST_DIR/sshfs fuse.sshfs " /proc/mounts
'
at_exit "unmount_quiet '$TEST_DIR/sshfs'"

# These are the differences sshfs 3.7 (Debian 12) shows; each is a real
# departure from local semantics that roamfs has to decide on as well.
test_expect_success 'sshfs differs, and the diff names the known differences' '
	"$COMPARE" "$TEST_DIR/sshfs" >"$TEST_DIR/sshfs.diff" 2>"$TEST_DIR/sshfs.err"; rc=$?
	cat "$TEST_DIR/sshfs.diff" &&
	test $rc -eq 1 &&
	grep -x "+dir-nlink.two-subdirs: nlink 1" "$TEST_DIR/sshfs.diff" &&
	grep -x "\-dir-nlink.two-subdirs: nlink 4" "$TEST_DIR/sshfs.diff" &&
	grep -x "+link-hard.stat-a: type reg mode 0644 nlink 1 size 1 owner me/me" "$TEST_DIR/sshfs.diff" &&
	grep -x "+rename-flags.exchange: renameat2(AT_FDCWD, \"b\", AT_FDCWD, \"y\", RENAME_EXCHANGE) = -1 EINVAL" "$TEST_DIR/sshfs.diff" &&
	grep -x "+rename-flags.noreplace-new: renameat2(AT_FDCWD, \"a\", AT_FDCWD, \"c\", RENAME_NOREPLACE) = -1 EINVAL" "$TEST_DIR/sshfs.diff" &&
	grep -x "+attr-utimens.explicit-nsec: atime nsec kept: no, mtime nsec kept: no" "$TEST_DIR/sshfs.diff" &&
	grep -x "+unlink-open.listing-while-open: \[\".fuse_hidden<id>\"\]" "$TEST_DIR/sshfs.diff" &&
	grep -x "+rename-dirs.dir-over-nonempty-dir: rename(\"n1\", \"n2\") = -1 EPERM" "$TEST_DIR/sshfs.diff" &&
	grep -x "+xattr-user.set: setxattr(\"f\", \"user.roam\", \"v1\", 2, 0) = -1 EOPNOTSUPP" "$TEST_DIR/sshfs.diff" &&
	! grep "^[-+]open-excl\." "$TEST_DIR/sshfs.diff" &&
	! grep "^[-+]lock-conflict\." "$TEST_DIR/sshfs.diff" &&
	! grep "^[-+]io-big\." "$TEST_DIR/sshfs.diff"
'

test_done
