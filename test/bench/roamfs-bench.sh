#!/bin/bash
# roamfs-bench.sh: the benchmarks of issue 2, run by hand as root (never by
# make check).  Starts a private sshd (test/integration/lib.sh), measures
# roamfs and the baseline of each case in the same run, over loopback and
# over linksim (20 ms RTT, 100 Mbit/s), and prints one table per link:
# roamfs time, baseline time, ratio, target.  See doc/benchmarks.md.
#
# Usage: top_builddir=BUILD test/bench/roamfs-bench.sh [--quick]
#            [--link loopback|wan|both] [--cases LIST] [--out FILE]
#   --quick   smaller sizes (a few minutes in all)
#   --link    which link(s) to measure (default both)
#   --cases   comma-separated subset of: login,logout,scale,memory,
#             bigwrite,bigread,local,many,evict,workingset (default all)
#             evict: a write stream of several times cache_max, with the
#               budget against without (issue 14);
#             workingset: the first opens of a Thunderbird-like profile on
#               a second workstation, with the working set against without
#   --out     also write the result rows (tab-separated) to FILE
# Needs: roamfs and test/bench/linksim built in $top_builddir, fuse3, column,
# openssh-server/client, sshfs, rsync, python3.

QUICK=0
LINKS="loopback wan"
CASES="login,logout,scale,memory,bigwrite,bigread,local,many,evict,workingset"
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--link) shift
		case ${1:-} in
		both) LINKS="loopback wan" ;;
		loopback|wan) LINKS=$1 ;;
		*) echo "roamfs-bench: --link takes loopback, wan or both" >&2; exit 2 ;;
		esac ;;
	--cases) shift; CASES=${1:?--cases needs a list} ;;
	--out) shift; OUT=${1:?--out needs a file} ;;
	-h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "roamfs-bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/test/integration/lib.sh"
LINKSIM="$top_builddir/test/bench/linksim"
GEN="python3 $top_srcdir/test/bench/bench-files.py"
require_root
require_fuse
[ -x "$ROAMFS" ] || bail_out "$ROAMFS is missing: build first, and set top_builddir"
[ -x "$LINKSIM" ] || bail_out "$LINKSIM is missing: run make"
for c in sshfs rsync sftp python3 fusermount3 column; do
	command -v $c >/dev/null || bail_out "$c is missing: run scripts/deps.sh"
done

if [ $QUICK = 1 ]; then
	HOME_N=2000 HOME_BYTES=$((40 * 1000 * 1000))
	SCALE_SMALL=1000 SCALE_BIG=20000
	BIG_MIB=128 MANY=2000
	EVICT_MAX_MIB=32 EVICT_STREAM_MIB=128 PROFILE_FOLDERS=60
else
	HOME_N=10000 HOME_BYTES=$((200 * 1000 * 1000))
	SCALE_SMALL=1000 SCALE_BIG=100000
	BIG_MIB=1024 MANY=10000
	EVICT_MAX_MIB=128 EVICT_STREAM_MIB=512 PROFILE_FOLDERS=160
fi
# The working-set case: how long after the mount the user starts
# Thunderbird (the first open), as a few seconds after login.
WS_DELAY=5
# sshfs creates files one round trip after another: at 20 ms this many
# files are timed and the time scaled up linearly (said in the note).
SSHFS_WAN_MANY=$((MANY / 10))
WAN_RTT=20 WAN_MBIT=100
EXIT_MAX=1800		# seconds to wait for roamfs to finish its replay
# Cases that take one round trip per file are cut after this long at 20 ms
# and their time extrapolated (said in the note).
if [ $QUICK = 1 ]; then REPLAY_MAX=30 OLD_MAX=30; else REPLAY_MAX=300 OLD_MAX=300; fi

has_case() {
	case ",$CASES," in *",$1,"*) return 0 ;; esac
	return 1
}

now() { date +%s.%N; }

# since T0: seconds elapsed since T0, three decimals.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

RESULTS=$TEST_DIR/results.tsv
: >"$RESULTS"

