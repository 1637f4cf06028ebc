/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transparent connects (see tconnect.h). The program's socket is looked at through a copy
 * of its fd (pidfd_getfd): its type, protocol, file status flags and options. Connections
 * made from the host side are counted while they live: a connection is gone when the kernel
 * no longer knows its (tuple, cookie), asked through sock_diag only when the cap is reached.
 */
#include "egress/tconnect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/evloop.h"
#include "basic/macro.h"
#include "basic/procfs.h"
#include "basic/time-util.h"
#include "egress/dns.h"
#include "egress/egress.h"
#include "egress/proxy.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#define SIN6_LEN_RFC2133 24 /* a sockaddr_in6 without its scope id: the kernel's minimum */
#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

typedef struct Pending Pending;
struct Pending {
	Pending *next;
	uint64_t id;          /* the notification, answered when the connect completes */
	int sock;             /* ours (host side), or a copy of the program's own */
	bool install;         /* ours: installed over target_fd once connected */
	int target_fd;        /* the program's fd number */
	bool cloexec;         /* the program's fd had FD_CLOEXEC */
	uint64_t deadline_ms; /* the program's SO_SNDTIMEO, or 0: the kernel's own timeout */
	int pid;
	char resource[300];
	struct sockaddr_storage to; /* the address connected to */
};

/* A connection made from the host side, known by its tuple and socket cookie. */
typedef struct Live {
	uint64_t cookie;
	int family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* network order */
} Live;

struct Tconnect {
	TconnectConfig cfg;
	TconnectReport rep;
	EvLoop loop;
	int notify_fd, diag;
	Pending *pending;
	unsigned n_pending;
	Live *live;
	size_t n_live;
	bool hit;
	uint64_t connections, refused;
};

