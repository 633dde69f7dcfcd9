#!/usr/bin/env python3
"""zenity-check: a stand-in for `zenity --progress` that checks what it is fed.

Reads the progress protocol on standard input, as zenity does: a line that
is a number is the percentage (0-100), a line that starts with '#' is the
text to show.  Fails (exit 1, saying why) on any other line, a percentage
out of range or going back, or input that ends below 100; writes the
percentages it saw, space-separated, to the file given as argument (if any).
"""
import re
import sys


def main():
    seen = []
    texts = 0
    for n, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if line.startswith("#"):
            texts += 1
            continue
        if not re.fullmatch(r"[0-9]+", line):
            print(f"line {n}: neither a percentage nor a '#' text: {line!r}")
            return 1
        p = int(line)
        if p > 100:
            print(f"line {n}: percentage {p} above 100")
            return 1
        if seen and p < seen[-1]:
            print(f"line {n}: percentage went back from {seen[-1]} to {p}")
            return 1
        seen.append(p)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(" ".join(map(str, seen)) + "\n")
    if not seen or seen[-1] != 100:
        print(f"the input ended at {seen[-1] if seen else 'no percentage'}, not 100")
        return 1
    if texts == 0:
        print("no '#' text line: the dialog would show nothing but a bar")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
