#!/bin/bash
# aclwatch-bench.sh: copy many files into a watched share and measure
#   - aclwatch's CPU time as a share of the copy's own CPU time (target < 1%),
#   - the delay from a file's creation to its ACL being right (target: 99% < 50 ms),
#   - the files left wrong at the end (must be 0),
# then the same copy with an "inotifywait -m -r | setfacl" loop for comparison.
#
# Run by hand as root from the source tree, after a build:
#   bash test/bench/aclwatch-bench.sh [BUILD_DIR]
# Environment: FILES (default 10000), SIZE_KB (default 50, so 500 MB),
# BACKEND (auto, fanotify or inotify; default auto), BENCH_DIR (default /tmp).
#
# The delay of a file is its ctime (last metadata change, here the ACL
# write) minus its mtime (end of the copy's last write), 0 when the ACL was
# already right before the copy finished writing the file.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${BUILD_DIR:-$top/build}}
ACLWATCH=$build/aclwatch
FILES=${FILES:-10000}
SIZE_KB=${SIZE_KB:-50}
BACKEND=${BACKEND:-auto}
[ "$(id -u)" -eq 0 ] || { echo "run as root (aclwatch needs it)" >&2; exit 1; }
[ -x "$ACLWATCH" ] || { echo "$ACLWATCH not found: build first or give the build directory" >&2; exit 1; }
command -v inotifywait >/dev/null || { echo "inotifywait is missing: apt-get install inotify-tools" >&2; exit 1; }

W=$(mktemp -d "${BENCH_DIR:-/tmp}/aclwatch-bench.XXXXXX")
G1=awb_w G2=awb_r
cleanup() {
	[ -n "${AW_PID:-}" ] && kill "$AW_PID" 2>/dev/null
	[ -n "${IW_PID:-}" ] && kill "$IW_PID" "$LOOP_PID" 2>/dev/null
	wait 2>/dev/null
	groupdel $G1 2>/dev/null; groupdel $G2 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
groupadd -f $G1 && groupadd -f $G2 || exit 1

echo "# making $FILES files of $SIZE_KB KB (mode 600) in $W/src"
mkdir -p "$W/src" "$W/shareA" "$W/shareB"
python3 - "$W/src" "$FILES" "$SIZE_KB" <<'PY'
import os, sys
src, n, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = os.urandom(kb * 1024)
for i in range(n):
    d = os.path.join(src, "d%03d" % (i // 100))
    os.makedirs(d, mode=0o700, exist_ok=True)
    p = os.path.join(d, "f%05d" % i)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, 0o600)
PY
sync

cat >"$W/aclwatch.conf" <<CONF
[global]
    backend = $BACKEND
[A]
    path = $W/shareA
    write groups = $G1
    read groups = $G2
CONF

# cpu_ticks PID...: user+system ticks of processes (with their waited-for children).
cpu_ticks() {
	local t=0 p f
	for p in "$@"; do
		f=($(sed 's/^.*) //' "/proc/$p/stat"))
		# fields after the command: utime=12 stime=13 cutime=14 cstime=15 (1-based from state)
		t=$((t + f[11] + f[12] + f[13] + f[14]))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)

# calc EXPR: floating-point arithmetic.
calc() {
	awk "BEGIN { printf \"%.3f\", $1 }"
}

# copy DEST: cp -r the source into DEST; prints the copy's CPU seconds.
copy() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(["cp", "-r", sys.argv[1], sys.argv[2]], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime))' "$W/src" "$1/copy"
}

