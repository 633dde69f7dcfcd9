#!/bin/bash
# t1108: batch upload (sftp_put_many through "sftp-tool putmany"): many
# small files with odd names, modes and mtimes arrive exactly; failures stay
# with their file; an existing target is replaced by a rename, or kept by a
# checked batch; the requests
# per file are as documented; a lost session gives ENOTCONN, never a hang.
. "$top_srcdir/test/integration/lib.sh"
require_root
log_sftp_requests DEBUG1
start_sshd || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
T() { "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 "$@"; }
L="$TEST_DIR/local"; mkdir -p "$L"
# test_must_fail CMD...: CMD exits with status 1 (a failure it reported).
test_must_fail() { "$@"; test $? = 1; }
# stat_of FIELD FILE: a counter from the --stats or summary line.
stat_of() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$2" | head -n 1; }

# make_files DIR COUNT SEED: COUNT files with sizes 0, 1, 4096, 300 KB and
# others, odd names, varied modes and mtimes.
make_files() {
	python3 - "$@" <<'PY'
import os, random, sys
d, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
os.makedirs(d, exist_ok=True)
odd = ["a b", " lead", "trail ", "-dash", "quote'\"", "back\\slash", "per%cent",
       "star*?", "tab\there", "new\nline", "été", "日本語", "#hash", "colon:x",
       "semi;colon", "dollar$HOME", "x" * 240, "émoji\U0001F600"]
modes = [0o644, 0o600, 0o755, 0o444, 0o640, 0o700, 0o4755, 0o1777, 0o000,
         0o2750, 0o604, 0o777]
times = [0, 1, 2**31 - 1, 4000000000]
for i in range(count):
    name = (odd[i] + "-%d" % i) if i < len(odd) else "f%05d" % i
    if i % 40 == 7:
        size = 300 * 1024
    else:
        size = [0, 1, 4096, rnd.randrange(2, 70000)][i % 4]
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(rnd.randbytes(size))
    os.chmod(p, modes[i % len(modes)])
    t = times[i] if i < len(times) else rnd.randrange(0, 2**31)
    os.utime(p, (t, t))
PY
}

# same_files LOCAL REMOTE: REMOTE holds exactly LOCAL's files (names,
# bytes, permission bits, mtime, atime = mtime), nothing else.
same_files() {
	python3 - "$@" <<'PY'
import os, stat, sys
loc, rem = sys.argv[1], sys.argv[2]
want, got = sorted(os.listdir(loc)), sorted(os.listdir(rem))
if want != got:
    print("names differ: missing", sorted(set(want) - set(got))[:5],
          "extra", sorted(set(got) - set(want))[:5])
    sys.exit(1)
bad = 0
for n in want:
    a, b = os.lstat(os.path.join(loc, n)), os.lstat(os.path.join(rem, n))
    if not stat.S_ISREG(b.st_mode) or stat.S_IMODE(a.st_mode) != stat.S_IMODE(b.st_mode) \
       or int(a.st_mtime) != int(b.st_mtime) or int(b.st_atime) != int(a.st_mtime):
        print("attributes differ: %r local %o %d server %o %d %d" % (n, a.st_mode,
              a.st_mtime, b.st_mode, b.st_mtime, b.st_atime))
        bad += 1
    elif open(os.path.join(loc, n), "rb").read() != open(os.path.join(rem, n), "rb").read():
        print("contents differ: %r" % n)
        bad += 1
sys.exit(1 if bad else 0)
PY
}

test_expect_success '2,000 small files arrive byte-exact with mode and mtime' '
	make_files "$L/many" 2000 1 &&
	mkdir "$SERVER/many" &&
	T --stats putmany "$L/many" "$SERVER/many" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	grep -Fx "putmany: files=2000 failed=0 bytes=$(cat "$L"/many/* | wc -c)" "$TEST_DIR/out" &&
	same_files "$L/many" "$SERVER/many" &&
	test "$(stat_of open "$TEST_DIR/out")" = 2000 &&
	test "$(stat_of max_in_flight "$TEST_DIR/out")" -gt 1
'

test_expect_success 'large files inside a batch (many WRITEs each)' '
	mkdir "$L/big" "$SERVER/big" &&
	for i in 1 2 3; do head -c $((8 << 20)) /dev/urandom >"$L/big/b$i" || return 1; done &&
	make_files "$L/big" 50 2 &&
	T --stats putmany "$L/big" "$SERVER/big" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	same_files "$L/big" "$SERVER/big" &&
	test "$(stat_of write "$TEST_DIR/out")" -ge 96
'

# Sizes 0, 1, one chunk + 1, three chunks (chunk: 261120, OpenSSH limits).
make_count_files() {
	mkdir -p "$1" &&
	: >"$1/c0" && head -c 1 /dev/urandom >"$1/c1" &&
	head -c 261121 /dev/urandom >"$1/c2" && head -c 783360 /dev/urandom >"$1/c3"
}

test_expect_success 'requests per file: OPEN, WRITE per chunk, FSETSTAT, CLOSE, rename' '
	make_count_files "$L/count" &&
	mkdir "$SERVER/count" &&
	T --stats putmany "$L/count" "$SERVER/count" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	same_files "$L/count" "$SERVER/count" &&
	# the connection itself sends INIT and limits@openssh.com (extended);
	# FSETSTAT has no counter of its own: requests counts it, setstat not
	test "$(stat_of requests "$TEST_DIR/out")" = $((2 + 4 + 6 + 4 + 4 + 4)) &&
	test "$(stat_of open "$TEST_DIR/out")" = 4 &&
	test "$(stat_of write "$TEST_DIR/out")" = 6 &&
	test "$(stat_of close "$TEST_DIR/out")" = 4 &&
	test "$(stat_of setstat "$TEST_DIR/out")" = 0 &&
	test "$(stat_of extended "$TEST_DIR/out")" = $((1 + 4)) &&
	test "$(stat_of remove "$TEST_DIR/out")" = 0 &&
	test "$(stat_of stat "$TEST_DIR/out")" = 0
'

# Sparse files: data in the middle (the file ends in a hole), at the end
# only, none; and a dense one.  Holes are neither sent nor allocated, the
# size of a file ending in a hole goes with its FSETSTAT: no request more.
test_expect_success 'sparse files: only their data travels, holes stay holes' '
	mkdir "$L/sparse" "$SERVER/sparse" &&
	truncate -s 300M "$L/sparse/mid" &&
	head -c 65536 /dev/urandom | dd of="$L/sparse/mid" bs=64K seek=160 conv=notrunc status=none &&
	truncate -s $((200 << 20)) "$L/sparse/end" &&
	head -c 4096 /dev/urandom | dd of="$L/sparse/end" bs=4K seek=$((50 * 1024 - 1)) conv=notrunc status=none &&
	truncate -s 50M "$L/sparse/none" &&
	head -c 100000 /dev/urandom >"$L/sparse/dense" &&
	T --stats putmany "$L/sparse" "$SERVER/sparse" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	for f in mid end none dense; do
		cmp "$L/sparse/$f" "$SERVER/sparse/$f" &&
		test "$(stat -c %s:%a:%Y "$SERVER/sparse/$f")" = "$(stat -c %s:%a:%Y "$L/sparse/$f")" ||
		return 1
	done &&
	grep -Fx "putmany: files=4 failed=0 bytes=$((300 * 1048576 + 200 * 1048576 + 50 * 1048576 + 100000))" "$TEST_DIR/out" &&
	test "$(stat_of bytes_up "$TEST_DIR/out")" = $((65536 + 4096 + 100000)) &&
	test "$(stat_of write "$TEST_DIR/out")" = 3 &&
	test "$(stat_of requests "$TEST_DIR/out")" = $((2 + 4 + 3 + 4 + 4 + 4)) &&
	test "$(du -sk "$SERVER/sparse" | cut -f1)" -lt 1024
'

test_expect_success 'requests per file with --fsync: one fsync@openssh.com more' '
	rm -rf "$SERVER/count" && mkdir "$SERVER/count" &&
	T --stats --fsync putmany "$L/count" "$SERVER/count" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	same_files "$L/count" "$SERVER/count" &&
	test "$(stat_of requests "$TEST_DIR/out")" = $((2 + 4 + 6 + 4 + 4 + 4 + 4)) &&
	test "$(stat_of extended "$TEST_DIR/out")" = $((1 + 4 + 4))
'

test_expect_success 'an empty batch sends nothing and succeeds' '
	mkdir "$L/none" "$SERVER/none" &&
	T --stats putmany "$L/none" "$SERVER/none" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	grep -Fx "putmany: files=0 failed=0 bytes=0" "$TEST_DIR/out" &&
	test "$(stat_of requests "$TEST_DIR/out")" = 2 &&
	test -z "$(ls -A "$SERVER/none")"
'

test_expect_success 'targets in a missing directory get ENOENT, the others arrive' '
	make_files "$L/ok" 100 3 &&
	mkdir "$L/lost" && echo a >"$L/lost/one" && echo b >"$L/lost/two" &&
	mkdir "$SERVER/ok" &&
	test_must_fail T --stats putmany "$L/ok" "$SERVER/ok" "$L/lost" "$SERVER/nodir" \
	    >"$TEST_DIR/out" 2>"$TEST_DIR/err" &&
	cat "$TEST_DIR/out" "$TEST_DIR/err" &&
	grep -Fx "sftp-tool: putmany $SERVER/nodir/one: ENOENT (No such file or directory)" "$TEST_DIR/err" &&
	grep -Fx "sftp-tool: putmany $SERVER/nodir/two: ENOENT (No such file or directory)" "$TEST_DIR/err" &&
	test "$(grep -c ": ENOENT" "$TEST_DIR/err")" = 2 &&
	grep "^putmany: files=102 failed=2 " "$TEST_DIR/out" &&
	test "$(stat_of remove "$TEST_DIR/out")" = 0 &&
	test ! -e "$SERVER/nodir" &&
	same_files "$L/ok" "$SERVER/ok"
'

test_expect_success 'a failed rename removes the temporary file, the others arrive' '
	mkdir -p "$L/rn" "$SERVER/rn/x" && touch "$SERVER/rn/x/inner" &&
	echo new >"$L/rn/x" && echo fine >"$L/rn/y" &&
	test_must_fail T --stats putmany "$L/rn" "$SERVER/rn" \
	    >"$TEST_DIR/out" 2>"$TEST_DIR/err" &&
	cat "$TEST_DIR/out" "$TEST_DIR/err" &&
	grep -F "sftp-tool: putmany $SERVER/rn/x: EIO" "$TEST_DIR/err" &&
	test "$(stat_of remove "$TEST_DIR/out")" = 1 &&
	test -d "$SERVER/rn/x" && test -f "$SERVER/rn/x/inner" &&
	test ! -e "$SERVER/rn/.tmp.x" &&
	test "$(cat "$SERVER/rn/y")" = fine
'

test_expect_success 'an existing target is replaced by a rename (new inode, new contents)' '
	mkdir -p "$L/rep" "$SERVER/rep" &&
	echo old >"$SERVER/rep/t" && chmod 600 "$SERVER/rep/t" &&
	ln "$SERVER/rep/t" "$SERVER/rep/oldlink" &&
	ino=$(stat -c %i "$SERVER/rep/t") &&
	echo brand new >"$L/rep/t" && chmod 640 "$L/rep/t" && touch -d @1234567890 "$L/rep/t" &&
	T putmany "$L/rep" "$SERVER/rep" &&
	test "$(cat "$SERVER/rep/t")" = "brand new" &&
	test "$(stat -c %i "$SERVER/rep/t")" != "$ino" &&
	test "$(stat -c %a:%Y:%h "$SERVER/rep/t")" = 640:1234567890:1 &&
	test "$(cat "$SERVER/rep/oldlink")" = old &&
	test ! -e "$SERVER/rep/.tmp.t"
'

# With a check, the rename replaces only what the caller expects: for
# putnew, nothing.  The LSTAT travels with the file: no round trip more.
test_expect_success 'a checked batch keeps a name the server has, the others arrive' '
	mkdir -p "$L/new" "$SERVER/new" &&
	echo theirs >"$SERVER/new/b" &&
	echo mine-a >"$L/new/a" && echo mine-b >"$L/new/b" && echo mine-c >"$L/new/c" &&
	T --stats putnew "$L/new" "$SERVER/new" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	grep -qx "kept $SERVER/new/b (found 7 bytes)" "$TEST_DIR/out" &&
	grep -q "putnew: files=3 failed=0 .* kept=1" "$TEST_DIR/out" &&
	test "$(cat "$SERVER/new/b")" = theirs &&
	test "$(cat "$SERVER/new/.tmp.b")" = mine-b &&
	test "$(cat "$SERVER/new/a")" = mine-a && test "$(cat "$SERVER/new/c")" = mine-c &&
	test ! -e "$SERVER/new/.tmp.a" && test ! -e "$SERVER/new/.tmp.c" &&
	test "$(stat_of stat "$TEST_DIR/out")" = 3 &&
	test "$(stat_of extended "$TEST_DIR/out")" = $((1 + 2))
'

test_expect_success 'session killed mid-batch: ENOTCONN, no hang' '
	make_files "$L/kill" 600 4 &&
	mkdir "$SERVER/kill" && mkfifo "$SERVER/kill/.tmp.f00300" &&
	timeout 120 "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 \
	    putmany "$L/kill" "$SERVER/kill" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
	kill_session_when_blocked $!
	cat "$TEST_DIR/out" "$TEST_DIR/err"
	test "$rc" = 1 &&
	grep -F "SFTP connection lost: " "$TEST_DIR/err" &&
	grep -Fx "sftp-tool: putmany $L/kill: ENOTCONN (Transport endpoint is not connected)" "$TEST_DIR/err"
'

# The cases below read every request the server received, in its order,
# from sftp-server's log at DEBUG1: the level that shows WRITE, FSETSTAT and
# a path SETSTAT.

# file_requests LOG: one line per file the server opened, "NAME: REQUESTS"
# with its requests in the order the server ran them (consecutive WRITEs as
# one "write+"); a SETSTAT by path anywhere is printed as "setstat PATH".
file_requests() {
	python3 - "$1" <<'PY'
import re, sys
reqs, order, handle, opened = {}, [], {}, None
def add(path, op):
    name = path.rsplit("/", 1)[-1]
    name = name[5:] if name.startswith(".tmp.") else name
    if name not in reqs:
        reqs[name] = []
        order.append(name)
    if op == "write" and reqs[name][-1:] == ["write+"]:
        return
    reqs[name].append("write+" if op == "write" else op)
# sftp-server logs names raw: a name holding a newline continues a line.
known = ("open ", "debug", "sent ", "set ", "close ", "fsync ", "posix-rename ",
         "remove ", "session ", "received ", "mkdir ", "rmdir ", "rename ")
lines = []
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    line = line.rstrip("\n")
    if lines and not line.startswith(known):
        lines[-1] += "\n" + line
    else:
        lines.append(line)
for line in lines:
    m = re.match(r'open "(.*)" flags', line, re.S)
    if m:
        opened = m.group(1); add(opened, "open"); continue
    m = re.match(r'debug1: request \d+: sent handle handle (\d+)', line)
    if m:
        handle[m.group(1)], opened = opened, None; continue
    m = re.match(r'debug1: request \d+: write "(.*)" \(handle', line, re.S)
    if m:
        add(m.group(1), "write"); continue
    m = re.match(r'debug1: request \d+: fsetstat handle (\d+)', line)
    if m:
        add(handle[m.group(1)], "fsetstat"); continue
    m = re.match(r'debug1: request \d+: setstat name "(.*)"', line, re.S)
    if m:
        print("setstat", m.group(1)); continue
    for op, pat in (("fsync", r'fsync "(.*)"'), ("close", r'close "(.*)" bytes'),
                    ("rename", r'posix-rename old "(.*)" new'), ("remove", r'remove name "(.*)"')):
        m = re.match(pat, line, re.S)
        if m:
            add(m.group(1), op)
for name in order:
    print("%s: %s" % (name.replace("\n", "\\n"), " ".join(reqs[name])))
PY
}

test_expect_success 'server log: per file open, write+, fsetstat, fsync, close, rename; no path setstat' '
	mkdir -p "$L/seq" "$SERVER/seq" &&
	: >"$L/seq/empty" && echo small >"$L/seq/small" &&
	# 3 MiB: more WRITE data than may be in flight at once (512 KiB)
	head -c $((3 << 20)) /dev/urandom >"$L/seq/big" &&
	for i in $(seq 1 40); do echo "$i" >"$L/seq/n$i" || return 1; done &&
	: >"$SFTP_LOG" &&
	T --stats --fsync putmany "$L/seq" "$SERVER/seq" >"$TEST_DIR/out" &&
	cat "$TEST_DIR/out" &&
	same_files "$L/seq" "$SERVER/seq" &&
	file_requests "$SFTP_LOG" >"$TEST_DIR/reqs" &&
	cat "$TEST_DIR/reqs" &&
	! grep "^setstat " "$TEST_DIR/reqs" &&
	test "$(wc -l <"$TEST_DIR/reqs")" = 43 &&
	grep -Fx "empty: open fsetstat fsync close rename" "$TEST_DIR/reqs" &&
	test "$(grep -c ": open write+ fsetstat fsync close rename\$" "$TEST_DIR/reqs")" = 42 &&
	test "$(grep -c "request [0-9]*: write \"$SERVER/seq/.tmp.big\"" "$SFTP_LOG")" -ge 12
