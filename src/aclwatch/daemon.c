/*
 * daemon: the event loop of "aclwatch run".
 *
 * Signals arrive through a signalfd: SIGHUP reloads the configuration
 * (keeping the old one if the new one is bad), SIGUSR1 logs the counters,
 * SIGTERM/SIGINT stop.  Trees that cannot be watched are rescanned every
 * "rescan interval" seconds; a queue overflow rescans every share.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include "roam/log.h"
#include "conf.h"
#include "daemon.h"
#include "engine.h"

/* How long events may gather before being read (well below the 50 ms goal). */
static const struct timespec batch_delay = { 0, 10 * 1000 * 1000 };

/* The backend to use: the command line wins over the configuration. */
static int
backend_of(const struct daemon_opts *o, const struct conf *c)
{
	return o->backend >= 0 ? o->backend : c->backend;
}

/* Start the engine on c: open roots, start a backend, scan everything. */
static int
start(struct engine *e, struct conf *c, const struct daemon_opts *o)
{
	int r;

	if ((r = engine_init(e, c)) < 0)
		return r;
	if ((r = engine_start(e, backend_of(o, c))) < 0) {
		engine_fini(e);
		return r;
	}
	engine_rescan_all(e, NULL);
	log_info("ready: %zu share%s watched with %s", c->nshares, c->nshares == 1 ? "" : "s",
	    e->ops->name);
	return 0;
}

/* SIGHUP: load the file again; on any error keep running as before. */
static void
reload(struct engine *e, const struct daemon_opts *o)
{
	struct conf *c, *old = e->conf;
	struct engine_counters n = e->n;
	char *err = NULL;

	if (conf_load(o->conf_file, &c, &err) < 0) {
		log_err("reload refused, the old configuration stays in use: %s", err);
		free(err);
		return;
	}
	log_info("reloading %s", o->conf_file);
	engine_fini(e);
	if (start(e, c, o) < 0) {
		log_err("the new configuration cannot start; going back to the old one");
		conf_free(c);
		if (start(e, old, o) < 0)
			fatal("cannot restart with the old configuration either; stopping");
	} else
		conf_free(old);
	e->n = n;
	e->n.rescans++;
}

/* A signalfd for the signals we handle (blocked for normal delivery). */
static int
signals_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fatal("cannot set up signal handling: %s", strerror(errno));
	return fd;
}

/* Handle pending signals; returns 1 when asked to stop. */
static int
on_signals(int sfd, struct engine *e, const struct daemon_opts *o)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP)
			reload(e, o);
		else if (si.ssi_signo == SIGUSR1)
			engine_log_counters(e, "now");
		else
			stop = 1;
	}
	return stop;
}

/* Allow as many descriptors as the hard limit (deep trees hold one per level). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
daemon_run(const struct daemon_opts *o)
{
	struct engine e;
	struct conf *c;
	char *err = NULL;
	time_t next_rescan;
	int sfd, stop = 0;

	if (conf_load(o->conf_file, &c, &err) < 0)
		fatal("%s", err);
	log_init("aclwatch", !o->foreground, o->debug || c->debug);
	raise_nofile();
	if (!o->foreground && daemon(0, 0) < 0)
		fatal("cannot go to the background: %s", strerror(errno));
	sfd = signals_fd();
	if (start(&e, c, o) < 0)
		fatal("cannot start; see the messages above");
	next_rescan = time(NULL) + c->rescan_interval;
	while (!stop) {
		struct pollfd p[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = e.ops->fd(&e), .events = POLLIN },
		};
		int timeout = e.nunwatched ? 1000 : -1;

		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			fatal("poll failed: %s", strerror(errno));
		if (p[1].revents & POLLIN) {
			/* Let a burst gather: one wake-up for many events. */
			nanosleep(&batch_delay, NULL);
			e.ops->handle(&e);
		}
		if (e.need_rescan) {
			e.need_rescan = 0;
			engine_rescan_all(&e, "the event queue overflowed (events were lost)");
		}
		if (p[0].revents & POLLIN)
			stop = on_signals(sfd, &e, o);
		if (e.nunwatched && time(NULL) >= next_rescan) {
			engine_rescan_unwatched(&e);
			next_rescan = time(NULL) + e.conf->rescan_interval;
		}
	}
	engine_log_counters(&e, "at exit");
	c = e.conf;
	engine_fini(&e);
	conf_free(c);
	close(sfd);
	return 0;
}
