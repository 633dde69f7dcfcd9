# t5-aclwatch-lib.sh: helpers for the aclwatch tests (sourced after lib.sh).
#
# aw_setup P creates the groups ${P}cm2 ${P}profs ${P}dir ${P}off and the users
# ${P}pupil (in cm2), ${P}prof (in profs), ${P}boss (in dir), ${P}clerk (in
# off), ${P}out (in none), all removed at exit; two shares:
#   $CM2  write cm2, profs; read dir; others none; default acl yes
#   $OFF  write off; others read; default acl yes
# and a private directory $PRIV owned by the pupil.

require_root
command -v getfacl >/dev/null || bail_out "getfacl is missing: apt-get install acl"
command -v setpriv >/dev/null || bail_out "setpriv is missing: apt-get install util-linux"

aw_setup() {
	P=$1
	for u in pupil prof boss clerk out; do userdel -f "$P$u" >/dev/null 2>&1; done
	for g in cm2 profs dir off; do groupdel "$P$g" >/dev/null 2>&1; done
	for g in cm2 profs dir off; do
		groupadd "$P$g" || bail_out "groupadd $P$g failed"
		at_exit "groupdel $P$g >/dev/null 2>&1"
	done
	for u in pupil:cm2 prof:profs boss:dir clerk:off out:; do
		name=$P${u%%:*} grp=${u#*:}
		useradd -M -N -g nogroup -s /bin/sh ${grp:+-G "$P$grp"} "$name" || bail_out "useradd $name failed"
		at_exit "userdel -f $name >/dev/null 2>&1"
	done
	SRV=$TEST_DIR/srv
	CM2=$SRV/cm2
	OFF=$SRV/office
	PRIV=$TEST_DIR/priv
	mkdir -p "$CM2" "$OFF" "$PRIV"
	chmod 755 "$SRV"
	chown "${P}pupil" "$PRIV"
	chmod 700 "$PRIV"
	AW_CONF=$TEST_DIR/aclwatch.conf
	AW_LOG=$TEST_DIR/aclwatch.log
	aw_write_conf >"$AW_CONF"
}

# aw_write_conf [EXTRA READ GROUP FOR CM2]: print the test configuration.
aw_write_conf() {
	cat <<-CONF
	[global]
	    log level = debug
	[cm2]
	    path = $CM2
	    write groups = ${P}cm2, ${P}profs
	    read groups = ${P}dir ${1:-}
	    others = none
	    default acl = yes
	[office]
	    path = $OFF
	    write groups = ${P}off
	    others = read
	CONF
}

# as USER CMD: run a shell command as a user with the user's groups.
as() {
	_u=$1
	shift
	setpriv --reuid="$(id -u "$_u")" --regid="$(id -g "$_u")" --init-groups \
	    env HOME=/ sh -c "$*"
}

# aw_start BACKEND: start the daemon in the foreground, wait until it is ready.
aw_start() {
	: >"$AW_LOG"
	"$ACLWATCH" run -f -c "$AW_CONF" -b "$1" 2>>"$AW_LOG" &
	AW_PID=$!
	at_exit "kill $AW_PID 2>/dev/null"
	wait_for grep -q "ready:" "$AW_LOG" || { cat "$AW_LOG"; return 1; }
	[ "$1" = auto ] || grep -q "watched with $1" "$AW_LOG" || { cat "$AW_LOG"; return 1; }
}

# aw_stop: stop the daemon and wait for it.
aw_stop() {
	kill "$AW_PID" 2>/dev/null
	wait "$AW_PID" 2>/dev/null
	return 0
}

# perms ACCESS ISX: the rwx text of an access level (w or r) with or without x.
_perms() {
	case $1$2 in
	w1) echo rwx ;; w0) echo rw- ;; r1) echo r-x ;; r0) echo r-- ;; n1|n0) echo --- ;;
	esac
}