# report DIR: delays and files left wrong under DIR (wanted: the named groups present).
report() {
	python3 - "$1" "$G1" "$G2" <<'PY'
import os, subprocess, sys
root, g1, g2 = sys.argv[1:4]
delays, wrong, n = [], 0, 0
acls = {}
cur = None
for line in subprocess.run(["getfacl", "-R", "-P", "-p", root], capture_output=True, text=True).stdout.splitlines():
    if line.startswith("# file: "):
        cur = line[8:]; acls[cur] = []
    elif line and not line.startswith("#"):
        acls[cur].append(line)
for dirpath, dirs, files in os.walk(root):
    for f in files:
        p = os.path.join(dirpath, f)
        st = os.lstat(p)
        n += 1
        a = acls.get(p, [])
        if not ("group:%s:rw-" % g1 in a and "group:%s:r--" % g2 in a and "mask::rw-" in a):
            wrong += 1
        delays.append(max(0, st.st_ctime_ns - st.st_mtime_ns) / 1e6)
delays.sort()
def pct(q):
    return delays[min(len(delays) - 1, int(len(delays) * q))] if delays else float("nan")
print("files %d, left wrong %d" % (n, wrong))
print("delay ms: median %.2f, p99 %.2f, max %.2f; under 50 ms: %.2f%%" %
      (pct(0.5), pct(0.99), delays[-1] if delays else float("nan"),
       100.0 * sum(1 for d in delays if d < 50) / max(1, len(delays))))
PY
}

# settle DIR: wait until nothing under DIR changed for 2 s (bounded to 120 s).
settle() {
	local last="" now i
	for i in $(seq 1 120); do
		now=$(getfacl -R -P -p "$1" 2>/dev/null | md5sum)
		[ "$now" = "$last" ] && return 0
		last=$now
		sleep 2
	done
}

echo "# 1. aclwatch ($BACKEND)"
"$ACLWATCH" run -f -c "$W/aclwatch.conf" 2>"$W/aclwatch.log" &
AW_PID=$!
for i in $(seq 1 100); do grep -q "ready:" "$W/aclwatch.log" && break; sleep 0.1; done
grep "ready:" "$W/aclwatch.log" | sed 's/^/# /'
aw0=$(cpu_ticks $AW_PID)
cp_cpu=$(copy "$W/shareA")
settle "$W/shareA"
aw1=$(cpu_ticks $AW_PID)
aw_cpu=$(calc "($aw1 - $aw0) / $HZ")
kill -USR1 $AW_PID; sleep 0.2
grep "counters now" "$W/aclwatch.log" | sed 's/^/# /'
kill $AW_PID; wait $AW_PID 2>/dev/null; AW_PID=
echo "copy CPU ${cp_cpu} s, aclwatch CPU ${aw_cpu} s: $(calc "100 * $aw_cpu / $cp_cpu")% of the copy (target < 1%)"
report "$W/shareA"

# The loop cannot listen to attribute changes: setfacl would wake it up
# again for ever (the feedback loop aclwatch avoids by comparing first).
echo "# 2. inotifywait -m -r | setfacl loop (create, moved_to, close_write)"
mkfifo "$W/fifo"
inotifywait -m -r -q -e create,moved_to,close_write --format '%w%f' "$W/shareB" >"$W/fifo" 2>/dev/null &
IW_PID=$!
(
	while IFS= read -r f; do
		if [ -d "$f" ]; then
			setfacl -m g:$G1:rwX,g:$G2:rX,d:g:$G1:rwX,d:g:$G2:rX "$f" 2>/dev/null
		else
			setfacl -m g:$G1:rwX,g:$G2:rX "$f" 2>/dev/null
		fi
	done <"$W/fifo"
) &
LOOP_PID=$!
sleep 1
l0=$(( $(cpu_ticks $IW_PID) + $(cpu_ticks $LOOP_PID) ))
cp_cpu=$(copy "$W/shareB")
settle "$W/shareB"
l1=$(( $(cpu_ticks $IW_PID) + $(cpu_ticks $LOOP_PID) ))
loop_cpu=$(calc "($l1 - $l0) / $HZ")
echo "copy CPU ${cp_cpu} s, loop CPU ${loop_cpu} s: $(calc "100 * $loop_cpu / $cp_cpu")% of the copy"
report "$W/shareB"
