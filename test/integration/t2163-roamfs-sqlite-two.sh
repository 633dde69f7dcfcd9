#!/bin/sh
# t2163 (issue 22, 5): a SQLite database used on two workstations at once
# keeps every committed row.  A keeps a connection open in WAL mode (as a
# browser keeps places.sqlite) with rows in its -wal; B opens the same
# database, commits rows and closes.  Whatever the order the two replays
# reach the server in, every committed row is in the database or in a
# conflict copy, NAME (conflict WS DATE TIME).EXT with its -wal under the
# same stamp, which sqlite3 opens (integrity_check ok); -shm never roams.
# Checked on the server and from a fresh cache on a third workstation.
. "$(dirname "$0")/lib.sh"
require_root
require_fuse
require_workstations
command -v sqlite3 >/dev/null || bail_out "sqlite3 is missing: apt-get install sqlite3"
start_sshd || bail_out "cannot start sshd"
H=$SERVER/home
mkdir -p "$H"
A=$(ws_dir A)
B=$(ws_dir B)
C=$(ws_dir C)
HOLDER="python3 $top_srcdir/test/tools/sqlite-holder.py"

# hold WS DB: start a holder of DB (a path under WS's mount) on WS.
hold() {
	rm -f "$TEST_DIR/$1.fifo" "$TEST_DIR/$1.done"
	mkfifo "$TEST_DIR/$1.fifo" &&
	$HOLDER "$2" "$TEST_DIR/$1.fifo" "$TEST_DIR/$1.done" 2>"$TEST_DIR/$1.err" &
	echo $! >"$TEST_DIR/$1.holder"
	at_exit "kill $! 2>/dev/null"
	wait_server grep -q "^done open" "$TEST_DIR/$1.done"
}

# tell WS CMD: the holder on WS runs CMD; wait until it is done.
tell() {
	echo "$2" >"$TEST_DIR/$1.fifo" &&
	wait_server grep -qx "done $2" "$TEST_DIR/$1.done" ||
	{ echo "the holder on $1 did not do $2: $(cat "$TEST_DIR/$1.err")"; return 1; }
}

# add_cli DB TAG N: sqlite3's command line commits N rows named TAG1..TAGN.
add_cli() {
	sqlite3 "$1" "PRAGMA journal_mode=WAL;
	    CREATE TABLE IF NOT EXISTS r(t TEXT PRIMARY KEY, pad TEXT);
	    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $3)
	    INSERT INTO r SELECT '$2' || i, hex(randomblob(200)) FROM s;" >/dev/null
}

# rows_everywhere DIR NAME TAG N...: every committed row TAG1..TAGN of each
# TAG N pair is in DIR/NAME or in a conflict copy of it; each database
# there passes integrity_check; no -shm file is there.  Each database is
# read from a copy of its files (sqlite3 would make a -shm beside it).
rows_everywhere() {
	_d=$1 _n=$2
	shift 2
	! ls -A "$_d" | grep -q -- "-shm$" || { echo "a -shm file roamed"; return 1; }
	: >"$TEST_DIR/rows"
	{ echo "$_n"; conflicts "$_d" "$_n"; } >"$TEST_DIR/dbs"
	while IFS= read -r _db; do
		rm -rf "$TEST_DIR/look" && mkdir "$TEST_DIR/look" &&
		for _f in "$_db" "$_db-wal" "$_db-journal"; do
			[ ! -e "$_d/$_f" ] || cp "$_d/$_f" "$TEST_DIR/look/db${_f#"$_db"}" || return 1
		done
		[ "$(sqlite3 "$TEST_DIR/look/db" "PRAGMA integrity_check")" = ok ] ||
		    { echo "$_db: integrity_check fails"; return 1; }
		sqlite3 "$TEST_DIR/look/db" "SELECT t FROM r" >>"$TEST_DIR/rows" || return 1
	done <"$TEST_DIR/dbs"
	while [ $# -ge 2 ]; do
		_i=1
		while [ $_i -le "$2" ]; do
			grep -qx "$1$_i" "$TEST_DIR/rows" || { echo "row $1$_i is lost"; return 1; }
			_i=$((_i + 1))
		done
		shift 2
	done
}

test_expect_success 'A holds a WAL database open with rows in its -wal; they reach the server' '
	ws_mount A && ws_mount B &&
	hold A "$A/test.db" && tell A "add a 10" &&
	WAIT_SERVER_SECONDS=30 wait_server test -s "$H/test.db-wal" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	rows_everywhere "$H" test.db a 10
'

test_expect_success 'B writes 200 rows and closes while A keeps its connection and adds rows' '
	add_cli "$B/test.db" b 200 &&
	tell A "add c 10" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache B)" >/dev/null &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	tell A "add d 10" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	rows_everywhere "$H" test.db a 10 b 200 c 10 d 10 ||
	{ ls -la "$H"; tail -n 20 "$(ws_cache A)/roamfs.log" "$(ws_cache B)/roamfs.log"; false; }
