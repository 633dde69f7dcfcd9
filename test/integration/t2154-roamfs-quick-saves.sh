#!/bin/sh
# t2154 (issue 21): the everyday sequences of one workstation that the
# issue found swapped or lost, each made at the timing real programs use
# while the replay is sending, over a slowed link (test/bench/linksim,
# 20 ms each way, 100 Mbit/s).  Nothing waits for the replay to go idle
# between the steps of a case.  After the flush the mount, the server and
# a fresh cache on a second workstation hold the same, and no conflict
# copy exists anywhere.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
through_linksim 20 1800
export WS_OPTIONS=dir_ttl=1
W=$(ws_dir A)
B=$(ws_dir B)

# save FILE TEXT: save as git, Firefox and editors do: a temporary file,
# renamed over the name.
save() {
	printf '%s\n' "$2" >"$1.tmp$$" && mv "$1.tmp$$" "$1"
}

# flushed: everything A changed is on the server, and nothing was set
# aside or kept as a conflict.
flushed() {
	"$ROAMCTL" flush --wait --timeout=120 "$(ws_cache A)" >/dev/null &&
	no_conflicts "$H" "$W" &&
	! grep -E "conflict|set aside|could not|was changed on the server" "$(ws_cache A)/roamfs.log"
}

test_expect_success 'the home is mounted through a slow link' '
	ws_mount A && mkdir "$W/c1" "$W/c2" "$W/c3" "$W/c4" "$W/c5" && flushed
'

test_expect_success 'a file renamed over a symbolic link made a moment before is the file' '
	cd "$W/c1" &&
	ln -s a b && echo hi >c && mv c b &&
	cd / &&
	bytes_are "$W/c1/b" hi &&
	flushed &&
	test -f "$H/c1/b" && ! test -L "$H/c1/b" && bytes_are "$H/c1/b" hi &&
	bytes_are "$W/c1/b" hi
'

test_expect_success 'a folder renamed over a fresh empty folder, then removed, is gone' '
	mkdir "$W/c2/A" "$W/c2/B" && mv -T "$W/c2/A" "$W/c2/B" && rmdir "$W/c2/B" &&
	! test -e "$W/c2/B" &&
	flushed &&
	! test -e "$H/c2/B" && ! test -e "$H/c2/A" && ! test -e "$W/c2/B" &&
	test -z "$(ls -A "$W/c2")"
'

test_expect_success 'a folder renamed over a synced empty folder shows its file all along' '
	mkdir "$W/c3/A" "$W/c3/B" && echo data >"$W/c3/A/f" &&
	flushed && test -d "$H/c3/B" &&
	mv -T "$W/c3/A" "$W/c3/B" &&
	for i in $(seq 1 30); do
		bytes_are "$W/c3/B/f" data || { echo "B/f unreadable after $i reads"; return 1; }
		ls "$W/c3/B" | grep -qx f || { echo "B/f not listed after $i reads"; return 1; }
		sleep 0.2
	done &&
	echo more >>"$W/c3/B/f" &&
	flushed &&
	printf "data\nmore\n" >"$TEST_DIR/c3.want" &&
	cmp "$H/c3/B/f" "$TEST_DIR/c3.want" && cmp "$W/c3/B/f" "$TEST_DIR/c3.want" &&
	! test -e "$H/c3/A"
'

test_expect_success 'a folder renamed over a folder the replay has just emptied replaces it' '
	mkdir "$W/c4/B" && echo x >"$W/c4/B/t" && flushed &&
	rm "$W/c4/B/t" && mkdir "$W/c4/A" && echo a >"$W/c4/A/f" &&
	sleep 1.5 &&
	mv -T "$W/c4/A" "$W/c4/B" &&
	bytes_are "$W/c4/B/f" a &&
	flushed &&
	bytes_are "$H/c4/B/f" a && ! test -e "$H/c4/B/t" && ! test -e "$H/c4/A" &&
	bytes_are "$W/c4/B/f" a
'

# twice_saver K: files f(K*5+1) to f(K*5+5), each saved, then saved again
# 1.5 to 3.5 s later (while the first upload settles or is on its way).
twice_saver() {
	for _n in 1 2 3 4 5; do
		_i=$(($1 * 5 + _n))
		save "$W/c5/f$_i" "first $_i" || return 1
		sleep "$(python3 -c "import random; print(\"%.2f\" % random.uniform(1.5, 3.5))")"
		save "$W/c5/f$_i" "second $_i" || return 1
	done
}

test_expect_success 'forty files saved twice 1.5 to 3.5 s apart keep the newest under their names' '
	pids= &&
	for k in 0 1 2 3 4 5 6 7; do
		twice_saver $k &
		pids="$pids $!"
	done &&
	for p in $pids; do wait $p || return 1; done &&
	for i in $(seq 1 40); do
		bytes_are "$W/c5/f$i" "second $i" || { echo "f$i on the mount: $(cat "$W/c5/f$i")"; return 1; }
	done &&
	flushed &&
	for i in $(seq 1 40); do
		bytes_are "$H/c5/f$i" "second $i" && bytes_are "$W/c5/f$i" "second $i" ||
		{ echo "f$i: $(cat "$H/c5/f$i")"; return 1; }
	done
'

test_expect_success 'a fresh cache on another workstation finds the same after logout' '
	ws_unmount A &&
	ws_mount B &&
	for d in c1 c2 c3 c4 c5; do
		diff -r --no-dereference "$H/$d" "$B/$d" || return 1
	done &&
	test -f "$B/c1/b" && ! test -L "$B/c1/b" &&
	no_conflicts "$B" &&
	ws_unmount B
'

test_done
