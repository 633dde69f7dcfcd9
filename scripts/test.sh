#!/bin/sh
# Build roamfs with warnings as errors and run the whole test suite.
# Usage: scripts/test.sh [configure options...]   e.g. --enable-asan --enable-ubsan
# With DISTCHECK=1 in the environment, make distcheck runs first; with
# TESTS='test/... test/...', only those tests run.
# Ends with a line "N passed, N failed" and exits non-zero on any failure.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
build="${BUILD_DIR:-$top/build}"
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$build"
cd "$build"
build=$(pwd)	# absolute: the sanitizers' log_path must not depend on a test's cwd
"$top/configure" --enable-debug "$@" >configure.out 2>&1 || { tail -n 20 configure.out; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { grep -E 'error|warning' make.out | head -n 40; tail -n 20 make.out; exit 1; }
# show_failures DIR...: what the failing cases printed, from the test logs under DIR.
show_failures() {
	for log in $(find "$@" -name '*.log' 2>/dev/null); do
		grep -qE '^(not ok|Bail out)' "$log" || continue
		echo "---- $log"
		grep -E -A 30 '^(not ok|Bail out)' "$log" | head -n 80
	done
}
# DISTCHECK=1: also check that the release tarball builds and passes.
if [ -n "${DISTCHECK:-}" ]; then
	if ! make distcheck >distcheck.out 2>&1; then
		grep -E '^(FAIL|ERROR)|rror' distcheck.out | head -n 30
		show_failures roamfs-*	# the release tree distcheck left behind
		tail -n 20 distcheck.out
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "make distcheck: passed"
fi
# Sanitizer reports go to files: a daemonised roamfs has no stderr to print
# them on.  Any report at all fails the run.
san="$build/sanitizer-reports"
rm -rf "$san" && mkdir -p "$san"
export ASAN_OPTIONS="log_path=$san/asan:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$san/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
set +e
make -j1 check ${TESTS:+TESTS="$TESTS"} >check.out 2>&1
status=$?
set -e
grep -E '^(FAIL|ERROR|XPASS):' check.out || true
show_failures test
num() { sed -n "s/^# $1: *\([0-9]*\).*/\1/p" check.out | tail -n 1; }
pass=$(num PASS); fail=$(num FAIL); err=$(num ERROR); xpass=$(num XPASS)
pass=${pass:-0}; fail=$(( ${fail:-0} + ${err:-0} + ${xpass:-0} ))
reports=$(ls "$san" 2>/dev/null | wc -l)
if [ "$reports" -gt 0 ]; then
	echo "---- $reports sanitizer report(s):"
	head -n 40 "$san"/* 
	fail=$((fail + reports))
fi
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
	tail -n 30 check.out
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
