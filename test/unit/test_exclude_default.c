/*
 * Unit test for exclude_default_path: exclude.local, when present, wins
 * over the shipped exclude.  Built with SYSCONFDIR pointing into the build
 * tree (test/unit/sysconf), so it touches nothing of the system's.
 */
#include "config.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exclude.h"
#include "../tap.h"

/* Create an empty file; 0 or -1. */
static int
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	return f != NULL && fclose(f) == 0 ? 0 : -1;
}

int
main(void)
{
	const char *dir = SYSCONFDIR "/roamfs";
	const char *shipped = SYSCONFDIR "/roamfs/exclude";
	const char *local = SYSCONFDIR "/roamfs/exclude.local";

	unlink(local);
	unlink(shipped);
	mkdir(SYSCONFDIR, 0755);
	mkdir(dir, 0755);
	ok(exclude_default_path() == NULL, "neither list: NULL");
	ok(touch(shipped) == 0, "create %s", shipped);
	is_str(exclude_default_path(), shipped, "only the shipped list: it is used");
	ok(touch(local) == 0, "create %s", local);
	is_str(exclude_default_path(), local, "exclude.local exists: it replaces the shipped list");
	unlink(shipped);
	is_str(exclude_default_path(), local, "exclude.local alone: it is used");
	unlink(local);
	rmdir(dir);
	rmdir(SYSCONFDIR);
	return tap_done();
}