# record LINK CASE ROAMFS_S BASELINE_NAME BASELINE_S KIND TARGET [NOTE]
# KIND time: ratio = roamfs / baseline, met when <= TARGET.
# KIND speed: ratio = baseline / roamfs (relative throughput), met when >= TARGET.
# KIND mib: an absolute value in MiB, met when <= TARGET.
# KIND less: ratio = roamfs / baseline, met when < TARGET (strictly).
# KIND info: ratio = roamfs / baseline, no target and no verdict.
record() {
	awk -v OFS='\t' -v l="$1" -v c="$2" -v r="$3" -v bn="$4" -v b="$5" \
	    -v k="$6" -v t="$7" -v n="${8:-}" 'BEGIN {
		if (r == "" || r + 0 <= 0 || (k != "mib" && (b == "" || b + 0 <= 0))) {
			ratio = "-"; ok = "n/a"
		} else if (k == "time") {
			ratio = sprintf("%.3f", r / b); ok = (r / b <= t) ? "met" : "MISSED"
			t = "<= " t "x time"
		} else if (k == "less") {
			ratio = sprintf("%.3f", r / b); ok = (r / b < t) ? "met" : "MISSED"
			t = "< " t "x time"
		} else if (k == "info") {
			ratio = sprintf("%.3f", r / b); ok = "-"; t = "-"
		} else if (k == "speed") {
			ratio = sprintf("%.3g", b / r); ok = (b / r >= t) ? "met" : "MISSED"
			t = ">= " t "x speed"
		} else {
			ratio = "-"; ok = (r <= t) ? "met" : "MISSED"; t = "<= " t " MiB"
		}
		print l, c, r, bn, b, ratio, t, ok, n
	}' >>"$RESULTS"
	say "$(tail -n 1 "$RESULTS" | tr '\t' '|')"
}

# print_table LINK: the rows of one link as an aligned table.
print_table() {
	printf '\n== %s ==\n' "$1"
	[ $QUICK = 0 ] || echo "(quick mode: smaller sizes; the targets are set for the full sizes)"
	{
		printf 'case\troamfs\tbaseline\tbaseline_s\tratio\ttarget\tverdict\tnote\n'
		awk -F'\t' -v OFS='\t' -v l="$1" '$1 == l { print $2, $3, $4, $5, $6, $7, $8, $9 }' "$RESULTS"
	} | column -t -s "$(printf '\t')"
}

# --- the server, the links, the clients ---------------------------------

start_sshd || bail_out "cannot start sshd"
HOSTKEY=$(cut -d' ' -f1-2 "$SSHD_DIR/host_key.pub")
M=$TEST_DIR/mnt
S=$TEST_DIR/sshfs
LOCAL=$TEST_DIR/local
mkdir -p "$M" "$S" "$LOCAL"
at_exit "unmount_quiet '$M'; unmount_quiet '$S'"

# use_link NAME: set PORT (and start linksim for wan).
use_link() {
	if [ "$1" = loopback ]; then
		PORT=$SSHD_PORT
		return 0
	fi
	"$LINKSIM" -l 0 -t "127.0.0.1:$SSHD_PORT" -r $WAN_RTT -b $WAN_MBIT -T 7200 \
	    >"$TEST_DIR/linksim.port" 2>"$TEST_DIR/linksim.log" &
	LINKSIM_PID=$!
	at_exit "kill $LINKSIM_PID 2>/dev/null"
	wait_for test -s "$TEST_DIR/linksim.port" || bail_out "linksim did not start"
	PORT=$(head -n 1 "$TEST_DIR/linksim.port")
	echo "[127.0.0.1]:$PORT $HOSTKEY" >>"$KNOWN_HOSTS"
}

ssh_cmd() {
	echo "ssh -p $PORT -i $SSH_KEY -o UserKnownHostsFile=$KNOWN_HOSTS -o BatchMode=yes -o ControlMaster=no"
}

# rsync_pull SRC DST / rsync_push SRC DST: rsync -a over ssh.
rsync_pull() { rsync -a -e "$(ssh_cmd)" "root@127.0.0.1:$1/" "$2/"; }
rsync_push() { rsync -a -e "$(ssh_cmd)" "$1/" "root@127.0.0.1:$2/"; }

# sftp_batch COMMAND: one OpenSSH sftp command (put/get) with defaults.
sftp_batch() {
	echo "$1" | sftp -q -b - -P "$PORT" -i "$SSH_KEY" \
	    -o UserKnownHostsFile="$KNOWN_HOSTS" -o BatchMode=yes root@127.0.0.1 >/dev/null
}

sshfs_mount() {
	sshfs -p "$PORT" -o IdentityFile="$SSH_KEY",UserKnownHostsFile="$KNOWN_HOSTS",BatchMode=yes \
	    "root@127.0.0.1:$1" "$S"
}

