#!/bin/sh
# t0002 (issue 13): make install puts on a workstation or server what it
# needs beside the programs, at the paths configure chose (never a fixed
# /usr/local): the tmpfiles.d entry and the cache root (root's, 0755; one
# an older roamfs left 1777 is closed, issue 23), the systemd unit, mount.fuse.roamfs, the man pages and
# the examples under the doc directory, the PAM check (roamfs-home-check),
# the logout screen (roamfs-logout) and the wait at shutdown (its unit and
# roamfs-shutdown-wait), and the housekeeping of the caches (roamfs-gc.timer
# and its service, which runs the installed roamctl gc);
# make uninstall leaves no file.
. "$(dirname "$0")/lib.sh"
D=$TEST_DIR/root
MAKE="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C $top_builddir"

# dir NAME: the value of an installation directory variable of the build.
dir() {
	printf 'print:\n\t@echo $(%s)\n' "$1" | $MAKE -f Makefile -f - print
}

test_expect_success 'make install DESTDIR=... succeeds' '
	$MAKE install DESTDIR="$D" >"$TEST_DIR/install.out" 2>&1 ||
	{ tail -n 20 "$TEST_DIR/install.out"; false; }
'

test_expect_success 'the programs, mount.fuse.roamfs and the man pages' '
	test -x "$D$(dir bindir)/roamfs" && test -x "$D$(dir bindir)/roamctl" &&
	test -x "$D$(dir sbindir)/aclwatch" &&
	test "$(readlink "$D$(dir sbindir)/mount.fuse.roamfs")" = "$(dir bindir)/roamfs" &&
	for m in man8/roamfs.8 man8/roamctl.8 man8/aclwatch.8 man5/aclwatch.conf.5; do
		test -f "$D$(dir mandir)/$m" || { echo "no $m"; return 1; }
	done
'

test_expect_success 'the tmpfiles.d entry makes the cache root that roamfs uses, root'"'"'s and closed' '
	f=$D$(dir tmpfilesdir)/roamfs.conf &&
	grep -qx "d $(dir localstatedir)/cache/roamfs 0755 root root -" "$f" &&
	test "$(stat -c %a "$D$(dir localstatedir)/cache/roamfs")" = 755
'

test_expect_success 'make install closes a cache root an older roamfs left open to all (1777)' '
	chmod 1777 "$D$(dir localstatedir)/cache/roamfs" &&
	$MAKE install DESTDIR="$D" >"$TEST_DIR/install.out" 2>&1 &&
	test "$(stat -c %a "$D$(dir localstatedir)/cache/roamfs")" = 755 ||
	{ tail -n 20 "$TEST_DIR/install.out"; false; }
'

test_expect_success 'the aclwatch unit runs the installed aclwatch with the installed configuration' '
	u=$D$(dir systemdsystemunitdir)/aclwatch.service &&
	grep -qx "ExecStart=$(dir sbindir)/aclwatch run -f -c $(dir sysconfdir)/aclwatch.conf" "$u" &&
	! grep -q "@[a-z]*@" "$u"
'

test_expect_success 'the PAM check and the logout screen are in the package libexec directory' '
	c=$D$(dir pkglibexecdir)/roamfs-home-check &&
	test -x "$c" && grep -qF "log=\${root:-$(dir localstatedir)/cache/roamfs}/" "$c" &&
	grep -qF " config=$(dir sysconfdir)/roamfs/roamfs.conf" "$c" &&
	! grep -q "@[a-z]*@" "$c" &&
	l=$D$(dir pkglibexecdir)/roamfs-logout &&
	test -x "$l" && grep -q "^ROAMCTL=\${ROAMCTL:-$(dir bindir)/roamctl}" "$l" &&
	! grep -q "@[a-z]*@" "$l"
'

test_expect_success 'the shutdown unit runs the installed roamfs-shutdown-wait, which runs the installed roamctl' '
	u=$D$(dir systemdsystemunitdir)/roamfs-shutdown.service &&
	w=$(dir pkglibexecdir)/roamfs-shutdown-wait &&
	grep -q "^ExecStop=-$w --timeout=" "$u" && ! grep -q "@[a-z]*@" "$u" &&
	test -x "$D$w" && grep -q "^ROAMCTL=\${ROAMCTL:-$(dir bindir)/roamctl}" "$D$w" &&
	! grep -q "@[a-z]*@" "$D$w"
'

test_expect_success 'the gc timer runs the installed roamctl gc hourly, at low priority' '
	u=$D$(dir systemdsystemunitdir)/roamfs-gc.service &&
	t=$D$(dir systemdsystemunitdir)/roamfs-gc.timer &&
	grep -qx "ExecStart=$(dir bindir)/roamctl gc" "$u" && grep -qx "Type=oneshot" "$u" &&
	grep -qx "IOSchedulingClass=idle" "$u" && grep -q "^Nice=" "$u" &&
	! grep -q "@[a-z]*@" "$u" &&
	grep -qx "OnCalendar=hourly" "$t" && grep -qx "Persistent=true" "$t" &&
	grep -q "^RandomizedDelaySec=" "$t" && grep -qx "WantedBy=timers.target" "$t"
'

test_expect_success 'systemd-analyze verify takes the gc units (when systemd-analyze is there)' '
	command -v systemd-analyze >/dev/null || { echo "# no systemd-analyze"; return 0; }
	mkdir -p "$TEST_DIR/units" &&
	sed "s|^ExecStart=$(dir bindir)/|ExecStart=$D$(dir bindir)/|" \
	    "$D$(dir systemdsystemunitdir)/roamfs-gc.service" >"$TEST_DIR/units/roamfs-gc.service" &&
	cp "$D$(dir systemdsystemunitdir)/roamfs-gc.timer" "$TEST_DIR/units/" &&
	systemd-analyze verify --man=no "$TEST_DIR/units/roamfs-gc.timer" \
	    "$TEST_DIR/units/roamfs-gc.service"
'

test_expect_success 'the examples are under the doc directory' '
	for f in pam_mount.conf.xml fstab.example aclwatch.conf; do
		test -f "$D$(dir docdir)/examples/$f" || { echo "no $f"; return 1; }
	done
'

test_expect_success 'make uninstall leaves no file behind' '
	$MAKE uninstall DESTDIR="$D" >"$TEST_DIR/uninstall.out" 2>&1 &&
	left=$(find "$D" ! -type d) && test -z "$left" &&
	test ! -e "$D$(dir localstatedir)/cache/roamfs" ||
	{ echo "left: $left"; tail -n 20 "$TEST_DIR/uninstall.out"; false; }
'

test_done
