/*
 * replay: the journal replayer, which applies local changes on the server.
 */
#ifndef ROAMFS_REPLAY_H
#define ROAMFS_REPLAY_H

struct roamfs;

int replay_start(struct roamfs *fs);
/* Wake the replayer: the journal has new records. */
void replay_wake(struct roamfs *fs);
/* At unmount: replay until the journal is empty or the server stays away; 0 if empty. */
int replay_drain(struct roamfs *fs);
void replay_stop(struct roamfs *fs);

#endif
