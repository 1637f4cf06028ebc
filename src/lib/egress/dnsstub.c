/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DNS stub (see dnsstub.h). One epoll set: the UDP socket, the TCP listener and its
 * connections, a timer (TCP clocks, lookups in flight) and the resolver's fd, readable when
 * a lookup ends. Nothing here blocks: a slow lookup delays only its own answer. Bounded: 64
 * lookups in flight (more get SERVFAIL), 16 TCP clients, 4096 remembered (address, name)
 * pairs.
 */
#include "egress/dnsstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "basic/evloop.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "egress/dns.h"
#include "egress/egress.h"
#include "egress/resolver.h"
#include "model/capability.h"

#define MAX_LOOKUPS 64
#define MAX_TCP     16
#define MAX_MEMORY  4096
#define TCP_IDLE_MS 10000
#define ANSWER_TTL  60
#define MAX_ADDRS   16

typedef struct Tcp Tcp;
struct Tcp {
	Tcp *next;
	int fd;
	uint8_t buf[2 + 4096];
	size_t len;
	uint64_t last_ms;
};

/* Where an answer goes: a UDP peer, or a TCP client (by fd, checked against the live list
 * when the answer is ready: the client may be gone). */
typedef struct Lookup Lookup;
struct Lookup {
	Lookup *next; /* the stub's lookups in flight */
	DnsStub *s;
	DnsQuery q;
	EgressDecision name;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int tcp_fd;
};

typedef struct Memory {
	int family;
	uint8_t addr[16];
	char name[DNS_NAME_MAX + 1];
} Memory;

typedef enum Source {
	SRC_UDP = 1,
	SRC_TCP_LISTEN,
	SRC_TIMER,
	SRC_WAKE
} Source;

struct DnsStub {
	EvLoop loop;
	int udp, tcp;
	Resolver *resolver;
	const ob_capset *caps;
	const ob_context *ctx;
	DnsReport rep;
	Tcp *clients;
	unsigned n_clients;
	Lookup *lookups;
	unsigned n_lookups;
	Memory *memory;
	size_t n_memory, next_slot;
	uint64_t answered, refused;
	char last_refused[DNS_NAME_MAX + 1];
	uint64_t last_refused_ms;
};

/* epoll data: small integers name the fixed sources, anything else is a Tcp. */
static void watch(DnsStub *s, int fd, uint64_t tag)
{
	(void)evloop_add(&s->loop, fd, EPOLLIN, (epoll_data_t){.u64 = tag});
}