'

test_expect_success 'server log without --fsync: open, write+, fsetstat, close, rename' '
	rm -rf "$SERVER/seq" && mkdir "$SERVER/seq" &&
	: >"$SFTP_LOG" &&
	T putmany "$L/seq" "$SERVER/seq" &&
	same_files "$L/seq" "$SERVER/seq" &&
	file_requests "$SFTP_LOG" >"$TEST_DIR/reqs" &&
	cat "$TEST_DIR/reqs" &&
	! grep "^setstat " "$TEST_DIR/reqs" &&
	grep -Fx "empty: open fsetstat close rename" "$TEST_DIR/reqs" &&
	test "$(grep -c ": open write+ fsetstat close rename\$" "$TEST_DIR/reqs")" = 42
'

test_expect_success 'mode and mtime come from FSETSTAT exactly (not the server umask)' '
	mkdir -p "$L/attr" "$SERVER/attr" &&
	for m in 777 4755 2750 1777 666 000; do
		echo "$m" >"$L/attr/m$m" && chmod "$m" "$L/attr/m$m" &&
		touch -d @$((1234567000 + m)) "$L/attr/m$m" || return 1
	done &&
	T putmany "$L/attr" "$SERVER/attr" &&
	for m in 777 4755 2750 1777 666 000; do
		test "$(stat -c %a:%Y:%X "$SERVER/attr/m$m")" = \
		    "$(stat -c %a "$L/attr/m$m"):$((1234567000 + m)):$((1234567000 + m))" || return 1
	done &&
	same_files "$L/attr" "$SERVER/attr"
