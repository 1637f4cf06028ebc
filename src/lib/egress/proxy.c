/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The egress proxy (see proxy.h). One epoll loop, everything non-blocking: accepting,
 * reading the request head (HTTP or SOCKS5), resolving names (resolver.h), the
 * connect out, and the relay in both directions, spliced through a pipe each way (flow.h: a
 * side that cannot take more stops the other being read). Each step is taken as soon as it
 * can be — a request head read right after the accept, a loopback connect that completed
 * within connect(2) relayed at once — rather than after one more trip through epoll. A
 * connection that stays silent, or that does not say where it goes in time, is closed; the
 * number of connections and the bytes per run are capped.
 */
#include "egress/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/evloop.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "egress/egress.h"
#include "egress/flow.h"
#include "egress/resolver.h"

#define HEAD_MAX 8192
/* What one read moves: downloads are what programs mostly do, and a bigger pipe means fewer
 * trips through the loop for them; uploads as the former copy buffer. */
#define DOWN_PIPE ((size_t)1024 * 1024)
#define UP_PIPE   ((size_t)256 * 1024)

typedef enum State {
	ST_HEAD,       /* reading what the client wants */
	ST_RESOLVING,  /* a lookup in flight */
	ST_CONNECTING, /* non-blocking connect in flight */
	ST_RELAY,
} State;

typedef enum Kind {
	K_HTTP_FORWARD,
	K_HTTP_CONNECT,
	K_SOCKS5,
} Kind;

typedef struct Conn Conn;
typedef struct End {
	Conn *c;
	bool upstream;
} End;

struct Conn {
	Proxy *p;
	Conn *prev, *next; /* the live list; a closed one waits in the dead list */
	bool closed;
	int client, up;
	End ends[2];
	State st;
	Kind kind;
	char head[HEAD_MAX];
	size_t head_len;
	char host[256];
	unsigned port;
	EgressDecision name;
	ResolverRequest *lookup; /* while resolving */
	struct addrinfo *addrs;  /* the host's addresses, once known */
	struct addrinfo *ai_next;
	Flow to_up, to_client;
	uint32_t interest[2]; /* what epoll watches for on each side, once relaying */
	bool piped;           /* its flows hold pipes (counted in n_piped) */
	uint64_t last_ms;
};

struct Proxy {
	EvLoop loop;
	int listener;
	Resolver *resolver;
	const ob_capset *caps;
	const ob_context *ctx;
	ProxyLimits lim;
	ProxyReport rep;
	bool hit_conns, hit_bytes; /* each cap reported once */
	Conn *conns;
	Conn *dead; /* closed during a dispatch, freed at its end (events may still name them) */
	PipePool pipes;
	unsigned pipe_budget, n_piped; /* connections that may hold pipes, and that do */
	unsigned n_conns;
	uint64_t connections, bytes_out, bytes_in;
	End listener_end, timer_end, wake_end;
};

