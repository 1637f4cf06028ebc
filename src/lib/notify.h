/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "plan.h"

typedef void (*DenyFn)(void *userdata, const char *capability, const char *resource,
                       const char *operation, int pid);

/* The supervisor's end of the observation: the listener and what it needs to judge. */
typedef struct Notifier {
	int fd; /* the seccomp listener, -1 until received */
	const Plan *plan;
	DenyFn deny;
	void *userdata;
	int mem_fd; /* /proc/PID/mem of the last process that trapped, or -1 */
	pid_t mem_pid;
} Notifier;

/* Child, after no_new_privs: installs the trap for exec, connect and open (with FILES also
 * unlink, access and stat, for SQLite side files) and sends the listener over SOCK
 * (SCM_RIGHTS). No allocation. */
int notify_install(int sock, bool files);
/* Supervisor: receives the listener fd from SOCK. */
int notify_receive(int sock);
/* Supervisor: answers one notification, reporting denials: "continue" (the kernel decides
 * under the fences), except for SQLite side files, which it handles itself. */
void notify_handle(Notifier *n);
/* Supervisor: closes what the notifier holds. */
void notify_done(Notifier *n);
