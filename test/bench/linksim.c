/*
 * linksim: a TCP proxy on 127.0.0.1 that behaves like a slow, distant link,
 * for benchmarks on machines without netem.
 *
 * Usage: linksim [-d] -l LISTEN_PORT -t TARGET_HOST:PORT -r RTT_MS -b MBIT [-T MAX_SECONDS]
 *
 * Each accepted connection is forwarded to the target.  In each direction,
 * bytes become deliverable RTT/2 after they were read, then leave through a
 * token bucket of MBIT megabits per second (0: unlimited; bucket depth 10 ms
 * of traffic, 64 KiB at least, full at the start).  Each direction buffers a
 * bounded amount (the bandwidth-delay product plus the bucket, 256 KiB at
 * least); when full, linksim stops reading, so TCP's own flow control slows
 * the sender.  EOF travels with the same delay; a reset or error closes both
 * sides.  LISTEN_PORT 0 picks a free port.  Once listening, linksim prints
 * the port on stdout (one line).  It exits by itself after MAX_SECONDS
 * (default 3600), so a forgotten instance never runs forever.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "roam/log.h"

#define LS_READ_MAX	65536		/* bytes per recv() */
#define LS_SEGMENT	1448		/* smallest write worth a wakeup */

/* Bytes read at one time, deliverable from ready_us; eof: the sender's FIN. */
struct chunk {
	struct chunk	*next;
	uint64_t	 ready_us;
	size_t		 len, off;
	int		 eof;
	uint8_t		 data[];
};

/* One direction of a connection: from one socket to the other. */
struct dir {
	int		*from, *to;
	struct chunk	*head, *tail;
	size_t		 queued;	/* bytes in the chunks */
	int		 rd_eof;	/* EOF read from *from */
	int		 shut;		/* EOF passed on to *to */
	int		 blocked;	/* last send() to *to said EAGAIN */
	double		 tokens;	/* bucket content, bytes */
	uint64_t	 refill_us;	/* when tokens were last refilled */
};

/* An epoll registration: which socket of which connection. */
struct endpoint {
	struct conn	*conn;
	int		 fd;
	uint32_t	 events;	/* registered; 0: not registered */
};

struct conn {
	struct conn	*next;
	int		 cfd, sfd;	/* client side, target side */
	int		 connected;
	int		 dead;
	struct dir	 up, down;	/* client to target, target to client */
	struct endpoint	 cep, sep;
};

/* What the command line asked for. */
struct linksim {
	int		 listen_port;
	struct sockaddr_storage target;
	socklen_t	 target_len;
	uint64_t	 delay_us;	/* one way: RTT / 2 */
	double		 rate;		/* bytes per second, 0: unlimited */
	double		 burst;		/* bucket depth, bytes */
	size_t		 bound;		/* buffered bytes per direction */
	uint64_t	 deadline_us;
	int		 ep, lfd, tfd;
	struct conn	*conns;
};

/* Microseconds on the monotonic clock. */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
usage(void)
{
	fprintf(stderr, "usage: linksim [-d] -l LISTEN_PORT -t TARGET_HOST:PORT -r RTT_MS -b MBIT [-T MAX_SECONDS]\n"
	    "  forwards 127.0.0.1:LISTEN_PORT to the target with RTT_MS of round-trip delay\n"
	    "  and at most MBIT megabits per second each way (0: unlimited); exits after\n"
	    "  MAX_SECONDS (default 3600); LISTEN_PORT 0 picks one and prints it; -d: debug\n");
	exit(2);
}

/* Parse a non-negative number or die with usage. */
static double
parse_num(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e9) {
		log_err("bad %s '%s': give a non-negative number", what, s);
		usage();
	}
	return v;
}

/* Resolve HOST:PORT into ls->target. */
static void
parse_target(struct linksim *ls, const char *arg)
{
	struct addrinfo hints, *res;
	char *copy = strdup(arg), *host = copy, *port;
	int ret;

	if (copy == NULL)
		fatal("out of memory");
	if ((port = strrchr(host, ':')) == NULL || port == host || port[1] == '\0')
		fatal("bad target '%s': give HOST:PORT", arg);
	*port++ = '\0';
	if (host[0] == '[' && port[-2] == ']') {
		host++;
		port[-2] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((ret = getaddrinfo(host, port, &hints, &res)) != 0)
		fatal("cannot resolve target '%s': %s", arg, gai_strerror(ret));
	memcpy(&ls->target, res->ai_addr, res->ai_addrlen);
	ls->target_len = res->ai_addrlen;
	freeaddrinfo(res);
	free(copy);
}

/* Set a socket option that only tunes behaviour; failure is harmless. */
static void
set_opt(int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, sizeof val) != 0)
		log_debug("setsockopt %d/%d: %s", level, name, strerror(errno));
}

