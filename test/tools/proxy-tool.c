/*
 * proxy-tool: a TCP proxy on 127.0.0.1 whose link a test can cut, to take
 * one workstation offline while the server and the other workstations stay
 * up.
 *
 * Usage: proxy-tool -t TARGET_PORT [-l LISTEN_PORT] [-s STATE_FILE] [-T MAX_SECONDS] [-d]
 *
 * Each connection accepted on 127.0.0.1:LISTEN_PORT is forwarded to
 * 127.0.0.1:TARGET_PORT, bytes unchanged both ways; EOF is passed on
 * (half-close), and an error on either side resets both.  LISTEN_PORT 0
 * (the default) picks a free port.  Once listening, proxy-tool prints the
 * port on stdout (one line).
 *
 * The link is cut and restored with signals:
 *   SIGUSR1  cut: every current connection is reset at once (both sides
 *            get an RST, nothing buffered is delivered), and from then on
 *            each new connection is accepted and reset at once, so a
 *            client sees its connect or handshake fail quickly.  The
 *            listening socket stays open: the port is never given up.
 *   SIGUSR2  restore: new connections are forwarded again.
 *   SIGTERM, SIGINT, SIGHUP  exit (status 0).
 * A signal that changes nothing (cut twice) is harmless.
 *
 * STATE_FILE, when given, is replaced (written aside, then renamed) each
 * time the state or the number of connections changes, with one line:
 *   "online live=N accepted=N cuts=N"   or   "offline live=0 accepted=N cuts=N"
 * where live counts the connections being forwarded, accepted those ever
 * forwarded and cuts the SIGUSR1 that cut the link.  The file shows the new
 * state only once the cut or the restore is done, so a test sends the
 * signal, then waits for the first word to change.
 *
 * proxy-tool exits by itself after MAX_SECONDS (default 3600), so a
 * forgotten instance never lingers.  -d: debug messages on stderr.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"

#define PX_BUF	65536

/* One direction: bytes read from *from wait in buf until sent to *to. */
struct half {
	int		*from, *to;
	size_t		 len, off;	/* buf[off..len) still to send */
	int		 eof;		/* EOF read from *from */
	int		 shut;		/* EOF passed on to *to */
	char		 buf[PX_BUF];
};

/* An epoll registration: which socket of which connection (conn NULL: ours). */
struct endpoint {
	struct conn	*conn;
	int		 fd;
	uint32_t	 events;	/* registered; 0: not registered */
};

struct conn {
	struct conn	*next;
	int		 cfd, sfd;	/* client side, target side */
	int		 connected;	/* the target accepted */
	int		 dead;		/* an error: reset both sides */
	struct half	 up, down;	/* client to target, target to client */
	struct endpoint	 cep, sep;
};

struct proxy {
	struct sockaddr_in target;
	const char	*state_file;
	int		 ep, lfd, sigfd;
	int		 port, offline;
	unsigned long	 live, accepted, cuts;
	uint64_t	 deadline_ms;
	struct conn	*conns;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
usage(void)
{
	fprintf(stderr, "usage: proxy-tool -t TARGET_PORT [-l LISTEN_PORT] [-s STATE_FILE] [-T MAX_SECONDS] [-d]\n"
	    "  forwards 127.0.0.1:LISTEN_PORT (0: pick one, printed) to 127.0.0.1:TARGET_PORT;\n"
	    "  SIGUSR1 cuts the link (connections reset, new ones reset), SIGUSR2 restores it;\n"
	    "  STATE_FILE gets \"online|offline live=N accepted=N cuts=N\"; exits after\n"
	    "  MAX_SECONDS (default 3600)\n");
	exit(2);
}

/* A whole number in [lo, hi], or usage. */
static long
parse_num(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		log_err("bad %s '%s': give a whole number from %ld to %ld", what, s, lo, hi);
		usage();
	}
	return v;
}

/* Replace the state file with the current state, if there is one. */
static void
state_write(const struct proxy *px)
{
	char tmp[4096];
	FILE *f;

	if (px->state_file == NULL)
		return;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", px->state_file) >= sizeof tmp)
		fatal("state file name too long: %s", px->state_file);
	if ((f = fopen(tmp, "w")) == NULL)
		fatal("cannot write %s: %s", tmp, strerror(errno));
	fprintf(f, "%s live=%lu accepted=%lu cuts=%lu\n", px->offline ? "offline" : "online",
	    px->live, px->accepted, px->cuts);
	if (fclose(f) != 0 || rename(tmp, px->state_file) != 0)
		fatal("cannot write %s: %s", px->state_file, strerror(errno));
}