static void answer(const Tconnect *t, uint64_t id, int error)
{
	struct seccomp_notif_resp resp = {.id = id, .error = error};
	(void)ioctl(t->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* Puts S at the program's fd number (replacing its socket there), as dup2 would. */
static int install(const Tconnect *t, uint64_t id, int s, int target_fd, bool cloexec)
{
	struct seccomp_notif_addfd add = {.id = id,
	                                  .flags = SECCOMP_ADDFD_FLAG_SETFD,
	                                  .srcfd = (uint32_t)s,
	                                  .newfd = (uint32_t)target_fd,
	                                  .newfd_flags = cloexec ? O_CLOEXEC : 0};
	return ioctl(t->notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0 ? -errno : 0;
}

int tconnect_trap_pidfd(int notify_fd, const struct seccomp_notif *req)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, req->pid, 0);
	/* a thread, not a process (ENOENT since Linux 6.9, EINVAL before): a pidfd for the
	 * thread itself (Linux >= 6.9), else for its process, whose fd table threads share */
	if (pidfd < 0 && (errno == ENOENT || errno == EINVAL))
		pidfd = (int)syscall(SYS_pidfd_open, req->pid, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)
		pidfd = (int)syscall(SYS_pidfd_open, proc_thread_group(req->pid), 0);
	if (pidfd < 0)
		return -errno;
	if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return -ENOENT;
	return TAKE_FD(pidfd);
}

int tconnect_grab_fd(int notify_fd, const struct seccomp_notif *req, int fd)
{
	_cleanup_close_ int pidfd = tconnect_trap_pidfd(notify_fd, req);
	if (pidfd < 0)
		return pidfd;
	int r = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	return r < 0 ? -errno : r;
}

static int grab_fd(const Tconnect *t, const struct seccomp_notif *req, int fd)
{
	return tconnect_grab_fd(t->notify_fd, req, fd);
}

/* FD_CLOEXEC of the program's fd FD: the "flags" line of its fdinfo (octal, O_CLOEXEC is
 * reported there; a copy made with pidfd_getfd always has it). */
static bool fd_cloexec(pid_t pid, int fd)
{
	char path[64], buf[256];

	(void)snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	_cleanup_close_ int f = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *flags = strstr(buf, "flags:");
	return flags && (strtoul(flags + 6, NULL, 8) & O_CLOEXEC);
}

static int sockopt_int(int s, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	return getsockopt(s, level, name, &v, &len) < 0 ? -errno : v;
}

/* The options a client sets before connecting. Buffer sizes are left alone: copying their
 * defaults would turn off the kernel's autotuning. */
static const int copied_options[][2] = {
    {SOL_SOCKET, SO_KEEPALIVE},      {SOL_SOCKET, SO_PRIORITY},    {SOL_SOCKET, SO_RCVTIMEO},
    {SOL_SOCKET, SO_SNDTIMEO},       {SOL_SOCKET, SO_LINGER},      {IPPROTO_TCP, TCP_NODELAY},
    {IPPROTO_TCP, TCP_KEEPIDLE},     {IPPROTO_TCP, TCP_KEEPINTVL}, {IPPROTO_TCP, TCP_KEEPCNT},
    {IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_IP, IP_TOS},         {IPPROTO_IPV6, IPV6_TCLASS},
    {IPPROTO_IPV6, IPV6_V6ONLY},
};

typedef struct OptionValue {
	socklen_t len; /* 0: not known */
	char v[32];
} OptionValue;

static bool option_applies(size_t i, int family)
{
	int level = copied_options[i][0];
	return !(level == IPPROTO_IP && family != AF_INET) &&
	       !(level == IPPROTO_IPV6 && family != AF_INET6);
}

/* Copies the options from the program's socket to ours, setting only those that differ from
 * a fresh socket's (read once per family): most clients set none or one. */
static void copy_options(int from, int to, int family)
{
	static OptionValue defaults[2][ELEMENTSOF(copied_options)];
	static bool known[2];
	int f = family == AF_INET6;

	if (!known[f]) {
		_cleanup_close_ int fresh = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		for (size_t i = 0; fresh >= 0 && i < ELEMENTSOF(copied_options); i++) {
			OptionValue *d = &defaults[f][i];
			d->len = sizeof(d->v);
			if (!option_applies(i, family) ||
			    getsockopt(fresh, copied_options[i][0], copied_options[i][1], d->v,
			               &d->len) < 0)
				d->len = 0;
		}
		known[f] = fresh >= 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(copied_options); i++) {
		char v[32];
		socklen_t len = sizeof(v);
		if (!option_applies(i, family) ||
		    getsockopt(from, copied_options[i][0], copied_options[i][1], v, &len) < 0)
			continue;
		const OptionValue *d = &defaults[f][i];
		if (d->len == len && memcmp(d->v, v, len) == 0)
			continue;
		(void)setsockopt(to, copied_options[i][0], copied_options[i][1], v, len);
	}
}

uint64_t tconnect_netns_of(int s)
{
	struct stat st;
	_cleanup_close_ int ns = ioctl(s, SIOCGSKNS);
	return ns >= 0 && fstat(ns, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Does socket S live in the sandbox's network namespace? (A socket the supervisor may not
 * ask about is not the sandbox's.) */
static bool in_sandbox_netns(const Tconnect *t, int s)
{
	uint64_t ns = tconnect_netns_of(s);
	return ns != 0 && ns == t->cfg.sandbox_netns;
}

/* ---------------------------------------------------------------- the cap */

/* Remembers our socket S, connected (or connecting) to PEER. A connecting socket has its
 * local address already, not yet a peer (getpeername says ENOTCONN): PEER is what we asked. */
static void live_add(Tconnect *t, int s, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage a = {0};
	socklen_t la = sizeof(a), lc = sizeof(uint64_t);
	Live l = {.family = peer->ss_family};

	if (getsockname(s, (struct sockaddr *)&a, &la) < 0 ||
	    getsockopt(s, SOL_SOCKET, SO_COOKIE, &l.cookie, &lc) < 0 || a.ss_family != l.family)
		return; /* cannot be looked up later: not held against the cap */
	/* the port sits at the same place in both families; the address does not */
	size_t at = l.family == AF_INET ? offsetof(struct sockaddr_in, sin_addr)
	                                : offsetof(struct sockaddr_in6, sin6_addr);
	size_t alen = l.family == AF_INET ? 4 : 16;
	memcpy(l.src, (const char *)&a + at, alen);
	memcpy(l.dst, (const char *)peer + at, alen);
	memcpy(&l.sport, (const char *)&a + offsetof(struct sockaddr_in, sin_port), 2);
	memcpy(&l.dport, (const char *)peer + offsetof(struct sockaddr_in, sin_port), 2);
	if (t->n_live < t->cfg.max_connections)
		t->live[t->n_live++] = l;
}

/* Is L's socket still a connection (not closed, not in TIME_WAIT)? An exact sock_diag
 * lookup by tuple and cookie. */
static bool live_open(Tconnect *t, const Live *l)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req = {.nh = {.nlmsg_len = sizeof(req),
	                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	                .nlmsg_flags = NLM_F_REQUEST},
	         .r = {.sdiag_family = (uint8_t)l->family,
	               .sdiag_protocol = IPPROTO_TCP,
	               .idiag_states = ~0u,
	               .id = {.idiag_sport = l->sport,
	                      .idiag_dport = l->dport,
	                      .idiag_cookie = {(uint32_t)l->cookie, (uint32_t)(l->cookie >> 32)}}}};
	char buf[1024];

	memcpy(req.r.id.idiag_src, l->src, l->family == AF_INET ? 4 : 16);
	memcpy(req.r.id.idiag_dst, l->dst, l->family == AF_INET ? 4 : 16);
	if (t->diag < 0)
		t->diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (t->diag < 0 || send(t->diag, &req, sizeof(req), 0) < 0)
		return true; /* cannot tell: counted */
	ssize_t n = recv(t->diag, buf, sizeof(buf), 0);
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	if (n < (ssize_t)sizeof(*nh) || nh->nlmsg_type == NLMSG_ERROR)
		return n < (ssize_t)sizeof(*nh); /* an error answer: no such socket */
	const struct inet_diag_msg *m = NLMSG_DATA(nh);
	return m->idiag_state != TCP_TIME_WAIT && m->idiag_state != TCP_CLOSE;
}

/* Room for one more connection? At the cap, forget those that ended, then decide. */
static bool under_cap(Tconnect *t)
{
	if (t->n_live + t->n_pending < t->cfg.max_connections)
		return true;
	size_t k = 0;
	for (size_t i = 0; i < t->n_live; i++)
		if (live_open(t, &t->live[i]))
			t->live[k++] = t->live[i];
	t->n_live = k;
	if (t->n_live + t->n_pending < t->cfg.max_connections)
		return true;
	if (!t->hit && t->rep.limit)
		t->rep.limit(t->rep.userdata, OB_LIMIT_CONNECTIONS);
	t->hit = true;
	return false;
}

/* ---------------------------------------------------------------- decisions */

/* May the program reach CHECK (an address, v4-mapped ones as IPv4) at PORT? By a grant for
 * the address (or `*`), or by a granted name the DNS stub resolved to it. NAME gets the name
 * used (or ""); D->why the reason. */
static bool decide(const Tconnect *t, const struct sockaddr *check, unsigned port,
                   EgressDecision *d, char *name, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "";
	EgressDecision lit, nd;
	const char *n, *first = NULL;
	size_t it = 0;

	name[0] = '\0';
	(void)inet_ntop(check->sa_family,
	                check->sa_family == AF_INET
	                    ? (const void *)&((const struct sockaddr_in *)check)->sin_addr
	                    : (const void *)&((const struct sockaddr_in6 *)check)->sin6_addr,
	                ip, sizeof(ip));
	bool by_ip = egress_check_target(t->cfg.caps, t->cfg.ctx, ip, port, &lit) == 0 && lit.allow;
	if (by_ip && egress_check_address(t->cfg.caps, t->cfg.ctx, &lit, check, port, d))
		return true;
	EgressDecision refusal = by_ip ? *d : lit; /* why the address itself is refused */
	while ((n = dnsstub_name_for(t->cfg.dns, check, &it))) {
		bool named =
		    egress_check_target(t->cfg.caps, t->cfg.ctx, n, port, &nd) == 0 && nd.allow;
		if (named && egress_check_address(t->cfg.caps, t->cfg.ctx, &nd, check, port, d)) {
			(void)snprintf(name, size, "%s", n);
			return true;
		}
		if (named)
			refusal = *d; /* a granted name, but not to this kind of address */
		first = first ? first : n;
	}
	*d = refusal;
	if (first) {
		char why[sizeof(d->why)];
		(void)snprintf(why, sizeof(why),
		               "%.100s (nor a grant for %.40s, which resolved to it)", d->why,
		               first);
		memcpy(d->why, why, sizeof(why));
	}
	return false;
}

static void deny_op(Tconnect *t, const char *op, const struct sockaddr *sa, const char *why,
                    int pid)
{
	char res[INET6_ADDRSTRLEN + 16];
	egress_format_address(sa, res, sizeof(res));
	t->refused++;
	if (t->rep.deny)
		t->rep.deny(t->rep.userdata, op, res, why, proc_inner_pid(pid));
}

static void deny(Tconnect *t, const struct sockaddr *sa, const char *why, int pid)
{
	deny_op(t, "connect", sa, why, pid);
}

/* ---------------------------------------------------------------- host sockets */

/* A socket of the host's network namespace in the program's hands: one installed by
 * connect_out (the only way one gets there). Told by the socket itself (SIOCGSKNS on our
 * copy), never by what the program's memory says; a socket whose namespace cannot be told
 * counts as the host's. Unix sockets are not the network's. */
static bool is_host_socket(const Tconnect *t, int s, int domain)
{
	return domain != AF_UNIX && !in_sandbox_netns(t, s);
}

/* Refuses OP on host socket S and records it: resource the socket's address (its peer while
 * it has one, else its own); ASKED (or NULL) the address the call named. */
static int refuse_host_socket(Tconnect *t, int s, const char *op,
                              const struct sockaddr_storage *asked, int error, int pid)
{
	struct sockaddr_storage a = {0};
	socklen_t len = sizeof(a);
	char why[160], to[INET6_ADDRSTRLEN + 32] = "";

	if (getpeername(s, (struct sockaddr *)&a, &len) < 0) {
		len = sizeof(a);
		if (getsockname(s, (struct sockaddr *)&a, &len) < 0)
			a.ss_family = AF_UNSPEC;
	}
	if (asked && (asked->ss_family == AF_INET || asked->ss_family == AF_INET6)) {
		memcpy(to, " to ", 5);
		egress_format_address((const struct sockaddr *)asked, to + 4, sizeof(to) - 4);
	} else if (asked && asked->ss_family == AF_UNSPEC) {
		(void)snprintf(to, sizeof(to), " (AF_UNSPEC: a disconnect)");
	}
	(void)snprintf(why, sizeof(why),
	               "a socket of the host's network (handed in by the transparent path) stays "
	               "what it was granted for: %s%s refused",
	               op, to);
	deny_op(t, op, (const struct sockaddr *)&a, why, pid);
	return error;
}

/* connect() on a host socket: while it is connected or connecting, what the kernel would
 * answer (nothing changes); otherwise — a disconnect (AF_UNSPEC), a connection that ended,
 * another address — refused: a host socket that lets go of its connection could be bound
 * or listened on in the host's network. */
static int host_socket_connect(Tconnect *t, const struct seccomp_notif *req, int s,
                               const struct sockaddr_storage *sa)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);

	if (sa->ss_family == AF_INET || sa->ss_family == AF_INET6) {
		if (getpeername(s, (struct sockaddr *)&a, &len) == 0)
			return -EISCONN;
		/* still connecting: no event at all (SO_ERROR is left for the program) */
		struct pollfd p = {.fd = s, .events = POLLOUT};
		if (poll(&p, 1, 0) == 0)
			return -EALREADY;
	}
	return refuse_host_socket(t, s, "connect", sa, -EACCES, (int)req->pid);
}

