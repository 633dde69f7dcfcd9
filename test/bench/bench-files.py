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
  bench-files.py profile DIR NFOLDERS
      A Thunderbird-like profile under DIR/.thunderbird: profiles.ini,
      prefs.js and the other small JSON and text files, the SQLite
      databases (global-messages-db.sqlite, places.sqlite, cert9.db, ...),
      a Mail/Local Folders tree of mbox files with their .msf indexes, and
      an ImapMail tree of NFOLDERS folders (an mbox and a .msf each, most
      of them small).  Sizes are typical of a profile, seeded and
      reproducible; contents are random bytes.  Prints the files' paths
      relative to DIR, one a line, in the order Thunderbird roughly opens
      them at startup (the order the working-set case opens them in).
  bench-files.py opens DIR LIST
      Open, read to the end and close each file of LIST (paths relative to
      DIR, one a line) in turn, as cat does, timing each with a monotonic
      clock.  Prints "TOTAL_S MAX_S NFILES SLOWEST_PATH".
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


def make_profile(root, nfolders):
    """Write the profile described above; return its files in open order."""
    rng = random.Random(14)
    k, m = 1024, 1024 * 1024
    tb = ".thunderbird"
    prof = tb + "/k3x9q2ab.default-release"
    files = [
        (tb + "/profiles.ini", 200), (tb + "/installs.ini", 120),
        (prof + "/compatibility.ini", 300), (prof + "/times.json", 60),
        (prof + "/prefs.js", 24 * k), (prof + "/user.js", 900),
        (prof + "/addonStartup.json.lz4", 2 * k),
        (prof + "/extensions.json", 9 * k), (prof + "/addons.json", k),
        (prof + "/xulstore.json", 3 * k), (prof + "/session.json", 2 * k),
        (prof + "/startupCache/startupCache.8.little", 3 * m // 2),
        (prof + "/startupCache/scriptCache-current.bin", 600 * k),
        (prof + "/pkcs11.txt", 700), (prof + "/cert9.db", 224 * k),
        (prof + "/key4.db", 288 * k), (prof + "/cert_override.txt", 600),
        (prof + "/logins.json", 2 * k), (prof + "/permissions.sqlite", 96 * k),
        (prof + "/content-prefs.sqlite", 224 * k),
        (prof + "/cookies.sqlite", 512 * k), (prof + "/storage.sqlite", 32 * k),
        (prof + "/webappsstore.sqlite", 96 * k),
        (prof + "/formhistory.sqlite", 256 * k),
        (prof + "/places.sqlite", 5 * m), (prof + "/favicons.sqlite", m),
        (prof + "/handlers.json", k), (prof + "/containers.json", k),
        (prof + "/search.json.mozlz4", 8 * k),
        (prof + "/SiteSecurityServiceState.txt", 2 * k),
        (prof + "/abook.sqlite", 256 * k), (prof + "/history.sqlite", 224 * k),
        (prof + "/openpgp.sqlite", 96 * k),
        (prof + "/encrypted-openpgp-passphrase.txt", 100),
        (prof + "/folderTree.json", 4 * k), (prof + "/mailViews.dat", 700),
        (prof + "/virtualFolders.dat", 300),
        (prof + "/calendar-data/local.sqlite", 512 * k),
        (prof + "/calendar-data/cache.sqlite", 256 * k),
        (prof + "/datareporting/state.json", 200),
        (prof + "/datareporting/session-state.json", 300),
        (prof + "/global-messages-db.sqlite", 8 * m),
    ]
    for i in range(4):
        files.append((prof + "/storage/permanent/chrome/idb/%d-%s.sqlite"
                      % (1000 + i, "ngiosrb"[i:i + 3]), 48 * k))
    local = prof + "/Mail/Local Folders"
    files.append((local + "/msgFilterRules.dat", 200))
    for name, box in [("Inbox", 2 * m), ("Trash", 512 * k), ("Sent", m),
                      ("Drafts", 64 * k), ("Templates", 16 * k),
                      ("Unsent Messages", 0), ("Archives", 0),
                      ("Archives.sbd/2023", 3 * m), ("Archives.sbd/2024", 2 * m)]:
        files.append((local + "/" + name + ".msf", max(2 * k, box // 20)))
        if box:
            files.append((local + "/" + name, box))
    imap = prof + "/ImapMail/imap.school.example"
    files.append((imap + "/msgFilterRules.dat", 1500))
    for name, box in [("INBOX", 6 * m), ("Sent", 2 * m), ("Drafts", 96 * k),
                      ("Trash", m), ("Junk", 256 * k), ("Templates", 8 * k)]:
        files.append((imap + "/" + name + ".msf", max(4 * k, box // 12)))
        files.append((imap + "/" + name, box))
    subjects = ["Maths", "English", "Physics", "Chemistry", "Biology",
                "History", "Geography", "Art", "Music", "Sport", "French",
                "German", "Computing", "Staff", "Parents", "Trips"]
    for i in range(nfolders):
        folder = "%s/INBOX.sbd/%s.sbd/%s-%03d" % (
            imap, subjects[i % len(subjects)], subjects[i % len(subjects)].lower(), i)
        box = int(rng.expovariate(1.0) * 80 * k)
        files.append((folder + ".msf", 2 * k + box // 12))
        files.append((folder, box))
    for rel, size in files:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
    return [rel for rel, _ in files]


def opens(root, listfile):
    """Read each listed file to its end, one after the other; time them."""
    import time
    with open(listfile, encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    total, worst, worst_path = 0.0, -1.0, ""
    for rel in paths:
        t = time.monotonic()
        fd = os.open(os.path.join(root, rel), os.O_RDONLY)
        while os.read(fd, 1 << 20):
            pass
        os.close(fd)
        t = time.monotonic() - t
        total += t
        if t > worst:
            worst, worst_path = t, rel
    print("%.3f %.3f %d %s" % (total, worst, len(paths), worst_path))


def main(argv):
    """Dispatch on the sub-command."""
    if len(argv) == 5 and argv[1] == "home":
        make_home(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 5 and argv[1] == "create":
        create(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 4 and argv[1] == "pick":
        pick(argv[2], int(argv[3]))
    elif len(argv) == 4 and argv[1] == "profile":
        for rel in make_profile(argv[2], int(argv[3])):
            print(rel)
    elif len(argv) == 4 and argv[1] == "opens":
        opens(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