/* Listen on 127.0.0.1 and print the port. */
static void
listen_setup(struct linksim *ls)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	if ((ls->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	set_opt(ls->lfd, SOL_SOCKET, SO_REUSEADDR, 1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)ls->listen_port);
	if (bind(ls->lfd, (struct sockaddr *)&sin, sizeof sin) != 0)
		fatal("cannot listen on 127.0.0.1:%d: %s; pick another port with -l", ls->listen_port,
		    strerror(errno));
	if (listen(ls->lfd, 128) != 0 || getsockname(ls->lfd, (struct sockaddr *)&sin, &len) != 0)
		fatal("listen: %s", strerror(errno));
	ls->listen_port = ntohs(sin.sin_port);
	printf("%d\n", ls->listen_port);
	fflush(stdout);
}

/* Register, change or drop the epoll interest of one endpoint. */
static void
ep_update(struct linksim *ls, struct endpoint *e, uint32_t want)
{
	struct epoll_event ev;
	int op;

	if (want == e->events)
		return;
	op = e->events == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	memset(&ev, 0, sizeof ev);
	ev.events = want;
	ev.data.ptr = e;
	if (epoll_ctl(ls->ep, op, e->fd, &ev) != 0)
		fatal("epoll_ctl: %s", strerror(errno));
	e->events = want;
}

/* Start a direction between two sockets with a full bucket. */
static void
dir_init(struct linksim *ls, struct dir *d, int *from, int *to)
{
	memset(d, 0, sizeof *d);
	d->from = from;
	d->to = to;
	d->tokens = ls->burst;
	d->refill_us = now_us();
}

/* Queue bytes (or the EOF when len is 0 and eof is set) with the link's delay. */
static void
dir_push(struct linksim *ls, struct dir *d, const uint8_t *data, size_t len, int eof)
{
	struct chunk *c = malloc(sizeof *c + len);

	if (c == NULL)
		fatal("out of memory");
	c->next = NULL;
	c->ready_us = now_us() + ls->delay_us;
	c->len = len;
	c->off = 0;
	c->eof = eof;
	if (len > 0)
		memcpy(c->data, data, len);
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += len;
}

/* Drop the head chunk. */
static void
dir_pop(struct dir *d)
{
	struct chunk *c = d->head;

	d->head = c->next;
	if (d->head == NULL)
		d->tail = NULL;
	free(c);
}

