#!/bin/sh
# t2153 (issue 21): xfstests' fsx on a roamfs mount while the replay runs:
# random reads, writes, truncates and writes through a shared mmap,
# checked by fsx after every operation, on three files with three seeds
# at once.  At the end the server holds exactly the files fsx left on the
# mount, and no conflict copy exists.
#
# fsx is not packaged in Debian and is never committed here: the test
# builds ltp/fsx.c (with src/statx.h) from an xfstests checkout named by FSX_SRC (a work
# tree, or a bare repository such as the search tool's fetch leaves:
# git show HEAD:ltp/fsx.c), with a small global.h of its own.  Without
# one, the test says so in a skip line (it is not one of the tests that
# need only Debian's packages).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
: "${FSX_SRC:=/work/.mirror/kdave+xfstests/repo}"
FSX_DIR=$TEST_DIR/fsx
mkdir -p "$FSX_DIR"
if [ -f "$FSX_SRC/ltp/fsx.c" ] && [ -f "$FSX_SRC/src/statx.h" ]; then
	cp "$FSX_SRC/ltp/fsx.c" "$FSX_SRC/src/statx.h" "$FSX_DIR/"
elif git -C "$FSX_SRC" show HEAD:ltp/fsx.c >"$FSX_DIR/fsx.c" 2>/dev/null &&
    git -C "$FSX_SRC" show HEAD:src/statx.h >"$FSX_DIR/statx.h" 2>/dev/null; then
	:
else
	echo "ok 1 # SKIP no xfstests checkout at FSX_SRC=$FSX_SRC: fetch xfstests (ltp/fsx.c) and set FSX_SRC"
	echo "1..1"
	exit 0
fi
cat >"$FSX_DIR/global.h" <<'EOF'
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/param.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <assert.h>
#include <getopt.h>
#include <linux/falloc.h>
#include <linux/fs.h>
static inline uint64_t rounddown_64(uint64_t x, uint64_t y) { return x - x % y; }
static inline uint64_t roundup_64(uint64_t x, uint64_t y) { return rounddown_64(x + y - 1, y); }
EOF
gcc -O2 -w -DHAVE_ERR_H -DHAVE_LINUX_FALLOC_H -I"$FSX_DIR" -o "$FSX_DIR/fsx" "$FSX_DIR/fsx.c" \
    >"$FSX_DIR/build.log" 2>&1 || bail_out "cannot build fsx from $FSX_SRC: $(head -n 3 "$FSX_DIR/build.log")"
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
M=$TEST_DIR/mnt
SEED=${FSX_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
say "fsx seeds $SEED, $((SEED + 1)), $((SEED + 2)) (FSX_SEED=$SEED replays them)"

test_expect_success 'fsx with mmap reads and writes, three seeds at once, the replay running' '
	mount_roamfs "$M" "workstation=A" &&
	pids= &&
	for k in 0 1 2; do
		# No fallocate, hole punching, ranges or O_DIRECT: FUSE offers none.
		( cd "$TEST_DIR" && "$FSX_DIR/fsx" -q -N 30000 -S $((SEED + k)) -l 262144 -o 65536 \
		    -F -H -z -C -I -J -B -u -a -c 50 -P "$FSX_DIR" "$M/fsx$k" \
		    >"$FSX_DIR/out$k" 2>&1 ) &
		pids="$pids $!"
	done &&
	rc=0 &&
	for p in $pids; do wait "$p" || rc=1; done
	tail -n 5 "$FSX_DIR"/out*
	test "$rc" -eq 0
'

test_expect_success 'after the flush the server holds what fsx left, and no conflict copy' '
	"$ROAMCTL" flush --wait --timeout=300 "$ROAM_CACHE" >/dev/null &&
	for k in 0 1 2; do cmp "$M/fsx$k" "$H/fsx$k" || return 1; done &&
	for k in 0 1 2; do cp "$M/fsx$k" "$TEST_DIR/want$k" || return 1; done &&
	no_conflicts "$H" "$M" &&
	unmount_roamfs "$M" &&
	for k in 0 1 2; do cmp "$TEST_DIR/want$k" "$H/fsx$k" || return 1; done &&
	no_conflicts "$H"
'

test_done
