#!/usr/bin/env python3
"""Randomized model test of roamfs with several workstations (issue 12).

Run by test/integration/t2150-roamfs-model.sh, which owns the sshd, the
proxies and the mounts: this script asks it for offline, online, remount
and unmount through two FIFOs (a request line, then an answer line "ok" or
"fail REASON"), and does every file operation itself, on the mounts and
directly in the server's home.

Every version written holds a unique line.  Each operation records the
version it replaced or removed as the workstation saw it: read through the
same descriptor it then writes (an edit), or right before the rename or
removal.  At the end:
  - every version that no operation replaced or removed is on the server,
    under its name or under a conflict name;
  - a conflict copy holds a version whose base was also replaced by some
    other operation (a concurrent change); none exists otherwise;
  - once all are online and quiet, every workstation's view (one walk of
    its tree, reading each file) equals the server's.
"""
import errno
import os
import random
import re
import sys
import time

ABSENT = None
NAMES = ["a.txt", "b.txt", "c.odt", "d/x.txt", "d/y.txt", "e/f/z.txt"]
DIRS = ["d", "e/f", "e"]
CONFLICT = re.compile(r" \(conflict [^ )]+ \d{4}-\d\d-\d\d \d{6}\)")


class Failed(Exception):
    """The harness could not do what the model asked."""