static void report_made(Tconnect *t, const char *name, const struct sockaddr *sa, int pid)
{
	char addr[INET6_ADDRSTRLEN + 16], res[320];

	t->connections++;
	if (!t->rep.allow)
		return;
	egress_format_address(sa, addr, sizeof(addr));
	if (name[0])
		(void)snprintf(res, sizeof(res), "%s:%u", name,
		               ntohs(((const struct sockaddr_in *)sa)->sin_port));
	else
		(void)snprintf(res, sizeof(res), "%s", addr);
	t->rep.allow(t->rep.userdata, res, addr, proc_inner_pid(pid));
}

/* ---------------------------------------------------------------- connecting */

static void pend(Tconnect *t, const Pending *tmpl)
{
	Pending *p = malloc(sizeof(*p));
	if (!p) {
		answer(t, tmpl->id, -ENOMEM);
		(void)close(tmpl->sock);
		return;
	}
	*p = *tmpl;
	p->next = t->pending;
	t->pending = p;
	t->n_pending++;
	(void)evloop_add(&t->loop, p->sock, EPOLLOUT, (epoll_data_t){.ptr = p});
	evloop_arm(&t->loop, /* first_us= */ 100000, /* every_us= */ 100000);
}

static uint64_t send_timeout_ms(int s)
{
	struct timeval tv = {0};
	socklen_t len = sizeof(tv);
	if (getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0)
		return 0;
	uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	return ms ? now_ms() + ms : 0;
}

