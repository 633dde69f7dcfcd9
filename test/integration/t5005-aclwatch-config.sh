#!/bin/sh
# SIGHUP reloads the configuration; a bad one is refused (with its line) and
# the running daemon keeps the old one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t5-aclwatch-lib.sh"

aw_setup awr_
groupadd awr_extra || bail_out "groupadd awr_extra failed"
at_exit "groupdel awr_extra >/dev/null 2>&1"
aw_start auto || bail_out "aclwatch did not start"
good_conf=$(cat "$AW_CONF")
bad_line=$(($(wc -l <"$AW_CONF") + 1))

test_expect_success "a bad configuration is refused on SIGHUP, the old one stays" '
	printf "%s\n  bogus option = 1\n" "$good_conf" >"$AW_CONF" &&
	kill -HUP $AW_PID &&
	wait_for grep -q "reload refused, the old configuration stays in use: .*aclwatch.conf:$bad_line: unknown option" "$AW_LOG" &&
	kill -0 $AW_PID &&
	as ${P}pupil "umask 077 && echo a >$CM2/after-bad" &&
	aw_wait_right "$CM2"
'

test_expect_success "a group that does not exist is refused on SIGHUP" '
	aw_write_conf no_such_group_awr >"$AW_CONF" &&
	kill -HUP $AW_PID &&
	wait_for grep -q "group .no_such_group_awr. does not exist" "$AW_LOG" &&
	kill -0 $AW_PID
'

test_expect_success "a good configuration is taken on SIGHUP and applied to the whole share" '
	aw_write_conf awr_extra >"$AW_CONF" &&
	kill -HUP $AW_PID &&
	wait_for grep -q "reloading" "$AW_LOG" &&
	wait_for sh -c "getfacl -cp \"$CM2/after-bad\" | grep -q \"^group:awr_extra:r--\"" &&
	as ${P}pupil "umask 077 && echo b >$CM2/after-good" &&
	wait_for sh -c "getfacl -cp \"$CM2/after-good\" | grep -q \"^group:awr_extra:r--\""
'

test_expect_success "aclwatch run refuses to start with a bad file, with its line" '
	printf "[x]\n path = /nonexistent-awr\n write groups = awr_extra\n" >"$TEST_DIR/bad.conf" &&
	test_status=0 && "$ACLWATCH" run -f -c "$TEST_DIR/bad.conf" 2>"$TEST_DIR/run.err" || test_status=$? &&
	cat "$TEST_DIR/run.err" &&
	test $test_status = 1 && grep -q "bad.conf:2: path /nonexistent-awr" "$TEST_DIR/run.err"
'

aw_stop
test_done