static void watch(Proxy *p, int fd, uint32_t events, End *e, bool add)
{
	struct epoll_event ev = {.events = events, .data.ptr = e};
	(void)epoll_ctl(p->loop.ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

static void conn_close(Conn *c)
{
	Proxy *p = c->p;

	/* a client gone mid-lookup: the lookup is handed off, not waited for */
	resolver_cancel(TAKE_PTR(c->lookup));
	if (c->addrs)
		freeaddrinfo(c->addrs);
	if (c->client >= 0)
		(void)close(c->client);
	if (c->up >= 0)
		(void)close(c->up);
	flow_close(&c->to_up, &p->pipes);
	flow_close(&c->to_client, &p->pipes);
	if (c->piped)
		p->n_piped--;
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->closed = true;
	c->next = p->dead;
	p->dead = c;
	p->n_conns--;
}

static void free_dead(Proxy *p)
{
	while (p->dead) {
		Conn *c = p->dead;
		p->dead = c->next;
		free(c);
	}
}

static void report_limit(Proxy *p, bool *reported, ob_limit l)
{
	if (!*reported && p->rep.limit)
		p->rep.limit(p->rep.userdata, l);
	*reported = true;
}

/* The client gets REPLY (an HTTP status line or a SOCKS5 reply) and the connection ends. */
static void refuse(Conn *c, const char *why, int socks_code)
{
	char resp[320];
	size_t n;

	if (c->kind == K_SOCKS5) {
		unsigned char r[10] = {5, (unsigned char)socks_code, 0, 1};
		memcpy(resp, r, sizeof(r));
		n = sizeof(r);
	} else {
		int k = snprintf(resp, sizeof(resp),
		                 "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
		                 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s\n",
		                 strlen(why) + 1, why);
		n = k > 0 ? MIN((size_t)k, sizeof(resp)) : 0;
	}
	(void)!send(c->client, resp, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	conn_close(c);
}

static void deny(Conn *c, const char *why)
{
	char res[300];
	(void)snprintf(res, sizeof(res), "%s:%u", c->host, c->port);
	if (c->p->rep.deny)
		c->p->rep.deny(c->p->rep.userdata, "NETWORK_CONNECT", res, why);
	refuse(c, why, 2 /* SOCKS5: connection not allowed by ruleset */);
}

/* A request head the proxy cannot read is a refusal too, on the record (SPEC §5): its resource
 * the head's first word only (the method, or the first bytes of something else, printable,
 * anything else as '?'): never the URL, which may hold credentials that must not reach the
 * log. */
static void deny_malformed(Conn *c)
{
	static const char why[] =
	    "malformed request (HTTP forward, CONNECT or SOCKS5 CONNECT expected)";
	char res[32] = "request:";
	size_t k = strlen(res);

	for (size_t i = 0; i < c->head_len && k + 1 < sizeof(res); i++) {
		unsigned char b = (unsigned char)c->head[i];
		if (b == ' ' || b == '\r' || b == '\n')
			break;
		res[k++] = b >= 0x20 && b < 0x7f ? (char)b : '?';
	}
	res[k] = '\0';
	if (c->p->rep.deny)
		c->p->rep.deny(c->p->rep.userdata, "NETWORK_CONNECT", res, why);
	refuse(c, why, 7 /* SOCKS5: command not supported */);
}

/* ---------------------------------------------------------------- request heads */

/* "host:port" or "[v6]:port" into C; DEFPORT when there is none. */
static bool split_hostport(Conn *c, const char *s, size_t len, unsigned defport)
{
	const char *colon = NULL, *h = s;
	size_t hl = len;

	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return false;
		h = s + 1;
		hl = (size_t)(close - s - 1);
		colon = close + 1 < s + len && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memrchr(s, ':', len);
		hl = colon ? (size_t)(colon - s) : len;
	}
	if (hl == 0 || hl >= sizeof(c->host))
		return false;
	memcpy(c->host, h, hl);
	c->host[hl] = '\0';
	c->port = defport;
	if (colon) {
		char *end;
		char num[8] = {0};
		size_t nl = (size_t)(s + len - colon - 1);
		if (nl == 0 || nl >= sizeof(num))
			return false;
		memcpy(num, colon + 1, nl);
		unsigned long v = strtoul(num, &end, 10);
		if (*end || v == 0 || v > 65535)
			return false;
		c->port = (unsigned)v;
	}
	return true;
}

/* An HTTP head: "CONNECT host:port HTTP/1.x" or "METHOD http://host[:port]/path HTTP/1.x".
 * 1 parsed, 0 need more, -1 malformed. */
static int parse_http(Conn *c)
{
	char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
	if (!end)
		return c->head_len >= HEAD_MAX ? -1 : 0;
	char *eol = memmem(c->head, c->head_len, "\r\n", 2);
	char *sp1 = memchr(c->head, ' ', (size_t)(eol - c->head));
	char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2)
		return -1;
	const char *target = sp1 + 1;
	size_t tl = (size_t)(sp2 - target);
	if ((size_t)(sp1 - c->head) == 7 && memcmp(c->head, "CONNECT", 7) == 0) {
		c->kind = K_HTTP_CONNECT;
		return split_hostport(c, target, tl, 0) && c->port ? 1 : -1;
	}
	if (tl < 8 || strncasecmp(target, "http://", 7) != 0)
		return -1; /* only absolute http:// URLs: https goes through CONNECT */
	c->kind = K_HTTP_FORWARD;
	const char *auth = target + 7;
	const char *slash = memchr(auth, '/', tl - 7);
	size_t al = slash ? (size_t)(slash - auth) : tl - 7;
	if (memchr(auth, '@', al))
		return -1; /* no credentials in the URL */
	return split_hostport(c, auth, al, 80) ? 1 : -1;
}

/* A SOCKS5 greeting and CONNECT request, as one or more reads. 1 parsed, 0 more, -1 bad. */
static int parse_socks(Conn *c)
{
	const unsigned char *h = (const unsigned char *)c->head;
	size_t n = c->head_len;

	c->kind = K_SOCKS5;
	if (n < 2 || n < 2u + h[1])
		return 0;
	size_t q = 2u + h[1]; /* the request follows the method list */
	bool noauth = memchr(h + 2, 0, h[1]) != NULL;
	if (!noauth)
		return -1;
	if (n < q + 5)
		return 0;
	if (h[q] != 5 || h[q + 1] != 1 /* CONNECT */)
		return -1;
	unsigned atyp = h[q + 3];
	size_t need = atyp == 1 ? 4 : atyp == 4 ? 16 : atyp == 3 ? 1u + h[q + 4] : 0;
	if (!need)
		return -1;
	if (n < q + 4 + need + 2)
		return 0;
	const unsigned char *a = h + q + 4;
	if (atyp == 3) {
		if (h[q + 4] == 0 || memchr(a + 1, 0, h[q + 4]))
			return -1;
		memcpy(c->host, a + 1, h[q + 4]);
		c->host[h[q + 4]] = '\0';
	} else {
		(void)inet_ntop(atyp == 1 ? AF_INET : AF_INET6, a, c->host, sizeof(c->host));
	}
	c->port = (unsigned)(a[need] << 8 | a[need + 1]);
	c->head_len = 0; /* nothing of the head goes upstream */
	/* the method selection reply, before the connect reply */
	(void)!send(c->client, "\x05\x00", 2, MSG_NOSIGNAL | MSG_DONTWAIT);
	return c->port ? 1 : -1;
}

/* ---------------------------------------------------------------- connecting */

static void try_next(Conn *c);
static void relay(Conn *c);

static void report_allowed(Conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char res[300], addr[INET6_ADDRSTRLEN + 8] = "?";

	(void)snprintf(res, sizeof(res), "%s:%u", c->host, c->port);
	if (getpeername(c->up, (struct sockaddr *)&ss, &len) == 0)
		egress_format_address((struct sockaddr *)&ss, addr, sizeof(addr));
	c->p->rep.allow(c->p->rep.userdata, res, addr);
}

/* The client's own bytes that go upstream before what it sends next: for CONNECT what came
 * after its head, for a forward request the head with its target in origin form ("GET
 * /path HTTP/1.1", as servers expect it from a client), rewritten in place (it only gets
 * shorter), the rest of the head and any body as they came. */
static void head_upstream(Conn *c)
{
	if (c->kind == K_HTTP_CONNECT) {
		char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
		size_t used = (size_t)(end + 4 - c->head);
		c->to_up.pre = c->head + used;
		c->to_up.pre_len = c->head_len - used;
		return;
	}
	char *sp1 = memchr(c->head, ' ', c->head_len);
	char *url = sp1 + 1 + 7; /* past "http://" (checked by parse_http) */
	char *sp2 = memchr(url, ' ', c->head_len - (size_t)(url - c->head));
	char *path = memchr(url, '/', (size_t)(sp2 - url));
	char *to = sp1 + 1;
	if (!path) {
		*to++ = '/';
		path = sp2;
	}
	size_t rest = c->head_len - (size_t)(path - c->head);
	memmove(to, path, rest);
	c->to_up.pre = c->head;
	c->to_up.pre_len = (size_t)(to - c->head) + rest;
}

static void connected(Conn *c)
{
	static const char http_ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	static const char socks_ok[10] = {5, 0, 0, 1};
	Proxy *p = c->p;

	c->st = ST_RELAY;
	p->connections++;
	if (p->rep.allow)
		report_allowed(c);
	c->piped = p->n_piped < p->pipe_budget;
	p->n_piped += c->piped;
	if (flow_open(&c->to_up, &p->pipes, c->piped, UP_PIPE) < 0 ||
	    flow_open(&c->to_client, &p->pipes, c->piped, DOWN_PIPE) < 0) {
		conn_close(c);
		return;
	}
	if (c->kind == K_SOCKS5) {
		c->to_client.pre = socks_ok;
		c->to_client.pre_len = sizeof(socks_ok);
	} else {
		if (c->kind == K_HTTP_CONNECT) {
			c->to_client.pre = http_ok;
			c->to_client.pre_len = sizeof(http_ok) - 1;
		}
		head_upstream(c);
	}
	c->interest[0] = c->interest[1] = ~0u; /* unknown: set both */
	relay(c);                              /* the reply goes now, not after a wake-up */
}

/* The connect in flight on C->up ended, well or not. */
static void connect_done(Conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	(void)getsockopt(c->up, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err == 0) {
		connected(c);
		return;
	}
	(void)epoll_ctl(c->p->loop.ep, EPOLL_CTL_DEL, c->up, NULL);
	(void)close(c->up);
	c->up = -1;
	try_next(c);
}

/* Tries the next allowed address; the first that connects wins. */
static void try_next(Conn *c)
{
	for (; c->ai_next; c->ai_next = c->ai_next->ai_next) {
		struct addrinfo *ai = c->ai_next;
		EgressDecision d;
		if (!egress_check_address(c->p->caps, c->p->ctx, &c->name, ai->ai_addr, c->port,
		                          &d)) {
			if (!ai->ai_next) {
				deny(c, d.why);
				return;
			}
			continue;
		}
		((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)c->port);
		c->up = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->up < 0)
			continue;
		int r = connect(c->up, ai->ai_addr, ai->ai_addrlen);
		c->ai_next = ai->ai_next;
		if (r == 0 || errno == EINPROGRESS) {
			c->st = ST_CONNECTING;
			watch(c->p, c->up, EPOLLOUT, &c->ends[1], true);
			/* on loopback the handshake is usually over when connect(2) returns: no
			 * trip through epoll for it */
			struct pollfd pf = {.fd = c->up, .events = POLLOUT};
			if (r == 0 || poll(&pf, 1, 0) > 0)
				connect_done(c);
			return;
		}
		(void)close(c->up);
		c->up = -1;
		if (!c->ai_next)
			break;
	}
	refuse(c, "could not connect", 5 /* connection refused */);
}

