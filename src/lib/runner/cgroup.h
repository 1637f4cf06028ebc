/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resource limits through cgroups: v2 where the supervisor's cgroup can delegate memory,
 * pids and cpu; v1 controllers where that is what the host has.  When neither can be
 * written (rootless, no delegation) the runner falls back to rlimits.
 */
#pragma once

#include <limits.h>
#include <sys/types.h>

#include "omnibase/omnibase.h"

enum {
	CG_MEMORY,
	CG_PIDS,
	CG_CPU,
	CG_MAX
};

typedef struct Cgroup {
	int version;                 /* 0: none, 1, 2 */
	char path[CG_MAX][PATH_MAX]; /* v1: one per controller; v2: path[0] only */
	int lock_fd[CG_MAX];         /* flock(LOCK_EX) held while the run lives */
	char runtime_name[64];       /* cgroup_create_for_runtime: "omnibase-ID", which the runtime
	                              * makes in the other v1 hierarchies too */
} Cgroup;

typedef struct CgroupStats {
	bool oom;           /* the memory limit killed or refused something */
	bool pids_max;      /* fork failed at the pids limit */
	bool cpu_throttled; /* the cpu quota held the run back at least once */
	uint64_t memory_peak;
} CgroupStats;

/* An empty Cgroup (no directory, no lock): what cgroup_destroy() accepts untouched. */
void cgroup_init(Cgroup *cg);
/* Creates a cgroup named after ID with LIMITS.  0 with version 0 when none is available. */
int cgroup_create(Cgroup *cg, const char *id, const ob_limits *limits);
/* gVisor as root, on a cgroup v1 host: the cgroup runsc's sandbox joins, made by us at the
 * top of each of our controllers' hierarchies with LIMITS but no pids limit (the Sentry's own
 * threads are counted there: docs/design/backends.md), its OCI linux.cgroupsPath in RET_PATH.
 * runsc does not remove a controller it found made, so its counters (memory.failcnt, the OOM
 * kills) are still there to read when the run has ended. Version 0 and "" when none is made
 * (a v2 host: runsc makes its own, as before). */
int cgroup_create_for_runtime(Cgroup *cg, const char *id, const ob_limits *limits, char *ret_path,
                              size_t size);
/* Moves PID (all its threads) into the cgroup: v2 only (v1 runs join with the fds below). */
int cgroup_attach(const Cgroup *cg, pid_t pid);
/* v1: opens each controller's `tasks` file for the sandbox's first process to write "0" to,
 * moving itself (a single thread writing "0" takes no global lock, whereas a pid written to
 * cgroup.procs waits for an RCU grace period: 6-15 ms here). FDS get -1 where unused. */
int cgroup_open_join_fds(const Cgroup *cg, int fds[CG_MAX]);
void cgroup_stats(const Cgroup *cg, CgroupStats *st);
/* Removes the cgroup (retrying while the last processes of the run exit). */
void cgroup_destroy(Cgroup *cg);
/* "v1", "v2" or "none", for events. */
const char *cgroup_version_string(const Cgroup *cg);