static void tcp_close(DnsStub *s, Tcp *t)
{
	for (Tcp **pp = &s->clients; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	(void)close(t->fd);
	free(t);
	s->n_clients--;
}

static Tcp *tcp_find(const DnsStub *s, int fd)
{
	for (Tcp *t = s->clients; t; t = t->next)
		if (t->fd == fd)
			return t;
	return NULL;
}

static void send_reply(DnsStub *s, const Lookup *l, const uint8_t *msg, size_t len)
{
	if (l->tcp_fd < 0) {
		(void)!sendto(s->udp, msg, len, MSG_DONTWAIT, (const struct sockaddr *)&l->peer,
		              l->peer_len);
		return;
	}
	Tcp *t = tcp_find(s, l->tcp_fd);
	uint8_t framed[2 + DNS_REPLY_MAX];
	if (!t)
		return;
	framed[0] = (uint8_t)(len >> 8);
	framed[1] = (uint8_t)len;
	memcpy(framed + 2, msg, len);
	/* 514 bytes into an idle local socket's send buffer: does not wait */
	if (send(t->fd, framed, len + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)(len + 2))
		tcp_close(s, t);
}

/* RCODE REFUSED stands for a name no grant covers: counted as refused, answered NXDOMAIN —
 * a resolver then gives up at once, where REFUSED would come back to the program as a
 * temporary failure that clients retry. */
static void answer(DnsStub *s, const Lookup *l, int rcode, const void *addrs, size_t n)
{
	uint8_t msg[DNS_REPLY_MAX];
	size_t len = dns_build_reply(&l->q, rcode == DNS_RCODE_REFUSED ? DNS_RCODE_NXDOMAIN : rcode,
	                             addrs, n, ANSWER_TTL, msg);
	send_reply(s, l, msg, len);
	if (rcode == DNS_RCODE_REFUSED)
		s->refused++;
	else
		s->answered++;
}

/* An ungranted "localhost" is answered with the sandbox's own loopback, unrecorded: a routine
 * lookup (getaddrinfo's, a library's probe). Nothing is remembered for it, so a connect to
 * the answer is judged by its address alone (the host's loopback needs a grant naming it). */
static bool answer_own_localhost(DnsStub *s, Lookup *l)
{
	static const uint8_t v4[4] = {127, 0, 0, 1}, v6[16] = {[15] = 1};

	if (!streq(l->q.name, "localhost"))
		return false;
	bool a = l->q.qtype == DNS_TYPE_A, aaaa = l->q.qtype == DNS_TYPE_AAAA;
	answer(s, l, DNS_RCODE_OK, a ? (const void *)v4 : v6, a || aaaa ? 1 : 0);
	free(l);
	return true;
}

/* A resolver asks for A and AAAA, and retries: one event per name and second is enough. */
static void report_refusal(DnsStub *s, const char *name, const char *why)
{
	uint64_t now = now_ms();
	if (streq(name, s->last_refused) && now - s->last_refused_ms < 1000)
		return;
	(void)snprintf(s->last_refused, sizeof(s->last_refused), "%s", name);
	s->last_refused_ms = now;
	if (s->rep.deny)
		s->rep.deny(s->rep.userdata, name, why);
}

static void remember(DnsStub *s, int family, const void *addr, const char *name)
{
	size_t alen = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < s->n_memory; i++)
		if (s->memory[i].family == family && memcmp(s->memory[i].addr, addr, alen) == 0 &&
		    streq(s->memory[i].name, name))
			return;
	size_t slot = s->n_memory < MAX_MEMORY ? s->n_memory++ : s->next_slot++ % MAX_MEMORY;
	Memory *m = &s->memory[slot];
	*m = (Memory){.family = family};
	memcpy(m->addr, addr, alen);
	(void)snprintf(m->name, sizeof(m->name), "%s", name);
}

/* The resolved addresses the grants let the program reach, into the answer; the others
 * (a wildcard's name pointing at a private or metadata address) are left out. */
static void lookup_done(DnsStub *s, Lookup *l, int e, const struct addrinfo *res)
{
	uint8_t addrs[MAX_ADDRS][16];
	size_t n = 0, left_out = 0;
	unsigned port = l->name.grant && l->name.grant->host.port ? l->name.grant->host.port : 1;

	if (e == EAI_NONAME) {
		answer(s, l, DNS_RCODE_NXDOMAIN, NULL, 0);
		return;
	}
	if (e != 0) {
		/* no address of this family, or the host's resolver failed */
		answer(s, l,
		       e == EAI_NODATA || e == EAI_ADDRFAMILY ? DNS_RCODE_OK : DNS_RCODE_SERVFAIL,
		       NULL, 0);
		return;
	}
	for (const struct addrinfo *ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
		EgressDecision d;
		if (!egress_check_address(s->caps, s->ctx, &l->name, ai->ai_addr, port, &d)) {
			left_out++;
			continue;
		}
		const void *a =
		    ai->ai_family == AF_INET
		        ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
		        : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		size_t alen = ai->ai_family == AF_INET ? 4 : 16;
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup |= memcmp(addrs[i], a, alen) == 0;
		if (dup)
			continue;
		memcpy(addrs[n++], a, alen);
		remember(s, ai->ai_family, a, l->q.name);
	}
	if (n == 0 && left_out) {
		report_refusal(s, l->q.name,
		               "resolves only to addresses a grant must name explicitly (private, "
		               "loopback, link-local)");
		answer(s, l, DNS_RCODE_REFUSED, NULL, 0);
		return;
	}
	answer(s, l, DNS_RCODE_OK, addrs, n);
}

