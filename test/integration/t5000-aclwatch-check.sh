#!/bin/sh
# aclwatch check / repair / explain on a damaged tree, and bad configuration files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t5-aclwatch-lib.sh"

aw_setup awc_

test_expect_success "repair makes a fresh tree right, then check finds nothing" '
	mkdir -p "$CM2/cours/maths" "$CM2/cours/fr" &&
	for f in cours/maths/a cours/maths/b cours/fr/c cours/d; do echo x >"$CM2/$f"; done &&
	chmod 600 "$CM2/cours/maths/a" && chmod 700 "$CM2/cours/fr" &&
	"$ACLWATCH" repair -c "$AW_CONF" "$CM2" >"$TEST_DIR/repair0.out" &&
	grep -q "^cm2/cours/maths/a: fixed: group ${P}cm2 cannot read or write" "$TEST_DIR/repair0.out" &&
	aw_tree_right "$CM2" &&
	"$ACLWATCH" check -c "$AW_CONF" "$CM2" >"$TEST_DIR/check0.out" &&
	test ! -s "$TEST_DIR/check0.out"
'

test_expect_success "check lists exactly the damaged entries, in plain words" '
	chmod 600 "$CM2/cours/maths/a" &&
	setfacl -m u:${P}out:rw "$CM2/cours/maths/b" &&
	setfacl -x g:${P}profs "$CM2/cours/fr" &&
	setfacl -k "$CM2/cours" &&
	test_status=0 &&
	"$ACLWATCH" check -c "$AW_CONF" "$CM2" >"$TEST_DIR/check1.out" || test_status=$? &&
	cat "$TEST_DIR/check1.out" &&
	test $test_status = 1 &&
	cut -d: -f1 "$TEST_DIR/check1.out" | sort >"$TEST_DIR/paths" &&
	printf "%s\n" cm2/cours cm2/cours/fr cm2/cours/maths/a cm2/cours/maths/b >"$TEST_DIR/expect" &&
	cmp "$TEST_DIR/expect" "$TEST_DIR/paths" &&
	grep -q "^cm2/cours/maths/a: group ${P}cm2 cannot read or write;" "$TEST_DIR/check1.out" &&
	grep -q "^cm2/cours/maths/b: user ${P}out has a personal entry" "$TEST_DIR/check1.out" &&
	grep -q "^cm2/cours/fr: group ${P}profs cannot read, write or enter" "$TEST_DIR/check1.out" &&
	grep -q "^cm2/cours: new files: no default ACL" "$TEST_DIR/check1.out"
'

test_expect_success "check --json gives the same entries" '
	! "$ACLWATCH" check --json -c "$AW_CONF" "$CM2" >"$TEST_DIR/check.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(\"\\n\".join(sorted(e[\"path\"] for e in d)))" \
		"$TEST_DIR/check.json" >"$TEST_DIR/jpaths" &&
	cmp "$TEST_DIR/expect" "$TEST_DIR/jpaths"
'

test_expect_success "repair fixes them and says what it changed; a second check finds nothing" '
	"$ACLWATCH" repair -c "$AW_CONF" "$CM2/cours" >"$TEST_DIR/repair1.out" &&
	cat "$TEST_DIR/repair1.out" &&
	test $(grep -c ": fixed: " "$TEST_DIR/repair1.out") = 4 &&
	aw_tree_right "$CM2" &&
	"$ACLWATCH" check -c "$AW_CONF" "$CM2" >"$TEST_DIR/check2.out" &&
	test ! -s "$TEST_DIR/check2.out"
'

test_expect_success "check of one file below a share" '
	chmod 600 "$CM2/cours/d" &&
	! "$ACLWATCH" check -c "$AW_CONF" "$CM2/cours/d" >"$TEST_DIR/one.out" &&
	test "$(cut -d: -f1 "$TEST_DIR/one.out")" = cm2/cours/d
'

test_expect_success "explain says which rule applies and the ACL it wants" '
	"$ACLWATCH" explain -c "$AW_CONF" "$CM2/cours/d" >"$TEST_DIR/explain.out" &&
	cat "$TEST_DIR/explain.out" &&
	grep -q "is in share \[cm2\]" "$TEST_DIR/explain.out" &&
	grep -q "group:${P}profs:rw-" "$TEST_DIR/explain.out" &&
	grep -q "groups ${P}cm2, ${P}profs can read and write" "$TEST_DIR/explain.out" &&
	grep -q "^Now: group ${P}cm2 cannot read or write" "$TEST_DIR/explain.out"
'

test_expect_success "a path outside every share or through a symlink is refused" '
	ln -s "$CM2/cours" "$TEST_DIR/link" &&
	test_status=0 && "$ACLWATCH" check -c "$AW_CONF" /etc 2>"$TEST_DIR/err1" || test_status=$? &&
	test $test_status = 2 && grep -q "not inside any share" "$TEST_DIR/err1" &&
	mkdir "$CM2/real" && ln -s "$CM2/real" "$CM2/sym" &&
	test_status=0 && "$ACLWATCH" repair -c "$AW_CONF" "$CM2/sym/x" 2>"$TEST_DIR/err2" || test_status=$? &&
	test $test_status = 2 && grep -q "symbolic link" "$TEST_DIR/err2"
'

# bad_conf N TEXT: the file is refused by check with its line number N.
bad_conf() {
	printf "%b" "$2" >"$TEST_DIR/bad.conf" &&
	test_status=0 && "$ACLWATCH" check -c "$TEST_DIR/bad.conf" "$CM2" 2>"$TEST_DIR/bad.err" >/dev/null ||
		test_status=$? &&
	cat "$TEST_DIR/bad.err" &&
	test $test_status = 2 &&
	grep -q "bad.conf:$1: " "$TEST_DIR/bad.err"
}

test_expect_success "bad configuration files are refused with their line number" '
	bad_conf 3 "[cm2]\n  path = $CM2\n  write groupz = ${P}cm2\n" &&
	bad_conf 2 "[cm2]\n  path = relative/dir\n  write groups = ${P}cm2\n" &&
	bad_conf 4 "[cm2]\n  path = $CM2\n  write groups = ${P}cm2\n  others = all\n" &&
	bad_conf 1 "path = $CM2\n" &&
	bad_conf 5 "# c\n[cm2]\n  path = $CM2\n  write groups = ${P}cm2\n  read groups = no_such_grp_awc\n" &&
	grep -q "group .no_such_grp_awc. does not exist" "$TEST_DIR/bad.err" &&
	bad_conf 4 "[a]\n path = $CM2\n write groups = ${P}cm2\n[b]\n path = $CM2/cours\n write groups = ${P}cm2\n" &&
	bad_conf 2 "[cm2]\n  path = $TEST_DIR/does-not-exist\n  write groups = ${P}cm2\n"
'

test_done
