#!/bin/sh
# A clean build is silent and leaves the checkout clean: autoreconf -fi
# warns of nothing, an in-tree ./configure && make with the default flags
# prints no warning, and git status shows nothing afterwards.  Works on a
# copy of the sources: the files git knows of in a checkout, or the whole
# dist tree under make distcheck (no .git there).
. "$(dirname "$0")/lib.sh"
for t in git autoreconf make cc tar; do
	command -v "$t" >/dev/null || bail_out "$t is missing: run scripts/deps.sh"
done
SRC=$TEST_DIR/src
mkdir -p "$SRC"
top=$(cd "$top_srcdir" && pwd -P)
build=$(cd "$top_builddir" && pwd -P)
# The build's make must not reach this one: its jobserver and flags are
# not for this tree.  The default flags are the point of the test.
clean_env="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u CPPFLAGS -u LDFLAGS -u CC"

if [ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$top" ]; then
	what="the files git knows of"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$SRC" ||
		bail_out "cannot copy the sources"
else
	# make distcheck: the dist tree, without its build and install directories.
	what="the dist tree"
	case $build in
	"$top"/*) skip_build=./${build#"$top"/} ;;
	*) skip_build=./_build ;;
	esac
	(cd "$top" && tar --exclude="./${skip_build#./}" --exclude="$skip_build" \
	    --exclude=./_build --exclude=./_inst -cf - .) | tar -xf - -C "$SRC" ||
		bail_out "cannot copy the sources"
	chmod -R u+w "$SRC"
fi
test -f "$SRC/configure.ac" || bail_out "the copy of the sources has no configure.ac"
say "copied $what: $(find "$SRC" -type f | wc -l) files"
(cd "$SRC" && git init -q && git add -A &&
    git -c user.name=test -c user.email=test@invalid commit -q -m sources) ||
	bail_out "cannot make a git repository of the copy"

test_expect_success 'the copy starts clean' '
	test -z "$(cd "$SRC" && git status --porcelain)"
'

test_expect_success 'autoreconf -fi warns of nothing' '
	(cd "$SRC" && $clean_env autoreconf -fi) >"$TEST_DIR/autoreconf.out" 2>&1
	rc=$?
	cat "$TEST_DIR/autoreconf.out"
	test "$rc" -eq 0 &&
	! grep -i "warn" "$TEST_DIR/autoreconf.out"
'

test_expect_success 'an in-tree ./configure && make with the default flags prints no warning' '
	(cd "$SRC" && $clean_env ./configure) >"$TEST_DIR/configure.out" 2>"$TEST_DIR/configure.err" &&
	! grep -i "warn" "$TEST_DIR/configure.out" "$TEST_DIR/configure.err" &&
	(cd "$SRC" && $clean_env make -j2) >"$TEST_DIR/make.out" 2>"$TEST_DIR/make.err"
	rc=$?
	cat "$TEST_DIR/make.err"
	grep -i "warn" "$TEST_DIR/make.out"
	test "$rc" -eq 0 &&
	test ! -s "$TEST_DIR/make.err" &&
	! grep -q -i "warn" "$TEST_DIR/make.out"
'

test_expect_success 'git status is empty after the build' '
	(cd "$SRC" && git status --porcelain) >"$TEST_DIR/status" &&
	cat "$TEST_DIR/status" &&
	test ! -s "$TEST_DIR/status"
'

test_expect_success 'and after building the test programs' '
	(cd "$SRC" && $clean_env make -j2 check TESTS=) >"$TEST_DIR/check.out" 2>&1 &&
	(cd "$SRC" && git status --porcelain) >"$TEST_DIR/status" &&
	cat "$TEST_DIR/status" &&
	test ! -s "$TEST_DIR/status"
'

test_done
