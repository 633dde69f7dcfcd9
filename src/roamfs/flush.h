/*
 * flush: durable commits and the journal records of written files.
 */
#ifndef ROAMFS_FLUSH_H
#define ROAMFS_FLUSH_H

#include <stdint.h>

struct roamfs;

/* Start and stop the flusher thread; flush_stop saves everything first. */
int flush_start(struct roamfs *fs);
void flush_stop(struct roamfs *fs);
/* Journal the unsaved size/mtime of one written file (STORE record). */
int flush_node(struct roamfs *fs, uint64_t ino);
/* At close: flush_node, unless a STORE is pending and the tick may save it. */
int flush_close(struct roamfs *fs, uint64_t ino);
/*
 * At start: a crash can lose the size a written file had in memory; for
 * files with a STORE in the journal, take it from the cache file.
 */
int flush_recover(struct roamfs *fs);
/* Journal every written file and make everything durable. */
int flush_all(struct roamfs *fs);

#endif
