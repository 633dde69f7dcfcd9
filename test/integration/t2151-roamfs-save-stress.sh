#!/bin/sh
# t2151 (issue 21): one workstation's saves at real timing, the replay
# running, never swapped, lost or listed wrong.
#
# Four programs (test/tools/roamfs-stress.py), each in a folder of its
# own, save files on one mount in every way real programs do (a temporary
# renamed over the name, rewrite in place, O_TRUNC, write+fsync, writes
# through a shared mmap, vim's hard link backup, two saves within a
# second, delete and recreate, symbolic links made and renamed over,
# folders renamed over empty folders, a folder renamed while its files are
# on their way), STRESS_OPS operations each (2500: 10,000 in all in make
# check), with pauses of milliseconds to a second.  The link to the server
# is slowed (test/bench/linksim, 10 ms, 100 Mbit/s) and cut now and then
# for a moment, so that uploads are in flight and queued while the next
# saves come; listings expire every second.  Each program checks
# listings, lstat and contents against its model as it goes.  At the end
# the server, the mount and a fresh cache on a second workstation hold
# exactly the models, and no conflict copy exists anywhere.
#
# STRESS_SEED=N replays a run (the seeds are printed; program K uses
# N+K-1); STRESS_OPS=N sets the length of each program, STRESS_PROGRAMS
# their number (a long run by hand: doc/benchmarks.md).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
STRESS=$top_srcdir/test/tools/roamfs-stress.py
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
SEED=${STRESS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
OPS=${STRESS_OPS:-2500}
PROGRAMS=${STRESS_PROGRAMS:-4}
say "seed $SEED, $OPS operations in each of $PROGRAMS programs (STRESS_SEED=$SEED replays this run)"
# The workstations reach the server through their proxy, then the slow link.
through_linksim 10 1800
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

# each PROGRAM...: the programs' numbers, 1 to PROGRAMS.
PROGS=$(seq 1 "$PROGRAMS")

test_expect_success "$PROGRAMS programs save at real timing while the replay runs; the mount agrees throughout" '
	ws_mount A || return 1
	cut_now_and_then &
	cutter=$!
	pids=
	for k in $PROGS; do
		mkdir "$W/s$k" || return 1
		python3 "$STRESS" "$W/s$k" "$((SEED + k - 1))" "$OPS" "$TEST_DIR/model$k" \
		    >"$TEST_DIR/s$k.out" 2>&1 &
		pids="$pids $!"
	done
	r=0
	for p in $pids; do wait $p || r=1; done
	touch "$TEST_DIR/stop"
	wait $cutter
	ws_online A
	for k in $PROGS; do cat "$TEST_DIR/s$k.out"; done
	test $r -eq 0
'

# verify_all DIR: DIR/sK equals program K's model, for every program.
verify_all() {
	for _k in $PROGS; do
		python3 "$STRESS" --verify "$TEST_DIR/model$_k" "$1/s$_k" || return 1
	done
}

test_expect_success 'after the flush the server holds exactly what was saved, and no conflict copy' '
	"$ROAMCTL" flush --wait --timeout=300 "$(ws_cache A)" >/dev/null &&
	verify_all "$H" &&
	no_conflicts "$H" "$W" &&
	! grep -E "conflict|set aside|could not" "$(ws_cache A)/roamfs.log"
'

test_expect_success 'the mount still agrees after the flush' '
	verify_all "$W"
'

test_expect_success 'a fresh cache on another workstation finds the same after logout' '
	ws_unmount A &&
	verify_all "$H" &&
	ws_mount B &&
	verify_all "$B" &&
	no_conflicts "$B" &&
	ws_unmount B
'

test_done