/* The lookup of C's host ended (from resolver_dispatch). */
static void resolved(void *userdata, int error, struct addrinfo *ai)
{
	Conn *c = userdata;

	c->lookup = NULL; /* delivered: nothing in flight any more */
	if (error != 0) {
		refuse(c, "name not found", 4 /* host unreachable */);
		return;
	}
	c->addrs = ai;
	c->ai_next = ai;
	try_next(c);
}

static void start_connect(Conn *c)
{
	if (egress_check_target(c->p->caps, c->p->ctx, c->host, c->port, &c->name) < 0 ||
	    !c->name.allow) {
		deny(c, c->name.why);
		return;
	}
	/* An address needs no lookup (getaddrinfo with AI_NUMERICHOST never waits). */
	struct addrinfo num = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(c->host, NULL, &num, &ai) == 0) {
		c->addrs = ai;
		c->ai_next = ai;
		try_next(c);
		return;
	}
	/* the resolver's fd wakes the loop when the lookup ends; the timer is the fallback */
	const struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	if (resolver_start(c->p->resolver, c->host, &hints, resolved, c, &c->lookup) < 0) {
		refuse(c, "name lookup failed", 1);
		return;
	}
	c->st = ST_RESOLVING;
	/* the fallback tick while lookups are in flight (as the DNS stub's): the resolver's fd is
	 * what normally says a lookup ended */
	evloop_arm(&c->p->loop, /* first_us= */ 20000, /* every_us= */ 20000);
}

