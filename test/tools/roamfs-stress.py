#!/usr/bin/env python3
"""roamfs-stress: one workstation's saves, at real timing, on a roamfs mount.

Usage: roamfs-stress.py ROOT SEED OPS [MODEL_OUT]
       roamfs-stress.py --verify MODEL DIR

Runs OPS random operations under ROOT (a folder on the mount) in the ways
real programs save files: a temporary renamed over the name (git, Firefox,
editors), a rewrite in place, O_TRUNC, write+fsync, writes through a shared
mmap, vim's backup by hard link, two saves within a second, delete and
recreate, symbolic links made and renamed over, folders renamed over empty
folders and folders renamed while what they hold is still being sent.
Pauses of a few milliseconds to a second and a half come between them, so
that the replay is sending while the next change comes.

The program keeps a model of what ROOT must hold: only it writes there.
Every few operations it lists a folder and lstats what it lists, and reads
a file back: the mount must agree with the model at every moment (a
listing never goes back in time), not only at the end.  At the end the
whole tree is compared with the model, and the model is written to
MODEL_OUT (JSON: path -> ["f", hex] | ["l", target] | ["d"]) for the
caller to compare the server and another workstation with.

The seed is printed first; the same seed makes the same operations.
Exit status 0 when the mount always agreed, 1 with the first disagreement
printed.

--verify compares DIR (the server's copy, or another workstation's mount)
with a model written before: the same names, no more, the same bytes,
link targets and folders.  Exit status 0 when equal, 1 with every
difference printed (at most 20).
"""
import json
import mmap
import os
import random
import sys
import time

DIRS = 6      # top folders
NAMES = 8     # file names per folder


class Disagree(Exception):
    pass


