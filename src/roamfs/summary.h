/*
 * summary: what a cache holds that roamctl reports, read from its
 * database alone, so that it works for a running roamfs (control.c) and
 * for a cache nobody has mounted since its workstation was switched off
 * (roamctl status --all).
 */
#ifndef ROAMFS_SUMMARY_H
#define ROAMFS_SUMMARY_H

#include <stdint.h>

#include "roam/ctl.h"
#include "roam/db.h"

struct summary {
	uint64_t changes;	/* journal records waiting */
	uint64_t change_bytes;	/* the size of the files they upload */
	int64_t oldest;		/* wall clock time of the oldest, 0: none */
	uint64_t conflicts;	/* conflict copies made and removals kept */
	uint64_t set_aside;	/* changes the server refused for good */
	char *elsewhere;	/* "NAME NAME": workstations seen with unsent changes, or NULL */
	char *elsewhere_since;	/* "SINCE SINCE": since when each holds them (0: not known) */
	char *open_elsewhere;	/* "NAME NAME": workstations seen with the home open, or NULL */
	char *open_since;	/* "SINCE SINCE": since when */
};

/* Fill s from a read transaction; 0 or -errno. */
int summary_read(struct db_txn *t, struct summary *s);
void summary_free(struct summary *s);
/* The bytes the files of the cache directory take on its disk. */
uint64_t summary_disk_usage(const char *cache_dir);
/* Append its fields to a reply record (the names roamctl(8) lists). */
int summary_put(const struct summary *s, struct ctl_record *c);
/* The conflicts table (one record each) and the changes set aside. */
int summary_conflicts(struct db_txn *t, struct ctl_reply *r);
int summary_set_aside(struct db_txn *t, struct ctl_reply *r);

#endif