# alive PID: the process runs (a zombie does not count).
alive() {
	[ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# rmount CACHE SERVER_PATH [OPTIONS]: mount roamfs on $M; RPID is its pid.
# roamfs names itself in CACHE/lock before the mount command returns; the
# loop only guards against a stale file.
rmount() {
	"$ROAMFS" -o "port=$PORT,IdentityFile=$SSH_KEY,UserKnownHostsFile=$KNOWN_HOSTS,cache=$1${3:+,$3}" \
	    "root@127.0.0.1:$2" "$M" || return 1
	_i=0
	while RPID=$(roamfs_pid "$1"); [ -z "$RPID" ] || ! alive "$RPID"; do
		_i=$((_i + 1))
		[ $_i -lt 1000 ] || { say "no live roamfs pid in $1/lock"; return 1; }
		sleep 0.01
	done
}

# wait_exit PID SECONDS: wait for a process to exit, polling every 10 ms.
# A zombie counts as exited: here PID 1 reaps orphans late (up to ~2 s),
# which lib.sh's wait_gone would count as time spent by roamfs.
wait_exit() {
	_end=$(awk -v n="$(now)" -v s="$2" 'BEGIN { printf "%d", n + s }')
	while alive "$1"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.01
	done
}

# rumount [SECONDS]: unmount $M and wait until roamfs has sent everything
# and exited.  With SECONDS, give up after that long, kill roamfs (its
# journal stays in the cache) and return 2.
rumount() {
	fusermount3 -u "$M" || return 1
	if [ -n "${1:-}" ]; then
		wait_exit "$RPID" "$1" && return 0
		kill -9 "$RPID"
		wait_exit "$RPID" 10
		return 2
	fi
	wait_exit "$RPID" $EXIT_MAX || { say "roamfs $RPID still runs after ${EXIT_MAX} s"; return 1; }
}

# login: mount, read .bashrc, list the home.
login() {
	rmount "$1" "$2" && cat "$M/.bashrc" >/dev/null && ls -la "$M" >/dev/null
}

# median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# --- data made once -------------------------------------------------------

HOME_SRV=$SERVER/home
if has_case login || has_case logout; then
	say "making a home of $HOME_N files, $HOME_BYTES bytes"
	$GEN home "$HOME_SRV" $HOME_N $HOME_BYTES || bail_out "cannot make the home"
	$GEN pick "$HOME_SRV" 10 >"$TEST_DIR/changed"
fi
if has_case scale || has_case memory; then
	say "making homes of $SCALE_SMALL and $SCALE_BIG files"
	$GEN home "$SERVER/small" $SCALE_SMALL $((SCALE_SMALL * 1024)) &&
	$GEN home "$SERVER/big" $SCALE_BIG $((SCALE_BIG * 1024)) || bail_out "cannot make the homes"
fi
REF=$TEST_DIR/ref.bin
if has_case bigwrite || has_case bigread || has_case local; then
	say "making a reference file of $BIG_MIB MiB"
	head -c $((BIG_MIB << 20)) /dev/urandom >"$REF" || bail_out "cannot write $REF"
fi

# The roamfs.conf files of the issue 14 cases (-o config=FILE), so that no
# site configuration of the machine counts: one that sets nothing (the
# defaults: no budget, workingset_files 500), one without a working set.
CONF_PLAIN=$TEST_DIR/plain.conf
CONF_NOWS=$TEST_DIR/no-workingset.conf
printf '# roamfs-bench: the defaults\n' >"$CONF_PLAIN"
printf 'workingset_files = 0\n' >"$CONF_NOWS"
chmod 644 "$CONF_PLAIN" "$CONF_NOWS"
POOL=$TEST_DIR/pool.bin
if has_case evict; then
	# The stream's contents: 1-4 MiB slices of 8 MiB of random bytes.
	head -c $((8 << 20)) /dev/urandom >"$POOL" || bail_out "cannot write $POOL"
	# The stream: files of 1-4 MiB (seeded), EVICT_STREAM_MIB in all.
	awk -v t=$EVICT_STREAM_MIB 'BEGIN { srand(14); while (s < t) {
		n = 1 + int(rand() * 4); if (s + n > t) n = t - s; s += n; print n } }' \
	    >"$TEST_DIR/stream.sizes"
fi
TB_SRV=$SERVER/tb
TB_LIST=$TEST_DIR/profile.list
if has_case workingset; then
	say "making a Thunderbird-like profile with $PROFILE_FOLDERS IMAP folders"
	$GEN profile "$TB_SRV" $PROFILE_FOLDERS >"$TB_LIST" || bail_out "cannot make the profile"
	say "profile: $(wc -l <"$TB_LIST") files, $(du -sb "$TB_SRV" | awk '{ printf "%.1f", $1 / 1048576 }') MiB"
fi

# --- cases ------------------------------------------------------------------

