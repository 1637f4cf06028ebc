/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sandbox's first process: namespaces, file system, then a tiny init that runs and
 * reaps the program.  Everything here runs after clone and allocates nothing. */
#pragma once

#include <sys/types.h>

#include "plan/plan.h"

typedef enum ReportKind {
	REPORT_EXITED = 1,   /* the program ended: wstatus */
	REPORT_SETUP_FAILED, /* the sandbox could not be built: err, msg */
	REPORT_EXEC_FAILED,  /* execve failed: err */
} ReportKind;

/* Written by the child to the report pipe: small enough to be atomic (< PIPE_BUF). */
typedef struct ChildReport {
	int kind;
	int err;
	int wstatus;
	bool tmpfs_full;     /* REPORT_EXITED: /tmp or /dev/shm was left full */
	unsigned procs_left; /* REPORT_EXITED: processes alive when the program ended, PID 1 too */
	char msg[256];
} ChildReport;

typedef struct SpawnArgs {
	const Plan *plan;
	int sync_fd;              /* the child waits for two bytes: id maps written, cgroup (v2) */
	int report_fd;            /* ChildReport records */
	int stdin_fd;             /* the read end of the program's stdin pipe (output.h), or -1 */
	int stdout_fd, stderr_fd; /* pipe write ends for the program's 1 and 2, or -1 */
	int notify_fd;            /* where the seccomp listener goes (SCM_RIGHTS), or -1 */
	int join_fds[3];          /* cgroup v1 `tasks` files to write "0" to, or -1 */
	int proxy_fd;             /* where the egress proxy's listener goes, or -1: no proxy */
	bool rlimit_memory, rlimit_pids; /* no cgroup: fall back to rlimits */
	bool set_groups;                 /* root: clear supplementary groups */
} SpawnArgs;

/* Clones the child into new user, mount, pid, net, ipc, uts namespaces.  Returns its pid. */
int spawn_sandbox(const SpawnArgs *args, pid_t *ret_pid);
/* The program's process, from setsid to execve: output, working directory, rlimits,
 * capabilities, no_new_privs, Landlock, then the seccomp filter. */
_Noreturn void spawn_exec_program(const SpawnArgs *args);
/* Writes uid_map, setgroups and gid_map of PID (the parent's half of the handshake). */
int spawn_write_idmaps(pid_t pid, const Plan *plan, bool deny_setgroups);
