/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host unix sockets only by grant (SPEC §2.2): a trapped connect() to a pathname AF_UNIX
 * address. A read-only bind does not stop connect(2), and in mode rx (or inside a grant, or
 * the workdir) host sockets are visible, so the supervisor decides, by the socket's inode:
 *  - the sandbox's own socket (on a tmpfs of the sandbox, or bound in its network namespace)
 *    and a host socket that a NETWORK_CONNECT "unix:PATTERN" grant names are connected by the
 *    supervisor itself, on a copy of the program's socket (pidfd_getfd), through
 *    /proc/self/fd/N of its own O_PATH fd of the inode it decided on: the kernel never reads
 *    the program's memory again, so a thread swapping the path after the check gains nothing;
 *  - any other host socket: EACCES and a CapabilityDenied (unix:/host/path, connect).
 * Without pidfd_getfd the decision is answered with "continue" (the kernel re-reads the
 * address: a racing thread could swap it; documented in docs/design/egress.md).
 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "omnibase/omnibase.h"

#include "plan/types.h"

typedef struct UnixConnect UnixConnect;

/* What the decision needs from the notifier: borrowed, for one call. */
typedef struct UnixConnectContext {
	int notify_fd;
	int *root_fd; /* the sandbox's root (O_PATH); opened from the trapping process when < 0 */
	const Plan *plan;
	const ob_capset *caps;
	const ob_context *ctx;
	/* a refused call OP: RESOURCE "unix:/path" (the host's path) */
	void (*deny)(void *userdata, const char *resource, const char *op, int pid);
	void *userdata;
	const char *op; /* "connect", or the send ("sendto", "sendmsg", "sendmmsg") */
	/* a send's destination: decided, not connected (allowed: "continue", 0) */
	bool judge_only;
} UnixConnectContext;

/* A trapped connect (REQ) to the AF_UNIX address SS of LEN bytes. Returns -1 when it is not a
 * pathname address (abstract, unnamed: the caller's business), 0 to let the call continue,
 * 1 when the supervisor answers it with *RET_ERROR (0 or -errno). *STATE is created on first
 * use (caches: the sandbox's tmpfs devices, a sock_diag socket in its network namespace). */
int unix_connect_handle(UnixConnect **state, const UnixConnectContext *c,
                        const struct seccomp_notif *req, const struct sockaddr_storage *ss,
                        size_t len, int *ret_error);
/* Frees STATE (NULL is fine). Returns NULL. */
UnixConnect *unix_connect_free(UnixConnect *state);
/* Translates the sandbox path INNER (absolute, canonical) to the host path a bind of PLAN
 * shows there, into BUF. False when no bind from the host covers it (a tmpfs, /proc). */
bool unix_host_path(const Plan *plan, const char *inner, char *buf, size_t size);