case_login() {
	_l=$1
	rm -rf "$LOCAL/pull"
	drop_caches; _t=$(now)
	rsync_pull "$HOME_SRV" "$LOCAL/pull" || return 1
	T_PULL=$(since "$_t")

	rm -rf "$LOCAL/old"
	drop_caches; _t=$(now)
	sshfs_mount "$HOME_SRV" || return 1
	_oldnote=""
	timeout $OLD_MAX rsync -a "$S/" "$LOCAL/old/"
	case $? in
	0) ;;
	124) _oldnote="old setup stopped after $OLD_MAX s: a lower bound" ;;
	*) fusermount3 -u "$S"; return 1 ;;
	esac
	fusermount3 -u "$S" || return 1
	_old=$(since "$_t")
	rm -rf "$LOCAL/old"

	_c=$TEST_DIR/cache-login-$_l
	rm -rf "$_c"
	drop_caches; _t=$(now)
	login "$_c" "$HOME_SRV" || return 1
	_cold=$(since "$_t")
	rumount || return 1

	drop_caches; _t=$(now)
	login "$_c" "$HOME_SRV" || return 1
	_warm=$(since "$_t")
	# Stays mounted for the logout case.
	record "$_l" "login cold cache" "$_cold" "rsync -a pull" "$T_PULL" time 0.05 \
	    "$HOME_N files"
	record "$_l" "login cold cache" "$_cold" "sshfs+rsync (old)" "$_old" time 0.02 "$_oldnote"
	record "$_l" "login warm cache" "$_warm" "rsync -a pull" "$T_PULL" time 0.02
}

case_logout() {
	_l=$1
	_c=$TEST_DIR/cache-login-$_l
	if ! grep -q " $M fuse.roamfs " /proc/mounts; then
		[ -d "$LOCAL/pull" ] || { rm -rf "$LOCAL/pull"; rsync_pull "$HOME_SRV" "$LOCAL/pull" || return 1; }
		login "$_c" "$HOME_SRV" || return 1
	fi
	while read -r f; do
		echo "changed by roamfs at logout" >>"$M/$f" || return 1
	done <"$TEST_DIR/changed"
	_t=$(now)
	rumount || return 1
	_out=$(since "$_t")
	while read -r f; do
		echo "changed by the old logout" >>"$LOCAL/pull/$f" || return 1
	done <"$TEST_DIR/changed"
	drop_caches; _t=$(now)
	rsync_push "$LOCAL/pull" "$HOME_SRV" || return 1
	_push=$(since "$_t")
	record "$_l" "logout, 10 changed" "$_out" "rsync -a push" "$_push" time 0.1
	rm -rf "$LOCAL/pull" "$_c"
}

case_scale() {
	_l=$1
	_small="" _big=""
	for _i in 1 2 3; do
		for _h in small big; do
			_c=$TEST_DIR/cache-scale
			rm -rf "$_c"
			drop_caches; _t=$(now)
			login "$_c" "$SERVER/$_h" || return 1
			_s=$(since "$_t")
			rumount || return 1
			eval "_$_h=\"\$_$_h $_s\""
		done
	done
	# shellcheck disable=SC2086
	record "$_l" "login ${SCALE_BIG} files" "$(median $_big)" "login ${SCALE_SMALL} files" \
	    "$(median $_small)" time 1.5 "median of 3, cold cache"
	rm -rf "$TEST_DIR/cache-scale"
}

case_memory() {
	_l=$1
	_c=$TEST_DIR/cache-mem
	rm -rf "$_c"
	rmount "$_c" "$SERVER/big" || return 1
	_t=$(now)
	find "$M" -printf '%s\n' >/dev/null || return 1
	_f=$(since "$_t")
	_rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$RPID/status)
	_hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$RPID/status)
	rumount || return 1
	record "$_l" "VmRSS after find, ${SCALE_BIG} files" "$_rss" "-" "" mib 64 \
	    "peak VmHWM ${_hwm} MiB; find -printf %s took ${_f} s"
	rm -rf "$_c"
}

case_bigwrite() {
	_l=$1
	_h=$SERVER/bigw
	rm -rf "$_h"; mkdir -p "$_h"
	drop_caches; _t=$(now)
	sftp_batch "put $REF $_h/sftp.bin" || return 1
	_put=$(since "$_t")
	rm -f "$_h/sftp.bin"

	_c=$TEST_DIR/cache-bigw
	rm -rf "$_c"
	rmount "$_c" "$_h" || return 1
	drop_caches; _t0=$(now)
	cp "$REF" "$M/big.bin" || return 1
	_w=$(since "$_t0")
	_t=$(now)
	_early=$(du -sm "$_h" | cut -f1)
	rumount || return 1
	_rep=$(since "$_t")
	_all=$(since "$_t0")
	cmp -s "$REF" "$_h/big.bin" || { say "big.bin differs on the server"; return 1; }
	record "$_l" "replay ${BIG_MIB} MiB file" "$_rep" "sftp put" "$_put" speed \
	    "$([ "$_l" = wan ] && echo 0.9 || echo 0.85)" \
	    "unmount->exit; cp into mount ${_w} s; ${_early} MiB on server at close; write->server ${_all} s"
	rm -rf "$_c"
}

