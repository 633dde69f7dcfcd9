#!/bin/bash
# t1105: authentication (key, password on stdin, refusals) and connection
# failures give one clear line.
. "$top_srcdir/test/integration/lib.sh"
require_root
PWUSER=roampw$$
PASSWORD="pw-$$-Secret"
# Only this user may use passwords (sshd_config: first value wins, so a
# Match block is the way to override start_sshd's "no").
# FCUSER gets a ForceCommand instead of the sftp server.
FCUSER=roamfc$$
start_sshd "Match User $PWUSER" "PasswordAuthentication yes" \
	"Match User $FCUSER" "ForceCommand /bin/true" || bail_out "cannot start sshd"
TOOL="$top_builddir/test/tools/sftp-tool"
useradd -M -d "$TEST_DIR/home-$PWUSER" -s /bin/sh "$PWUSER" || bail_out "useradd failed"
at_exit "userdel '$PWUSER' 2>/dev/null"
mkdir -p "$TEST_DIR/home-$PWUSER" && chown "$PWUSER" "$TEST_DIR/home-$PWUSER"
echo "$PWUSER:$PASSWORD" | chpasswd || bail_out "chpasswd failed"
useradd -M -d "$TEST_DIR/home-$FCUSER" -s /bin/sh "$FCUSER" || bail_out "useradd failed"
at_exit "userdel '$FCUSER' 2>/dev/null"
usermod -p '*' "$FCUSER"
mkdir -p "$TEST_DIR/home-$FCUSER/.ssh" && cp "$SSH_KEY.pub" "$TEST_DIR/home-$FCUSER/.ssh/authorized_keys" &&
	chown -R "$FCUSER" "$TEST_DIR/home-$FCUSER" || bail_out "cannot set up $FCUSER's home"
# No keys of root's own may interfere.
export HOME="$TEST_DIR/nohome" SSH_AUTH_SOCK=

PW() { "$TOOL" -p "$SSHD_PORT" -k "$KNOWN_HOSTS" --password-stdin "$PWUSER@127.0.0.1" "$@"; }

test_expect_success 'the right password on stdin logs in' '
	echo "$PASSWORD" | PW realpath . >"$TEST_DIR/out" &&
	test "$(cat "$TEST_DIR/out")" = "$TEST_DIR/home-$PWUSER"
'

test_expect_success 'a wrong password is refused with a clear line, exit non-zero' '
	echo "wrong" | PW realpath . 2>"$TEST_DIR/err"; rc=$?; cat "$TEST_DIR/err";
	test $rc = 2 &&
	test "$(wc -l <"$TEST_DIR/err")" = 1 &&
	grep -F "refused the login as $PWUSER" "$TEST_DIR/err" &&
	grep -F "server offers: publickey password" "$TEST_DIR/err" &&
	grep -F "check the user name and password" "$TEST_DIR/err"
'

test_expect_success 'the password never shows in debug output' '
	echo "$PASSWORD" | PW -v -v -v -v realpath . >"$TEST_DIR/out" 2>&1 &&
	! grep -F "$PASSWORD" "$TEST_DIR/out"
'

test_expect_success 'a key the server does not know is refused, naming the methods' '
	ssh-keygen -q -t ed25519 -N "" -f "$TEST_DIR/stranger" &&
	"$TOOL" -p "$SSHD_PORT" -i "$TEST_DIR/stranger" -k "$KNOWN_HOSTS" root@127.0.0.1 realpath . 2>"$TEST_DIR/err"; rc=$?;
	cat "$TEST_DIR/err"; test $rc = 2 &&
	grep -F "EACCES" "$TEST_DIR/err" &&
	grep -F "(server offers: publickey)" "$TEST_DIR/err"
'

test_expect_success 'a missing identity file is named' '
	"$TOOL" -p "$SSHD_PORT" -i "$TEST_DIR/nokey" -k "$KNOWN_HOSTS" root@127.0.0.1 realpath . 2>"$TEST_DIR/err";
	rc=$?; cat "$TEST_DIR/err"; test $rc = 2 &&
	grep -F "cannot read the private key $TEST_DIR/nokey" "$TEST_DIR/err"
'

test_expect_success 'the key login works (identity file)' '
	"$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" root@127.0.0.1 realpath .
'

test_expect_success 'a server whose sftp subsystem exits at once: one clear line, no hang' '
	timeout 60 "$TOOL" -p "$SSHD_PORT" -i "$SSH_KEY" -k "$KNOWN_HOSTS" "$FCUSER@127.0.0.1" realpath . 2>"$TEST_DIR/err";
	rc=$?; cat "$TEST_DIR/err"; test $rc = 2 &&
	test "$(wc -l <"$TEST_DIR/err")" = 1 &&
	grep -F "ENOTCONN: the SFTP server on 127.0.0.1 failed to start: the server closed the SFTP channel" "$TEST_DIR/err"
'

test_expect_success 'an unreachable server fails with a clear line' '
	port=$(free_port) &&
	timeout 60 "$TOOL" -p "$port" -i "$SSH_KEY" -k "$KNOWN_HOSTS" -t 5 root@127.0.0.1 realpath . 2>"$TEST_DIR/err";
	rc=$?; cat "$TEST_DIR/err"; test $rc = 2 &&
	test "$(wc -l <"$TEST_DIR/err")" = 1 &&
	grep -F "cannot connect to 127.0.0.1 port $port: " "$TEST_DIR/err" &&
	grep -F "Connection refused" "$TEST_DIR/err"
'
test_done
