/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * connect(2) observed (docs/design/runner.md "Observed denials", docs/design/egress.md): the
 * transparent path's connects (tconnect.c), unix socket paths by grant (notify-unix.c), the
 * egress proxy's port connected here on a copy of the program's socket, other TCP ports
 * Landlock refuses answered and recorded, and connects that reach out of the sandbox's
 * network namespace or to the host's loopback recorded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/procfs.h"
#include "egress/egress.h"
#include "egress/proxy.h"
#include "runner/notify.h"

/* Is something listening on loopback PORT in the network namespace whose /proc/net file
 * (tcp or tcp6) is FILE? Bound to loopback or to any address. */
static bool tcp_listening(const char *file, unsigned port, bool v6)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[512], local[64];
	unsigned p, state;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &p,
		           &state) == 3 &&
		    p == port && state == 0x0A /* TCP_LISTEN */ &&
		    (v6 ? strspn(local, "0") == 32 ||
		              streq(local, "00000000000000000000000001000000")
		        : streq(local, "00000000") || streq(local + 6, "7F")))
			return true;
	return false;
}

/* Is an abstract unix socket NAME (as /proc/net/unix prints it: '@' then the name) bound in
 * the network namespace of FILE? */
static bool abstract_bound(const char *file, const char *name)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '@');
		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (streq(path, name))
			return true;
	}
	return false;
}

/* A connect that the sandbox's empty network namespace refuses although the host would
 * answer: a listener on the host's loopback, an abstract socket bound on the host. Into RES;
 * false when nothing is refused. */
static bool unix_or_loopback_refused(pid_t pid, const struct sockaddr_storage *ss, size_t len,
                                     char *res, size_t size)
{
	char mine[64], theirs[64];

	if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
		size_t plen = len > offsetof(struct sockaddr_un, sun_path)
		                  ? len - offsetof(struct sockaddr_un, sun_path)
		                  : 0;
		char name[sizeof(un->sun_path) + 2];
		if (plen == 0)
			return false;
		if (un->sun_path[0] == '\0') {
			/* /proc/net/unix shows the abstract name after '@' (NULs as '@' too) */
			name[0] = '@';
			for (size_t i = 1; i < plen && i < sizeof(un->sun_path); i++)
				name[i] = un->sun_path[i] ? un->sun_path[i] : '@';
			name[MIN(plen, sizeof(un->sun_path))] = '\0';
			(void)snprintf(theirs, sizeof(theirs), "/proc/%d/net/unix", (int)pid);
			if (abstract_bound(theirs, name) ||
			    !abstract_bound("/proc/self/net/unix", name))
				return false;
			(void)snprintf(res, size, "unix:%s", name);
			return true;
		}
		return false; /* a path: notify-unix.c decided */
	}
	bool v6 = ss->ss_family == AF_INET6;
	unsigned port = ntohs(v6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
	                         : ((const struct sockaddr_in *)ss)->sin_port);
	(void)snprintf(mine, sizeof(mine), "/proc/self/net/tcp%s", v6 ? "6" : "");
	(void)snprintf(theirs, sizeof(theirs), "/proc/%d/net/tcp%s", (int)pid, v6 ? "6" : "");
	/* The sandbox's own table first: it is small, and a listener there (the egress proxy,
	 * the program's own servers) settles it; the host's may be long. */
	if (tcp_listening(theirs, port, v6) || !tcp_listening(mine, port, v6))
		return false;
	(void)snprintf(res, size, "%s:%u", v6 ? "[::1]" : "127.0.0.1", port);
	return true;
}

static void on_unix_denied(void *userdata, const char *resource, const char *op, int pid)
{
	Notifier *n = userdata;
	n->deny(n->userdata, "NETWORK_CONNECT", resource, op, pid);
}

int notify_unix_judge(Notifier *n, const struct seccomp_notif *req,
                      const struct sockaddr_storage *ss, size_t len, const char *op, int *error)
{
	UnixConnectContext c = {.notify_fd = n->fd,
	                        .root_fd = &n->root_fd,
	                        .plan = n->plan,
	                        .caps = n->caps,
	                        .ctx = n->ctx,
	                        .deny = on_unix_denied,
	                        .userdata = n,
	                        .op = op,
	                        .judge_only = !streq(op, "connect")};
	return unix_connect_handle(&n->ux, &c, req, ss, len, error);
}

static unsigned inet_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
	                                       : ((const struct sockaddr_in *)ss)->sin_port);
}

int notify_grab_socket(Notifier *n, const struct seccomp_notif *req, int domain, int type,
                       int protocol)
{
	int v[3] = {0};
	const int opt[3] = {SO_DOMAIN, SO_TYPE, SO_PROTOCOL}, want[3] = {domain, type, protocol};
	int s = tconnect_grab_fd(n->fd, req, (int)req->data.args[0]);

	for (int i = 0; s >= 0 && i < 3; i++) {
		socklen_t len = sizeof(v[i]);
		if (want[i] &&
		    (getsockopt(s, SOL_SOCKET, opt[i], &v[i], &len) < 0 || v[i] != want[i])) {
			(void)close(s);
			s = -1;
		}
	}
	return s < 0 ? -1 : s;
}

/* A TCP stream socket of the program's (its fd args[0]), copied here, or -1. */
static int grab_tcp_socket(Notifier *n, const struct seccomp_notif *req)
{
	return notify_grab_socket(n, req, 0, SOCK_STREAM, IPPROTO_TCP);
}

