/*
 * notify: kernel invalidations.
 *
 * The kernel keeps names, attributes and pages of the mount for the
 * entry and attribute timeout.  When the cache changes without a request
 * from the kernel (a listing merged, a download that found another size),
 * the kernel is told to forget what it holds.  A notice about an inode
 * cannot be sent from inside a request handler working on it (the kernel
 * would wait for the handler), so notices are queued and sent by a thread
 * of their own.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "roamfs.h"

struct notice {
	struct notice *next;
	uint64_t ino;		/* parent for an entry */
	char *name;		/* NULL: invalidate the inode's data */
};

struct notify {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct notice *head;	/* under lock */
	int stop;		/* under lock */
};

static void
notices_free(struct notice *list)
{
	struct notice *n, *next;

	for (n = list; n; n = next) {
		next = n->next;
		free(n->name);
		free(n);
	}
}

static void
notify_push(struct roamfs *fs, uint64_t ino, const char *name)
{
	struct notify *q = fs->notify;
	struct notice *n;

	if (q == NULL || (n = calloc(1, sizeof *n)) == NULL)
		return;
	n->ino = ino;
	if (name && (n->name = strdup(name)) == NULL) {
		free(n);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (q->stop) {
		pthread_mutex_unlock(&q->lock);
		notices_free(n);
		return;
	}
	n->next = q->head;
	q->head = n;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void
notify_entry(struct roamfs *fs, uint64_t parent, const char *name)
{
	notify_push(fs, parent, name);
}

void
notify_inode(struct roamfs *fs, uint64_t ino)
{
	notify_push(fs, ino, NULL);
}

static int
renew_name(void *arg, const char *name, size_t len, uint64_t parent)
{
	char *nm = strndup(name, len);

	if (nm)
		notify_entry(arg, parent, nm);
	free(nm);
	return 0;
}

void
notify_renew(struct roamfs *fs, struct db_txn *t, uint64_t ino)
{
	struct node *n;
	int now = 0;

	nodes_lock(fs->nodes);
	/* Without a kernel reference, its next lookup makes a new inode anyway. */
	if ((n = nodes_find(fs->nodes, ino)) != NULL && n->nlookup > 0) {
		if (n->nopen > 0) {
			n->renew_later = 1;
		} else {
			n->gen++;
			n->renew_later = 0;
			now = 1;
		}
	}
	nodes_unlock(fs->nodes);
	if (now) {
		meta_names(t, ino, renew_name, fs);
		notify_inode(fs, ino);
	}
}

static void *
notify_thread(void *arg)
{
	struct roamfs *fs = arg;
	struct notify *q = fs->notify;
	struct notice *list, *n;
	int stop;

	do {
		pthread_mutex_lock(&q->lock);
		while (!q->stop && q->head == NULL)
			pthread_cond_wait(&q->cond, &q->lock);
		list = q->head;
		q->head = NULL;
		stop = q->stop;
		pthread_mutex_unlock(&q->lock);
		for (n = list; n; n = n->next)
			if (n->name)
				fuse_lowlevel_notify_inval_entry(fs->se, n->ino, n->name, strlen(n->name));
			else
				fuse_lowlevel_notify_inval_inode(fs->se, n->ino, 0, 0);
		notices_free(list);
	} while (!stop);
	return NULL;
}

int
notify_start(struct roamfs *fs)
{
	struct notify *q = calloc(1, sizeof *q);
	int r;

	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	fs->notify = q;		/* before the thread starts: it reads it */
	if ((r = pthread_create(&q->thread, NULL, notify_thread, fs)) != 0) {
		fs->notify = NULL;
		pthread_mutex_destroy(&q->lock);
		pthread_cond_destroy(&q->cond);
		free(q);
		return -r;
	}
	return 0;
}

void
notify_stop(struct roamfs *fs)
{
	struct notify *q = fs->notify;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	/* Every thread that queues notices has ended: the queue can go. */
	fs->notify = NULL;
	notices_free(q->head);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}