/* A connect in progress on S, if it has ended already: 0 or its error; else -EINPROGRESS. */
static int settled(int s)
{
	struct pollfd p = {.fd = s, .events = POLLOUT};
	if (poll(&p, 1, 0) <= 0)
		return -EINPROGRESS;
	return -sockopt_int(s, SOL_SOCKET, SO_ERROR);
}

/* The sandbox's own stub or proxy: connect the program's socket object itself, with our
 * copy of the address, without blocking (the file's O_NONBLOCK is set for the call). */
static void connect_own(Tconnect *t, const struct seccomp_notif *req, int sock,
                        const struct sockaddr_storage *sa, size_t len)
{
	int flags = fcntl(sock, F_GETFL);
	bool nonblock = flags >= 0 && (flags & O_NONBLOCK);

	if (!nonblock)
		(void)fcntl(sock, F_SETFL, flags | O_NONBLOCK);
	int r = connect(sock, (const struct sockaddr *)sa, (socklen_t)len) < 0 ? -errno : 0;
	if (!nonblock)
		(void)fcntl(sock, F_SETFL, flags);
	if (r == -EINPROGRESS && !nonblock)
		r = settled(sock);
	if (r != -EINPROGRESS || nonblock) {
		answer(t, req->id, r);
		(void)close(sock);
		return;
	}
	pend(t, &(Pending){.id = req->id, .sock = sock, .deadline_ms = send_timeout_ms(sock)});
}

