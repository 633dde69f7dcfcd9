#!/usr/bin/env python3
"""maildir-churn: a maildir writer and a reader that rescans it, at once.

Usage: maildir-churn.py MAILDIR SEED DELIVERIES EXPECT_OUT

The writer delivers DELIVERIES messages the way a delivery agent does
(write tmp/UNIQUE, rename it to new/UNIQUE), and, as a mail client does,
soon moves each to cur/UNIQUE:2,S (seen), flags some replied
(cur/UNIQUE:2,RS), and deletes every other one.  A reader thread, as a
mail client rescanning, lists new/ and cur/ every 0.2 s and lstats and
reads what it lists.  The writer holds a lock while it changes the
maildir, so at each scan the reader knows exactly what must be there: a
message missing, a name listed that was deleted or renamed away, a listed
name lstat cannot find, or a rename of the writer failing is an anomaly.
Prints the anomalies (at most 20) and exits 1 when there was any; writes
the messages left ("new/NAME SIZE" or "cur/NAME SIZE", sorted) to
EXPECT_OUT, for the caller to compare the server's copy with.
"""
import os
import random
import sys
import threading
import time


def main():
    md, seed, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rnd = random.Random(seed)
    print("# maildir-churn seed %d, %d deliveries" % (seed, n), flush=True)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    lock = threading.Lock()
    state = {}          # "new/NAME" or "cur/NAME" -> bytes
    anomalies = []
    done = threading.Event()
    scans = [0]

    def anomaly(msg):
        anomalies.append(msg)

    def reader():
        while not done.is_set():
            with lock:
                want = dict(state)
                got = {}
                for sub in ("new", "cur"):
                    for name in os.listdir(os.path.join(md, sub)):
                        got[sub + "/" + name] = True
                for k in sorted(set(want) - set(got)):
                    anomaly("scan %d: %s is missing from the listing" % (scans[0], k))
                for k in sorted(set(got) - set(want)):
                    anomaly("scan %d: %s is listed but was removed or renamed away" % (scans[0], k))
                for k in sorted(got):
                    try:
                        os.lstat(os.path.join(md, k))
                    except OSError as e:
                        anomaly("scan %d: %s is listed but lstat says %s" % (scans[0], k, e))
                        continue
                    if k in want:
                        with open(os.path.join(md, k), "rb") as f:
                            if f.read() != want[k]:
                                anomaly("scan %d: %s has other contents" % (scans[0], k))
                scans[0] += 1
            time.sleep(0.2)

    t = threading.Thread(target=reader)
    t.start()
    t0 = int(time.time())
    pending = []    # delivered, not yet seen
    try:
        for i in range(n):
            unique = "%d.M%dP%d.ws" % (t0, i, os.getpid())
            body = ("From: pupil%d\nSubject: %d\n\n" % (i % 30, i)).encode() + \
                os.urandom(rnd.choice([200, 1500, 9000]))
            with lock:
                tmp = os.path.join(md, "tmp", unique)
                with open(tmp, "wb") as f:
                    f.write(body)
                os.rename(tmp, os.path.join(md, "new", unique))
                state["new/" + unique] = body
            pending.append(unique)
            # The client sees some at once, others a little later.
            while pending and (rnd.random() < 0.5 or len(pending) > 20):
                u = pending.pop(0)
                with lock:
                    try:
                        os.rename(os.path.join(md, "new", u), os.path.join(md, "cur", u + ":2,S"))
                    except OSError as e:
                        anomaly("rename new/%s -> cur/%s:2,S failed: %s" % (u, u, e))
                        continue
                    state["cur/" + u + ":2,S"] = state.pop("new/" + u)
                    r = rnd.random()
                    if r < 0.2:
                        try:
                            os.rename(os.path.join(md, "cur", u + ":2,S"),
                                      os.path.join(md, "cur", u + ":2,RS"))
                            state["cur/" + u + ":2,RS"] = state.pop("cur/" + u + ":2,S")
                        except OSError as e:
                            anomaly("rename cur/%s:2,S -> :2,RS failed: %s" % (u, e))
                    elif r < 0.7:
                        try:
                            os.unlink(os.path.join(md, "cur", u + ":2,S"))
                            del state["cur/" + u + ":2,S"]
                        except OSError as e:
                            anomaly("delete cur/%s:2,S failed: %s" % (u, e))
            if rnd.random() < 0.02:
                time.sleep(rnd.uniform(0.2, 1.0))
            elif rnd.random() < 0.3:
                time.sleep(0.005)
        time.sleep(3)   # a few more scans while the last changes travel
    finally:
        done.set()
        t.join()
    for a in anomalies[:20]:
        print("ANOMALY " + a)
    print("# %d deliveries, %d scans, %d anomalies, %d messages left" % (
        n, scans[0], len(anomalies), len(state)), flush=True)
    with open(out, "w") as f:
        for k in sorted(state):
            f.write("%s %d\n" % (k, len(state[k])))
    return 1 if anomalies else 0


if __name__ == "__main__":
    sys.exit(main())
