#!/bin/sh
# aclwatch reacts to files arriving in a share: cp -p, mv, tar, rsync, mkdir -p,
# chmod, rename between shares.  Backend from AW_BACKEND (default fanotify);
# t5002 runs the same cases with inotify.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t5-aclwatch-lib.sh"

BACKEND=${AW_BACKEND:-fanotify}
aw_setup "awe${BACKEND%${BACKEND#?}}_"
command -v rsync >/dev/null || bail_out "rsync is missing: apt-get install rsync"
say "backend $BACKEND"

aw_start "$BACKEND" || bail_out "aclwatch did not start with $BACKEND"

test_expect_success "the daemon starts with $BACKEND and fixes the share roots" '
	aw_wait_right "$CM2" && aw_wait_right "$OFF"
'

test_expect_success "cp -p of a private 0600 file" '
	as ${P}pupil "echo devoir >$PRIV/devoir.odt && chmod 600 $PRIV/devoir.odt && cp -p $PRIV/devoir.odt $CM2/" &&
	aw_wait_right "$CM2" &&
	as ${P}prof "echo corrige >>$CM2/devoir.odt" &&
	as ${P}boss "cat $CM2/devoir.odt" | grep -q corrige &&
	! as ${P}boss "echo x >>$CM2/devoir.odt" 2>/dev/null &&
	! as ${P}out "cat $CM2/devoir.odt" 2>/dev/null
'

test_expect_success "mv of a private tree into the share" '
	as ${P}pupil "mkdir -p $PRIV/projet/img && echo a >$PRIV/projet/a.txt && echo b >$PRIV/projet/img/b.png &&
		chmod 700 $PRIV/projet $PRIV/projet/img && chmod 600 $PRIV/projet/a.txt $PRIV/projet/img/b.png &&
		mv $PRIV/projet $CM2/" &&
	aw_wait_right "$CM2" &&
	as ${P}prof "echo note >>$CM2/projet/img/b.png && ls $CM2/projet/img" >/dev/null &&
	as ${P}boss "cat $CM2/projet/a.txt" >/dev/null
'

test_expect_success "tar x with restrictive modes" '
	mkdir -p "$TEST_DIR/tarsrc/t/sub" && echo t >"$TEST_DIR/tarsrc/t/sub/f" && echo s >"$TEST_DIR/tarsrc/t/script" &&
	chmod 700 "$TEST_DIR/tarsrc/t" "$TEST_DIR/tarsrc/t/sub" && chmod 600 "$TEST_DIR/tarsrc/t/sub/f" &&
	chmod 700 "$TEST_DIR/tarsrc/t/script" &&
	tar -C "$TEST_DIR/tarsrc" -cf "$TEST_DIR/t.tar" t && chmod 644 "$TEST_DIR/t.tar" &&
	as ${P}pupil "cd $CM2 && tar xpf $TEST_DIR/t.tar" &&
	aw_wait_right "$CM2" &&
	test "$(getfacl -cp "$CM2/t/script" | grep "^group:${P}dir:")" = "group:${P}dir:r-x" &&
	as ${P}prof "cat $CM2/t/sub/f" >/dev/null
'

test_expect_success "rsync -a of a tree" '
	as ${P}pupil "mkdir -p $PRIV/rs/d && echo r >$PRIV/rs/d/r && chmod 600 $PRIV/rs/d/r && chmod 700 $PRIV/rs/d &&
		rsync -a $PRIV/rs $CM2/" &&
	aw_wait_right "$CM2" &&
	as ${P}prof "echo w >>$CM2/rs/d/r"
'

test_expect_success "rsync -A of a file with a foreign ACL" '
	echo foreign >"$TEST_DIR/foreign" && chmod 640 "$TEST_DIR/foreign" &&
	setfacl -m u:${P}out:rw,g:${P}off:rwx "$TEST_DIR/foreign" &&
	rsync -aA "$TEST_DIR/foreign" "$CM2/foreign" &&
	aw_wait_right "$CM2" &&
	! getfacl -cp "$CM2/foreign" | grep -q "^user:[^:]" &&
	! as ${P}out "cat $CM2/foreign" 2>/dev/null &&
	as ${P}prof "cat $CM2/foreign" >/dev/null
'

test_expect_success "mkdir -p a/b/c/d then files in the deepest directory at once" '
	as ${P}pupil "umask 077 && mkdir -p $CM2/a/b/c/d && for i in 1 2 3 4 5 6 7 8; do echo \$i >$CM2/a/b/c/d/f\$i; done" &&
	aw_wait_right "$CM2" &&
	as ${P}prof "cat $CM2/a/b/c/d/f8 && echo x >$CM2/a/b/c/d/new" >/dev/null
'

test_expect_success "a user chmod 600 in the share is undone" '
	aw_wait_right "$CM2" &&
	as ${P}pupil "chmod 600 $CM2/devoir.odt" &&
	aw_wait_right "$CM2" &&
	as ${P}prof "echo again >>$CM2/devoir.odt"
'

test_expect_success "rename from one share to another with different groups" '
	mkdir -p "$CM2/tomove/in" && echo m >"$CM2/tomove/in/m" && echo f >"$CM2/single" &&
	aw_wait_right "$CM2" &&
	mv "$CM2/tomove" "$OFF/moved" && mv "$CM2/single" "$OFF/single" &&
	aw_wait_right "$OFF" &&
	as ${P}clerk "echo c >>$OFF/moved/in/m && echo c >>$OFF/single" &&
	! as ${P}prof "echo p >>$OFF/single" 2>/dev/null &&
	as ${P}out "cat $OFF/moved/in/m" >/dev/null
'

test_expect_success "a rename inside the share keeps everything right" '
	as ${P}pupil "mv $CM2/a $CM2/renamed && umask 077 && echo z >$CM2/renamed/b/c/d/after" &&
	aw_wait_right "$CM2"
'

test_expect_success "counters are logged on SIGUSR1" '
	kill -USR1 $AW_PID &&
	wait_for grep -q "counters now: events [1-9]" "$AW_LOG"
'

aw_stop
test_done
