#!/bin/sh
# t1200: exclude_match keeps exactly what "rsync -a --exclude-from=FILE" copies,
# for several lists, over a tree of files and directories with odd names.
. "$top_srcdir/test/integration/lib.sh"

TOOL="$top_builddir/test/tools/exclude-tool"
[ -x "$TOOL" ] || bail_out "$TOOL is missing: run make check"
command -v rsync >/dev/null || bail_out "rsync is missing: apt-get install rsync"

SRC="$TEST_DIR/src"
LISTS="$TEST_DIR/lists"
mkdir -p "$SRC" "$LISTS"

# make_tree: directories end in '/', everything else is a file; "sym" links.
make_tree() {
	while IFS= read -r p; do
		case "$p" in
		*/) mkdir -p "$SRC/$p" ;;
		*) mkdir -p "$SRC/$(dirname "$p")" && : >"$SRC/$p" ;;
		esac
	done <<'EOF'
a/b/c.o
a/b/c.c
a/b/d/
a/c.o
a/x.txt
b/c/d/c.o
b/keep.txt
build/out.o
src/build/
src/build.c
foo
foo 
 lead
x y/inner
*star
[br]
back\slash
q?
-dash
#hash
;semi
!bang
P x
merge x
café/ü.txt
é
dir.o/file
deep/a/b/c/d/e/f.txt
deep/e/g
deep/x/e
.hidden/.cache/z
.cache/thumbnails/normal/1.png
.cache/mozilla/firefox/x
.local/share/Trash/files/old.txt
.local/share/Trash/info/old.txt.trashinfo
.local/share/applications/x.desktop
.mozilla/firefox/ab12.default/cache2/entries/F0
.mozilla/firefox/ab12.default/places.sqlite
.mozilla/firefox/ab12.default/lock
.mozilla/firefox/Crash Reports/events/1
.config/chromium/SingletonLock
.config/chromium/Default/GPUCache/data_0
.config/chromium/Default/Code Cache/js/index
.config/chromium/Default/Bookmarks
.config/chromium/Default/Service Worker/CacheStorage/x
.config/chromium/Default/Service Worker/Database/x
.thunderbird/t.default/Mail/Local Folders/Inbox
.xsession-errors
Documents/cache/notes.txt
Documents/report 1.odt
Documents/.cache
x/foo/bar
x/foo2/bar
x/1/2/3
digits9/x
9digits/x
EOF
	ln -s a "$SRC/sym"
	ln -s dangling "$SRC/link.o"
}

# listing DIR: every path under DIR, directories with a trailing '/'.
listing() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%P/\n' -o -printf '%P\n' \)) | LC_ALL=C sort
}

# compare NAME: rsync's copy and exclude-tool's answer must be equal.
compare() {
	rm -rf "$TEST_DIR/dst" &&
	rsync -a --exclude-from="$LISTS/$1" "$SRC/" "$TEST_DIR/dst/" &&
	listing "$TEST_DIR/dst" >"$TEST_DIR/$1.rsync" &&
	listing "$SRC" | "$TOOL" "$LISTS/$1" | LC_ALL=C sort >"$TEST_DIR/$1.ours" &&
	diff -u "$TEST_DIR/$1.rsync" "$TEST_DIR/$1.ours" &&
	test -s "$TEST_DIR/$1.rsync" &&
	! cmp -s "$TEST_DIR/$1.rsync" "$TEST_DIR/all"
}

make_tree
listing "$SRC" >"$TEST_DIR/all"

printf '%s\n' '*.o' 'foo' '/x y' '[P] x' '!bang' >"$LISTS/names"
printf '%s\n' '/a/b/' 'build/' '/deep/**/e' 'dir.o/' 'sym/' >"$LISTS/anchors"
printf '%s\n' '+ a/' '+ a/b/' '+ *.o' '- a/*' '- *.txt' '- /a/b/d' >"$LISTS/order"
printf '%s\n' '[[:digit:]]*' '\*star' '[[]br]' '*\?' 'back\slash' '[!a-z]*dash' '[;#]*' >"$LISTS/classes"
printf '%s\n' 'foo ' ' lead' '# a comment' '; another' '' '\#hash' '[m]erge x' '-dash' >"$LISTS/blanks"
printf '%s\n' '**/c.o' 'x/**/3' 'caf**' '.cache/***' 'b/***' '**/Default/*Cache*/' >"$LISTS/stars"
printf '%s\n' 'a/c.o' 'c/d' 'foo/bar' 'e/f.txt' 'Trash/info' 'é' >"$LISTS/infix"
printf '%s\n' '- /Documents/' '+ .cache/' '+ /.local/' '+ /.local/share/' '- /.local/share/*' '- /.*' >"$LISTS/dotfiles"
cp "$top_srcdir/contrib/exclude" "$LISTS/shipped"

for l in names anchors order classes blanks stars infix dotfiles shipped; do
	test_expect_success "rsync and exclude_match agree on list '$l'" "compare $l"
done

# Random lists built from the tree's names and every kind of wildcard (no
# unterminated '[': rsync takes it as a rule that never matches, we refuse it).
python3 - "$LISTS" <<'PY'
import random, sys
rnd = random.Random(1200)
names = ["a", "b", "c", "d", "e", "foo", "x", "deep", "src", "build", ".cache",
         "c.o", "x.txt", "Default", "caf\u00e9", "x y", "q?", "*star", "[br]"]
wild = ["*", "**", "?", "[a-c]", "[!a]", "*o", "c*", "*.*", "[[:alpha:]]*", "?*"]
for i in range(24):
    lines = []
    for _ in range(rnd.randint(1, 5)):
        parts = []
        for _ in range(rnd.randint(1, 3)):
            r = rnd.random()
            parts.append(rnd.choice(names) if r < 0.5 else rnd.choice(wild) if r < 0.85
                         else rnd.choice(names[:-1])[:1] + rnd.choice(wild))
        pat = "/".join(parts)
        pat = rnd.choice(["", "", "/"]) + pat + rnd.choice(["", "", "/", "/***"])
        lines.append(rnd.choice(["", "", "- ", "+ "]) + pat)
    with open("%s/random%02d" % (sys.argv[1], i), "w") as f:
        f.write("\n".join(lines) + "\n")
PY

test_expect_success 'rsync and exclude_match agree on 24 random lists' '
	for f in "$LISTS"/random*; do
		l=$(basename "$f") &&
		rm -rf "$TEST_DIR/dst" &&
		rsync -a --exclude-from="$f" "$SRC/" "$TEST_DIR/dst/" &&
		listing "$TEST_DIR/dst" >"$TEST_DIR/$l.rsync" &&
		listing "$SRC" | "$TOOL" "$f" | LC_ALL=C sort >"$TEST_DIR/$l.ours" &&
		if ! diff -u "$TEST_DIR/$l.rsync" "$TEST_DIR/$l.ours"; then
			echo "list $l:" && cat "$f" && exit 1
		fi
	done
'

test_expect_success 'exclude-tool refuses a bad list with its line number' '
	printf "%s\n" "a" "merge b" >"$LISTS/bad" &&
	! echo a | "$TOOL" "$LISTS/bad" 2>"$TEST_DIR/err" &&
	grep -q "bad:2: rsync filter rule .merge." "$TEST_DIR/err"
'

test_done
