/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The builder's state (sandbox.c) as the rest of the runner sees it: the supervisor
 * (supervisor.c) and the starts (start.c) read what the setters validated and copied.
 */
#pragma once

#include <jansson.h>

#include "omnibase/omnibase.h"

#include "plan/plan.h"
#include "plan/syscall-filter.h"

#define MAX_SINK_PATHS 4

struct ob_sandbox {
	ob_capset *caps;
	ob_context *ctx;
	ob_limits limits;
	ob_sandbox_mode mode;
	ob_egress egress;
	ob_backend backend;
	char *workdir;
	char *registry_dir, *artifacts_dir;
	char **argv;
	char **env;
	size_t n_env;
	char **secrets;
	size_t n_secrets;
	bool allow_degraded;
	bool allow_unsigned; /* --allow-unsigned: run an untrusted component, said in an event */
	bool capture_output;
	bool verbose; /* also report what was allowed */
	bool has_warning_fd;
	int warning_fd; /* where the plan's warnings are written at start */
	char *log_paths[MAX_SINK_PATHS];
	size_t n_log_paths;
	char *socket_paths[MAX_SINK_PATHS];
	size_t n_socket_paths;
	int sink_fds[MAX_SINK_PATHS];
	size_t n_sink_fds;
	FilterProfile seccomp_profile; /* --seccomp-profile additions and removals */
	char *component;               /* --component: grants come from the registry's policy */
	bool narrow;         /* the caps given besides it only narrow what the policy grants */
	ob_review *review;   /* the component's decisions, once planned */
	struct Learn *learn; /* learning mode (runner/learn.h), or NULL */
};

/* The plan of SB's run: the component's grants applied, the fail-closed decisions taken
 * (Landlock, transparent egress, the backend's), the seccomp filter built. PROBE_USERNS:
 * ask whether the host refuses user namespaces even without --allow-degraded (a plan shown;
 * a run learns it from its clone). */
int sandbox_plan(ob_sandbox *sb, Plan *plan, bool probe_userns, ob_error *reterr);
/* omnibase-exec for runc/crun into BUF (NULL: none, or a backend that takes none). */
const char *sandbox_oci_helper(const ob_sandbox *sb, char *buf, size_t size);
/* gVisor's stand-in for the dynamic loader (omnibase-loader), in BUF, or NULL: another
 * backend, or not installed. */
const char *sandbox_gvisor_loader(const ob_sandbox *sb, char *buf, size_t size);
/* Why gVisor's exec allow-list is less than natively for plan P (NULL: it is not): what
 * SandboxDegraded "landlock" says. */
const char *sandbox_gvisor_exec_gap(const ob_sandbox *sb, const Plan *p);
/* Rootless mode rx: the program would act as the caller on the whole visible host. */
bool sandbox_identity_degraded(const ob_sandbox *sb);
/* The limits as SPEC §5 prints them, and the active grants, as JSON. */
json_t *sandbox_limits_json(const ob_limits *l);
json_t *sandbox_granted_json(const ob_sandbox *sb);