case_bigread() {
	_l=$1
	_h=$SERVER/bigw
	[ -f "$_h/big.bin" ] || { mkdir -p "$_h"; cp "$REF" "$_h/big.bin"; }
	_c=$TEST_DIR/cache-bigr
	# One download of each kind moved by up to 30 % within a run on the
	# development VM: three rounds, alternating, medians kept.
	_get="" _rd=""
	for _i in 1 2 3; do
		rm -f "$LOCAL/got.bin"
		drop_caches; _t=$(now)
		sftp_batch "get $_h/big.bin $LOCAL/got.bin" || return 1
		_get="$_get $(since "$_t")"
		rm -f "$LOCAL/got.bin"
		rm -rf "$_c"
		rmount "$_c" "$_h" || return 1
		drop_caches; _t=$(now)
		cat "$M/big.bin" >/dev/null || return 1
		_rd="$_rd $(since "$_t")"
		rumount || return 1
	done
	say "sftp get$_get; roamfs first read$_rd"
	# shellcheck disable=SC2086
	record "$_l" "first read ${BIG_MIB} MiB" "$(median $_rd)" "sftp get" "$(median $_get)" \
	    speed 0.9 "median of 3, alternating; uncached, into the cache"
	rm -rf "$_c"
}

# Cached I/O against ext4 on the same disk; loopback only (no network on the path).
case_local() {
	_l=$1
	_h=$SERVER/local
	rm -rf "$_h"; mkdir -p "$_h"
	_n=$TEST_DIR/native
	rm -rf "$_n"; mkdir -p "$_n"
	_c=$TEST_DIR/cache-local
	rm -rf "$_c"
	rmount "$_c" "$_h" || return 1

	# The disk is noisy: three rounds, alternating, medians kept.
	_nw="" _rw="" _nr="" _rr=""
	for _i in 1 2 3; do
		rm -f "$_n/w.bin" "$M/w.bin"
		drop_caches; _t=$(now)
		dd if=/dev/zero of="$_n/w.bin" bs=1M count=$BIG_MIB conv=fsync status=none || return 1
		_nw="$_nw $(since "$_t")"
		drop_caches; _t=$(now)
		dd if=/dev/zero of="$M/w.bin" bs=1M count=$BIG_MIB conv=fsync status=none || return 1
		_rw="$_rw $(since "$_t")"
		# Let the replay finish, then read from a warm roamfs cache, cold page cache.
		rumount || return 1
		rmount "$_c" "$_h" || return 1
		drop_caches; _t=$(now)
		dd if="$_n/w.bin" of=/dev/null bs=1M status=none || return 1
		_nr="$_nr $(since "$_t")"
		drop_caches; _t=$(now)
		dd if="$M/w.bin" of=/dev/null bs=1M status=none || return 1
		_rr="$_rr $(since "$_t")"
	done
	say "native write$_nw; roamfs write$_rw; native read$_nr; roamfs read$_rr"
	# shellcheck disable=SC2086
	_nw=$(median $_nw) _rw=$(median $_rw) _nr=$(median $_nr) _rr=$(median $_rr)
	rm -f "$_n/w.bin"
	record "$_l" "cached seq. write ${BIG_MIB} MiB" "$_rw" "ext4 native" "$_nw" speed 0.7 \
	    "median of 3; dd bs=1M conv=fsync"
	record "$_l" "cached seq. read ${BIG_MIB} MiB" "$_rr" "ext4 native" "$_nr" speed 0.8 \
	    "median of 3; dd bs=1M, page cache dropped"

	rumount || return 1
	rm -rf "$_c" "$_h"
}

# replay_done T0 DIR: unmount, wait for roamfs (at most REPLAY_MAX s) and
# check that the $MANY files n* are in the server directory DIR.  REPLAY_S
# is the time since T0; when roamfs was stopped at the limit, it is scaled
# up from the files that arrived and CUT_NOTE says so (else it is empty).
replay_done() {
	rumount $REPLAY_MAX
	case $? in
	0) CUT_NOTE="" ;;
	2) CUT_NOTE=cut ;;
	*) return 1 ;;
	esac
	REPLAY_S=$(since "$1")
	_got=$(find "$2" -type f -name 'n*' | wc -l)
	if [ -n "$CUT_NOTE" ]; then
		[ "$_got" -gt 0 ] || { say "no file reached the server in $REPLAY_MAX s"; return 1; }
		CUT_NOTE="stopped after $REPLAY_S s with $_got of $MANY on the server: time scaled up"
		REPLAY_S=$(awk -v a="$REPLAY_S" -v g="$_got" -v n=$MANY 'BEGIN { printf "%.3f", a * n / g }')
	elif [ "$_got" != "$MANY" ]; then
		say "only $_got of $MANY files on the server"; return 1
	fi
}

