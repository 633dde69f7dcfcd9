#!/usr/bin/env python3
# sqlite-holder DB FIFO OUT: keep one SQLite connection open in WAL mode, as
# a browser keeps its places database, and run the commands read from FIFO
# one a line: "add TAG N" commits N rows named TAG1..TAGN in one transaction,
# "checkpoint" runs a passive checkpoint, "close" closes and exits.  Each
# command's line "done CMD" is appended to OUT when it is done.
import sqlite3, sys
db, fifo, out = sys.argv[1:4]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE IF NOT EXISTS r(t TEXT PRIMARY KEY, pad TEXT)")
def done(cmd):
    with open(out, "a") as f:
        f.write("done %s\n" % cmd)
done("open")
while True:
    with open(fifo) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "add":
                c.execute("BEGIN")
                for i in range(1, int(w[2]) + 1):
                    c.execute("INSERT INTO r VALUES (?, hex(randomblob(200)))", ("%s%d" % (w[1], i),))
                c.execute("COMMIT")
            elif w[0] == "checkpoint":
                c.execute("PRAGMA wal_checkpoint(PASSIVE)")
            elif w[0] == "close":
                c.close()
                done("close")
                sys.exit(0)
            done(" ".join(w))
