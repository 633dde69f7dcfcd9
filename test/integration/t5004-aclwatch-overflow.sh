#!/bin/sh
# A burst larger than the event queue still ends fully fixed (both backends):
# the queue is made small for the test, the daemon is paused during the burst.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t5-aclwatch-lib.sh"

aw_setup awo_
INQ=/proc/sys/fs/inotify/max_queued_events
FANQ=/proc/sys/fs/fanotify/max_queued_events
[ -w "$INQ" ] && [ -w "$FANQ" ] || bail_out "cannot lower the event queue sizes ($INQ, $FANQ)"
old_in=$(cat $INQ)
old_fan=$(cat $FANQ)
at_exit "echo $old_in >$INQ; echo $old_fan >$FANQ"
echo 64 >$INQ
echo 64 >$FANQ

for BACKEND in fanotify inotify; do
	aw_start $BACKEND || bail_out "aclwatch did not start with $BACKEND"
	test_expect_success "$BACKEND: a burst beyond the queue is rescanned and ends fixed" '
		kill -STOP $AW_PID &&
		as ${P}pupil "umask 077 && mkdir -p $CM2/burst-$BACKEND && cd $CM2/burst-$BACKEND &&
			for d in 1 2 3 4 5 6 7 8 9 10; do mkdir d\$d && (cd d\$d && touch \$(seq 1 60)); done" &&
		kill -CONT $AW_PID &&
		wait_for grep -q "overflowed" "$AW_LOG" &&
		aw_wait_right "$CM2"
	'
	aw_stop
done

echo "$old_in" >$INQ
echo "$old_fan" >$FANQ

# The inotify watch limit: lowered for a moment, the daemon says so and
# falls back to periodic rescans of the trees it cannot watch.
WQ=/proc/sys/fs/inotify/max_user_watches
old_w=$(cat $WQ)
at_exit "echo $old_w >$WQ"
mkdir -p "$CM2/many"
for d in $(seq 1 40); do mkdir -p "$CM2/many/d$d/e"; done
sed -i "s/^\[global\]/[global]\n    rescan interval = 1/" "$AW_CONF"
echo 30 >$WQ
aw_start inotify || { echo "$old_w" >$WQ; bail_out "aclwatch did not start with inotify"; }
echo "$old_w" >$WQ

test_expect_success "inotify: the watch limit is reported and unwatched trees are rescanned" '
	grep -q "watch limit is reached" "$AW_LOG" &&
	as ${P}pupil "umask 077 && for d in \$(seq 1 40); do echo x >$CM2/many/d\$d/e/late; done" &&
	aw_wait_right "$CM2" &&
	grep -q "rescanning [0-9]* trees that are not watched" "$AW_LOG"
'
aw_stop
test_done