/* ---------------------------------------------------------------- relay */

/* What may still be read before the run's byte budget is spent, plus one byte (reading past
 * the budget is how it is noticed). */
static size_t room(const void *userdata, size_t want)
{
	const Proxy *p = userdata;
	uint64_t used = p->bytes_in + p->bytes_out;
	return used > p->lim.max_bytes ? 0
	                               : (size_t)MIN((uint64_t)want, p->lim.max_bytes - used + 1);
}

/* Level-triggered interest that matches what each side can do now: read when its flow holds
 * nothing and it has not ended, write when bytes wait for it. */
static void rearm(Conn *c)
{
	const Flow *up = &c->to_up, *down = &c->to_client;
	uint32_t cl = (!up->eof && flow_idle(up) ? EPOLLIN : 0) | (flow_idle(down) ? 0 : EPOLLOUT);
	uint32_t u = (!down->eof && flow_idle(down) ? EPOLLIN : 0) | (flow_idle(up) ? 0 : EPOLLOUT);
	if (cl != c->interest[0])
		watch(c->p, c->client, cl, &c->ends[0], false);
	if (u != c->interest[1])
		watch(c->p, c->up, u, &c->ends[1], false);
	c->interest[0] = cl;
	c->interest[1] = u;
}

static void relay(Conn *c)
{
	Proxy *p = c->p;
	Flow *up = &c->to_up, *down = &c->to_client;

	if (flow_pump(down, c->up, c->client, room, p, &p->bytes_in) < 0 ||
	    flow_pump(up, c->client, c->up, room, p, &p->bytes_out) < 0 ||
	    (up->eof && down->eof && flow_idle(up) && flow_idle(down))) {
		conn_close(c);
		return;
	}
	if (p->bytes_in + p->bytes_out > p->lim.max_bytes) {
		report_limit(p, &p->hit_bytes, OB_LIMIT_EGRESS);
		conn_close(c);
		return;
	}
	c->last_ms = now_ms();
	rearm(c);
}