/* Register, change or drop the epoll interest of one endpoint. */
static void
ep_update(struct proxy *px, struct endpoint *e, uint32_t want)
{
	struct epoll_event ev;
	int op;

	if (want == e->events)
		return;
	op = e->events == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	memset(&ev, 0, sizeof ev);
	ev.events = want;
	ev.data.ptr = e;
	if (epoll_ctl(px->ep, op, e->fd, &ev) != 0)
		fatal("epoll_ctl: %s", strerror(errno));
	e->events = want;
}

/* Close a socket with an RST instead of a FIN: the link broke. */
static void
close_reset(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

static void
listen_setup(struct proxy *px, int port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int one = 1;

	if ((px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	setsockopt(px->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (bind(px->lfd, (struct sockaddr *)&sin, sizeof sin) != 0)
		fatal("cannot listen on 127.0.0.1:%d: %s; pick another port with -l", port,
		    strerror(errno));
	if (listen(px->lfd, 128) != 0 || getsockname(px->lfd, (struct sockaddr *)&sin, &len) != 0)
		fatal("listen: %s", strerror(errno));
	px->port = ntohs(sin.sin_port);
	state_write(px);
	printf("%d\n", px->port);
	fflush(stdout);
}

/* Accept what is pending: forward it, or reset it while the link is cut. */
static void
accept_all(struct proxy *px)
{
	struct conn *c;
	int cfd, sfd, one = 1;

	while ((cfd = accept4(px->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (px->offline) {
			log_debug("link cut: connection reset");
			close_reset(cfd);
			continue;
		}
		sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (sfd < 0 || (connect(sfd, (struct sockaddr *)&px->target, sizeof px->target) != 0 &&
		    errno != EINPROGRESS)) {
			log_warn("cannot connect to the target: %s; is it running?", strerror(errno));
			close_reset(cfd);
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		if ((c = calloc(1, sizeof *c)) == NULL)
			fatal("out of memory");
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->cfd = cfd;
		c->sfd = sfd;
		c->cep = (struct endpoint){ c, cfd, 0 };
		c->sep = (struct endpoint){ c, sfd, 0 };
		c->up.from = &c->cfd;
		c->up.to = &c->sfd;
		c->down.from = &c->sfd;
		c->down.to = &c->cfd;
		c->next = px->conns;
		px->conns = c;
		ep_update(px, &c->sep, EPOLLOUT);	/* until the target accepts */
		px->live++;
		px->accepted++;
		log_debug("connection %lu forwarded", px->accepted);
		state_write(px);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_warn("accept: %s", strerror(errno));
}

/* Move one direction's bytes as far as the sockets allow; -1 on an error. */
static int
half_pump(struct half *h)
{
	ssize_t n;

	for (;;) {
		if (h->off < h->len) {
			n = send(*h->to, h->buf + h->off, h->len - h->off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			h->off += (size_t)n;
			continue;
		}
		h->off = h->len = 0;
		if (h->eof) {
			if (!h->shut && shutdown(*h->to, SHUT_WR) != 0 && errno != ENOTCONN)
				return -1;
			h->shut = 1;
			return 0;
		}
		n = recv(*h->from, h->buf, sizeof h->buf, MSG_DONTWAIT);
		if (n > 0)
			h->len = (size_t)n;
		else if (n == 0)
			h->eof = 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (errno != EINTR)
			return -1;
	}
}

/* Check whether the target accepted; -1 if it refused. */
static int
conn_check_connect(struct conn *c)
{
	int err = 0;
	socklen_t elen = sizeof err;

	if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
		log_warn("cannot connect to the target: %s; is it running?", strerror(err ? err : errno));
		return -1;
	}
	c->connected = 1;
	return 0;
}

/* Pump both directions and set the sockets' interest. */
static void
conn_pump(struct proxy *px, struct conn *c)
{
	uint32_t cev = 0, sev = 0;

	if (!c->connected) {
		if (conn_check_connect(c) != 0) {
			c->dead = 1;
			return;
		}
	}
	if (half_pump(&c->up) != 0 || half_pump(&c->down) != 0) {
		log_debug("connection reset after an error: %s", strerror(errno));
		c->dead = 1;
		return;
	}
	if (!c->up.eof && c->up.off == c->up.len)
		cev |= EPOLLIN;
	if (c->down.off < c->down.len)
		cev |= EPOLLOUT;
	if (!c->down.eof && c->down.off == c->down.len)
		sev |= EPOLLIN;
	if (c->up.off < c->up.len)
		sev |= EPOLLOUT;
	ep_update(px, &c->cep, cev);
	ep_update(px, &c->sep, sev);
}

/* Drop a connection: reset both sides after an error or a cut. */
static void
conn_close(struct proxy *px, struct conn *c)
{
	ep_update(px, &c->cep, 0);
	ep_update(px, &c->sep, 0);
	if (c->dead) {
		close_reset(c->cfd);
		close_reset(c->sfd);
	} else {
		close(c->cfd);
		close(c->sfd);
	}
	free(c);
	px->live--;
}

/* Close the connections that are finished or dead. */
static void
reap(struct proxy *px)
{
	struct conn **pp = &px->conns, *c;
	int changed = 0;

	while ((c = *pp) != NULL) {
		if (c->dead || (c->up.shut && c->down.shut)) {
			*pp = c->next;
			conn_close(px, c);
			changed = 1;
		} else
			pp = &c->next;
	}
	if (changed)
		state_write(px);
}

/* SIGUSR1: reset every connection and refuse new ones. */
static void
link_cut(struct proxy *px)
{
	struct conn *c;

	if (px->offline)
		return;
	px->offline = 1;
	px->cuts++;
	for (c = px->conns; c != NULL; c = c->next)
		c->dead = 1;
	reap(px);
	log_info("link cut (cut %lu)", px->cuts);
	state_write(px);
}

static void
link_restore(struct proxy *px)
{
	if (!px->offline)
		return;
	px->offline = 0;
	log_info("link restored");
	state_write(px);
}

/* Handle the pending signals; returns 1 when it is time to exit. */
static int
signals(struct proxy *px)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(px->sigfd, &si, sizeof si)) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGUSR1)
			link_cut(px);
		else if (si.ssi_signo == SIGUSR2)
			link_restore(px);
		else {
			log_info("signal %u, exiting", si.ssi_signo);
			return 1;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		fatal("signalfd read: %s", strerror(errno));
	return 0;
}

static void
run(struct proxy *px)
{
	struct epoll_event evs[64];
	struct endpoint lep = { NULL, px->lfd, 0 }, sep = { NULL, px->sigfd, 0 };
	uint64_t now;
	int n, i;

	ep_update(px, &lep, EPOLLIN);
	ep_update(px, &sep, EPOLLIN);
	/* Level-triggered: after a signal, the rest of the batch (which may
	 * name connections the cut just freed) is reported again. */
	while ((now = now_ms()) < px->deadline_ms) {
		n = epoll_wait(px->ep, evs, 64, (int)(px->deadline_ms - now < 60000 ?
		    px->deadline_ms - now + 1 : 60000));
		if (n < 0 && errno != EINTR)
			fatal("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct endpoint *e = evs[i].data.ptr;

			if (e == &sep) {
				if (signals(px))
					return;
				break;
			} else if (e == &lep)
				accept_all(px);
			else if (!e->conn->dead)
				conn_pump(px, e->conn);
		}
		reap(px);
	}
	log_info("time limit reached, exiting");
}

int
main(int argc, char **argv)
{
	struct proxy px;
	sigset_t set;
	long target = -1, port = 0, max_s = 3600;
	int ch;

	log_init("proxy-tool", 0, 0);
	memset(&px, 0, sizeof px);
	while ((ch = getopt(argc, argv, "t:l:s:T:d")) != -1) {
		switch (ch) {
		case 't': target = parse_num(optarg, "target port", 1, 65535); break;
		case 'l': port = parse_num(optarg, "listen port", 0, 65535); break;
		case 's': px.state_file = optarg; break;
		case 'T': max_s = parse_num(optarg, "time limit", 1, 86400 * 7); break;
		case 'd': log_init("proxy-tool", 0, 1); break;
		default: usage();
		}
	}
	if (optind != argc || target < 0)
		usage();
	px.target.sin_family = AF_INET;
	px.target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	px.target.sin_port = htons((uint16_t)target);
	px.deadline_ms = now_ms() + (uint64_t)max_s * 1000u;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (px.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (px.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("signalfd/epoll: %s", strerror(errno));
	listen_setup(&px, (int)port);
	log_info("forwarding 127.0.0.1:%d to 127.0.0.1:%ld for %ld s at most", px.port, target, max_s);
	run(&px);
	/* Connections still open at the end: closed, not leaked. */
	while (px.conns) {
		struct conn *c = px.conns;

		px.conns = c->next;
		conn_close(&px, c);
	}
	return 0;
}