'

test_expect_success 'a WRITE refused (server disk full): no rename, old target kept, others arrive' '
	mkdir -p "$L/full" "$L/fine" "$SERVER/full" "$SERVER/fine" &&
	mount -t tmpfs -o size=64k tmpfs "$SERVER/full" &&
	at_exit "umount \"$SERVER/full\"" &&
	echo old bytes >"$SERVER/full/big" &&
	head -c $((1 << 20)) /dev/urandom >"$L/full/big" &&
	make_files "$L/fine" 30 5 &&
	: >"$SFTP_LOG" &&
	test_must_fail T --stats putmany "$L/full" "$SERVER/full" "$L/fine" "$SERVER/fine" \
	    >"$TEST_DIR/out" 2>"$TEST_DIR/err" &&
	cat "$TEST_DIR/out" "$TEST_DIR/err" &&
	grep -Fx "sftp-tool: putmany $SERVER/full/big: EIO (Input/output error)" "$TEST_DIR/err" &&
	test "$(grep -c "^sftp-tool: putmany " "$TEST_DIR/err")" = 1 &&
	grep "^putmany: files=31 failed=1 " "$TEST_DIR/out" &&
	test "$(cat "$SERVER/full/big")" = "old bytes" &&
	test ! -e "$SERVER/full/.tmp.big" &&
	test "$(stat_of remove "$TEST_DIR/out")" = 1 &&
	file_requests "$SFTP_LOG" >"$TEST_DIR/reqs" &&
	cat "$TEST_DIR/reqs" &&
	grep "^big: open write+ .*close remove\$" "$TEST_DIR/reqs" &&
	! grep "^big: .*rename" "$TEST_DIR/reqs" &&
	same_files "$L/fine" "$SERVER/fine"
'
test_done