static void on_head(Conn *c)
{
	ssize_t n = recv(c->client, c->head + c->head_len, HEAD_MAX - c->head_len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			conn_close(c);
		return;
	}
	c->head_len += (size_t)n;
	c->last_ms = now_ms();
	int r = (unsigned char)c->head[0] == 5 ? parse_socks(c) : parse_http(c);
	if (r < 0)
		deny_malformed(c);
	else if (r > 0) {
		watch(c->p, c->client, EPOLLRDHUP, &c->ends[0], false); /* quiet until connected */
		start_connect(c);
	}
}

/* At most ACCEPT_PER_TURN connections a call: the listener is level-triggered, the rest wait
 * for the next turn, and a program connecting in a loop cannot hold the supervisor here. */
#define ACCEPT_PER_TURN 64

static void on_accept(Proxy *p)
{
	for (int k = 0; k < ACCEPT_PER_TURN; k++) {
		int fd = accept4(p->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (p->n_conns >= p->lim.max_connections ||
		    p->bytes_in + p->bytes_out > p->lim.max_bytes) {
			(void)close(fd); /* over a cap: not even a reply */
			report_limit(
			    p, p->n_conns >= p->lim.max_connections ? &p->hit_conns : &p->hit_bytes,
			    p->n_conns >= p->lim.max_connections ? OB_LIMIT_CONNECTIONS
			                                         : OB_LIMIT_EGRESS);
			continue;
		}
		Conn *c = calloc(1, sizeof(*c));
		if (!c) {
			(void)close(fd);
			return;
		}
		*c = (Conn){.p = p,
		            .client = fd,
		            .up = -1,
		            .to_up = FLOW_NULL,
		            .to_client = FLOW_NULL,
		            .st = ST_HEAD,
		            .last_ms = now_ms()};
		c->ends[0] = (End){.c = c};
		c->ends[1] = (End){.c = c, .upstream = true};
		c->next = p->conns;
		if (p->conns)
			p->conns->prev = c;
		p->conns = c;
		p->n_conns++;
		watch(p, fd, EPOLLIN | EPOLLRDHUP, &c->ends[0], true);
		on_head(c); /* a client that connected and sent its head at once is served now */
	}
}

/* The clocks of every connection, then lookups that ended (whose connections' clocks wait
 * for the next tick). */
static void on_timer(Proxy *p)
{
	uint64_t now = now_ms();

	evloop_timer_ack(&p->loop);
	for (Conn *c = p->conns, *next; c; c = next) {
		next = c->next;
		if (c->st == ST_RESOLVING)
			continue;
		uint64_t limit = c->st == ST_HEAD ? p->lim.head_ms : p->lim.idle_ms;
		if (now - c->last_ms > limit)
			conn_close(c);
	}
	resolver_dispatch(p->resolver);
	/* a slow fallback tick while lookups run, else once a second for the clocks */
	uint64_t us = resolver_pending(p->resolver) ? 20000 : 1000000;
	evloop_arm(&p->loop, us, us);
}

void proxy_dispatch(Proxy *p)
{
	struct epoll_event ev[64];
	int n = epoll_wait(p->loop.ep, ev, 64, 0);

	for (int i = 0; i < n; i++) {
		End *e = ev[i].data.ptr;
		if (e == &p->listener_end) {
			on_accept(p);
			continue;
		}
		if (e == &p->timer_end) {
			on_timer(p);
			continue;
		}
		if (e == &p->wake_end) { /* a lookup ended: only the resolver has work */
			resolver_dispatch(p->resolver);
			continue;
		}
		/* Closed by an earlier event of this batch: its memory waits for the batch's end.
		 */
		Conn *c = e->c;
		if (c->closed)
			continue;
		if (c->st == ST_HEAD)
			on_head(c);
		else if (c->st == ST_CONNECTING && e->upstream)
			connect_done(c);
		else if (c->st == ST_RELAY)
			relay(c);
		else if (ev[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_close(c); /* the client left while we looked up or connected */
	}
	free_dead(p);
}

/* Each connection holds two sockets and, to splice, two pipes: six fds. The soft limit is
 * raised for that as far as the hard one allows (a login's is often 1024); connections past
 * what is left relay through buffers instead, so that pipes never take the fd a later
 * connection's socket needs. How many may hold pipes. */
static unsigned pipe_budget(unsigned max_conns)
{
	const rlim_t base = 256 + 2 * FLOW_SPARE_PIPES; /* the rest of the supervisor, spares */
	rlim_t sockets = 2 * (rlim_t)max_conns;
	rlim_t cur = nofile_raise(base + sockets + 4 * (rlim_t)max_conns);

	return cur > base + sockets ? (unsigned)MIN((cur - base - sockets) / 4, (rlim_t)max_conns)
	                            : 0;
}

int proxy_new(int listener, const ob_capset *caps, const ob_context *ctx, const ProxyLimits *limits,
              const ProxyReport *report, Proxy **ret)
{
	Proxy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (Proxy){.loop = EVLOOP_NULL,
	             .listener = listener,
	             .caps = caps,
	             .ctx = ctx,
	             .lim = *limits,
	             .rep = *report,
	             .pipe_budget = pipe_budget(limits->max_connections)};
	int r = resolver_new(&p->resolver);
	if (r >= 0)
		r = evloop_init(&p->loop, (epoll_data_t){.ptr = &p->timer_end},
		                /* tick_us= */ 1000000);
	if (r < 0) {
		proxy_free(p);
		return r;
	}
	(void)fcntl(listener, F_SETFL, O_NONBLOCK);
	watch(p, listener, EPOLLIN, &p->listener_end, true);
	watch(p, resolver_fd(p->resolver), EPOLLIN, &p->wake_end, true);
	*ret = p;
	return 0;
}

void proxy_free(Proxy *p)
{
	if (!p)
		return;
	while (p->conns)
		conn_close(p->conns);
	free_dead(p);
	pipe_pool_done(&p->pipes);
	evloop_done(&p->loop);
	resolver_free(p->resolver); /* after the loop: its fd was in the epoll set */
	if (p->listener >= 0)
		(void)close(p->listener);
	free(p);
}

bool proxy_backlog_full(const Proxy *p)
{
	struct tcp_info ti = {0};
	socklen_t len = sizeof(ti);

	/* a listener's tcpi_unacked is its accept queue, tcpi_sacked the queue's size; the
	 * kernel drops a SYN once the queue holds more than that (sk_acceptq_is_full) */
	return !p || getsockopt(p->listener, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	       ti.tcpi_unacked > ti.tcpi_sacked;
}

int proxy_fd(const Proxy *p)
{
	return p ? p->loop.ep : -1;
}

void proxy_stats(const Proxy *p, uint64_t *connections, uint64_t *bytes_out, uint64_t *bytes_in)
{
	*connections = p ? p->connections : 0;
	*bytes_out = p ? p->bytes_out : 0;
	*bytes_in = p ? p->bytes_in : 0;
}
