#!/bin/sh
# t2151 (issue 21): one workstation's saves at real timing, the replay
# running, never swapped, lost or listed wrong.
#
# Two programs (test/tools/roamfs-stress.py) save files on one mount in
# every way real programs do (a temporary renamed over the name, rewrite
# in place, O_TRUNC, write+fsync, writes through a shared mmap, vim's hard
# link backup, two saves within a second, delete and recreate, symbolic
# links made and renamed over, folders renamed over empty folders, a
# folder renamed while its files are on their way), STRESS_OPS operations
# each (default 2500 in make check: see doc/benchmarks.md for why not
# 5000), with pauses of milliseconds to a second.  The link
# to the server is slowed (test/bench/linksim, 10 ms, 100 Mbit/s) and cut
# now and then for a moment, so that uploads are in flight and queued
# while the next saves come; listings expire every second.  Each program
# checks listings, lstat and contents against its model as it goes.  At
# the end the server, the mount and a fresh cache on a second workstation
# hold exactly the models, and no conflict copy exists anywhere.
#
# STRESS_SEED=N replays a run (the seeds are printed); STRESS_OPS=N sets
# the length (a long run by hand: STRESS_OPS=5000 and more, doc/benchmarks.md).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
LINKSIM=$top_builddir/test/bench/linksim
[ -x "$LINKSIM" ] || bail_out "$LINKSIM is missing: run make check"
STRESS=$top_srcdir/test/tools/roamfs-stress.py
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
SEED=${STRESS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
OPS=${STRESS_OPS:-2500}
say "seed $SEED, $OPS operations in each of two programs (STRESS_SEED=$SEED replays this run)"
"$LINKSIM" -l 0 -t "127.0.0.1:$SSHD_PORT" -r 10 -b 100 -T 1800 >"$TEST_DIR/linksim.port" \
    2>"$TEST_DIR/linksim.log" &
at_exit "kill $! 2>/dev/null"
wait_for test -s "$TEST_DIR/linksim.port" || bail_out "linksim did not start"
# The workstations reach the server through their proxy, then the slow link.
SSHD_PORT=$(cat "$TEST_DIR/linksim.port")
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$SSHD_DIR/host_key.pub")" >>"$KNOWN_HOSTS"
export WS_OPTIONS=dir_ttl=1
W=$(ws_dir A)
B=$(ws_dir B)

# cut_now_and_then: cut workstation A's link for 0.3-2 s every 5-15 s
# (from the seed), until the file stop exists.
cut_now_and_then() {
	python3 - "$SEED" <<'EOF' | while read -r wait off; do
import random, sys
r = random.Random(int(sys.argv[1]) ^ 0x5eed)
for _ in range(400):
    print("%.2f %.2f" % (r.uniform(5, 15), r.uniform(0.3, 2)))
EOF
		sleep "$wait"
		[ ! -e "$TEST_DIR/stop" ] || break
		ws_offline A >/dev/null 2>&1
		sleep "$off"
		ws_online A >/dev/null 2>&1
	done
}

test_expect_success 'two programs save at real timing while the replay runs; the mount agrees throughout' '
	ws_mount A || return 1
	mkdir "$W/s1" "$W/s2" || return 1
	cut_now_and_then &
	cutter=$!
	python3 "$STRESS" "$W/s1" "$SEED" "$OPS" "$TEST_DIR/model1" >"$TEST_DIR/s1.out" 2>&1 & p1=$!
	python3 "$STRESS" "$W/s2" "$((SEED + 1))" "$OPS" "$TEST_DIR/model2" >"$TEST_DIR/s2.out" 2>&1 & p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	touch "$TEST_DIR/stop"
	wait $cutter
	ws_online A
	cat "$TEST_DIR/s1.out" "$TEST_DIR/s2.out"
	test $r1 -eq 0 && test $r2 -eq 0
'

test_expect_success 'after the flush the server holds exactly what was saved, and no conflict copy' '
	"$ROAMCTL" flush --wait --timeout=300 "$(ws_cache A)" >/dev/null &&
	python3 "$STRESS" --verify "$TEST_DIR/model1" "$H/s1" &&
	python3 "$STRESS" --verify "$TEST_DIR/model2" "$H/s2" &&
	no_conflicts "$H" "$W" &&
	! grep -E "conflict|set aside|could not" "$(ws_cache A)/roamfs.log"
'

test_expect_success 'the mount still agrees after the flush' '
	python3 "$STRESS" --verify "$TEST_DIR/model1" "$W/s1" &&
	python3 "$STRESS" --verify "$TEST_DIR/model2" "$W/s2"
'

test_expect_success 'a fresh cache on another workstation finds the same after logout' '
	ws_unmount A &&
	python3 "$STRESS" --verify "$TEST_DIR/model1" "$H/s1" &&
	ws_mount B &&
	python3 "$STRESS" --verify "$TEST_DIR/model1" "$B/s1" &&
	python3 "$STRESS" --verify "$TEST_DIR/model2" "$B/s2" &&
	no_conflicts "$B" &&
	ws_unmount B
'

test_done