/* Read what the buffer has room for; -1 on a connection error. */
static int
dir_fill(struct linksim *ls, struct dir *d)
{
	uint8_t buf[LS_READ_MAX];
	size_t room;
	ssize_t n;

	while (!d->rd_eof && d->queued < ls->bound) {
		room = ls->bound - d->queued;
		n = recv(*d->from, buf, room < sizeof buf ? room : sizeof buf, MSG_DONTWAIT);
		if (n > 0)
			dir_push(ls, d, buf, (size_t)n, 0);
		else if (n == 0) {
			d->rd_eof = 1;
			dir_push(ls, d, NULL, 0, 1);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Add the tokens earned since the last refill, up to the bucket's depth. */
static void
dir_refill(struct linksim *ls, struct dir *d, uint64_t now)
{
	if (ls->rate == 0) {
		d->tokens = 1e18;
		return;
	}
	d->tokens += (double)(now - d->refill_us) * ls->rate / 1e6;
	if (d->tokens > ls->burst)
		d->tokens = ls->burst;
	d->refill_us = now;
}

/* Send what is due and what the bucket allows; -1 on a connection error. */
static int
dir_flush(struct linksim *ls, struct dir *d, uint64_t now)
{
	struct chunk *c;
	size_t n;
	ssize_t k;

	dir_refill(ls, d, now);
	while ((c = d->head) != NULL && !d->blocked && c->ready_us <= now) {
		if (c->eof) {
			shutdown(*d->to, SHUT_WR);
			d->shut = 1;
			dir_pop(d);
			continue;
		}
		n = c->len - c->off;
		if (d->tokens < (double)n)
			n = (size_t)d->tokens;
		if (n == 0)
			break;
		k = send(*d->to, c->data + c->off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			d->blocked = 1;
		else if (k < 0 && errno != EINTR)
			return -1;
		if (k <= 0)
			continue;
		d->tokens -= (double)k;
		d->queued -= (size_t)k;
		if ((c->off += (size_t)k) == c->len)
			dir_pop(d);
	}
	return 0;
}

/* When this direction next needs attention without a socket event; UINT64_MAX: never. */
static uint64_t
dir_next(struct linksim *ls, const struct dir *d, uint64_t now)
{
	const struct chunk *c = d->head;
	double want, need;

	if (c == NULL || d->blocked)
		return UINT64_MAX;
	if (c->ready_us > now)
		return c->ready_us;
	want = (double)(c->len - c->off);
	if (want > LS_SEGMENT)
		want = LS_SEGMENT;
	if (c->eof || ls->rate == 0 || d->tokens >= want)
		return now;
	need = (want - d->tokens) / ls->rate * 1e6;
	return now + (uint64_t)need + 1;
}

/* Whether a direction has nothing left to do. */
static int
dir_done(const struct dir *d)
{
	return d->rd_eof && d->head == NULL && d->shut;
}

/* Free a direction's chunks. */
static void
dir_free(struct dir *d)
{
	while (d->head != NULL)
		dir_pop(d);
}

/* Accept every pending client and start connecting to the target. */
static void
accept_all(struct linksim *ls)
{
	struct conn *c;
	int cfd, sfd;

	while ((cfd = accept4(ls->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		sfd = socket(ls->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (sfd < 0 || (connect(sfd, (struct sockaddr *)&ls->target, ls->target_len) != 0 &&
		    errno != EINPROGRESS)) {
			log_warn("cannot connect to the target: %s; is it running?", strerror(errno));
			close(cfd);
			if (sfd >= 0)
				close(sfd);
			continue;
		}
		if ((c = calloc(1, sizeof *c)) == NULL)
			fatal("out of memory");
		set_opt(cfd, IPPROTO_TCP, TCP_NODELAY, 1);
		set_opt(sfd, IPPROTO_TCP, TCP_NODELAY, 1);
		c->cfd = cfd;
		c->sfd = sfd;
		c->cep = (struct endpoint){ c, cfd, 0 };
		c->sep = (struct endpoint){ c, sfd, 0 };
		dir_init(ls, &c->up, &c->cfd, &c->sfd);
		dir_init(ls, &c->down, &c->sfd, &c->cfd);
		c->next = ls->conns;
		ls->conns = c;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		log_warn("accept: %s", strerror(errno));
}

/* Check whether the connection to the target is up; -1 if it failed. */
static int
conn_check_connect(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int err = 0;
	socklen_t elen = sizeof err;

	if (getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
		log_warn("cannot connect to the target: %s; is it running?", strerror(err ? err : errno));
		return -1;
	}
	if (getpeername(c->sfd, (struct sockaddr *)&ss, &len) == 0)
		c->connected = 1;
	return 0;
}

/* Move what can move in both directions. */
static void
conn_pump(struct linksim *ls, struct conn *c, uint64_t now)
{
	if (!c->connected && conn_check_connect(c) != 0) {
		c->dead = 1;
		return;
	}
	if (dir_fill(ls, &c->up) != 0 || (c->connected && dir_fill(ls, &c->down) != 0) ||
	    (c->connected && dir_flush(ls, &c->up, now) != 0) || dir_flush(ls, &c->down, now) != 0) {
		log_info("connection reset after an error: %s", strerror(errno));
		c->dead = 1;
	}
}

/* Set each socket's epoll interest from the state of both directions. */
static void
conn_interest(struct linksim *ls, struct conn *c)
{
	uint32_t cev = 0, sev = 0;

	if (!c->up.rd_eof && c->up.queued < ls->bound)
		cev |= EPOLLIN;
	if (c->down.blocked)
		cev |= EPOLLOUT;
	if (c->connected && !c->down.rd_eof && c->down.queued < ls->bound)
		sev |= EPOLLIN;
	if (!c->connected || c->up.blocked)
		sev |= EPOLLOUT;
	ep_update(ls, &c->cep, cev);
	ep_update(ls, &c->sep, sev);
}

/* Close a connection; after an error, reset both sides as the link would. */
static void
conn_close(struct linksim *ls, struct conn *c)
{
	struct linger lg = { 1, 0 };

	ep_update(ls, &c->cep, 0);
	ep_update(ls, &c->sep, 0);
	if (c->dead) {
		setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		setsockopt(c->sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	close(c->cfd);
	close(c->sfd);
	dir_free(&c->up);
	dir_free(&c->down);
	free(c);
}

/* Pump every connection, close finished ones, and return the next timer. */
static uint64_t
pump_all(struct linksim *ls)
{
	struct conn **pp = &ls->conns, *c;
	uint64_t now = now_us(), next = ls->deadline_us, t;

	while ((c = *pp) != NULL) {
		conn_pump(ls, c, now);
		if (c->dead || (dir_done(&c->up) && dir_done(&c->down))) {
			*pp = c->next;
			conn_close(ls, c);
			continue;
		}
		conn_interest(ls, c);
		if ((t = dir_next(ls, &c->up, now)) < next && c->connected)
			next = t;
		if ((t = dir_next(ls, &c->down, now)) < next)
			next = t;
		pp = &c->next;
	}
	return next;
}

/* Arm the timer for an absolute monotonic time in microseconds. */
static void
timer_arm(struct linksim *ls, uint64_t at_us)
{
	struct itimerspec its;

	memset(&its, 0, sizeof its);
	if (at_us == 0)
		at_us = 1;
	its.it_value.tv_sec = (time_t)(at_us / 1000000u);
	its.it_value.tv_nsec = (long)(at_us % 1000000u) * 1000;
	if (timerfd_settime(ls->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		fatal("timerfd_settime: %s", strerror(errno));
}

/* A socket can take more data (or failed): let its writer try again. */
static void
endpoint_event(struct endpoint *e, uint32_t events)
{
	struct conn *c = e->conn;

	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
		return;
	if (e->fd == c->cfd)
		c->down.blocked = 0;
	else
		c->up.blocked = 0;
}

/* Serve until the deadline. */
static void
run(struct linksim *ls)
{
	struct epoll_event evs[64];
	struct endpoint lep = { NULL, ls->lfd, 0 }, tep = { NULL, ls->tfd, 0 };
	uint64_t expirations;
	int n, i;

	ep_update(ls, &lep, EPOLLIN);
	ep_update(ls, &tep, EPOLLIN);
	while (now_us() < ls->deadline_us) {
		timer_arm(ls, pump_all(ls));
		if ((n = epoll_wait(ls->ep, evs, 64, -1)) < 0 && errno != EINTR)
			fatal("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lep)
				accept_all(ls);
			else if (evs[i].data.ptr == &tep &&
			    read(ls->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
				fatal("timerfd read: %s", strerror(errno));
			else if (evs[i].data.ptr != &tep)
				endpoint_event(evs[i].data.ptr, evs[i].events);
		}
	}
	log_info("time limit reached, exiting");
}

int
main(int argc, char **argv)
{
	struct linksim ls;
	double rtt = -1, mbit = -1, max_s = 3600;
	const char *target = NULL;
	int ch;

	log_init("linksim", 0, 0);
	memset(&ls, 0, sizeof ls);
	ls.listen_port = -1;
	while ((ch = getopt(argc, argv, "l:t:r:b:T:d")) != -1) {
		switch (ch) {
		case 'l': ls.listen_port = (int)parse_num(optarg, "listen port"); break;
		case 't': target = optarg; break;
		case 'r': rtt = parse_num(optarg, "round-trip time"); break;
		case 'b': mbit = parse_num(optarg, "rate in Mbit/s"); break;
		case 'T': max_s = parse_num(optarg, "time limit"); break;
		case 'd': log_init("linksim", 0, 1); break;
		default: usage();
		}
	}
	if (optind != argc || ls.listen_port < 0 || ls.listen_port > 65535 || target == NULL ||
	    rtt < 0 || mbit < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	parse_target(&ls, target);
	ls.delay_us = (uint64_t)(rtt * 500.0);
	ls.rate = mbit * 1e6 / 8;
	ls.burst = ls.rate * 0.010 > 65536 ? ls.rate * 0.010 : 65536;
	ls.bound = (size_t)(ls.rate * (double)ls.delay_us / 1e6 + ls.burst);
	if (ls.rate == 0 || ls.bound > 64u << 20)
		ls.bound = 64u << 20;
	if (ls.bound < 256u << 10)
		ls.bound = 256u << 10;
	ls.deadline_us = now_us() + (uint64_t)(max_s * 1e6);
	if ((ls.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (ls.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		fatal("epoll/timerfd: %s", strerror(errno));
	listen_setup(&ls);
	log_info("forwarding 127.0.0.1:%d to %s: round trip %g ms, %g Mbit/s each way, for %g s at most",
	    ls.listen_port, target, rtt, mbit, max_s);
	run(&ls);
	return 0;
}
