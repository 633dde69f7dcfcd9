#!/bin/sh
# Seed 000's complaint: a mail deleted on the workstation came back at the
# next login.  Here it is gone on both sides and stays gone; the same for
# a deleted symbolic link.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
log_sftp_requests
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
M=$TEST_DIR/mnt
mkdir -p "$H/Maildir/cur" "$H/Maildir/new" "$H/Maildir/tmp"
printf 'Subject: hello\n\nbody\n' >"$H/Maildir/new/1700000000.M1P1.host"
ln -s Maildir "$H/mail-link"

test_expect_success 'the user reads the new mail and deletes it, then logs out' '
	mount_roamfs "$M" &&
	grep -q "Subject: hello" "$M/Maildir/new/1700000000.M1P1.host" &&
	mv "$M/Maildir/new/1700000000.M1P1.host" "$M/Maildir/cur/1700000000.M1P1.host:2,S" &&
	rm "$M/Maildir/cur/1700000000.M1P1.host:2,S" &&
	rm "$M/mail-link" &&
	unmount_roamfs "$M"
'

test_expect_success 'the mail and the link are gone on the server' '
	test -z "$(find "$H/Maildir/new" "$H/Maildir/cur" -mindepth 1)" &&
	test ! -L "$H/mail-link"
'

test_expect_success 'after a new login they do not come back' '
	mount_roamfs "$M" &&
	test -z "$(find "$M/Maildir/new" "$M/Maildir/cur" -mindepth 1)" &&
	test ! -L "$M/mail-link" &&
	unmount_roamfs "$M" &&
	test -z "$(find "$H/Maildir/new" "$H/Maildir/cur" -mindepth 1)"
'

test_expect_success 'a mail delivered through tmp/ and new/ arrives in order' '
	mount_roamfs "$M" &&
	printf "Subject: second\n" >"$M/Maildir/tmp/2.host" &&
	mv "$M/Maildir/tmp/2.host" "$M/Maildir/new/2.host" &&
	unmount_roamfs "$M" &&
	test "$(cat "$H/Maildir/new/2.host")" = "Subject: second" &&
	test -z "$(find "$H/Maildir/tmp" -mindepth 1)"
'

test_expect_success 'a file created and deleted before replay never travels' '
	mount_roamfs "$M" &&
	echo temp >"$M/Maildir/tmp/scratch" && rm "$M/Maildir/tmp/scratch" &&
	echo keep >"$M/kept" &&
	unmount_roamfs "$M" &&
	test -f "$H/kept" &&
	grep -q "/kept\"" "$SFTP_LOG" &&
	! grep -q "scratch" "$SFTP_LOG"
'

test_expect_success 'successive writes to a file travel once' '
	: >"$SFTP_LOG" &&
	mount_roamfs "$M" &&
	for i in 1 2 3 4 5; do echo "line $i" >>"$M/journal.txt"; done &&
	unmount_roamfs "$M" &&
	test "$(wc -l <"$H/journal.txt")" = 5 &&
	cat "$SFTP_LOG" &&
	test "$(grep -v "/\.config/roamfs/" "$SFTP_LOG" | grep -c "open \".*roamfs-tmp.*flags WRITE")" = 1
'

test_done
