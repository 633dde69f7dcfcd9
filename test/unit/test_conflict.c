/*
 * Unit tests for conflict.c: the names of conflict copies and the entries
 * of the conflict table.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conflict.h"
#include "../tap.h"

/* Whether s is valid UTF-8 (enough for the test: no cut sequence). */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int more = 0;

	for (; *p; p++) {
		if (more) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			more--;
		} else if (*p >= 0xf0)
			more = 3;
		else if (*p >= 0xe0)
			more = 2;
		else if (*p >= 0xc0)
			more = 1;
		else if (*p >= 0x80)
			return 0;
	}
	return more == 0;
}

static void
test_names(void)
{
	struct tm tm;
	time_t when;
	char *n, longname[256], *p;
	size_t i;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 11;
	tm.tm_mday = 2;
	tm.tm_hour = 9;
	tm.tm_min = 5;
	tm.tm_sec = 7;
	tm.tm_isdst = -1;
	when = mktime(&tm);
	n = conflict_name("report.odt", "pc-07", when);
	is_str(n, "report (conflict pc-07 2026-12-02 090507).odt", "the extension stays last");
	free(n);
	n = conflict_name(".bashrc", "pc-07", when);
	is_str(n, ".bashrc (conflict pc-07 2026-12-02 090507)", "a dot file has no extension");
	free(n);
	n = conflict_name("Makefile", "pc-07", when);
	is_str(n, "Makefile (conflict pc-07 2026-12-02 090507)", "nor a name without a dot");
	free(n);
	n = conflict_name("archive.tar.gz", "pc-07", when);
	is_str(n, "archive.tar (conflict pc-07 2026-12-02 090507).gz", "only the last suffix moves");
	free(n);
	n = conflict_path("Documents/Cours/plan.txt", "pc-07", when);
	is_str(n, "Documents/Cours/plan (conflict pc-07 2026-12-02 090507).txt",
	    "a path keeps its folders");
	free(n);
	ok((n = conflict_name("a.txt", "pc-07", when)) && strchr(n, ':') == NULL, "no ':' in a name");
	free(n);
	/* 125 two-byte characters: the stem is cut between characters. */
	for (i = 0, p = longname; i < 125; i++) {
		*p++ = (char)0xc3;
		*p++ = (char)0xa9;
	}
	strcpy(p, ".txt");
	n = conflict_name(longname, "pc-07", when);
	ok(n && strlen(n) <= 255, "a long name is cut to 255 bytes (%zu)", n ? strlen(n) : 0);
	ok(n && utf8_ok(n), "at a character boundary");
	ok(n && strcmp(n + strlen(n) - 4, ".txt") == 0, "keeping its extension");
	free(n);
}

static void
test_entries(void)
{
	struct conflict c = { CONFLICT_COPY, 1764666307, "a/doc.txt", "a/doc (c).txt", "pc-07",
	    "changed here and on the server" }, d;
	struct buf b;
	size_t cut;
	int bad = 0;

	buf_init(&b, 0);
	ok(conflict_encode(&c, &b) == 0, "an entry encodes");
	ok(conflict_decode(b.data, b.len, &d) == 0, "and decodes");
	ok(d.kind == CONFLICT_COPY && d.when == 1764666307, "kind and time survive");
	is_str(d.path, "a/doc.txt", "the name survives");
	is_str(d.copy, "a/doc (c).txt", "the copy survives");
	is_str(d.workstation, "pc-07", "the workstation survives");
	is_str(d.why, "changed here and on the server", "the reason survives");
	conflict_free(&d);
	for (cut = 0; cut < b.len; cut++)
		if (conflict_decode(b.data, cut, &d) == 0) {
			bad++;
			conflict_free(&d);
		}
	is_int(bad, 0, "every truncation is refused");
	buf_free(&b);
	c.kind = CONFLICT_KEPT;
	c.copy = NULL;
	buf_init(&b, 0);
	conflict_encode(&c, &b);
	ok(conflict_decode(b.data, b.len, &d) == 0 && d.copy == NULL && d.kind == CONFLICT_KEPT,
	    "a kept object has no copy");
	conflict_free(&d);
	buf_free(&b);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_names();
	test_entries();
	return tap_done();
}