# aw_want PATH: the ACL (getfacl -cEp text on one line) the share of PATH wants.
aw_want() {
	_p=$1
	_x=0
	_mode=$(stat -c %A "$_p")
	[ -d "$_p" ] && _x=1
	[ "$(echo "$_mode" | cut -c4)" = x ] && _x=1
	_owner=$(echo "$_mode" | cut -c2-4)
	case $_p in
	"$CM2"|"$CM2"/*)
		_out="user::$_owner group::$(_perms n $_x) group:${P}cm2:$(_perms w $_x) group:${P}profs:$(_perms w $_x) group:${P}dir:$(_perms r $_x) mask::$(_perms w $_x) other::$(_perms n $_x)"
		[ -d "$_p" ] && _out="$_out default:user::rwx default:group::--- default:group:${P}cm2:rwx default:group:${P}profs:rwx default:group:${P}dir:r-x default:mask::rwx default:other::---"
		;;
	"$OFF"|"$OFF"/*)
		_out="user::$_owner group::$(_perms r $_x) group:${P}off:$(_perms w $_x) mask::$(_perms w $_x) other::$(_perms r $_x)"
		[ -d "$_p" ] && _out="$_out default:user::rwx default:group::r-x default:group:${P}off:rwx default:mask::rwx default:other::r-x"
		;;
	esac
	echo "$_out"
}

# aw_acl PATH: the ACL on the disk, one line.
aw_acl() {
	getfacl -cEp "$1" 2>/dev/null | grep -v '^$' | tr '\n' ' ' | sed 's/ $//'
}

# aw_tree_right DIR: every file and directory under DIR has the wanted ACL
# (one getfacl -R and one python3 for the whole tree; wrong ones printed
# when AW_VERBOSE is set).
aw_tree_right() {
	getfacl -R -P -E -p "$1" 2>/dev/null | AW_P=$P AW_CM2=$CM2 AW_OFF=$OFF python3 -c '
import os, stat, sys
P, CM2, OFF = os.environ["AW_P"], os.environ["AW_CM2"], os.environ["AW_OFF"]
def perms(level, x):
    return {"w": "rw", "r": "r-", "n": "--"}[level] + ("x" if x and level != "n" else "-")
def want(path, st):
    d = stat.S_ISDIR(st.st_mode)
    x = d or bool(st.st_mode & stat.S_IXUSR)
    owner = stat.filemode(st.st_mode)[1:4]
    if path == CM2 or path.startswith(CM2 + "/"):
        e = ["user::" + owner, "group::" + perms("n", x), "group:%scm2:%s" % (P, perms("w", x)),
             "group:%sprofs:%s" % (P, perms("w", x)), "group:%sdir:%s" % (P, perms("r", x)),
             "mask::" + perms("w", x), "other::" + perms("n", x)]
        if d:
            e += ["default:user::rwx", "default:group::---", "default:group:%scm2:rwx" % P,
                  "default:group:%sprofs:rwx" % P, "default:group:%sdir:r-x" % P,
                  "default:mask::rwx", "default:other::---"]
    else:
        e = ["user::" + owner, "group::" + perms("r", x), "group:%soff:%s" % (P, perms("w", x)),
             "mask::" + perms("w", x), "other::" + perms("r", x)]
        if d:
            e += ["default:user::rwx", "default:group::r-x", "default:group:%soff:rwx" % P,
                  "default:mask::rwx", "default:other::r-x"]
    return e
bad, seen, cur, entries = 0, 0, None, []
def check(path, entries):
    global bad, seen
    if path is None:
        return
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not (stat.S_ISDIR(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_nlink == 1)):
        return
    seen += 1
    w = want(path, st)
    if entries != w:
        bad += 1
        if os.environ.get("AW_VERBOSE"):
            print("wrong: %s: %s / want %s" % (path, " ".join(entries), " ".join(w)))
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("# file: "):
        check(cur, entries)
        cur, entries = line[8:], []
    elif line and not line.startswith("#"):
        entries.append(line)
check(cur, entries)
sys.exit(1 if bad or seen == 0 else 0)
'
}

# aw_wait_right DIR: wait (bounded) until the whole tree is right; show what is not.
aw_wait_right() {
	wait_for aw_tree_right "$1" && return 0
	AW_VERBOSE=1 aw_tree_right "$1"
	tail -n 20 "$AW_LOG"
	return 1
}

# aw_snapshot DIR: modes, owners and ACLs of everything under DIR (for before/after).
aw_snapshot() {
	find "$1" -printf '%p %M %u %g\n' | sort
	getfacl -R -p "$1" 2>/dev/null
}
