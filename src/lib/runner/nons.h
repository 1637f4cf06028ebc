/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tier without namespaces, for hosts that refuse unprivileged user namespaces (Ubuntu's
 * AppArmor restriction, Docker's default seccomp profile): Landlock, the seccomp allow-list
 * and its notifier, and rlimits (cgroups when delegated), only with --allow-degraded
 * (docs/design/runner.md, "Without namespaces").
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "audit/audit.h"
#include "plan/plan.h"
#include "runner/cgroup.h"
#include "runner/spawn.h"

/* Whether a native run must go without namespaces: this host refuses to make them. */
bool nons_needed(void);
/* The refusal (125) of a run on a host without user namespaces and no --allow-degraded. */
int nons_refuse(ob_error *reterr);
/* Decides the tier for PLAN: refused (125, naming the blocker) without ALLOW_DEGRADED or
 * when it cannot confine what the plan asks; otherwise the plan made a host-side one (its
 * Landlock rules, program and working directory on the host's paths). */
int nons_plan(Plan *plan, bool allow_degraded, ob_error *reterr);
/* One host path for the sandbox path PATH in BUF, following the plan's binds; -ENOENT when
 * the sandbox makes it itself (a tmpfs, its /dev, a file it writes). */
int nons_host_path(const Plan *plan, const char *path, char *buf, size_t size);
/* SandboxStart's protections, and a SandboxDegraded event per protection missing. */
json_t *nons_protections_json(const Plan *plan, const Cgroup *cg);
void nons_report_degraded(Audit *audit, const Plan *plan, const Cgroup *cg);
/* Kills the run's processes (the reaper and its descendants): a timeout, or the end. */
void nons_kill(pid_t reaper);
/* Forks the run's first process (no namespaces): the program's reaper, which runs it. */
int nons_spawn(const SpawnArgs *args, pid_t *ret_pid);
