#!/bin/sh
# t2170 (issue 23): the fscrypt helpers an encrypted cache is built on
# (src/roamfs/fscrypt.c, through test/tools/fscrypt-tool), on a loop
# mounted ext4 image made with -O encrypt.  A directory encrypted with a
# key (v2 policy) holds files whose names and bytes are on the disk only
# as ciphertext; once the key is removed the names read as encoded
# ciphertext and the contents cannot be opened, while sizes and removal
# still work; the key added again gives everything back.  A user adds and
# removes a key of their own.  ext4 without the feature and tmpfs say
# they cannot encrypt.
. "$(dirname "$0")/lib.sh"
require_root
TOOL=$top_builddir/test/tools/fscrypt-tool
[ -x "$TOOL" ] || bail_out "$TOOL is missing: run make check, or make test/tools/fscrypt-tool"
command -v mkfs.ext4 >/dev/null || bail_out "mkfs.ext4 is missing (e2fsprogs)"
IMG=$TEST_DIR/enc.img
FS=$TEST_DIR/fs
mkdir -p "$FS"
truncate -s 64M "$IMG" && mkfs.ext4 -q -O encrypt "$IMG" || bail_out "cannot make an ext4 image with -O encrypt"
mount -o loop "$IMG" "$FS" || bail_out "cannot mount the image (loop devices?)"
at_exit "umount -l '$FS' 2>/dev/null"
KEY=$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET="the plain bytes of a pupil's essay $$"

test_expect_success 'the image can encrypt; a directory gets a v2 policy with the key' '
	test "$("$TOOL" can "$FS")" = yes &&
	mkdir "$FS/cache" && ID=$("$TOOL" encrypt "$FS/cache" "$KEY") &&
	test "$("$TOOL" policy "$FS/cache")" = "$ID" &&
	test "$("$TOOL" present "$FS" "$ID")" = present &&
	mkdir "$FS/cache/data" && printf "%s\n" "$SECRET" >"$FS/cache/data/essay-name.txt" &&
	test "$("$TOOL" policy "$FS/cache/data")" = "$ID"
'

test_expect_success 'key removed: names and bytes are ciphertext, on the mount and on the disk' '
	"$TOOL" remove "$FS" "$ID" >"$TEST_DIR/out" && test "$(cat "$TEST_DIR/out")" = removed &&
	test "$("$TOOL" present "$FS" "$ID")" = absent &&
	! ls -R "$FS/cache" | grep -q "essay-name\|^data$" &&
	f=$(find "$FS/cache" -type f) && test -n "$f" &&
	! cat "$f" >/dev/null 2>&1 &&
	test "$(stat -c %s "$f")" -gt 0 &&
	sync && umount "$FS" &&
	! grep -a -q "$SECRET" "$IMG" && ! grep -a -q "essay-name" "$IMG" &&
	mount -o loop "$IMG" "$FS"
'

test_expect_success 'the key added again gives names and bytes back' '
	test "$("$TOOL" add "$FS" "$KEY")" = "$ID" &&
	test "$(cat "$FS/cache/data/essay-name.txt")" = "$SECRET"
'

test_expect_success 'without the key, removal works (roamctl gc needs no key)' '
	mkdir "$FS/gone" && gid=$("$TOOL" encrypt "$FS/gone" "$KEY") &&
	echo x >"$FS/gone/f" && "$TOOL" remove "$FS" "$gid" >/dev/null &&
	rm -rf "$FS/gone" && test ! -e "$FS/gone"
'

U=roamfc$$
useradd -M -d /nonexistent -s /bin/sh "$U" || bail_out "cannot create user $U"
at_exit "userdel '$U' 2>/dev/null"
# The build tree may be closed to the user (make distcheck): a copy.
mkdir -p "$TEST_DIR/bin" && chmod 755 "$TEST_DIR/bin" && cp "$TOOL" "$TEST_DIR/bin/" &&
    chmod 755 "$TEST_DIR/bin/fscrypt-tool" || bail_out "cannot copy fscrypt-tool for the user"
UTOOL=$TEST_DIR/bin/fscrypt-tool
test_expect_success 'a user adds and removes a key of their own' '
	mkdir "$FS/u" && chown "$U" "$FS/u" &&
	UKEY=$(head -c 64 /dev/urandom | od -An -tx1 | tr -d " \n") &&
	uid=$(run_as "$U" "$UTOOL" encrypt "$FS/u" "$UKEY") &&
	run_as "$U" sh -c "echo mine >\"$FS/u/f\"" &&
	test "$(run_as "$U" "$UTOOL" remove "$FS" "$uid")" = removed &&
	! run_as "$U" cat "$FS/u/f" >/dev/null 2>&1
'

test_expect_success 'ext4 without the feature, and tmpfs, cannot encrypt' '
	truncate -s 32M "$TEST_DIR/plain.img" && mkfs.ext4 -q "$TEST_DIR/plain.img" &&
	mkdir -p "$TEST_DIR/plain" "$TEST_DIR/tmpfs" &&
	mount -o loop "$TEST_DIR/plain.img" "$TEST_DIR/plain" &&
	at_exit "umount -l '$TEST_DIR/plain' 2>/dev/null" &&
	test "$("$TOOL" can "$TEST_DIR/plain")" = no &&
	mount -t tmpfs -o size=1m tmpfs "$TEST_DIR/tmpfs" &&
	at_exit "umount -l '$TEST_DIR/tmpfs' 2>/dev/null" &&
	test "$("$TOOL" can "$TEST_DIR/tmpfs")" = no &&
	mkdir "$TEST_DIR/plain/d" && ! "$TOOL" encrypt "$TEST_DIR/plain/d" "$KEY" 2>"$TEST_DIR/err" &&
	cat "$TEST_DIR/err"
'

test_done
