#!/usr/bin/env python3
"""bench-files.py: make the file trees that roamfs-bench.sh measures.

  bench-files.py home DIR NFILES TOTAL_BYTES
      A home of NFILES regular files holding TOTAL_BYTES in all, shaped like
      a real one: a few dotfiles (.bashrc among them) and ten top-level
      directories, the bulk in subdirectories of 100 files.  The top level
      is the same whatever NFILES, so a login lists the same directory.
      File sizes vary (seeded, reproducible); contents are random bytes.
  bench-files.py create DIR NFILES SIZE
      Create, write and close NFILES files of SIZE bytes under DIR, in
      subdirectories of 1,000 files (the case "create+write+close").
  bench-files.py pick DIR COUNT
      Print COUNT regular files of DIR (relative paths), spread over it.
"""
import os
import random
import sys

TOP_DIRS = ["Documents", "Mail", "Pictures", "Music", "Projects",
            ".thunderbird", ".mozilla", ".config", ".local", "Desktop"]
DOTFILES = [".bashrc", ".profile", ".bash_history", ".gitconfig", ".vimrc"]


def make_home(root, nfiles, total):
    """Write the home tree described above under root."""
    rng = random.Random(2)
    nbulk = max(0, nfiles - len(DOTFILES))
    weights = [rng.expovariate(1.0) for _ in range(nbulk + len(DOTFILES))]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    os.makedirs(root, exist_ok=True)
    for name, size in zip(DOTFILES, sizes):
        with open(os.path.join(root, name), "wb") as f:
            if name == ".bashrc":
                f.write(b"export PS1='roam$ '\n")
            f.write(os.urandom(size))
    for top in TOP_DIRS:
        os.makedirs(os.path.join(root, top), exist_ok=True)
    for i, size in enumerate(sizes[len(DOTFILES):]):
        sub = os.path.join(root, TOP_DIRS[(i // 100) % len(TOP_DIRS)],
                           "d%05d" % (i // 100))
        if i % 100 == 0:
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "f%03d" % (i % 100)), "wb") as f:
            f.write(os.urandom(size))


def create(root, nfiles, size):
    """Create nfiles files of size bytes, 1,000 per subdirectory."""
    buf = os.urandom(size)
    for i in range(nfiles):
        if i % 1000 == 0:
            sub = os.path.join(root, "c%03d" % (i // 1000))
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "n%05d" % i), "wb") as f:
            f.write(buf)


def pick(root, count):
    """Print count regular files spread evenly over the sorted tree."""
    files = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            files.append(os.path.relpath(os.path.join(d, n), root))
    step = max(1, len(files) // count)
    for p in files[step // 2::step][:count]:
        print(p)


def main(argv):
    """Dispatch on the sub-command."""
    if len(argv) == 5 and argv[1] == "home":
        make_home(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 5 and argv[1] == "create":
        create(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 4 and argv[1] == "pick":
        pick(argv[2], int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