/* With network grants and Landlock's TCP rules (ABI >= 4, natively: omnibase-exec sets none),
 * a TCP connect to a port the plan does not list (all but the egress proxy's) is Landlock's
 * EACCES, wherever it aims — the sandbox's own loopback included. Answered here with that EACCES on
 * the supervisor's copy of the address (the kernel never reads it again), so it can be recorded.
 * Only TCP stream sockets: Landlock leaves UDP and the others alone. */
static bool tcp_port_refused(Notifier *n, const struct seccomp_notif *req,
                             const struct sockaddr_storage *ss, size_t len)
{
	unsigned port = inet_port(ss);

	/* too short an address: the kernel's EINVAL before Landlock looks */
	if (!n->landlock_tcp || (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
	    len < (ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : 24 /* RFC 2133 */))
		return false;
	for (size_t i = 0; i < n->plan->n_tcp_connect_ports; i++)
		if (n->plan->tcp_connect_ports[i] == port)
			return false;
	_cleanup_close_ int s = grab_tcp_socket(n, req);
	return s >= 0;
}

/* A connect to the egress proxy's port, made here on a copy of the program's socket with the
 * supervisor's copy of the address: continued, the kernel would read the address again, and
 * a thread could swap in another port (Landlock's EACCES, with no event) after the look.
 * Never waits: a blocking socket is made non-blocking for the call; a loopback handshake is
 * done by the time connect returns (the peer's answer is processed as the socket is
 * released; waited for 20 ms at most). Should it not be, the blocking caller gets what a
 * signal would have given it, EINTR, the connect going on in the kernel. False when the
 * socket is not TCP (left to the kernel, which does not restrict those) or the proxy's
 * queue is full (the kernel's connect waits for room, continued: read twice). */
static bool proxy_connect(Notifier *n, const struct seccomp_notif *req,
                          const struct sockaddr_storage *ss, size_t len, Reply *rep)
{
	/* A full queue (a program that connects faster than the loop's turns accept): served
	 * now; still full, the kernel's own connect waits for the SYN it resends. */
	if (proxy_backlog_full(n->proxy) && n->proxy)
		proxy_dispatch(n->proxy);
	if (proxy_backlog_full(n->proxy))
		return false;
	_cleanup_close_ int s = grab_tcp_socket(n, req);
	int fl = s >= 0 ? fcntl(s, F_GETFL) : -1;

	if (fl < 0)
		return false;
	bool blocking = !(fl & O_NONBLOCK);
	if (blocking && fcntl(s, F_SETFL, fl | O_NONBLOCK) < 0)
		return false;
	int r = connect(s, (const struct sockaddr *)ss, (socklen_t)len) < 0 ? -errno : 0;
	if (r == -EINPROGRESS && blocking) {
		struct pollfd pf = {.fd = s, .events = POLLOUT};
		int e = 0;
		socklen_t el = sizeof(e);
		r = poll(&pf, 1, 20) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) == 0
		        ? -e
		        : -EINTR;
	}
	if (blocking)
		(void)fcntl(s, F_SETFL, fl);
	*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
	return true;
}

void notify_connect(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	struct sockaddr_storage ss = {0};
	size_t len = MIN((size_t)req->data.args[2], sizeof(ss));
	char res[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];

	if (notify_read_mem(n, req->pid, req->data.args[1], &ss, len) <
	    (ssize_t)sizeof(sa_family_t))
		return;
	/* With the transparent path every internet connect is the supervisor's to make. */
	if (n->tc && tconnect_handle(n->tc, n->fd, req, &ss, len) > 0) {
		rep->answered = true;
		return;
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6 && ss.ss_family != AF_UNIX)
		return;
	if (ss.ss_family == AF_UNIX) {
		int r = notify_unix_judge(n, req, &ss, len, "connect", &rep->error);
		if (r >= 0) {
			rep->emulated = r > 0;
			return;
		}
	}
	bool loopback = egress_address_is_loopback((const struct sockaddr *)&ss);
	if (ss.ss_family != AF_UNIX)
		egress_format_address((const struct sockaddr *)&ss, res, sizeof(res));
	/* The egress proxy is the sandbox's own: no need to look further. Continued, the kernel
	 * reads the address again: read once more here, as for opens left to it (path_swapped),
	 * since another port would be Landlock's EACCES with no event. */
	if (loopback && n->plan->proxy && inet_port(&ss) == PROXY_PORT) {
		if (proxy_connect(n, req, &ss, len, rep))
			return;
		struct sockaddr_storage now = {0};
		if (notify_read_mem(n, req->pid, req->data.args[1], &now, len) == (ssize_t)len &&
		    memcmp(&now, &ss, len) != 0)
			notify_swap_refused(n, req, "address", rep);
		return;
	}
	if (tcp_port_refused(n, req, &ss, len)) {
		n->deny(n->userdata, "NETWORK_CONNECT", res, "connect", proc_inner_pid(req->pid));
		*rep = (Reply){.emulated = true, .error = -EACCES, .addfd = -1};
		return;
	}
	/* The sandbox's own loopback and unix sockets are its business, unless what they aim at
	 * is the host's. */
	if ((loopback || ss.ss_family == AF_UNIX) &&
	    !unix_or_loopback_refused(req->pid, &ss, len, res, sizeof(res)))
		return;
	/* No NETWORK_CONNECT reaches out of the empty network namespace yet (the egress proxy
	 * is a later issue): every outward connect is a denial. */
	n->deny(n->userdata, "NETWORK_CONNECT", res, "connect", proc_inner_pid(req->pid));
}