/* The lookup for L ended (from resolver_dispatch): answered, and L freed. */
static void lookup_resolved(void *userdata, int error, struct addrinfo *ai)
{
	Lookup *l = userdata;
	DnsStub *s = l->s;

	for (Lookup **pp = &s->lookups; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	s->n_lookups--;
	lookup_done(s, l, error, ai);
	if (ai)
		freeaddrinfo(ai);
	free(l);
}

static void start_lookup(DnsStub *s, Lookup *l)
{
	const struct addrinfo hints = {
	    .ai_family = l->q.qtype == DNS_TYPE_A ? AF_INET : AF_INET6,
	    .ai_socktype = SOCK_STREAM,
	};
	l->s = s;
	if (s->n_lookups >= MAX_LOOKUPS ||
	    resolver_start(s->resolver, l->q.name, &hints, lookup_resolved, l, NULL) < 0) {
		answer(s, l, DNS_RCODE_SERVFAIL, NULL, 0);
		free(l);
		return;
	}
	l->next = s->lookups;
	s->lookups = l;
	s->n_lookups++;
	/* the timer polls lookups in flight, in case a wake-up is lost */
	evloop_arm(&s->loop, /* first_us= */ 20000, /* every_us= */ 20000);
}

/* One query from a UDP PEER or the TCP client TCP_FD. */
static void handle_query(DnsStub *s, const uint8_t *msg, size_t len,
                         const struct sockaddr_storage *peer, socklen_t peer_len, int tcp_fd)
{
	Lookup *l = calloc(1, sizeof(*l));
	if (!l)
		return;
	l->tcp_fd = tcp_fd;
	if (peer)
		memcpy(&l->peer, peer, peer_len);
	l->peer_len = peer_len;
	int r = dns_parse_query(msg, len, &l->q);
	if (r == -EBADMSG) {
		free(l); /* not even a header: nothing to answer */
		return;
	}
	if (r < 0 || l->q.qclass != DNS_CLASS_IN) {
		answer(s, l, r < 0 ? DNS_RCODE_FORMERR : DNS_RCODE_NOTIMP, NULL, 0);
		free(l);
		return;
	}
	if (egress_check_name(s->caps, s->ctx, l->q.name, &l->name) < 0 || !l->name.allow) {
		if (answer_own_localhost(s, l))
			return;
		report_refusal(s, l->q.name, l->name.why);
		answer(s, l, DNS_RCODE_REFUSED, NULL, 0);
		free(l);
		return;
	}
	if (l->q.qtype != DNS_TYPE_A && l->q.qtype != DNS_TYPE_AAAA) {
		answer(s, l, DNS_RCODE_OK, NULL, 0); /* a granted name, no such records here */
		free(l);
		return;
	}
	start_lookup(s, l);
}

static void on_udp(DnsStub *s)
{
	uint8_t msg[4096];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(s->udp, msg, sizeof(msg), MSG_DONTWAIT,
		                     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return;
		handle_query(s, msg, (size_t)n, &peer, plen, -1);
	}
}

/* At most 64 a call (level-triggered: the rest next turn), like on_udp. */
static void on_accept(DnsStub *s)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(s->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		Tcp *t = s->n_clients < MAX_TCP ? calloc(1, sizeof(*t)) : NULL;
		if (!t) {
			(void)close(fd);
			continue;
		}
		*t = (Tcp){.next = s->clients, .fd = fd, .last_ms = now_ms()};
		s->clients = t;
		s->n_clients++;
		(void)evloop_add(&s->loop, fd, EPOLLIN | EPOLLRDHUP, (epoll_data_t){.ptr = t});
	}
}

/* TCP: messages framed by a two-byte length (RFC 1035 4.2.2). */
static void on_tcp(DnsStub *s, Tcp *t)
{
	ssize_t n = recv(t->fd, t->buf + t->len, sizeof(t->buf) - t->len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			tcp_close(s, t);
		return;
	}
	t->len += (size_t)n;
	t->last_ms = now_ms();
	while (t->len >= 2) {
		size_t mlen = (size_t)t->buf[0] << 8 | t->buf[1];
		if (mlen + 2 > sizeof(t->buf)) {
			tcp_close(s, t);
			return;
		}
		if (t->len < mlen + 2)
			return;
		int fd = t->fd;
		handle_query(s, t->buf + 2, mlen, NULL, 0, fd);
		t = tcp_find(s, fd); /* an answer that could not be sent closed it */
		if (!t)
			return;
		memmove(t->buf, t->buf + mlen + 2, t->len - mlen - 2);
		t->len -= mlen + 2;
	}
}