case_many() {
	_l=$1
	_tgt=$([ "$_l" = wan ] && echo 2 || echo 1)	# speed target vs rsync
	_h=$SERVER/many
	rm -rf "$_h" "$LOCAL/many"; mkdir -p "$_h"
	$GEN create "$LOCAL/many" $MANY 4096 || return 1
	drop_caches; _t=$(now)
	rsync_push "$LOCAL/many" "$_h/rsync" || return 1
	_rs=$(since "$_t")
	rm -rf "$_h/rsync"
	# Like for like: roamfs has the server fsync every file before it
	# renames it into place; rsync does so only when asked.
	drop_caches; _t=$(now)
	rsync -a --fsync -e "$(ssh_cmd)" "$LOCAL/many/" "root@127.0.0.1:$_h/rsync/" || return 1
	_rsf=$(since "$_t")
	rm -rf "$_h/rsync" "$LOCAL/many"

	# ext4 itself, just before roamfs, after the same deletions (this ext4
	# has no journal: recently freed inodes slow the next creates down).
	_nat=""
	if [ "$_l" = loopback ]; then
		drop_caches; _t=$(now)
		$GEN create "$TEST_DIR/native-many" $MANY 4096 || return 1
		_nat=$(since "$_t")
		rm -rf "$TEST_DIR/native-many"
	fi

	_c=$TEST_DIR/cache-many
	rm -rf "$_c"
	rmount "$_c" "$_h" || return 1
	drop_caches; _t0=$(now)
	$GEN create "$M/new" $MANY 4096 || return 1
	_cr=$(since "$_t0")
	_early=$(find "$_h" -type f | wc -l)
	_t=$(now)
	replay_done "$_t0" "$_h/new" || return 1
	_note="write->server; create ${_cr} s, ${_early} on server at close, unmount->exit $(since "$_t") s"
	[ -z "$CUT_NOTE" ] || _note="$CUT_NOTE; create ${_cr} s"
	record "$_l" "create+replay ${MANY} x 4 KiB" "$REPLAY_S" "rsync -a push" "$_rs" speed \
	    "$_tgt" "$_note"
	rm -rf "$_c" "$_h"; mkdir -p "$_h"

	# The replay alone: files made offline wait in the journal, as rsync's
	# source tree waits on disk; timed from the mount until roamfs exits.
	rmount "$_c" "$_h" flush_timeout=1 || return 1
	ls "$M" >/dev/null
	stop_sshd || return 1	# roamfs then works offline, whatever the link
	$GEN create "$M/new" $MANY 4096 || { restart_sshd; return 1; }
	rumount
	restart_sshd || return 1
	drop_caches; _t=$(now)
	rmount "$_c" "$_h" || return 1
	replay_done "$_t" "$_h/new" || return 1
	_note=${CUT_NOTE:-"mount, replay of a ready journal, exit"}
	record "$_l" "replay ${MANY} x 4 KiB" "$REPLAY_S" "rsync -a push" "$_rs" speed \
	    "$_tgt" "$_note"
	record "$_l" "replay ${MANY} x 4 KiB" "$REPLAY_S" "rsync -a --fsync push" "$_rsf" speed \
	    "$_tgt" "both make the server fsync every file"
	rm -rf "$_c" "$_h"; mkdir -p "$_h"

	_sn=$MANY _note="sshfs default options"
	if [ "$_l" = wan ]; then
		_sn=$SSHFS_WAN_MANY
		_note="sshfs: $_sn files timed, scaled x$((MANY / _sn))"
	fi
	sshfs_mount "$_h" || return 1
	drop_caches; _t=$(now)
	$GEN create "$S/sshfs" $_sn 4096 || return 1
	_ss=$(since "$_t")
	fusermount3 -u "$S"
	_ss=$(awk -v s="$_ss" -v k=$((MANY / _sn)) 'BEGIN { printf "%.3f", s * k }')
	if [ -n "$_nat" ]; then
		record "$_l" "create ${MANY} x 4 KiB" "$_cr" "ext4 native" "$_nat" speed 0.3 \
		    "create+write+close; the replay may run meanwhile"
	fi
	record "$_l" "create ${MANY} x 4 KiB" "$_cr" "sshfs" "$_ss" speed 5 "$_note"
	rm -rf "$_c" "$_h"
}

# contents CACHE: the bytes of a cache's contents, as roamfs counts them
# against cache_max: the blocks of the files in CACHE/data and CACHE/tmp.
contents() {
	find "$1/data" "$1/tmp" -type f -printf '%b\n' 2>/dev/null |
	    awk '{ s += $1 } END { printf "%d\n", s * 512 }'
}

