#!/bin/sh
# A path the server cannot take is refused at the call with ENAMETOOLONG,
# as the server would refuse it, instead of succeeding on the mount and
# being set aside when it is sent.  OpenSSH's sftp-server on Linux takes
# paths of up to 4,095 bytes (PATH_MAX - 1): the home's server path, "/"
# and the path below it.  A regular file also needs room for its upload's
# temporary name, DIR/.roamfs-tmp.<inode>.<seq> (49 bytes at most), in
# its directory.  A directory is not moved where what it holds would be
# too long, and nothing local-only (excluded) is limited.  The longest
# paths allowed reach the server byte for byte, nothing is set aside and
# roamfs exits 0 at the unmount.
#
# Paths of 4,000 bytes pass PATH_MAX as a whole, so the test reaches them
# one directory at a time (lp below: openat and the other *at calls).
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
command -v python3 >/dev/null || bail_out "python3 is missing: apt-get install python3"
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
LOG=$TEST_DIR/roamfs.log
mkdir -p "$H"
: >"$LOG"
printf '.cache/\n' >"$TEST_DIR/exclude"

cat >"$TEST_DIR/lp.py" <<'PY'
# lp OP BASE REL [ARG]: one file operation on BASE/REL, reached one
# directory at a time; prints "ok" (or what was read) or the errno's name.
import errno, hashlib, math, os, stat, sys