class Model:
    def __init__(self, seed, steps, home, mounts, req, ans):
        self.rnd = random.Random(seed)
        self.seed = seed
        self.steps = steps
        self.home = home
        self.mounts = mounts          # name -> mount point
        self.online = {w: True for w in mounts}
        self.req = req
        self.ans = ans
        self.versions = {}            # text -> (actor, name, base key, op number)
        self.replaced = {}            # base key -> list of (op number, actor) that replaced it
        self.moves = {}               # text -> list of (key of what it was moved over, op)
        self.log = []
        self.n = 0
        self.concurrent = False       # saves twice within seconds, pauses seldom

    # --- the harness -----------------------------------------------------
    def ask(self, line):
        self.req.write(line + "\n")
        self.req.flush()
        answer = self.ans.readline().strip()
        self.note("%s -> %s" % (line, answer))
        if answer != "ok":
            raise Failed("harness: %s: %s" % (line, answer))

    def note(self, s):
        self.log.append("%d %s" % (self.n, s))

    # --- bookkeeping -------------------------------------------------------
    @staticmethod
    def key(name, text):
        return ("absent", name) if text is ABSENT else ("text", text)

    def replace(self, actor, name, base):
        self.replaced.setdefault(self.key(name, base), []).append((self.n, actor))

    def new_text(self, actor, name, base):
        text = "seed %d op %d by %s at %s" % (self.seed, self.n, actor, name)
        while text in self.versions:    # a second save in one operation
            text += " again"
        self.versions[text] = (actor, name, self.key(name, base), self.n)
        return text

    # --- operations --------------------------------------------------------
    def root(self, actor):
        return self.home if actor == "server" else self.mounts[actor]

    def edit(self, actor, name):
        """Open, read, cut and write through one descriptor."""
        p = os.path.join(self.root(actor), name)
        try:
            os.makedirs(os.path.dirname(p), exist_ok=True)
        except OSError as e:
            self.note("%s edit %s: mkdir: %s" % (actor, name, e))
            return
        try:
            fd = os.open(p, os.O_RDWR)
            base = os.read(fd, 1 << 16).decode().rstrip("\n")
        except FileNotFoundError:
            try:
                fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except OSError as e:
                self.note("%s edit %s: create: %s" % (actor, name, e))
                return
            base = ABSENT
        except OSError as e:
            self.note("%s edit %s: open: %s" % (actor, name, e))
            return
        text = self.new_text(actor, name, base)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (text + "\n").encode(), 0)
            os.close(fd)
        except OSError as e:
            # The write was refused: the version does not exist.
            del self.versions[text]
            self.note("%s edit %s: write: %s" % (actor, name, e))
            try:
                os.close(fd)
            except OSError:
                pass
            return
        self.replace(actor, name, base)
        self.note("%s edit %s: %r over %r" % (actor, name, text, base))

    def read(self, p):
        try:
            with open(p) as f:
                return f.read().rstrip("\n")
        except FileNotFoundError:
            return ABSENT

    def save(self, actor, name):
        """As editors save: a new file renamed over the old one."""
        r = self.root(actor)
        p = os.path.join(r, name)
        tmp = os.path.join(os.path.dirname(p), ".~save-%d" % self.n)
        text = None
        try:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            base = self.read(p)
            text = self.new_text(actor, name, base)
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.rename(tmp, p)
        except OSError as e:
            self.versions.pop(text, None)  # refused: that version does not exist
            self.note("%s save %s: %s" % (actor, name, e))
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        self.replace(actor, name, base)
        self.note("%s save %s: %r over %r" % (actor, name, text, base))

    def remove(self, actor, name):
        p = os.path.join(self.root(actor), name)
        try:
            base = self.read(p)
            if base is ABSENT:
                return
            os.unlink(p)
        except OSError as e:
            self.note("%s remove %s: %s" % (actor, name, e))
            return
        self.replace(actor, name, base)
        self.note("%s remove %s: %r" % (actor, name, base))

    def move(self, actor, name, to):
        r = self.root(actor)
        p, q = os.path.join(r, name), os.path.join(r, to)
        if name == to or os.path.isdir(q):
            return
        try:
            os.makedirs(os.path.dirname(q), exist_ok=True)
        except OSError as e:
            self.note("%s move %s %s: mkdir: %s" % (actor, name, to, e))
            return
        try:
            src = self.read(p)
            dst = self.read(q)
            if src is ABSENT:
                return
            os.rename(p, q)
        except OSError as e:
            self.note("%s move %s %s: %s" % (actor, name, to, e))
            return
        self.replace(actor, to, dst)
        self.moves.setdefault(src, []).append((self.key(to, dst), self.n))
        self.note("%s move %s -> %s: %r over %r" % (actor, name, to, src, dst))

    def rmdir(self, actor, d):
        try:
            os.rmdir(os.path.join(self.root(actor), d))
            self.note("%s rmdir %s" % (actor, d))
        except OSError:
            pass

    def step(self):
        """One random operation.  Those the mount refuses (a file never
        cached, offline: EHOSTUNREACH) are noted and change nothing."""
        rnd = self.rnd
        actors = list(self.mounts) + ["server"]
        x = rnd.random()
        w = rnd.choice(list(self.mounts))
        if x < 0.06:
            if self.online[w]:
                self.ask("offline " + w)
            else:
                self.ask("online " + w)
            self.online[w] = not self.online[w]
            return
        if x < 0.08:
            self.ask("remount " + w)
            return
        actor = rnd.choice(actors) if rnd.random() < 0.9 else "server"
        if actor != "server" and rnd.random() < 0.3:
            actor = w
        name = rnd.choice(NAMES)
        y = rnd.random()
        if y < 0.40:
            self.edit(actor, name)
        elif y < 0.55:
            self.save(actor, name)
        elif y < 0.60 and actor != "server" and self.concurrent:
            # Saved again while the first save's upload is on its way
            # (issue 21): the second replaces the first, no conflict.
            self.save(actor, name)
            time.sleep(rnd.uniform(1.5, 3.5))
            self.save(actor, name)
        elif y < 0.60:
            self.save(actor, name)
        elif y < 0.75:
            self.remove(actor, name)
        elif y < 0.90:
            self.move(actor, name, rnd.choice(NAMES))
        else:
            self.rmdir(actor, rnd.choice(DIRS))

    # --- the end -----------------------------------------------------------
    def tree(self, root):
        """Every regular file under root: relative path -> text."""
        files = {}
        for d, subdirs, names in os.walk(root):
            subdirs[:] = [s for s in subdirs if not s.startswith(".roamfs-")]
            for n in names:
                if n.startswith(".roamfs-"):
                    continue
                p = os.path.join(d, n)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                with open(p) as f:
                    files[os.path.relpath(p, root)] = f.read().rstrip("\n")
        return files

    def pending(self):
        return [n for n in os.listdir(self.home) if n.startswith(".roamfs-pending.")]

    def settle(self):
        for w in self.mounts:
            if not self.online[w]:
                self.ask("online " + w)
                self.online[w] = True
        # The markers of changes on their way go a few seconds after the
        # last reached the server (an idle workstation may hold no
        # connection at all, so that is what tells).
        quiet, deadline = 0, time.time() + 180
        while quiet < 3 and time.time() < deadline:
            quiet = quiet + 1 if not self.pending() else 0
            time.sleep(1)
        if self.pending():
            return ["changes still on their way after 180 s: %s" % self.pending()]
        return []

    def check_views(self):
        """Each workstation's view equals the server's, once the ttls are over."""
        errors = []
        deadline = time.time() + 60
        while True:
            server = self.tree(self.home)
            errors = []
            for w, m in self.mounts.items():
                try:
                    view = self.tree(m)
                except OSError as e:
                    # Its link came back, its foreground session may still
                    # wait out a reconnection delay.
                    errors.append("%s's view cannot be read: %s" % (w, e))
                    continue
                if view != server:
                    diff = sorted(set(view.items()) ^ set(server.items()))
                    errors.append("%s's view differs from the server's: %s" % (w, diff[:6]))
            if not errors or time.time() > deadline:
                return errors
            time.sleep(2)

    def check_server(self):
        errors = []
        server = self.tree(self.home)
        where = {}
        for path, text in server.items():
            where.setdefault(text, []).append(path)
        for text, (actor, name, base, op) in sorted(self.versions.items(), key=lambda v: v[1][3]):
            if self.key(name, text) in self.replaced:
                continue
            if text not in where:
                errors.append("lost: %r (op %d by %s at %s)" % (text, op, actor, name))
        for path, text in server.items():
            if not CONFLICT.search(os.path.basename(path)):
                continue
            v = self.versions.get(text)
            if v is None:
                errors.append("conflict copy %s holds no known version: %r" % (path, text))
                continue
            # Legitimate when a version it descends from (its base, that
            # one's base, ... as the writers saw them) or a name it was
            # moved onto was also replaced by an operation outside that
            # line: a concurrent change.
            line, keys, t = set(), [], text
            while t is not None and t in self.versions and self.versions[t][3] not in line:
                line.add(self.versions[t][3])
                keys.append(self.versions[t][2])
                keys += [k for k, _ in self.moves.get(t, [])]
                line.update(op for _, op in self.moves.get(t, []))
                k = self.versions[t][2]
                t = k[1] if k[0] == "text" else None
            if not any(o[0] not in line for k in keys for o in self.replaced.get(k, [])):
                errors.append("needless conflict copy %s of %r: nothing else replaced %r"
                              % (path, text, v[2]))
        return errors