'

test_expect_success 'A, offline, adds rows to its -wal while B writes and closes: both kept' '
	tell A close && hold A "$A/off.db" && tell A "add e 10" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	WAIT_SERVER_SECONDS=30 wait_server test -s "$H/off.db-wal" &&
	ws_offline A && tell A "add f 10" &&
	add_cli "$B/off.db" g 200 &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache B)" >/dev/null &&
	rows_everywhere "$H" off.db e 10 g 200 &&
	ws_online A && WAIT_SERVER_SECONDS=60 wait_server ws_connected A &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	rows_everywhere "$H" off.db e 10 f 10 g 200 &&
	one_conflict "$H" off.db A && test -e "$CONFLICT-wal" &&
	tell A "add h 10" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	rows_everywhere "$H" off.db e 10 f 10 g 200 h 10 &&
	one_conflict "$H" off.db A ||
	{ ls -la "$H"; tail -n 20 "$(ws_cache A)/roamfs.log" "$(ws_cache B)/roamfs.log"; false; }
'

test_expect_success 'A closes; after both logouts every row is on the server' '
	tell A close &&
	ws_unmount A && ws_unmount B &&
	rows_everywhere "$H" test.db a 10 b 200 c 10 d 10 &&
	rows_everywhere "$H" off.db e 10 f 10 g 200 h 10 ||
	{ ls -la "$H"; false; }
'

test_expect_success 'a fresh cache on a third workstation opens every copy with every row' '
	ws_mount C &&
	rows_everywhere "$C" test.db a 10 b 200 c 10 d 10 &&
	rows_everywhere "$C" off.db e 10 f 10 g 200 h 10 &&
	ws_unmount C
'

P=.mozilla/firefox/abcd1234.default-esr
test_expect_success 'a browser profile used on A while B starts: B is told, no row is lost' '
	ws_mount A "exclude=$top_srcdir/contrib/exclude" && mkdir -p "$A/$P" &&
	hold A "$A/$P/places.sqlite" && tell A "add p 50" &&
	echo "user_pref(\"browser.startup.page\", 3);" >"$A/$P/prefs.js" &&
	ln -s "127.0.1.1:+4242" "$A/$P/lock" && : >"$A/$P/.parentlock" &&
	WAIT_SERVER_SECONDS=40 wait_server test -d "$H/.roamfs-session.A" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	ws_mount B "exclude=$top_srcdir/contrib/exclude" && ls "$B" >/dev/null &&
	wait_server grep -q "this home is open on workstation A too" "$(ws_cache B)/roamfs.log" &&
	grep -q "browser.startup.page" "$B/$P/prefs.js" && ! test -e "$B/$P/lock" &&
	add_cli "$B/$P/places.sqlite" q 100 &&
	tell A "add r 50" &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache B)" >/dev/null &&
	"$ROAMCTL" flush --wait --timeout=60 "$(ws_cache A)" >/dev/null &&
	tell A "add s 50" && tell A close &&
	ws_unmount A && ws_unmount B &&
	! test -e "$H/$P/lock" && ! test -e "$H/$P/.parentlock" &&
	rows_everywhere "$H/$P" places.sqlite p 50 q 100 r 50 s 50 ||
	{ ls -la "$H/$P"; tail -n 20 "$(ws_cache A)/roamfs.log" "$(ws_cache B)/roamfs.log"; false; }
'

test_done