# mib BYTES: in MiB, one decimal.
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# sample_contents CACHE FILE: until FILE.stop exists, keep in FILE the
# largest contents of CACHE seen, looking every 0.2 s.
sample_contents() {
	_sm=0
	echo 0 >"$2"
	while [ ! -e "$2.stop" ]; do
		_su=$(contents "$1")
		[ "$_su" -le "$_sm" ] || { _sm=$_su; echo "$_sm" >"$2"; }
		sleep 0.2
	done
}

# write_stream DIR: write the files of the stream into DIR one after the
# other with dd (sizes from stream.sizes, contents slices of the pool).
write_stream() {
	_wi=0
	while read -r _wn; do
		_wi=$((_wi + 1))
		dd if="$POOL" of="$1/s$(printf %04d $_wi)" bs=1M count="$_wn" \
		    skip=$((_wi % 4)) status=none || return 1
	done <"$TEST_DIR/stream.sizes"
}

# Issue 14: a write stream of several times the budget, through a mount
# with -o cache_max against the same without a budget.  Timed from the
# first write until roamctl flush --wait returns (every file on the
# server); the largest contents are sampled while it runs.
case_evict() {
	_l=$1
	_h=$SERVER/evict
	_c=$TEST_DIR/cache-evict
	_budget=$((EVICT_MAX_MIB << 20))
	_nf=$(wc -l <"$TEST_DIR/stream.sizes")
	_tl="" _tu="" _wl="" _wu="" _pl="" _pu="" _al="" _sl=""
	for _i in 1 2 3; do
		for _m in u l; do
			rm -rf "$_h" "$_c"; mkdir -p "$_h"
			_o="config=$CONF_PLAIN"
			[ $_m = u ] || _o="$_o,cache_max=${EVICT_MAX_MIB}M"
			rmount "$_c" "$_h" "$_o" || return 1
			ls "$M" >/dev/null
			rm -f "$TEST_DIR/peak" "$TEST_DIR/peak.stop"
			sample_contents "$_c" "$TEST_DIR/peak" &
			_sp=$!
			drop_caches; _t=$(now)
			write_stream "$M" || { touch "$TEST_DIR/peak.stop"; wait $_sp; return 1; }
			_w=$(since "$_t")
			"$ROAMCTL" flush --wait --timeout=$EXIT_MAX "$_c" >/dev/null ||
			    { touch "$TEST_DIR/peak.stop"; wait $_sp; say "roamctl flush --wait failed"; return 1; }
			_tt=$(since "$_t")
			touch "$TEST_DIR/peak.stop"; wait $_sp
			_p=$(contents "$_c")
			[ "$(cat "$TEST_DIR/peak")" -le "$_p" ] || _p=$(cat "$TEST_DIR/peak")
			if [ $_m = l ]; then
				# Once all is sent, eviction may drop it all: how long
				# until the contents are back within the budget.
				_t=$(now) _s=""
				while [ "$(awk -v a="$_t" -v b="$(now)" 'BEGIN { print (b - a < 60) }')" = 1 ]; do
					[ "$(contents "$_c")" -gt "$_budget" ] || { _s=$(since "$_t"); break; }
					sleep 0.1
				done
				_al="$_al $(contents "$_c")" _sl="$_sl ${_s:-60+}"
			fi
			rumount || return 1
			_got=$(find "$_h" -type f -name 's*' -printf '%s\n' | awk '{ n++; s += $1 } END { print n + 0, s + 0 }')
			[ "$_got" = "$_nf $((EVICT_STREAM_MIB << 20))" ] ||
			    { say "the server holds $_got (files, bytes) of $_nf, $((EVICT_STREAM_MIB << 20))"; return 1; }
			eval "_t$_m=\"\$_t$_m $_tt\"; _w$_m=\"\$_w$_m $_w\"; _p$_m=\"\$_p$_m $(mib "$_p")\""
		done
	done
	say "no budget: stream+flush$_tu, writes$_wu, largest MiB$_pu"
	say "cache_max=${EVICT_MAX_MIB}M: stream+flush$_tl, writes$_wl, largest MiB$_pl, after flush$_al bytes, within the budget after$_sl s"
	# shellcheck disable=SC2086
	record "$_l" "write stream ${EVICT_STREAM_MIB} MiB, cache_max=${EVICT_MAX_MIB}M" "$(median $_tl)" \
	    "no budget" "$(median $_tu)" time 1.10 \
	    "median of 3, alternating; $_nf files of 1-4 MiB by dd, then roamctl flush --wait; dd alone $(median $_wl) s / $(median $_wu) s"
	# shellcheck disable=SC2086
	record "$_l" "largest contents during the stream" "$(median $_pl)" "budget (MiB)" \
	    "$EVICT_MAX_MIB" info "" "MiB, median of 3 (no budget: $(median $_pu) MiB); unsent files cannot be dropped"
	# shellcheck disable=SC2086
	_amax=$(printf '%s\n' $_al | sort -n | tail -n 1)
	record "$_l" "contents after flush, cache_max=${EVICT_MAX_MIB}M" "$(mib "$_amax")" "-" "" mib \
	    "$EVICT_MAX_MIB" "largest of 3; within the budget$_sl s after flush --wait returned"
	rm -rf "$_c" "$_h"
}

