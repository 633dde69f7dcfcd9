/*
 * replay: the journal replayer, which applies local changes on the server.
 */
#ifndef ROAMFS_REPLAY_H
#define ROAMFS_REPLAY_H

#include <stdint.h>
#include <time.h>

struct roamfs;

int replay_start(struct roamfs *fs);
/* Wake the replayer: the journal has new records. */
void replay_wake(struct roamfs *fs);
/* roamctl flush: send every record now, without letting it settle, and
 * try the server at once if it was away. */
void replay_flush(struct roamfs *fs);
/* What the replayer is doing, for roamctl status (never waits long). */
struct replay_state {
	int draining;		/* unmounted: sending the rest before exiting */
	int idle;		/* found the journal empty last time */
	time_t offline_since;	/* could not reach the server since; 0: reaching it */
};
void replay_state(struct roamfs *fs, struct replay_state *st);
/* The uploads under way: files and bytes (files 0 when they are over). */
void replay_step(struct roamfs *fs, uint64_t files, uint64_t bytes);
/* At unmount: replay until the journal is empty or the server stays away; 0 if empty. */
int replay_drain(struct roamfs *fs);
void replay_stop(struct roamfs *fs);

#endif