static void on_timer(DnsStub *s)
{
	uint64_t now = now_ms();

	evloop_timer_ack(&s->loop);
	resolver_dispatch(s->resolver);
	for (Tcp *t = s->clients, *next; t; t = next) {
		next = t->next;
		if (now - t->last_ms > TCP_IDLE_MS)
			tcp_close(s, t);
	}
	/* fast while lookups run, else once a second for the TCP clocks */
	uint64_t us = s->n_lookups ? 20000 : 1000000;
	evloop_arm(&s->loop, us, us);
}

void dnsstub_dispatch(DnsStub *s)
{
	struct epoll_event ev[32];
	int n = epoll_wait(s->loop.ep, ev, 32, 0);

	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag == SRC_UDP)
			on_udp(s);
		else if (tag == SRC_TCP_LISTEN)
			on_accept(s);
		else if (tag == SRC_TIMER || tag == SRC_WAKE)
			on_timer(s);
	}
	/* TCP clients last, and only those still open (an earlier event may have closed one) */
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		if (tag > SRC_WAKE)
			for (Tcp *t = s->clients; t; t = t->next)
				if (t == ev[i].data.ptr) {
					on_tcp(s, t);
					break;
				}
	}
}

int dnsstub_new(int udp, int tcp, const ob_capset *caps, const ob_context *ctx,
                const DnsReport *report, DnsStub **ret)
{
	DnsStub *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (DnsStub){
	    .loop = EVLOOP_NULL, .udp = udp, .tcp = tcp, .caps = caps, .ctx = ctx, .rep = *report};
	s->memory = calloc(MAX_MEMORY, sizeof(Memory));
	int r = s->memory ? resolver_new(&s->resolver) : -ENOMEM;
	if (r >= 0)
		r = evloop_init(&s->loop, (epoll_data_t){.u64 = SRC_TIMER}, /* tick_us= */ 1000000);
	if (r < 0) {
		dnsstub_free(s);
		return r;
	}
	if (udp >= 0)
		watch(s, udp, SRC_UDP);
	if (tcp >= 0) {
		(void)fcntl(tcp, F_SETFL, O_NONBLOCK);
		watch(s, tcp, SRC_TCP_LISTEN);
	}
	watch(s, resolver_fd(s->resolver), SRC_WAKE);
	*ret = s;
	return 0;
}

void dnsstub_free(DnsStub *s)
{
	if (!s)
		return;
	/* lookups in flight are handed off, not waited for; their callbacks will not run */
	s->resolver = resolver_free(s->resolver);
	while (s->lookups) {
		Lookup *l = s->lookups;
		s->lookups = l->next;
		free(l);
	}
	while (s->clients)
		tcp_close(s, s->clients);
	evloop_done(&s->loop);
	int fds[] = {s->udp, s->tcp};
	close_many(fds, ELEMENTSOF(fds));
	free(s->memory);
	free(s);
}

int dnsstub_fd(const DnsStub *s)
{
	return s ? s->loop.ep : -1;
}

const char *dnsstub_name_for(const DnsStub *s, const struct sockaddr *sa, size_t *iter)
{
	const void *a = NULL;
	int family = sa->sa_family;

	if (!s)
		return NULL;
	if (family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return NULL;
	for (; *iter < s->n_memory; (*iter)++) {
		const Memory *m = &s->memory[*iter];
		if (m->family == family && memcmp(m->addr, a, family == AF_INET ? 4 : 16) == 0)
			return s->memory[(*iter)++].name;
	}
	return NULL;
}

void dnsstub_stats(const DnsStub *s, uint64_t *answered, uint64_t *refused)
{
	*answered = s ? s->answered : 0;
	*refused = s ? s->refused : 0;
}