# Issue 14: the first open of each file of a Thunderbird-like profile on a
# second workstation right after login.  Workstation A (its own cache)
# mounts, reads every file of the profile in startup order and unmounts,
# which writes .config/roamfs/workingset on the server.  Workstation B,
# a fresh cache each time, mounts, waits WS_DELAY seconds (the user
# starting Thunderbird a few seconds after login) and reads every file in
# the same order: the total and the slowest single open+read, with the
# working set against B mounted with workingset_files = 0.
case_workingset() {
	_l=$1
	_h=$TB_SRV
	_ws=$_h/.config/roamfs/workingset
	_ca=$TEST_DIR/cache-wsA _cb=$TEST_DIR/cache-wsB
	rm -rf "$_ca" "$_cb" "$_ws"
	rmount "$_ca" "$_h" "config=$CONF_PLAIN,workstation=wsA" || return 1
	$GEN opens "$M" "$TB_LIST" >/dev/null || return 1
	rumount || return 1
	[ -s "$_ws" ] || { say "workstation A wrote no working set"; return 1; }
	cp "$_ws" "$TEST_DIR/workingset.A"
	_nws=$(grep -vc '^#' "$_ws")
	rm -rf "$_ca"
	_nf=$(wc -l <"$TB_LIST")
	_tw="" _tn="" _mw="" _mn="" _cw="" _slow=""
	for _i in 1 2 3; do
		for _m in n w; do
			# Each round starts from A's list (B's logout writes its own).
			cp "$TEST_DIR/workingset.A" "$_ws"
			rm -rf "$_cb"
			_o=$CONF_PLAIN
			[ $_m = w ] || _o=$CONF_NOWS
			drop_caches
			rmount "$_cb" "$_h" "config=$_o,workstation=wsB" || return 1
			sleep $WS_DELAY
			_cached=$("$ROAMCTL" --json status "$_cb" | sed -n 's/.*"workingset_cached":\([0-9]*\).*/\1/p')
			_r=$($GEN opens "$M" "$TB_LIST") || return 1
			rumount || return 1
			read -r _rt _rm _ _rp <<<"$_r"
			eval "_t$_m=\"\$_t$_m $_rt\"; _m$_m=\"\$_m$_m $_rm\""
			[ $_m = n ] || _cw="$_cw ${_cached:-?}"
			_slow="$_slow $_m:${_rp##*/}"
		done
	done
	say "without: total$_tn, slowest$_mn; with: total$_tw, slowest$_mw; cached at the first open:$_cw of $_nws"
	say "slowest files:$_slow"
	# shellcheck disable=SC2086
	record "$_l" "first opens, profile of $_nf files" "$(median $_tw)" "no working set" "$(median $_tn)" \
	    less 1 "median of 3, alternating; from ${WS_DELAY} s after the mount; working set $_nws files, cached at the first open:$_cw"
	# shellcheck disable=SC2086
	record "$_l" "slowest single open, $_nf files" "$(median $_mw)" "no working set" "$(median $_mn)" \
	    less 1 "median of 3; open+read+close"
	rm -rf "$_cb" "$_ws" "$TEST_DIR/workingset.A"
}

# run_case NAME LINK: run one case, noting a failure instead of stopping.
run_case() {
	has_case "$1" || return 0
	say "[$2] $1"
	if ! "case_$1" "$2"; then
		record "$2" "$1" "" "FAILED" "" time 0 "the case failed; see the messages above"
		unmount_quiet "$M"; unmount_quiet "$S"
	fi
}

say "roamfs-bench on $(uname -n), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, quick=$QUICK"
for link in $LINKS; do
	use_link "$link"
	run_case login "$link"
	run_case logout "$link"
	run_case scale "$link"
	[ "$link" != loopback ] || run_case memory "$link"
	run_case bigwrite "$link"
	run_case bigread "$link"
	[ "$link" != loopback ] || run_case local "$link"
	run_case many "$link"
	run_case evict "$link"
	run_case workingset "$link"
	rm -rf "$SERVER/bigw"
done

for link in $LINKS; do
	print_table "$link"
done
[ -z "$OUT" ] || cp "$RESULTS" "$OUT"
