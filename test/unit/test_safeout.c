/*
 * test_safeout: roamctl's filter of its text output (safeout.c): control
 * characters a user put in a file name (an escape sequence that would
 * retitle the admin's terminal, say) print as '?'; newline, tab and
 * UTF-8 text pass; C1 controls are caught as UTF-8 and as raw bytes, also
 * across two writes.
 */
#include "config.h"

#include <string.h>

#include "safeout.h"
#include "test/tap.h"

static char got[256];

static const char *
run(const char *in, unsigned char *held)
{
	size_t k = safeout_filter((const unsigned char *)in, strlen(in), (unsigned char *)got, held);

	got[k] = '\0';
	return got;
}

int
main(void)
{
	unsigned char held = 0;

	is_str(run("plain text\n\tok", &held), "plain text\n\tok", "text, newline, tab pass");
	is_str(run("a\033]2;pwned\007b", &held), "a?]2;pwned?b", "an OSC title sequence is defused");
	is_str(run("x\033[2Jy", &held), "x?[2Jy", "a CSI clear-screen is defused");
	is_str(run("cr\rdel\177", &held), "cr?del?", "CR and DEL");
	is_str(run("caf\xc3\xa9 \xc2\xa0nbsp", &held), "caf\xc3\xa9 \xc2\xa0nbsp",
	    "UTF-8 passes (é, a no-break space)");
	is_str(run("c1 \xc2\x9b" "2J", &held), "c1 ?2J", "C1 CSI as UTF-8");
	is_str(run("raw \x9b" "2J", &held), "raw ?2J", "a raw C1 byte (CSI on 8-bit terminals)");
	is_str(run("\xe2\x80\x9c" "q" "\xe2\x80\x9d", &held), "\xe2\x80\x9c" "q" "\xe2\x80\x9d",
	    "continuation bytes 0x80..0x9f inside a character pass (curly quotes)");
	is_str(run("split \xc2", &held), "split ", "a 0xC2 at the end waits");
	ok(held == 0xc2, "and is held");
	is_str(run("\x9b" "x", &held), "?x", "the C1 byte of the next write completes it");
	is_str(run("\xc2", &held), "", "held again");
	is_str(run("\xa9", &held), "\xc2\xa9", "a following printable byte gives both back");
	return tap_done();
}
