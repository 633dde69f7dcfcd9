#!/bin/sh
# posix-compare.sh DIR_UNDER_TEST [REFERENCE_DIR [IGNORE_FILE]]
#
# Run posixsuite in a fresh subdirectory of DIR_UNDER_TEST and of
# REFERENCE_DIR (default: a new directory under /var/tmp, on local disk),
# print a unified diff of the two transcripts ("-" reference, "+" under
# test) and exit 0 when they are identical, 1 when they differ, 2 on a
# usage error.
#
# IGNORE_FILE lists step names (the part of a transcript line before ": ",
# e.g. "dir-nlink.empty") known to differ for a documented reason; each
# entry must carry a "# reason" comment on its line.  Those lines are left
# out of both transcripts before comparing.
#
# Environment: POSIXSUITE (path of the binary), POSIX_REFERENCE_BASE
# (where the default reference directory goes), POSIX_TRANSCRIPTS (a
# directory to keep reference.txt and tested.txt in), KEEP_POSIX_DIRS=1
# (leave the suite's working directories behind).
set -u

usage() {
	echo "usage: posix-compare.sh DIR_UNDER_TEST [REFERENCE_DIR [IGNORE_FILE]]" >&2
	exit 2
}

# find_suite: print the posixsuite binary to use.
find_suite() {
	here=$(cd "$(dirname "$0")" && pwd)
	for c in "${POSIXSUITE:-}" \
	    "${top_builddir:+$top_builddir/test/integration/posix/posixsuite}" \
	    "$here/posix/posixsuite"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			echo "$c"
			return 0
		fi
	done
	command -v posixsuite 2>/dev/null && return 0
	echo "posix-compare.sh: posixsuite not found; build it with 'make check' or set POSIXSUITE" >&2
	exit 2
}

# check_ignore FILE: every entry needs a reason comment.
check_ignore() {
	bad=$(sed -e 's/^[[:space:]]*//' "$1" | grep -v -e '^$' -e '^#' | grep -v '[^[:space:]][[:space:]]*#[[:space:]]*[^[:space:]]' || true)
	if [ -n "$bad" ]; then
		echo "posix-compare.sh: $1: every ignored step needs a '# reason' comment; fix these lines:" >&2
		printf '%s\n' "$bad" | sed 's/^/  /' >&2
		exit 2
	fi
}

# filter IGNORE_FILE TRANSCRIPT: drop the lines of ignored steps.
filter() {
	if [ -z "$1" ]; then
		cat "$2"
		return
	fi
	awk 'NR == FNR {
		sub(/#.*/, ""); gsub(/[ \t]/, "")
		if ($0 != "") skip[$0] = 1
		next
	}
	{
		i = index($0, ": ")
		if (i > 0 && (substr($0, 1, i - 1) in skip)) next
		print
	}' "$1" "$2"
}

# run_in BASE OUT: run the suite in a new subdirectory of BASE into OUT.
run_in() {
	work=$(mktemp -d "$1/posixsuite.XXXXXX") || {
		echo "posix-compare.sh: cannot create a directory in $1; check that it exists and is writable" >&2
		exit 2
	}
	workdirs="$workdirs $work"
	"$suite" "$work" >"$2"
	rc=$?
	[ $rc -eq 0 ] || echo "posixsuite stopped with status $rc in $1 (transcript is incomplete)" >>"$2"
}

cleanup() {
	if [ -z "${KEEP_POSIX_DIRS:-}" ]; then
		for w in $workdirs; do
			rm -rf "$w" 2>/dev/null ||
			    echo "posix-compare.sh: could not remove $w (the filesystem still lists entries wrongly?); remove it by hand" >&2
		done
		[ -z "$own_ref" ] || rm -rf "$own_ref"
	fi
	rm -rf "$tmp"
}

[ $# -ge 1 ] && [ $# -le 3 ] || usage
under=$1
ref=${2:-}
ignore=${3:-}
[ -d "$under" ] || { echo "posix-compare.sh: $under is not a directory" >&2; exit 2; }
[ -z "$ignore" ] || [ -r "$ignore" ] || { echo "posix-compare.sh: cannot read $ignore" >&2; exit 2; }
[ -z "$ignore" ] || check_ignore "$ignore"
suite=$(find_suite)
workdirs=""
own_ref=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/posixcmp.XXXXXX") || exit 2
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -z "$ref" ]; then
	own_ref=$(mktemp -d "${POSIX_REFERENCE_BASE:-/var/tmp}/posixref.XXXXXX") || exit 2
	ref=$own_ref
fi
run_in "$ref" "$tmp/reference.raw"
run_in "$under" "$tmp/tested.raw"
filter "$ignore" "$tmp/reference.raw" >"$tmp/reference.txt"
filter "$ignore" "$tmp/tested.raw" >"$tmp/tested.txt"
if [ -n "${POSIX_TRANSCRIPTS:-}" ]; then
	mkdir -p "$POSIX_TRANSCRIPTS" && cp "$tmp/reference.txt" "$tmp/tested.txt" "$POSIX_TRANSCRIPTS/"
fi
diff -u --label "reference $ref" --label "tested $under" "$tmp/reference.txt" "$tmp/tested.txt"
[ $? -eq 0 ] && exit 0
exit 1
