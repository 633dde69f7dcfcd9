#!/bin/sh
# A checkout in a directory other users cannot enter (root's home is
# 0700): the tests that run roamfs as a user still pass, and sanitizer
# reports of those users' processes still reach the report directory.
# The build (and source) directory is bind-mounted inside a 0700
# directory, and t2105 runs from there.  Then as under make distcheck:
# the release tree built again with the installation prefix, hence the
# site configuration and the cache root, inside that directory.
. "$(dirname "$0")/lib.sh"
require_root
P=$TEST_DIR/private
mkdir -m 700 "$P" "$P/src"
mount --bind "$top_srcdir" "$P/src" || bail_out "cannot bind-mount the source directory"
at_exit "umount -l '$P/src'"
case $top_builddir in
"$top_srcdir")
	b=$P/src ;;
"$top_srcdir"/*)
	b=$P/src/${top_builddir#"$top_srcdir"/} ;;
*)
	b=$P/build
	mkdir -m 700 "$b"
	mount --bind "$top_builddir" "$b" || bail_out "cannot bind-mount the build directory"
	at_exit "umount -l '$b'" ;;
esac
# Sanitizer reports, when the run asks for them in files, go inside the
# private location as well: that is where scripts/test.sh puts them.
# san_to_private OPTIONS: the options with log_path moved under $b.
san_to_private() {
	printf '%s\n' "$1" | sed "s|log_path=$top_builddir/|log_path=$b/|"
}
[ -z "${ASAN_OPTIONS+set}" ] || ASAN_OPTIONS=$(san_to_private "$ASAN_OPTIONS")
[ -z "${UBSAN_OPTIONS+set}" ] || UBSAN_OPTIONS=$(san_to_private "$UBSAN_OPTIONS")

test_expect_success 'the private directory is closed to other users' '
	test "$(stat -c %a "$P")" = 700 &&
	test -x "$b/roamfs" &&
	! setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$b/roamfs"
'

test_expect_success 't2105 passes from the private checkout' '
	top_srcdir=$P/src top_builddir=$b sh "$P/src/test/integration/t2105-roamfs-user-password.sh" >"$TEST_DIR/t2105.out" 2>&1
	rc=$?
	cat "$TEST_DIR/t2105.out"
	test "$rc" -eq 0 &&
	! grep -q "^not ok\|^Bail out" "$TEST_DIR/t2105.out" &&
	grep -q "^ok 1 - the user mounts" "$TEST_DIR/t2105.out"
'

# The configure options of this build that the release tree's shares
# (--enable-asan and the like; they hold no spaces).
DC_CONF=
eval "set -- $("$top_builddir/config.status" --config)"
for a; do
	case $a in
	--enable-* | --disable-* | --with-* | --without-*) DC_CONF="$DC_CONF $a" ;;
	esac
done
DC=$P/distcheck
MAKE="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory"
test_expect_success 'as under make distcheck: a release tree built with its prefix in the private directory' '
	mkdir -p "$DC/build" &&
	$MAKE -C "$top_builddir" distdir distdir="$DC/src" >"$TEST_DIR/dc.out" 2>&1 &&
	(cd "$DC/build" && "$DC/src/configure" $DC_CONF --prefix="$DC/_inst" &&
	    $MAKE roamfs roamctl) >>"$TEST_DIR/dc.out" 2>&1 &&
	"$DC/build/roamfs" --help 2>&1 | grep -F "(default $DC/_inst/etc/roamfs/roamfs.conf)" ||
	{ tail -n 30 "$TEST_DIR/dc.out"; false; }
'

test_expect_success 'there, a user is refused the site configuration in one line' '
	mkdir -p "$TEST_DIR/dc-bin" "$TEST_DIR/dc-mnt" &&
	cp "$DC/build/roamfs" "$TEST_DIR/dc-bin/roamfs" && chmod -R 755 "$TEST_DIR/dc-bin" &&
	! run_as nobody "$TEST_DIR/dc-bin/roamfs" -o port=1 nobody@127.0.0.1:/x "$TEST_DIR/dc-mnt" \
	    >"$TEST_DIR/dc-refused" 2>&1 &&
	cat "$TEST_DIR/dc-refused" &&
	test "$(wc -l <"$TEST_DIR/dc-refused")" -eq 1 &&
	grep -F "cannot read the site configuration $DC/_inst/etc/roamfs/roamfs.conf: Permission denied" \
	    "$TEST_DIR/dc-refused"
'

test_expect_success 'there, t2105 passes: its users get a site configuration they may read' '
	top_srcdir=$DC/src top_builddir=$DC/build \
	    sh "$DC/src/test/integration/t2105-roamfs-user-password.sh" >"$TEST_DIR/dc-t2105.out" 2>&1
	rc=$?
	cat "$TEST_DIR/dc-t2105.out"
	test "$rc" -eq 0 &&
	! grep -q "^not ok\|^Bail out" "$TEST_DIR/dc-t2105.out" &&
	grep -q "^ok 1 - the user mounts" "$TEST_DIR/dc-t2105.out" &&
	grep -q "^# users cannot enter $DC/_inst/etc/roamfs" "$TEST_DIR/dc-t2105.out"
'

test_done
