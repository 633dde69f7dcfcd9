#!/bin/sh
# Attacks by an unprivileged user inside a share: symbolic links to files and
# directories outside, a directory component swapped for a symlink during
# scans, a hard link to a file outside.  Nothing outside the share may change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t5-aclwatch-lib.sh"

aw_setup awa_
OUTSIDE=$TEST_DIR/outside
mkdir -p "$OUTSIDE/sub"
for i in 1 2 3 4 5; do echo s >"$OUTSIDE/f$i"; echo s >"$OUTSIDE/sub/g$i"; done
chmod 600 "$OUTSIDE"/f* "$OUTSIDE"/sub/g*
chmod 700 "$OUTSIDE/sub"
setfacl -m u:nobody:r "$OUTSIDE/f1"
as ${P}pupil "echo secret >$PRIV/secret && chmod 600 $PRIV/secret"

snap() {
	{
		stat -c '%n %a %u %g %h' /etc/shadow /etc/passwd
		getfacl -p /etc/shadow /etc/passwd 2>/dev/null
		aw_snapshot "$OUTSIDE"
		aw_snapshot "$PRIV"
	} >"$1"
}
snap "$TEST_DIR/before"

# marker NAME: a new restrictive file whose fixing shows the events before it were handled.
marker() {
	as ${P}pupil "umask 077 && echo m >$CM2/$1" && aw_wait_right "$CM2"
}

for BACKEND in fanotify inotify; do
	aw_start $BACKEND || bail_out "aclwatch did not start with $BACKEND"

	test_expect_success "$BACKEND: symbolic links to /etc/shadow and to a directory outside" '
		as ${P}pupil "ln -s /etc/shadow $CM2/evil-$BACKEND && ln -s $OUTSIDE $CM2/evildir-$BACKEND &&
			mkdir $CM2/d-$BACKEND && ln -s /etc/passwd $CM2/d-$BACKEND/p" &&
		marker m1-$BACKEND &&
		"$ACLWATCH" repair -c "$AW_CONF" "$CM2" >/dev/null &&
		snap "$TEST_DIR/after" && cmp "$TEST_DIR/before" "$TEST_DIR/after"
	'

	test_expect_success "$BACKEND: a hard link to a file outside the share is left alone" '
		as ${P}pupil "ln $PRIV/secret $CM2/hl-$BACKEND" &&
		marker m2-$BACKEND &&
		wait_for grep -q "hl-$BACKEND: .*hard links: not trusted" "$AW_LOG" &&
		test_status=0 && "$ACLWATCH" repair -c "$AW_CONF" "$CM2" >"$TEST_DIR/rep.out" || test_status=$? &&
		test $test_status = 1 && grep -q "hl-$BACKEND: .*not trusted" "$TEST_DIR/rep.out" &&
		! as ${P}prof "cat $PRIV/secret" 2>/dev/null &&
		snap "$TEST_DIR/after" && cmp "$TEST_DIR/before" "$TEST_DIR/after" &&
		rm "$CM2/hl-$BACKEND"
	'

	test_expect_success "$BACKEND: a directory swapped for a symlink during scans" '
		as ${P}pupil "mkdir -p $CM2/swap-$BACKEND/real/x && for i in \$(seq 1 40); do echo \$i >$CM2/swap-$BACKEND/real/x/f\$i; done" ||
			exit 1
		( for i in $(seq 1 15); do "$ACLWATCH" repair -c "$AW_CONF" "$CM2" >/dev/null 2>&1; done ) &
		rep=$!
		as ${P}pupil "cd $CM2/swap-$BACKEND && for i in \$(seq 1 150); do
			mv -T real tmp && ln -s $OUTSIDE real && chmod 600 tmp/x/f1 && rm real && mv -T tmp real &&
			ln -s $OUTSIDE/sub real/x/link; rm -f real/x/link; done"
		swapped=$?
		wait $rep
		test $swapped = 0 &&
		marker m3-$BACKEND &&
		snap "$TEST_DIR/after" && cmp "$TEST_DIR/before" "$TEST_DIR/after"
	'

	aw_stop
done

test_expect_success "the daemons logged no error about the attacks" '
	! grep -i "fatal" "$AW_LOG"
'

test_done
