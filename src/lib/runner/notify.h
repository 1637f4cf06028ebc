/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "egress/tconnect.h"
#include "plan/plan.h"
#include "runner/notify-unix.h"

typedef void (*DenyFn)(void *userdata, const char *capability, const char *resource,
                       const char *operation, int pid);
/* A call the seccomp policy refuses: SYSCALL's name, what about it, the caller's pid. */
typedef void (*ViolationFn)(void *userdata, const char *syscall, const char *detail, int pid);

/* The supervisor's end of the observation: the listener and what it needs to judge. */
typedef struct Notifier {
	int fd; /* the seccomp listener, -1 until received */
	const Plan *plan;
	DenyFn deny;
	ViolationFn violation;
	void *userdata;
	int mem_fd;  /* /proc/PID/mem of the last process that trapped, or -1 */
	int root_fd; /* the sandbox's root (O_PATH), once a process trapped, or -1 */
	pid_t mem_pid;
	Tconnect *tc;             /* the transparent path (connect, listen), or NULL */
	const char *trusted_exec; /* an exec that is ours, not the program's (OCI), or NULL */
	const ob_capset *caps;    /* the grants (host unix sockets: notify-unix.h), or NULL */
	const ob_context *ctx;
	UnixConnect *ux; /* created at the first connect to a unix socket path */
} Notifier;

/* Child, after no_new_privs: installs PROG (plan/syscall-filter.c: the allow-list, whose refusals
 * and observed calls come to the supervisor) with a listener, and sends the listener over SOCK
 * (SCM_RIGHTS). No allocation. */
int notify_install(int sock, const FilterProg *prog);
/* Supervisor: receives the listener fd from SOCK. */
int notify_receive(int sock);
/* Supervisor: answers one notification, reporting denials: "continue" (the kernel decides
 * under the fences), except for SQLite side files, which it handles itself. */
void notify_handle(Notifier *n);
/* Supervisor: closes what the notifier holds. */
void notify_done(Notifier *n);