def main():
    seed, steps, home, req_path, ans_path = sys.argv[1:6]
    mounts = dict(a.split("=", 1) for a in sys.argv[6:])
    req = open(req_path, "w")
    ans = open(ans_path, "r")
    # "cN": seed N, concurrent (issue 21): files saved twice by one
    # workstation while the first save is on its way, fewer pauses.
    m = Model(int(seed.lstrip("c")), int(steps), home, mounts, req, ans)
    m.concurrent = seed.startswith("c")
    errors = []
    try:
        for m.n in range(int(steps)):
            m.step()
            # Concurrent: often no pause, the next change comes while the
            # replay sends.
            time.sleep(m.rnd.choice([0, 0, 0, 0.05, 0.2, 0.5, 1.2, 2.5] if m.concurrent else
                                    [0, 0, 0.05, 0.2, 0.5, 1.2, 2.5]))
        m.n += 1
        errors += m.settle()
        if not errors:
            errors += m.check_views()
        for w in mounts:
            m.ask("unmount " + w)
        errors += m.check_server()
    except Failed as e:
        errors.append(str(e))
    finally:
        try:
            req.write("end\n")
            req.flush()
        except OSError:
            pass
    if errors:
        print("the operations:")
        for line in m.log:
            print("  " + line)
        print("seed %s: %d problem(s):" % (seed, len(errors)))
        for e in errors:
            print("  " + e)
        sys.exit(1)
    print("seed %s: %s operations, %d versions, all kept" % (seed, steps, len(m.versions)))


if __name__ == "__main__":
    main()