/* A granted destination: our socket, connected from the host's namespace, replaces the
 * program's. */
static void connect_out(Tconnect *t, const struct seccomp_notif *req, int theirs,
                        const struct sockaddr_storage *sa, size_t len, const char *name, int pid)
{
	int target = (int)req->data.args[0];
	int flags = fcntl(theirs, F_GETFL);
	bool nonblock = flags >= 0 && (flags & O_NONBLOCK);
	bool cloexec = fd_cloexec(req->pid, target);
	int proto = sockopt_int(theirs, SOL_SOCKET, SO_PROTOCOL);
	int s = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	               proto > 0 ? proto : 0);

	if (s < 0) {
		answer(t, req->id, -errno);
		return;
	}
	copy_options(theirs, s, sa->ss_family);
	int r = connect(s, (const struct sockaddr *)sa, (socklen_t)len) < 0 ? -errno : 0;
	if (r < 0 && r != -EINPROGRESS) {
		(void)close(s);
		answer(t, req->id, r);
		return;
	}
	if (r == -EINPROGRESS && !nonblock)
		r = settled(s); /* loopback: usually done already, no trip through the loop */
	if (r != -EINPROGRESS && r < 0) {
		(void)close(s);
		answer(t, req->id, r);
		return;
	}
	if (nonblock || r == 0) {
		if (!nonblock)
			(void)fcntl(s, F_SETFL, flags);
		int e = install(t, req->id, s, target, cloexec);
		if (e == 0) {
			live_add(t, s, sa);
			report_made(t, name, (const struct sockaddr *)sa, pid);
		}
		answer(t, req->id, e < 0 ? e : r);
		(void)close(s);
		return;
	}
	Pending p = {.id = req->id,
	             .sock = s,
	             .install = true,
	             .target_fd = target,
	             .cloexec = cloexec,
	             .deadline_ms = send_timeout_ms(theirs),
	             .pid = pid,
	             .to = *sa};
	(void)snprintf(p.resource, sizeof(p.resource), "%s", name);
	pend(t, &p);
}

