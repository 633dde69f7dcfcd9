/*
 * control: the socket CACHE/control that roamctl talks to (roam/ctl.h).
 *
 * One thread answers it, one connection at a time.  It never waits on the
 * network or on the FUSE loop: what it answers comes from LMDB read
 * transactions and from state the other threads keep under short locks.
 * Only the cache's owner and root are served (SO_PEERCRED).
 */
#ifndef ROAMFS_CONTROL_H
#define ROAMFS_CONTROL_H

#include "roam/ctl.h"

struct roamfs;

/* Bind the socket and start its thread; a failure is logged, and roamfs
 * goes on without it (0 or -errno). */
int control_start(struct roamfs *fs);
/* Stop the thread and remove the socket: at exit, once replay_drain has
 * sent what it could (so that roamctl can follow the flush that comes
 * after the unmount) and before the replayer's state is freed. */
void control_stop(struct roamfs *fs);
/* Answer one request (for tests as well): fills r, never fails but for
 * -ENOMEM. */
int control_answer(struct roamfs *fs, const struct ctl_request *q, struct ctl_reply *r);

#endif