class Stress:
    def __init__(self, root, seed):
        self.root = root
        self.rnd = random.Random(seed)
        self.model = {}          # relative path -> ("f", bytes) | ("l", str) | ("d",)
        self.count = 0
        self.serial = 0
        self.log = []

    # ---- helpers -------------------------------------------------------
    def p(self, rel):
        return os.path.join(self.root, rel)

    def data(self):
        n = self.rnd.choice([0, 1, 7, 100, 1000, 4096, 5000, 20000, 70000])
        tag = ("%d:%d;" % (self.count, self.serial)).encode()
        self.serial += 1
        body = bytes(self.rnd.getrandbits(8) for _ in range(min(n, 64)))
        return (tag + body * (n // max(len(body), 1) + 1))[:max(n, len(tag))]

    def folders(self):
        return [k for k, v in self.model.items() if v[0] == "d"]   # "" is ROOT

    def pick_folder(self):
        return self.rnd.choice(sorted(self.folders()))

    def pick_name(self, folder):
        return os.path.join(folder, "f%d" % self.rnd.randrange(NAMES))

    def kind(self, rel):
        v = self.model.get(rel)
        return v[0] if v else None

    def below(self, rel):
        pre = rel + "/"
        return [k for k in self.model if k.startswith(pre)]

    def pause(self):
        r = self.rnd.random()
        if r < 0.75:
            return
        if r < 0.97:
            time.sleep(self.rnd.uniform(0.001, 0.01))
        elif r < 0.997:
            time.sleep(self.rnd.uniform(0.01, 0.2))
        else:
            time.sleep(self.rnd.uniform(0.3, 1.5))

    def write_file(self, path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, sync=False):
        fd = os.open(path, flags, 0o644)
        try:
            off = 0
            while off < len(data):
                off += os.write(fd, data[off:off + 65536])
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    # ---- operations ----------------------------------------------------
    def op_save_rename(self, rel=None):
        """A temporary file renamed over the name (git, Firefox, editors)."""
        rel = rel or self.pick_name(self.pick_folder())
        if self.kind(rel) == "d":
            return
        tmp = rel + ".tmp%d" % self.rnd.randrange(1000)
        d = self.data()
        self.write_file(self.p(tmp), d)
        os.rename(self.p(tmp), self.p(rel))
        self.model[rel] = ("f", d)

    def op_save_twice(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) == "d":
            return
        self.op_save_rename(rel)
        time.sleep(self.rnd.uniform(0, 0.1) if self.rnd.random() < 0.5 else
                   self.rnd.uniform(0.1, 0.6))
        self.op_save_rename(rel)

    def op_rewrite(self, sync=False):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) not in (None, "f"):
            return
        d = self.data()
        self.write_file(self.p(rel), d, sync=sync)
        self.model[rel] = ("f", d)

    def op_fsync(self):
        self.op_rewrite(sync=True)

    def op_append(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) != "f":
            return
        d = self.data()[:500]
        self.write_file(self.p(rel), d, os.O_WRONLY | os.O_APPEND)
        self.model[rel] = ("f", self.model[rel][1] + d)

    def op_truncate(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) != "f":
            return
        old = self.model[rel][1]
        n = self.rnd.randrange(len(old) + 2000)
        os.truncate(self.p(rel), n)
        self.model[rel] = ("f", old[:n] + b"\0" * max(0, n - len(old)))

    def op_mmap(self):
        """Writes through a shared mapping, a few of them over a moment."""
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) != "f" or len(self.model[rel][1]) == 0:
            return
        buf = bytearray(self.model[rel][1])
        fd = os.open(self.p(rel), os.O_RDWR)
        try:
            m = mmap.mmap(fd, len(buf), mmap.MAP_SHARED)
            for _ in range(self.rnd.randrange(1, 6)):
                o = self.rnd.randrange(len(buf))
                chunk = bytes(self.rnd.getrandbits(8) for _ in range(min(64, len(buf) - o)))
                m[o:o + len(chunk)] = chunk
                buf[o:o + len(chunk)] = chunk
                if self.rnd.random() < 0.5:
                    m.flush()
                time.sleep(self.rnd.uniform(0, 0.04))
            m.close()
        finally:
            os.close(fd)
        self.model[rel] = ("f", bytes(buf))

    def op_vim(self):
        """vim's save with a backup: a hard link kept while the new file is written."""
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) != "f":
            return
        bak = rel + "~"
        if self.kind(bak) is not None:
            return
        os.link(self.p(rel), self.p(bak))
        d = self.data()
        self.write_file(self.p(rel + ".swpx"), d)
        os.rename(self.p(rel + ".swpx"), self.p(rel))
        os.unlink(self.p(bak))
        self.model[rel] = ("f", d)

    def op_delete(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) not in ("f", "l"):
            return
        os.unlink(self.p(rel))
        del self.model[rel]

    def op_delete_recreate(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) not in ("f", "l"):
            return
        os.unlink(self.p(rel))
        del self.model[rel]
        time.sleep(self.rnd.uniform(0, 0.1))
        d = self.data()
        self.write_file(self.p(rel), d)
        self.model[rel] = ("f", d)

    def op_symlink(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) is not None:
            return
        t = "target-%d" % self.rnd.randrange(100)
        os.symlink(t, self.p(rel))
        self.model[rel] = ("l", t)

    def op_over_symlink(self):
        """A file renamed over a symbolic link made a moment ago."""
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) not in (None, "l"):
            return
        if self.kind(rel) is None:
            t = "t%d" % self.rnd.randrange(100)
            os.symlink(t, self.p(rel))
            self.model[rel] = ("l", t)
            time.sleep(self.rnd.uniform(0, 0.3))
        self.op_save_rename(rel)

    def op_symlink_over_file(self):
        rel = self.pick_name(self.pick_folder())
        if self.kind(rel) not in (None, "f"):
            return
        t = "s%d" % self.rnd.randrange(100)
        tmp = rel + ".lnk"
        os.symlink(t, self.p(tmp))
        os.rename(self.p(tmp), self.p(rel))
        self.model[rel] = ("l", t)

    def new_folder_name(self, parent):
        for _ in range(20):
            rel = os.path.join(parent, "d%d" % self.rnd.randrange(6)) if parent else \
                "d%d" % self.rnd.randrange(DIRS * 2)
            if self.kind(rel) is None:
                return rel
        return None

    def op_folder_over_empty(self):
        """mkdir A B; files in A; mv -T A B (B empty); sometimes rmdir B after."""
        parent = self.rnd.choice(["", self.pick_folder()])
        if parent.count("/") > 1:
            parent = ""
        a = self.new_folder_name(parent)
        if a is None:
            return
        os.mkdir(self.p(a))
        self.model[a] = ("d",)
        b = self.new_folder_name(parent)
        if b is None:
            return
        os.mkdir(self.p(b))
        self.model[b] = ("d",)
        if self.rnd.random() < 0.25:
            time.sleep(self.rnd.uniform(0, 1.5))
        files = self.rnd.random() < 0.6
        if files:
            for i in range(self.rnd.randrange(1, 4)):
                d = self.data()
                self.write_file(self.p(a + "/f%d" % i), d)
                self.model[a + "/f%d" % i] = ("f", d)
            if self.rnd.random() < 0.25:
                time.sleep(self.rnd.uniform(0, 1.5))
        self.rename_folder(a, b)
        if not files and self.rnd.random() < 0.5:
            os.rmdir(self.p(b))
            del self.model[b]

    def rename_folder(self, a, b):
        os.rename(self.p(a), self.p(b))
        moved = {}
        for k in [a] + self.below(a):
            moved[b + k[len(a):]] = self.model.pop(k)
        for k in [b] + self.below(b):
            self.model.pop(k, None)
        self.model.update(moved)

    def op_rename_folder(self):
        """A folder whose files are still on their way renamed."""
        top = [f for f in self.folders() if "/" not in f and f != ""]
        if len(top) < 2:
            return
        a = self.rnd.choice(sorted(top))
        if self.rnd.random() < 0.7:
            rel = self.pick_name(a)
            if self.kind(rel) in (None, "f"):
                d = self.data()
                self.write_file(self.p(rel), d)
                self.model[rel] = ("f", d)
        b = self.new_folder_name("")
        if b is None:
            return
        self.rename_folder(a, b)

    def op_rmdir_tree(self):
        top = [f for f in self.folders() if "/" not in f and f != ""]
        if len(top) <= 3:
            return
        a = self.rnd.choice(sorted(top))
        for k in sorted(self.below(a), key=lambda x: -x.count("/")):
            v = self.model[k]
            if v[0] == "d":
                os.rmdir(self.p(k))
            else:
                os.unlink(self.p(k))
            del self.model[k]
        os.rmdir(self.p(a))
        del self.model[a]

    def op_mkdir(self):
        a = self.new_folder_name("")
        if a is None:
            return
        os.mkdir(self.p(a))
        self.model[a] = ("d",)

    OPS = [
        ("save_rename", 22), ("save_twice", 4), ("rewrite", 10), ("fsync", 4),
        ("append", 6), ("truncate", 2), ("mmap", 4), ("vim", 5), ("delete", 6),
        ("delete_recreate", 5), ("symlink", 4), ("over_symlink", 4),
        ("symlink_over_file", 2), ("folder_over_empty", 2), ("rename_folder", 2),
        ("rmdir_tree", 1), ("mkdir", 2),
    ]

    # ---- checks --------------------------------------------------------
    def expect_listing(self, folder):
        want = sorted(os.path.basename(k) for k in self.model
                      if k != "" and os.path.dirname(k) == folder)
        got = sorted(os.listdir(self.p(folder)))
        if got != want:
            raise Disagree("listing of %s: missing %s, extra %s" % (
                folder, sorted(set(want) - set(got)), sorted(set(got) - set(want))))
        for n in got:
            rel = os.path.join(folder, n)
            try:
                os.lstat(self.p(rel))
            except OSError as e:
                raise Disagree("%s is listed but lstat says %s" % (rel, e))

    def expect_object(self, rel):
        v = self.model[rel]
        path = self.p(rel)
        if v[0] == "f":
            with open(path, "rb") as f:
                got = f.read()
            if got != v[1]:
                raise Disagree("%s holds %d bytes starting %r, the model %d bytes starting %r" % (
                    rel, len(got), got[:24], len(v[1]), v[1][:24]))
        elif v[0] == "l":
            if os.readlink(path) != v[1]:
                raise Disagree("%s links to %r, not %r" % (rel, os.readlink(path), v[1]))
        elif not os.path.isdir(path) or os.path.islink(path):
            raise Disagree("%s is not a folder" % rel)

    def check_some(self):
        self.expect_listing(self.rnd.choice(sorted(self.folders())))
        files = sorted(k for k, v in self.model.items() if v[0] != "d")
        if files:
            self.expect_object(self.rnd.choice(files))

    def check_all(self):
        for f in sorted(self.folders()):
            self.expect_listing(f)
        for k in sorted(self.model):
            self.expect_object(k)

    # ---- run -----------------------------------------------------------
    def run(self, n):
        self.model[""] = ("d",)
        for i in range(DIRS):
            os.mkdir(self.p("d%d" % i))
            self.model["d%d" % i] = ("d",)
        names = [o for o, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        while self.count < n:
            name = self.rnd.choices(names, weights)[0]
            try:
                getattr(self, "op_" + name)()
            except OSError as e:
                raise Disagree("operation %d (%s) failed: %s" % (self.count, name, e))
            self.count += 1
            if self.count % 7 == 0:
                self.check_some()
            if self.count % 1000 == 0:
                print("# %d operations, %d objects" % (self.count, len(self.model)), flush=True)
            self.pause()
        self.check_all()


def verify(model_path, top):
    with open(model_path) as f:
        model = json.load(f)
    bad = []
    seen = set()
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, top)
            seen.add(rel)
            v = model.get(rel)
            if v is None:
                bad.append("%s: not in the model" % rel)
            elif v[0] == "l":
                if not os.path.islink(full) or os.readlink(full) != v[1]:
                    bad.append("%s: not a link to %r" % (rel, v[1]))
            elif v[0] == "d":
                if os.path.islink(full) or not os.path.isdir(full):
                    bad.append("%s: not a folder" % rel)
            else:
                if os.path.islink(full) or not os.path.isfile(full):
                    bad.append("%s: not a file" % rel)
                else:
                    with open(full, "rb") as fh:
                        got = fh.read()
                    want = bytes.fromhex(v[1])
                    if got != want:
                        bad.append("%s: %d bytes starting %r, the model %d bytes starting %r"
                                   % (rel, len(got), got[:24], len(want), want[:24]))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]
    for rel in sorted(set(model) - seen):
        bad.append("%s: missing" % rel)
    for b in bad[:20]:
        print("DIFFERS %s" % b)
    if not bad:
        print("# %s equals the model: %d objects" % (top, len(model)))
    return 1 if bad else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--verify":
        return verify(sys.argv[2], sys.argv[3])
    if len(sys.argv) < 4:
        sys.exit("usage: roamfs-stress.py ROOT SEED OPS [MODEL_OUT]")
    root, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print("# roamfs-stress seed %d, %d operations in %s" % (seed, n, root), flush=True)
    s = Stress(root, seed)
    t0 = time.time()
    try:
        s.run(n)
    except Disagree as e:
        print("DISAGREE after %d operations (seed %d): %s" % (s.count, seed, e), flush=True)
        return 1
    finally:
        if len(sys.argv) > 4:
            with open(sys.argv[4], "w") as f:
                json.dump({k: [v[0], v[1].hex()] if v[0] == "f" else list(v)
                           for k, v in s.model.items() if k != ""}, f)
    print("# %d operations in %.1f s, the mount agreed with the model throughout" % (
        s.count, time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