/* The address as decisions see it: a v4-mapped IPv6 address as IPv4. */
static void decision_address(const struct sockaddr_storage *sa, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	*out = *sa;
	if (sa->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		uint16_t port = in6->sin6_port;
		uint32_t a;
		memcpy(&a, &in6->sin6_addr.s6_addr[12], 4);
		*out = (struct sockaddr_storage){.ss_family = AF_INET};
		in->sin_port = port;
		in->sin_addr.s_addr = a;
	}
}

#define DECIDE 2

/* What a connect on SOCK (of DOMAIN) to SA gets before any egress decision: an answer (0
 * or -errno), TCONNECT_CONTINUE (a unix socket's own business), or DECIDE. */
static int screen(Tconnect *t, const struct seccomp_notif *req, int sock, int domain,
                  const struct sockaddr_storage *sa, size_t len)
{
	bool inet = sa->ss_family == AF_INET || sa->ss_family == AF_INET6;

	if (is_host_socket(t, sock, domain))
		return host_socket_connect(t, req, sock, sa);
	/* a disconnect, made here on the socket checked: "continue" would let another thread
	 * put a host socket at this fd number meanwhile */
	if (sa->ss_family == AF_UNSPEC)
		return connect(sock, (const struct sockaddr *)sa, (socklen_t)len) < 0 ? -errno : 0;
	if (domain == AF_UNIX && !inet)
		return TCONNECT_CONTINUE;
	return domain == sa->ss_family ? DECIDE : -EAFNOSUPPORT;
}

