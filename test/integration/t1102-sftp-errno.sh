#!/bin/bash
# t1102: server errors reach the caller as the right errno.
#
# OpenSSH's sftp-server answers SSH_FX_FAILURE (no detail) for EEXIST,
# ENOTEMPTY and EISDIR; the client then looks at the path with LSTAT and
# reports EEXIST (mkdir, ln, symlink over an existing name), ENOTEMPTY
# (rmdir of a non-empty directory, mv of a directory onto a non-empty one)
# and EISDIR (rm of a directory, mv of a file onto a directory).
. "$top_srcdir/test/integration/lib.sh"
require_root
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
T() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 "$@"; }
# expect_errno NAME CMD...: the tool fails with exit 1 and reports NAME.
expect_errno() {
	want=$1; shift
	"$@" 2>"$TEST_DIR/err"; rc=$?
	cat "$TEST_DIR/err"
	test $rc = 1 && grep -q ": $want (" "$TEST_DIR/err"
}

test_expect_success 'ENOENT: stat, get and rm of a missing file' '
	expect_errno ENOENT T stat "$SERVER/missing" &&
	expect_errno ENOENT T get "$SERVER/missing" "$TEST_DIR/x" &&
	expect_errno ENOENT T rm "$SERVER/missing" &&
	expect_errno ENOENT T ls "$SERVER/missing"
'

test_expect_success 'ENOENT: put into a missing directory' '
	echo x >"$TEST_DIR/small" &&
	expect_errno ENOENT T put "$TEST_DIR/small" "$SERVER/nodir/f"
'

test_expect_success 'ENOTEMPTY: rmdir of a non-empty directory keeps it' '
	mkdir -p "$SERVER/full" && touch "$SERVER/full/f" &&
	expect_errno ENOTEMPTY T rmdir "$SERVER/full" &&
	test -f "$SERVER/full/f"
'

test_expect_success 'EEXIST: mkdir, ln and symlink over an existing name' '
	expect_errno EEXIST T mkdir "$SERVER/full" &&
	touch "$SERVER/other" &&
	expect_errno EEXIST T ln "$SERVER/other" "$SERVER/full/f" &&
	expect_errno EEXIST T symlink x "$SERVER/full/f" &&
	test -f "$SERVER/full/f" && test ! -L "$SERVER/full/f"
'

test_expect_success 'EISDIR: rm of a directory keeps it' '
	expect_errno EISDIR T rm "$SERVER/full" && test -d "$SERVER/full"
'

test_expect_success 'ENOTEMPTY / EISDIR: mv onto a non-empty directory keeps both' '
	mkdir -p "$SERVER/src/sub" &&
	expect_errno ENOTEMPTY T mv "$SERVER/src" "$SERVER/full" &&
	test -d "$SERVER/src/sub" && test -f "$SERVER/full/f" &&
	expect_errno EISDIR T mv "$SERVER/other" "$SERVER/full" &&
	test -f "$SERVER/other"
'

test_expect_success 'a 256-byte name is EBADMSG (OpenSSH: BAD_MESSAGE for ENAMETOOLONG)' '
	expect_errno EBADMSG T mkdir "$SERVER/$(printf "n%.0s" $(seq 1 256))"
'

# An unprivileged user (root bypasses permission bits).
U=roamsftp$$
UHOME="$TEST_DIR/home-$U"
useradd -M -d "$UHOME" -s /bin/sh "$U" || bail_out "useradd failed"
at_exit "userdel '$U' 2>/dev/null"
usermod -p '*' "$U"	# not locked: sshd refuses locked accounts
mkdir -p "$UHOME/.ssh" && cp "$SSH_KEY.pub" "$UHOME/.ssh/authorized_keys" &&
	chown -R "$U" "$UHOME" || bail_out "cannot set up $UHOME"
TU() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" "$U@127.0.0.1" "$@"; }
mkdir -p "$SERVER/ro/sub" && echo secret >"$SERVER/ro/f" && chmod 0555 "$SERVER/ro"
chmod 600 "$SERVER/ro/f"

test_expect_success 'the unprivileged user can log in and read' '
	test "$(TU realpath .)" = "$UHOME" && TU ls "$SERVER/ro" >/dev/null
'

test_expect_success 'EACCES: put, mkdir, rm, mv in a 0555 directory change nothing' '
	expect_errno EACCES TU put "$TEST_DIR/small" "$SERVER/ro/new" &&
	expect_errno EACCES TU mkdir "$SERVER/ro/newdir" &&
	expect_errno EACCES TU rm "$SERVER/ro/f" &&
	expect_errno EACCES TU mv "$SERVER/ro/f" "$SERVER/ro/g" &&
	expect_errno EACCES TU rmdir "$SERVER/ro/sub" &&
	test ! -e "$SERVER/ro/new" && test ! -e "$SERVER/ro/newdir" &&
	test -f "$SERVER/ro/f" && test -d "$SERVER/ro/sub"
'

test_expect_success 'EACCES: get of a file the user may not read' '
	expect_errno EACCES TU get "$SERVER/ro/f" "$TEST_DIR/stolen"
'
test_done
