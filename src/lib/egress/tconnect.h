/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transparent egress (native backend): the program's connect() on an AF_INET/AF_INET6 socket
 * reaches the supervisor as a seccomp user notification, and the supervisor performs it —
 * never the kernel on the program's behalf ("continue" would let the program change the
 * address or the fd after the check):
 *  - to a granted address: a socket of the same family and type connected from the host's
 *    network namespace, installed over the program's fd (SECCOMP_IOCTL_NOTIF_ADDFD with
 *    SETFD) — from then on an ordinary kernel socket, no relay;
 *  - to the sandbox's own DNS stub or egress proxy: connect() on the program's own socket
 *    object (obtained with pidfd_getfd), with the supervisor's copy of the address;
 *  - anything else: EACCES and a CapabilityDenied.
 * A blocking connect that is in progress is answered from the event loop when it completes,
 * so a black-holed destination delays nobody else.
 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "omnibase/omnibase.h"

#include "egress/dnsstub.h"

typedef struct Tconnect Tconnect;

typedef struct TconnectReport {
	/* refused: OPERATION "connect", "bind" or "listen"; RESOURCE "ip:port" (asked for, or
	 * the host socket's own); WHY names the name it came from when there was one */
	void (*deny)(void *userdata, const char *operation, const char *resource, const char *why,
	             int pid);
	/* a connection made (NULL: not reported): RESOURCE "name:port" or "ip:port" */
	void (*allow)(void *userdata, const char *resource, const char *address, int pid);
	/* the connections cap reached (reported once per run) */
	void (*limit)(void *userdata, ob_limit limit);
	void *userdata;
} TconnectReport;

typedef struct TconnectConfig {
	const ob_capset *caps;
	const ob_context *ctx;
	const DnsStub *dns;       /* names for addresses, or NULL */
	bool proxy;               /* the egress proxy listens on the sandbox's 127.0.0.1:3128 */
	unsigned max_connections; /* concurrent connections made from the host side */
	uint64_t sandbox_netns;   /* the inode of the sandbox's network namespace */
} TconnectConfig;

int tconnect_new(const TconnectConfig *cfg, const TconnectReport *report, Tconnect **ret);
void tconnect_free(Tconnect *t);
/* An fd to poll for input (an epoll fd): connects in progress. */
int tconnect_fd(const Tconnect *t);
/* Answers the connects that completed or timed out (never blocks). */
void tconnect_dispatch(Tconnect *t);

/* A trapped connect (REQ, read from NOTIFY_FD) to SA/LEN. Returns 1 when the notification
 * has been answered (or will be, from the loop), 0 when it is not one this handles (a unix
 * socket: the caller continues as before). Any connect on a socket outside the sandbox's
 * network namespace (one installed here), a disconnect (AF_UNSPEC) included, is refused
 * (-EACCES, recorded) unless it is connected or connecting (then -EISCONN / -EALREADY, as
 * the kernel would say); a disconnect of the sandbox's own sockets is performed here. */
int tconnect_handle(Tconnect *t, int notify_fd, const struct seccomp_notif *req,
                    const struct sockaddr_storage *sa, size_t len);
/* A trapped listen(): refused (-EPERM, recorded) on a socket outside the sandbox's network
 * namespace (one installed by this module), else performed on the program's socket object.
 * Returns the result to answer. */
int tconnect_listen(Tconnect *t, int notify_fd, const struct seccomp_notif *req);

#define TCONNECT_CONTINUE 1

/* A trapped bind() to SA/LEN (SA NULL: the address could not be read). On a socket outside
 * the sandbox's network namespace: -EPERM, recorded. On an internet socket of the sandbox:
 * performed on the program's socket object with this copy of the address (0 or -errno; a
 * port below 1024 needs the program's CAP_NET_BIND_SERVICE, as the kernel would ask). On a
 * unix socket: TCONNECT_CONTINUE (the kernel binds the path in the program's file system). */
int tconnect_bind(Tconnect *t, int notify_fd, const struct seccomp_notif *req,
                  const struct sockaddr_storage *sa, size_t len);
/* A copy of the program's fd FD (the same open file), checked to belong to the process that
 * trapped (REQ, from NOTIFY_FD): the pidfd is opened, then the notification confirmed still
 * pending, so a recycled pid cannot be confused. -ENOENT when the notification is gone,
 * -ENOSYS without pidfd_getfd (Linux < 5.6), else pidfd_open's or pidfd_getfd's -errno. */
int tconnect_grab_fd(int notify_fd, const struct seccomp_notif *req, int fd);
/* A pidfd on the process (or thread) of trap REQ, confirmed still pending (so the pid was not
 * reused): what tconnect_grab_fd takes its copy through. -ENOENT when the trap is gone. */
int tconnect_trap_pidfd(int notify_fd, const struct seccomp_notif *req);
/* The inode of the network namespace socket S lives in (SIOCGSKNS), 0 when it cannot tell. */
uint64_t tconnect_netns_of(int s);
/* Totals, for the exit event. */
void tconnect_stats(const Tconnect *t, uint64_t *connections, uint64_t *refused);