int tconnect_handle(Tconnect *t, int notify_fd, const struct seccomp_notif *req,
                    const struct sockaddr_storage *sa, size_t len)
{
	struct sockaddr_storage check;
	char name[DNS_NAME_MAX + 1];
	EgressDecision d;

	t->notify_fd = notify_fd;
	/* too short to hold an address: what the kernel would say, before any decision */
	if ((sa->ss_family == AF_INET && len < sizeof(struct sockaddr_in)) ||
	    (sa->ss_family == AF_INET6 && len < SIN6_LEN_RFC2133)) {
		answer(t, req->id, -EINVAL);
		return 1;
	}
	_cleanup_close_ int sock = grab_fd(t, req, (int)req->data.args[0]);
	if (sock < 0) {
		answer(t, req->id, sock == -ENOENT ? -EINTR : sock);
		return 1;
	}
	int type = sockopt_int(sock, SOL_SOCKET, SO_TYPE);
	int proto = sockopt_int(sock, SOL_SOCKET, SO_PROTOCOL);
	int domain = sockopt_int(sock, SOL_SOCKET, SO_DOMAIN);
	int r = type < 0 ? type : domain < 0 ? domain : screen(t, req, sock, domain, sa, len);
	if (r == TCONNECT_CONTINUE)
		return 0;
	if (r != DECIDE) {
		answer(t, req->id, r);
		return 1;
	}
	decision_address(sa, &check);
	unsigned port = ntohs(((const struct sockaddr_in *)&check)->sin_port);
	bool internal = egress_address_is_loopback((const struct sockaddr *)&check) &&
	                ((port == DNS_PORT && t->cfg.dns) ||
	                 (port == PROXY_PORT && t->cfg.proxy && type == SOCK_STREAM));
	/* the sandbox's own stub and proxy (screen() let through no host socket) */
	if (internal) {
		connect_own(t, req, TAKE_FD(sock), sa, len);
	} else if (type == SOCK_DGRAM) {
		/* refused, not recorded: a UDP connect sends nothing (a datagram is judged and
		 * recorded at sendto), and glibc's getaddrinfo connects one to each answer to
		 * order them (RFC 6724): a record of every lookup would be noise */
		answer(t, req->id, -EACCES);
	} else if (type != SOCK_STREAM || (proto != IPPROTO_TCP && proto != IPPROTO_MPTCP)) {
		/* TCP and MPTCP ignore a send's address (notify-send.c), SCTP does not */
		deny(t, (const struct sockaddr *)&check,
		     type == SOCK_DGRAM ? "UDP only to the sandbox's DNS stub"
		                        : "only TCP stream sockets are connected out",
		     req->pid);
		answer(t, req->id, -EACCES);
	} else if (!decide(t, (const struct sockaddr *)&check, port, &d, name, sizeof(name))) {
		deny(t, (const struct sockaddr *)&check, d.why, req->pid);
		answer(t, req->id, -EACCES);
	} else if (!under_cap(t)) {
		answer(t, req->id, -EAGAIN);
	} else {
		connect_out(t, req, sock, sa, len, name, req->pid);
	}
	return 1;
}

int tconnect_listen(Tconnect *t, int notify_fd, const struct seccomp_notif *req)
{
	t->notify_fd = notify_fd;
	_cleanup_close_ int sock = grab_fd(t, req, (int)req->data.args[0]);
	if (sock < 0)
		return sock == -ENOENT ? -EINTR : sock;
	/* one of ours: it must not serve on the host's network */
	if (is_host_socket(t, sock, sockopt_int(sock, SOL_SOCKET, SO_DOMAIN)))
		return refuse_host_socket(t, sock, "listen", NULL, -EPERM, (int)req->pid);
	return listen(sock, (int)req->data.args[1]) < 0 ? -errno : 0;
}

/* Does process PID have CAP_NET_BIND_SERVICE (in its own user namespace)? */
static bool may_bind_low_ports(pid_t pid)
{
	char caps[64];
	return proc_status_field(pid, "CapEff", caps, sizeof(caps)) &&
	       (strtoull(caps, NULL, 16) & (1ULL << 10 /* CAP_NET_BIND_SERVICE */));
}