def parent(base, rel):
    parts = rel.split("/")
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    for p in parts[:-1]:
        nfd = os.open(p, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    return fd, parts[-1]

def kind(fd, name):
    try:
        m = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return "none"
    return "dir" if stat.S_ISDIR(m) else "link" if stat.S_ISLNK(m) else \
        "file" if stat.S_ISREG(m) else "other"

def tree(fd, prefix, skip, out):
    for name in sorted(os.listdir(fd)):
        if name in skip:
            continue
        k = kind(fd, name)
        line = "%s %s/%s" % (k, prefix, name)
        if k == "file":
            f = os.open(name, os.O_RDONLY, dir_fd=fd)
            line += " " + hashlib.sha256(os.read(f, 1 << 20)).hexdigest()
            os.close(f)
        elif k == "link":
            line += " -> " + os.readlink(name, dir_fd=fd)
        out.append(line)
        if k == "dir":
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            tree(sub, prefix + "/" + name, (), out)
            os.close(sub)

def pathof(n, prefix):
    # A relative path of exactly n bytes, in names of 200 to 255 bytes.
    k = math.ceil((n + 1) / 256)
    total = n - (k - 1)
    names = []
    for i in range(k):
        size = total // k + (1 if i < total % k else 0)
        head = "%s%02d" % (prefix, i)
        names.append(head + "x" * (size - len(head)))
    return "/".join(names)

def main(op, args):
    if op == "pathof":
        return pathof(int(args[0]), args[1])
    if op == "tree":
        out = []
        fd = os.open(args[0], os.O_RDONLY | os.O_DIRECTORY)
        tree(fd, "", set(args[1:]), out)
        return "\n".join(out)
    base, rel = args[0], args[1]
    if op == "mkdirs":
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        for p in rel.split("/"):
            try:
                os.mkdir(p, dir_fd=fd)
            except FileExistsError:
                pass
            nfd = os.open(p, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return "ok"
    if op in ("link", "rename"):
        sfd, sname = parent(base, rel)
        dfd, dname = parent(base, args[2])
        if op == "link":
            os.link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd)
        else:
            os.rename(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd)
        return "ok"
    fd, name = parent(base, rel)
    if op == "mkdir":
        os.mkdir(name, dir_fd=fd)
    elif op == "create":
        f = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
        os.write(f, args[2].encode())
        os.close(f)
    elif op == "mknod":
        os.mknod(name, stat.S_IFREG | 0o644, dir_fd=fd)
    elif op == "symlink":
        os.symlink(args[2], name, dir_fd=fd)
    elif op == "type":
        return kind(fd, name)
    elif op == "cat":
        f = os.open(name, os.O_RDONLY, dir_fd=fd)
        data = os.read(f, 1 << 20).decode()
        os.close(f)
        return data
    elif op == "readlink":
        return os.readlink(name, dir_fd=fd)
    elif op == "ino":
        return str(os.stat(name, dir_fd=fd, follow_symlinks=False).st_ino)
    else:
        raise SystemExit("lp: unknown operation " + op)
    return "ok"

try:
    print(main(sys.argv[1], sys.argv[2:]))
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY

lp() {
	python3 "$TEST_DIR/lp.py" "$@"
}

# expect ANSWER OP BASE REL [ARG]: lp answers ANSWER.
expect() {
	_want=$1
	shift
	_got=$(lp "$@")
	[ "$_got" = "$_want" ] && return 0
	printf 'lp %s %s %s: %s, expected %s\n' "$1" "$2" "$3" "$_got" "$_want" | cut -c 1-400
	return 1
}

# A name of N bytes of the letter C.
name_of() {
	python3 -c "import sys; print(sys.argv[1] * int(sys.argv[2]))" "$1" "$2"
}

# The server path of a relative path REL is HR/REL: at most 4,095 bytes,
# so REL has at most R bytes.  D leaves 230 bytes for a last name: D/N230
# is the longest path allowed, D/N231 one byte too long.
HR=$(realpath "$H")
R=$((4094 - ${#HR}))
D=$(lp pathof $((R - 231)) d)
# P and Q leave 48 and 49 bytes for a file's name: its upload's temporary
# name takes 49, so a file fits in Q only.
P=$D/$(name_of p 181)
Q=$D/$(name_of q 180)
say "server home $HR (${#HR} bytes): relative paths of up to $R bytes; D has ${#D}"

test_expect_success 'mount with .cache excluded and a deep directory near the limit' '
	ROAMFS_DEBUG_LOG=$LOG ROAMFS_DEBUG_FLAGS=-f mount_roamfs "$M" "exclude=$TEST_DIR/exclude" &&
	RPID=$(roamfs_pid "$ROAM_CACHE") &&
	test -n "$RPID" &&
	expect ok mkdirs "$M" "$D" &&
	expect ok mkdir "$M" "$P" &&
	expect ok mkdir "$M" "$Q" &&
	test ${#D} -eq $((R - 231)) && test ${#P} -eq $((R - 49)) && test ${#Q} -eq $((R - 50))
'

test_expect_success 'a directory, file or symbolic link one byte too long for the server: ENAMETOOLONG' '
	expect ENAMETOOLONG mkdir "$M" "$D/$(name_of a 231)" &&
	expect ENAMETOOLONG create "$M" "$D/$(name_of b 231)" "too long" &&
	expect ENAMETOOLONG mknod "$M" "$D/$(name_of g 231)" &&
	expect ENAMETOOLONG symlink "$M" "$D/$(name_of c 231)" target &&
	expect none type "$M" "$D/$(name_of a 231)" &&
	expect none type "$M" "$D/$(name_of b 231)" &&
	expect none type "$M" "$D/$(name_of g 231)" &&
	expect none type "$M" "$D/$(name_of c 231)"
'

test_expect_success 'the longest ones allowed are made' '
	expect ok mkdir "$M" "$D/$(name_of a 230)" &&
	expect ok create "$M" "$D/$(name_of b 230)" "the longest file path" &&
	expect ok mknod "$M" "$D/$(name_of g 230)" &&
	expect ok symlink "$M" "$D/$(name_of c 230)" "$(name_of b 230)" &&
	expect "the longest file path" cat "$M" "$D/$(name_of c 230)"
'

test_expect_success 'a file needs room for its upload'"'"'s temporary name, a directory does not' '
	expect ENAMETOOLONG create "$M" "$P/$(name_of f 48)" "no room" &&
	expect ENAMETOOLONG create "$M" "$P/f" "no room" &&
	expect ENAMETOOLONG mknod "$M" "$P/g" &&
	expect ok mkdir "$M" "$P/$(name_of f 48)" &&
	expect ok symlink "$M" "$P/s" "$(name_of f 48)" &&
	expect ok create "$M" "$Q/$(name_of f 48)" "just room" &&
	expect ok create "$M" "$Q/f" "short name"
'

test_expect_success 'a symbolic link target of 4,095 bytes is taken, one of 4,096 is not' '
	expect ok symlink "$M" t4095 "$(name_of t 4095)" &&
	expect ENAMETOOLONG symlink "$M" t4096 "$(name_of t 4096)"
'

test_expect_success 'a hard link or a rename to a name too long: ENAMETOOLONG, nothing moves' '
	expect ok create "$M" src "linked" &&
	expect ok create "$M" mv1 "renamed" &&
	expect ENAMETOOLONG link "$M" src "$D/$(name_of e 231)" &&
	expect ENAMETOOLONG rename "$M" mv1 "$D/$(name_of h 231)" &&
	expect ENAMETOOLONG rename "$M" mv1 "$P/h" &&
	expect none type "$M" "$D/$(name_of e 231)" &&
	expect none type "$M" "$D/$(name_of h 231)" &&
	expect renamed cat "$M" mv1 &&
	expect ok link "$M" src "$D/$(name_of e 230)" &&
	expect ok rename "$M" mv1 "$D/$(name_of h 230)" &&
	test "$(lp ino "$M" src)" = "$(lp ino "$M" "$D/$(name_of e 230)")"
'

# x/a/B230 at D/x would be 4 bytes too long, y/a/B226 at D/y just fits;
# w/c in a directory of R - 49 bytes would leave no room for the
# temporary name of c, in one of R - 50 it fits.
test_expect_success 'a directory is not moved where what it holds would be too long' '
	expect ok mkdirs "$M" "x/a/$(name_of b 230)" &&
	expect ok mkdirs "$M" "y/a/$(name_of b 226)" &&
	expect ok mkdir "$M" w &&
	expect ok create "$M" w/c "in w" &&
	expect ENAMETOOLONG rename "$M" x "$D/x" &&
	expect none type "$M" "$D/x" &&
	expect dir type "$M" "x/a/$(name_of b 230)" &&
	expect ENAMETOOLONG rename "$M" w "$D/$(name_of w 181)" &&
	expect "in w" cat "$M" w/c &&
	expect ok rename "$M" y "$D/y" &&
	expect dir type "$M" "$D/y/a/$(name_of b 226)" &&
	expect ok rename "$M" w "$D/$(name_of w 180)" &&
	expect "in w" cat "$M" "$D/$(name_of w 180)/c" &&
	expect ok rename "$M" "$D/y" y2
'

# K holds a path of R bytes below it: fine in .cache, too long once K is
# in the synced area, though its own path gets shorter.
K=$(lp pathof "$R" k)
test_expect_success 'paths in an excluded directory are not limited' '
	expect ok mkdirs "$M" ".cache/k/$K" &&
	expect ok create "$M" ".cache/k/$K/$(name_of f 255)" "local only" &&
	expect ok mkdir "$M" ".cache/k/$K/$(name_of m 255)" &&
	expect ok symlink "$M" ".cache/k/$K/s" "$(name_of t 4095)" &&
	expect ok link "$M" ".cache/k/$K/$(name_of f 255)" ".cache/k/$K/$(name_of l 255)" &&
	expect ok rename "$M" ".cache/k/$K/s" ".cache/k/$K/$(name_of s 255)" &&
	expect "local only" cat "$M" ".cache/k/$K/$(name_of l 255)"
'

test_expect_success 'a directory leaving the excluded area is refused when what it holds would be too long' '
	expect ENAMETOOLONG rename "$M" .cache/k k &&
	expect none type "$M" k &&
	expect dir type "$M" ".cache/k/$K"
'

test_expect_success 'after the unmount the server has exactly the synced tree, byte for byte' '
	lp tree "$M" .cache .config >"$TEST_DIR/mount.tree" &&
	lp tree "$M" >"$TEST_DIR/mount-all.tree" &&
	test "$(wc -l <"$TEST_DIR/mount.tree")" -gt 20 &&
	fusermount3 -u "$M" &&
	wait "$RPID" &&
	lp tree "$H" .config >"$TEST_DIR/server.tree" &&
	cmp "$TEST_DIR/mount.tree" "$TEST_DIR/server.tree" &&
	expect dir type "$H" "$D/$(name_of a 230)" &&
	expect "the longest file path" cat "$H" "$D/$(name_of b 230)" &&
	expect "$(name_of b 230)" readlink "$H" "$D/$(name_of c 230)" &&
	expect "$(name_of t 4095)" readlink "$H" t4095 &&
	expect "just room" cat "$H" "$Q/$(name_of f 48)" &&
	expect "in w" cat "$H" "$D/$(name_of w 180)/c" &&
	test "$(lp ino "$H" src)" = "$(lp ino "$H" "$D/$(name_of e 230)")" &&
	expect none type "$H" .cache &&
	grep -q "/\.cache/k/k00" "$TEST_DIR/mount-all.tree"
'

test_expect_success 'nothing was set aside, and no message was cut short' '
	! grep -i "set aside" "$LOG" "$ROAM_CACHE/roamfs.log" &&
	! grep -i "cut short" "$LOG" "$ROAM_CACHE/roamfs.log" &&
	grep -q "unmounted from $M" "$ROAM_CACHE/roamfs.log"
'

test_done
