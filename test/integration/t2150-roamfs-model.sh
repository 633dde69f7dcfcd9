#!/bin/sh
# t2150 (issue 12): a randomized model test.  Three workstations and the
# server itself make random edits, saves by rename, removals, moves and
# rmdirs on one home, with random offline periods and remounts; a seed
# written cN (issue 21) runs seed N with fewer pauses and files saved twice
# by one workstation while the first save is still on its way, so that
# the replay is sending while new operations arrive; at the end
# every version that nothing replaced is on the server (under its name or
# a conflict name), no conflict copy exists without a concurrent change,
# and every workstation's view equals the server's
# (test/tools/roamfs-model.py says how).  Fixed seeds here; a longer run by
# hand, for instance:
#   MODEL_SEEDS="$(seq 100 140)" MODEL_STEPS=300 \
#       make check TESTS=test/integration/t2150-roamfs-model.sh
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
# MODEL_DEBUG=1 or MODEL_SFTP_LOG=1: the server logs every request
# ($TEST_DIR/sftp.log; with KEEP_TEST_DIR=1 to read it after the run).
[ -z "${MODEL_DEBUG:-}${MODEL_SFTP_LOG:-}" ] || log_sftp_requests VERBOSE
start_sshd || bail_out "cannot start sshd"
SEEDS=${MODEL_SEEDS:-"1 2 c1"}
STEPS=${MODEL_STEPS:-70}
WS_OPTIONS=${MODEL_WS_OPTIONS:-flush_timeout=5}
export WS_PROXY_SECONDS=7200

# serve SEED: answer the model's requests until it says "end".
serve() {
	while IFS= read -r _line <&4; do
		set -- $_line
		_r=ok
		case $1 in
		end) break ;;
		offline) ws_offline "$2" >/dev/null || _r="fail cannot take $2 offline" ;;
		online) ws_online "$2" >/dev/null || _r="fail cannot take $2 online" ;;
		connected) WAIT_SERVER_SECONDS=90 wait_server ws_connected "$2" ||
		    _r="fail $2 did not reconnect" ;;
		remount) { ws_unmount "$2" && ROAMFS_DEBUG_LOG=${MODEL_DEBUG:+$TEST_DIR/$2.debug} \
		    ws_mount "$2"; } >"$TEST_DIR/remount.out" 2>&1 ||
		    _r="fail remounting $2: $(tr '\n' ' ' <"$TEST_DIR/remount.out")" ;;
		unmount) ws_unmount "$2" >/dev/null 2>&1 || _r="fail unmounting $2" ;;
		*) _r="fail unknown request $1" ;;
		esac
		echo "$_r" >&5
	done
}

# run_seed SEED: one run of the model on a home of its own.
run_seed() {
	_seed=$1
	SERVER_HOME=$SERVER/home-$1
	mkdir -p "$SERVER_HOME"
	export SERVER_HOME
	_ws="s$1w1 s$1w2 s$1w3"
	_mounts=
	for _w in $_ws; do
		# MODEL_DEBUG=1: each roamfs in the foreground, its debug log in TEST_DIR.
		ROAMFS_DEBUG_LOG=${MODEL_DEBUG:+$TEST_DIR/$_w.debug} ws_mount "$_w" || return 1
		_mounts="$_mounts $_w=$(ws_dir "$_w")"
	done
	_req=$TEST_DIR/req-$1 _ans=$TEST_DIR/ans-$1
	mkfifo "$_req" "$_ans" || return 1
	# Opened both ways, the FIFOs never block an open; a model that dies
	# without its "end" gets one from the watchdog.
	exec 4<>"$_req" 5<>"$_ans"
	python3 "$top_srcdir/test/tools/roamfs-model.py" "$1" "$STEPS" "$SERVER_HOME" \
	    "$_req" "$_ans" $_mounts >"$TEST_DIR/model-$1.out" 2>&1 &
	_model=$!
	( while running $_model; do sleep 1; done; echo end >&4 ) >/dev/null 2>&1 &
	_dog=$!
	serve
	wait $_model
	_st=$?
	kill $_dog 2>/dev/null
	exec 4>&- 5>&-
	if [ $_st -ne 0 ]; then
		for _w in $_ws; do
			echo "--- log of $_w"
			grep -v "debug" "$(ws_cache "$_w")/roamfs.log" | tail -n 40
		done
	fi
	# The whole story stays for a failure's reader.
	[ $_st -eq 0 ] || cp "$TEST_DIR/model-$_seed.out" "$top_builddir/t2150-seed-$_seed.out"
	cat "$TEST_DIR/model-$_seed.out"
	return $_st
}

for seed in $SEEDS; do
	test_expect_success "seed $seed: no version lost, no needless conflict copy, views agree" "
		run_seed $seed
	"
done

test_done