int tconnect_bind(Tconnect *t, int notify_fd, const struct seccomp_notif *req,
                  const struct sockaddr_storage *sa, size_t len)
{
	t->notify_fd = notify_fd;
	_cleanup_close_ int sock = grab_fd(t, req, (int)req->data.args[0]);
	if (sock < 0)
		return sock == -ENOENT ? -EINTR : sock;
	int domain = sockopt_int(sock, SOL_SOCKET, SO_DOMAIN);
	if (domain < 0)
		return domain;
	if (domain == AF_UNIX)
		return TCONNECT_CONTINUE; /* a path is bound in the program's own file system */
	/* a host socket whose connection ended has let go of its port: bound, it would hold
	 * one on the host's addresses */
	if (is_host_socket(t, sock, domain))
		return refuse_host_socket(t, sock, "bind", sa, -EPERM, (int)req->pid);
	if (!sa)
		return -EFAULT;
	/* Bound here, on the socket checked, with our copy of the address. The kernel would
	 * check the program's right to a port below 1024 (ip_unprivileged_port_start, 1024 in
	 * the sandbox's namespace), not ours: so do we. */
	unsigned port = sa->ss_family == AF_INET || sa->ss_family == AF_INET6
	                    ? ntohs(((const struct sockaddr_in *)sa)->sin_port)
	                    : 0;
	if (port > 0 && port < 1024 && !may_bind_low_ports(req->pid))
		return -EACCES;
	return bind(sock, (const struct sockaddr *)sa, (socklen_t)len) < 0 ? -errno : 0;
}

/* ---------------------------------------------------------------- the loop */

static void pending_remove(Tconnect *t, Pending *p)
{
	for (Pending **pp = &t->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	(void)epoll_ctl(t->loop.ep, EPOLL_CTL_DEL, p->sock, NULL);
	(void)close(p->sock);
	t->n_pending--;
	free(p);
}

static void complete(Tconnect *t, Pending *p, int err)
{
	if (err == 0 && p->install) {
		int flags = fcntl(p->sock, F_GETFL);
		(void)fcntl(p->sock, F_SETFL, flags & ~O_NONBLOCK); /* the program's was blocking */
		err = install(t, p->id, p->sock, p->target_fd, p->cloexec);
		if (err == 0) {
			live_add(t, p->sock, &p->to);
			report_made(t, p->resource, (const struct sockaddr *)&p->to, p->pid);
		}
	}
	answer(t, p->id, err);
	pending_remove(t, p);
}

void tconnect_dispatch(Tconnect *t)
{
	struct epoll_event ev[32];
	int n = epoll_wait(t->loop.ep, ev, 32, 0);
	uint64_t now = now_ms();

	for (int i = 0; i < n; i++) {
		Pending *p = ev[i].data.ptr;
		if (!p) {
			evloop_timer_ack(&t->loop);
			continue;
		}
		complete(t, p, -sockopt_int(p->sock, SOL_SOCKET, SO_ERROR));
	}
	/* clocks: a connect past the program's send timeout, or whose caller is gone */
	for (Pending *p = t->pending, *next; p; p = next) {
		next = p->next;
		if (ioctl(t->notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &p->id) < 0)
			pending_remove(t, p);
		else if (p->deadline_ms && now >= p->deadline_ms)
			complete(t, p, -ETIMEDOUT);
	}
	if (!t->pending)
		evloop_arm(&t->loop, /* first_us= */ 0, /* every_us= */ 0);
}

int tconnect_new(const TconnectConfig *cfg, const TconnectReport *report, Tconnect **ret)
{
	Tconnect *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (Tconnect){
	    .cfg = *cfg, .rep = *report, .loop = EVLOOP_NULL, .notify_fd = -1, .diag = -1};
	t->live = calloc(MAX(cfg->max_connections, 1u), sizeof(Live));
	/* the timer (data NULL) ticks only while connects are pending */
	int r = t->live ? evloop_init(&t->loop, (epoll_data_t){.ptr = NULL}, /* tick_us= */ 0)
	                : -ENOMEM;
	if (r < 0) {
		tconnect_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void tconnect_free(Tconnect *t)
{
	if (!t)
		return;
	while (t->pending)
		pending_remove(t, t->pending);
	evloop_done(&t->loop);
	if (t->diag >= 0)
		(void)close(t->diag);
	free(t->live);
	free(t);
}

int tconnect_fd(const Tconnect *t)
{
	return t ? t->loop.ep : -1;
}

void tconnect_stats(const Tconnect *t, uint64_t *connections, uint64_t *refused)
{
	*connections = t ? t->connections : 0;
	*refused = t ? t->refused : 0;
}
