/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob_sandbox: the builder (setters validate and copy, no syscalls) and the decisions taken
 * before a run (what to refuse, what needs --allow-degraded) and --dry-run's plan. The run
 * itself: start.c and supervisor.c.
 */
#include "runner/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "backends/gvtrace.h"
#include "backends/oci.h"
#include "backends/runtime.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "egress/dnsstub.h"
#include "egress/proxy.h"
#include "egress/tconnect.h"
#include "model/capability.h"
#include "plan/dbfiles.h"
#include "plan/fs-rules.h"
#include "plan/overlay.h"
#include "plan/plan.h"
#include "plan/syscall-filter.h"
#include "policy/registry.h"
#include "runner/cgroup.h"
#include "runner/learn.h"
#include "runner/nons.h"
#include "runner/notify.h"
#include "runner/output.h"
#include "runner/plan-summary.h"
#include "runner/probe.h"
#include "runner/result.h"
#include "runner/spawn.h"

int ob_sandbox_set_backend(ob_sandbox *sb, ob_backend backend)
{
	assert_return(sb && backend >= 0 && backend < OB_BACKEND_MAX, -EINVAL);
	sb->backend = backend;
	return 0;
}

int ob_sandbox_set_egress(ob_sandbox *sb, ob_egress egress)
{
	assert_return(sb && egress >= 0 && egress < OB_EGRESS_MAX, -EINVAL);
	sb->egress = egress;
	return 0;
}

int ob_sandbox_new(ob_sandbox **ret)
{
	assert_return(ret, -EINVAL);
	ob_sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	ob_limits_init(&sb->limits);
	if (ob_context_new(&sb->ctx) < 0) {
		free(sb);
		return -ENOMEM;
	}
	*ret = sb;
	return 0;
}

ob_sandbox *ob_sandbox_free(ob_sandbox *sb)
{
	if (!sb)
		return NULL;
	ob_capset_unref(sb->caps);
	ob_context_free(sb->ctx);
	free(sb->component);
	(void)ob_review_free(sb->review);
	(void)learn_free(sb->learn);
	filter_profile_done(&sb->seccomp_profile);
	free(sb->workdir);
	free(sb->registry_dir);
	free(sb->artifacts_dir);
	strv_free(sb->argv);
	strv_free(sb->env);
	for (size_t i = 0; i < sb->n_secrets; i++)
		explicit_bzero(sb->secrets[i], strlen(sb->secrets[i]));
	strv_free(sb->secrets);
	for (size_t i = 0; i < sb->n_log_paths; i++)
		free(sb->log_paths[i]);
	for (size_t i = 0; i < sb->n_socket_paths; i++)
		free(sb->socket_paths[i]);
	free(sb);
	return NULL;
}

int ob_sandbox_set_learn(ob_sandbox *sb, bool learn, bool network)
{
	Learn *l = NULL;

	assert_return(sb, -EINVAL);
	if (learn && learn_new(network, &l) < 0)
		return -ENOMEM;
	if (sb->learn && sb->learn->given) { /* what learning changed goes back */
		ob_capset *caps = ob_capset_ref(sb->learn->given);
		(void)ob_capset_unref(sb->caps);
		sb->caps = caps;
		sb->mode = sb->learn->mode;
	}
	(void)learn_free(sb->learn);
	sb->learn = l;
	return 0;
}

int ob_sandbox_learn_write(ob_sandbox *sb, const char *path, ob_error *reterr)
{
	assert_return(sb && path, -EINVAL);
	if (!sb->learn)
		return ob_error_set(reterr, -EINVAL, "not a learning run (ob_sandbox_set_learn)");
	return learn_write(sb->learn, path, reterr);
}

int ob_sandbox_set_capabilities(ob_sandbox *sb, ob_capset *set)
{
	assert_return(sb && set, -EINVAL);
	/* The reference first: SET may be the one held already, with no other owner. */
	ob_capset *old = sb->caps;
	sb->caps = ob_capset_ref(set);
	(void)ob_capset_unref(old);
	return 0;
}

int ob_sandbox_set_seccomp_profile(ob_sandbox *sb, const char *path, ob_error *reterr)
{
	FilterProfile p;

	assert_return(sb && path, -EINVAL);
	int r = filter_profile_load(path, &p, reterr);
	if (r < 0)
		return r;
	filter_profile_done(&sb->seccomp_profile);
	sb->seccomp_profile = p;
	return 0;
}

int ob_sandbox_set_component(ob_sandbox *sb, const char *uuid, bool narrow)
{
	assert_return(sb && uuid, -EINVAL);
	char *c = strdup(uuid);
	if (!c)
		return -ENOMEM;
	free(sb->component);
	sb->component = c;
	sb->narrow = narrow;
	return 0;
}

/* --component: the registry's policy decides the requested capabilities; what the caller
 * gave besides (with NARROW) can only take away from that, never add. */
static int apply_component(ob_sandbox *sb, ob_error *reterr)
{
	ob_capset *effective = NULL;

	if (!sb->component)
		return 0;
	if (!sb->registry_dir)
		return ob_error_set(reterr, -EINVAL, "--component needs --registry DIR");
	sb->review = ob_review_free(sb->review);
	int r = ob_registry_review(sb->registry_dir, sb->component, sb->ctx, &sb->review, reterr);
	if (r < 0)
		return r;
	const char *why = review_untrusted_reason(sb->review);
	if (why && !sb->allow_unsigned)
		return ob_error_set(
		    reterr, -EPERM,
		    "refusing component %s: its signature, key or entrypoint does not "
		    "verify: %s (--allow-unsigned runs it anyway)",
		    sb->component, why);
	const ob_capset *granted = ob_review_granted(sb->review);
	if (sb->narrow && sb->caps)
		r = ob_capset_intersection(granted, sb->caps, &effective);
	else
		r = ob_capset_union(granted, granted, &effective);
	if (r < 0)
		return ob_error_set(reterr, r, "out of memory");
	ob_capset_unref(sb->caps);
	sb->caps = effective;
	return 0;
}

int ob_sandbox_set_context(ob_sandbox *sb, const char *key, const char *value)
{
	assert_return(sb, -EINVAL);
	return ob_context_set(sb->ctx, key, value);
}

int ob_sandbox_set_limits(ob_sandbox *sb, const ob_limits *limits)
{
	assert_return(sb && limits, -EINVAL);
	sb->limits = *limits;
	return 0;
}

int ob_sandbox_set_mode(ob_sandbox *sb, ob_sandbox_mode mode)
{
	assert_return(sb && ob_sandbox_mode_to_string(mode), -EINVAL);
	sb->mode = mode;
	return 0;
}

/* Stores the real path of the directory DIR in *slot; OPTION names it in messages. */
static int set_dir(char **slot, const char *option, const char *dir, ob_error *reterr)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(dir, real))
		return ob_error_set(reterr, -errno, "%s %s: %s", option, dir, strerror(errno));
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return ob_error_set(reterr, -ENOTDIR, "%s %s: not a directory", option, dir);
	char *d = strdup(real);
	if (!d)
		return -ENOMEM;
	free(*slot);
	*slot = d;
	return 0;
}

int ob_sandbox_set_workdir(ob_sandbox *sb, const char *dir, ob_error *reterr)
{
	assert_return(sb && dir, -EINVAL);
	return set_dir(&sb->workdir, "--workdir", dir, reterr);
}

int ob_sandbox_set_registry(ob_sandbox *sb, const char *dir, ob_error *reterr)
{
	assert_return(sb && dir, -EINVAL);
	return set_dir(&sb->registry_dir, "--registry", dir, reterr);
}

int ob_sandbox_set_artifacts(ob_sandbox *sb, const char *dir, ob_error *reterr)
{
	assert_return(sb && dir, -EINVAL);
	return set_dir(&sb->artifacts_dir, "--artifacts", dir, reterr);
}

int ob_sandbox_add_env(ob_sandbox *sb, const char *assignment, ob_error *reterr)
{
	assert_return(sb && assignment, -EINVAL);
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return ob_error_set(reterr, -EINVAL, "--env '%.64s': expected KEY=VALUE",
		                    assignment);
	return strv_push(&sb->env, &sb->n_env, assignment);
}

int ob_sandbox_add_secret(ob_sandbox *sb, const char *source, ob_error *reterr)
{
	assert_return(sb && source, -EINVAL);
	const char *eq = strchr(source, '=');
	if (!eq || eq == source || (strncmp(eq + 1, "env:", 4) != 0 && eq[1] != '@'))
		return ob_error_set(reterr, -EINVAL,
		                    "--secret: expected NAME=@FILE or NAME=env:VAR");
	return strv_push(&sb->secrets, &sb->n_secrets, source);
}

int ob_sandbox_set_command(ob_sandbox *sb, char *const argv[], ob_error *reterr)
{
	size_t n = 0;

	assert_return(sb && argv, -EINVAL);
	while (argv[n])
		n++;
	if (n == 0)
		return ob_error_set(reterr, -EINVAL, "no program given");
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(argv[i]))) {
			strv_free(v);
			return -ENOMEM;
		}
	strv_free(sb->argv);
	sb->argv = v;
	return 0;
}

int ob_sandbox_set_capture_output(ob_sandbox *sb, bool capture)
{
	assert_return(sb, -EINVAL);
	sb->capture_output = capture;
	return 0;
}

void ob_result_done(ob_result *res)
{
	if (!res)
		return;
	free(res->stdout_data);
	free(res->stderr_data);
	res->stdout_data = res->stderr_data = NULL;
	res->stdout_len = res->stderr_len = 0;
	result_free_denials(res);
}

int ob_sandbox_set_allow_unsigned(ob_sandbox *sb, bool allow)
{
	assert_return(sb, -EINVAL);
	sb->allow_unsigned = allow;
	return 0;
}

int ob_sandbox_set_allow_degraded(ob_sandbox *sb, bool allow)
{
	assert_return(sb, -EINVAL);
	sb->allow_degraded = allow;
	return 0;
}

int ob_sandbox_set_verbose(ob_sandbox *sb, bool verbose)
{
	assert_return(sb, -EINVAL);
	sb->verbose = verbose;
	return 0;
}

int ob_sandbox_set_warning_fd(ob_sandbox *sb, int fd)
{
	assert_return(sb && fd >= 0, -EINVAL);
	sb->warning_fd = fd;
	sb->has_warning_fd = true;
	return 0;
}

int ob_sandbox_add_audit_log(ob_sandbox *sb, const char *path)
{
	assert_return(sb && path, -EINVAL);
	if (sb->n_log_paths >= MAX_SINK_PATHS)
		return -E2BIG;
	sb->log_paths[sb->n_log_paths] = strdup(path);
	return sb->log_paths[sb->n_log_paths++] ? 0 : -ENOMEM;
}

int ob_sandbox_add_audit_socket(ob_sandbox *sb, const char *path)
{
	assert_return(sb && path, -EINVAL);
	if (sb->n_socket_paths >= MAX_SINK_PATHS)
		return -E2BIG;
	sb->socket_paths[sb->n_socket_paths] = strdup(path);
	return sb->socket_paths[sb->n_socket_paths++] ? 0 : -ENOMEM;
}

int ob_sandbox_add_audit_fd(ob_sandbox *sb, int fd)
{
	assert_return(sb && fd >= 0, -EINVAL);
	if (sb->n_sink_fds >= MAX_SINK_PATHS)
		return -E2BIG;
	sb->sink_fds[sb->n_sink_fds++] = fd;
	return 0;
}

/* ---------------------------------------------------------------- planning */

/* The Landlock helper for SB's backend, in BUF, or NULL: runc and crun run it first in the
 * container; gVisor has no Landlock. */
const char *sandbox_oci_helper(const ob_sandbox *sb, char *buf, size_t size)
{
	if (sb->backend == OB_BACKEND_GVISOR || sb->backend == OB_BACKEND_NATIVE)
		return NULL;
	if (backend_exec_helper(buf, size))
		return buf;
	buf[0] = '\0';
	return NULL;
}

const char *sandbox_gvisor_loader(const ob_sandbox *sb, char *buf, size_t size)
{
	if (sb->backend == OB_BACKEND_GVISOR && backend_loader_shim(buf, size))
		return buf;
	buf[0] = '\0';
	return NULL;
}

const char *sandbox_gvisor_exec_gap(const ob_sandbox *sb, const Plan *p)
{
	char shim[4096];

	if (sb->backend != OB_BACKEND_GVISOR || sb->mode == OB_MODE_RWX)
		return NULL;
	if (p->landlock_abi == 0)
		return "gVisor: no exec allow-list (it is made where the host has Landlock)";
	if (!sandbox_gvisor_loader(sb, shim, sizeof(shim)))
		return "gVisor: omnibase-loader is not installed (or not built for this "
		       "architecture), so the dynamic loader, run as a program, would run a "
		       "visible executable outside the bin directories";
	return NULL;
}

/* What another backend cannot provide fails the run (125), said here; what it provides
 * less of (gVisor: no Landlock, no observed denials; runc/crun without omnibase-exec: no
 * Landlock) needs --allow-degraded. */
/* The active NETWORK_CONNECT unix: grants (host unix sockets, SPEC §2.2), as a JSON array. */
static json_t *unix_grants_json(const ob_sandbox *sb)
{
	json_t *a = json_array();
	for (size_t i = 0; a && sb->caps && i < ob_capset_size(sb->caps); i++) {
		const ob_capability *c = ob_capset_get(sb->caps, i);
		if (c->kind == RES_UNIX && ob_capability_is_active(c, sb->ctx))
			(void)json_array_append_new(a, json_string(c->resource));
	}
	return a;
}

static int backend_decision(const ob_sandbox *sb, const Plan *p, ob_error *reterr)
{
	const char *name = ob_backend_to_string(sb->backend);
	char path[4096];

	if (sb->egress == OB_EGRESS_TRANSPARENT)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "backend %s: --egress transparent traps connect() in the "
		                    "supervisor, which only the native backend has (this backend "
		                    "uses the proxy)",
		                    name);
	if (p->n_dbs > 0)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "backend %s: DATABASE_WRITE sqlite needs the native backend (its "
		    "supervisor handles the journal files)",
		    name);
	_cleanup_(json_decrefp) json_t *unix_grants = unix_grants_json(sb);
	/* runsc refuses every host socket (--host-uds=none, its default) and records nothing;
	 * opening them would open every visible one, which our supervisor cannot watch there */
	if (sb->backend == OB_BACKEND_GVISOR && json_array_size(unix_grants) > 0)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "backend gvisor: host unix socket grants (NETWORK_CONNECT "
		                    "unix:%s) need the native, runc or crun backend",
		                    json_string_value(json_array_get(unix_grants, 0)));
	if (geteuid() != 0 && p->proxy)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "backend %s: network grants run as root only (the "
		                    "supervisor's network namespace with the proxy's listener is "
		                    "not one the runtime's own user namespace can join); the "
		                    "native backend has them rootless",
		                    name);
	if (geteuid() != 0 && sb->backend != OB_BACKEND_GVISOR)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "backend %s: runs as root only (rootless, the runtime chowns its state and "
		    "stdio to the container root's host id, which must then be the caller's "
		    "own, and the program's uid 1000 a subordinate id that cannot read the "
		    "caller's granted files; docs/design/backends.md)",
		    name);
	if (!backend_find(sb->backend, path, sizeof(path)))
		return ob_error_set(
		    reterr, -EOPNOTSUPP, /* 125: -ENOENT would say the program is missing (127) */
		    "backend %s: its runtime is not installed (Debian package %s)", name,
		    sb->backend == OB_BACKEND_GVISOR ? "runsc" : name);
	if (!sb->allow_degraded && sb->backend == OB_BACKEND_GVISOR && p->id_base && p->proxy)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "backend gvisor with network grants: no user namespace (runsc "
		                    "cannot join the proxy's network namespace from one), so the "
		                    "program's host uid would be 1000; refusing to run less "
		                    "confined than asked (--allow-degraded runs it so)");
	const char *gap = sandbox_gvisor_exec_gap(sb, p);
	if (!sb->allow_degraded && gap)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "backend %s: %s; refusing to run less confined than asked "
		                    "(--allow-degraded runs it so)",
		                    name, gap);
	char helper[4096];
	bool landlock = p->landlock_abi > 0 && sandbox_oci_helper(sb, helper, sizeof(helper));
	/* as natively, mode rwx asks for no Landlock rules */
	if (!sb->allow_degraded && sb->backend != OB_BACKEND_GVISOR && !landlock &&
	    sb->mode != OB_MODE_RWX)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "backend %s applies no Landlock rules (the exec allow-list)%s (the mount "
		    "layout and the seccomp allow-list confine the program); refusing to run "
		    "less confined than asked (--allow-degraded runs it so)",
		    name,
		    p->landlock_abi > 0 ? ": omnibase-exec is not installed"
		                        : ": this kernel has no Landlock");
	return 0;
}

bool sandbox_identity_degraded(const ob_sandbox *sb)
{
	return geteuid() != 0 && sb->mode == OB_MODE_RX;
}

/* Rootless, the program's one host identity is the caller's (SPEC §2.4): mode rx would show
 * it everything the caller may read. Fail closed unless --allow-degraded. */
static int identity_decision(const ob_sandbox *sb, ob_error *reterr)
{
	if (!sandbox_identity_degraded(sb) || sb->allow_degraded)
		return 0;
	return ob_error_set(reterr, -EOPNOTSUPP,
	                    "--mode rx without root: the program's only host identity is the "
	                    "caller's, so it would read everything the caller may (SPEC §2.4); "
	                    "refusing to run less confined than asked (--allow-degraded runs it "
	                    "so; run as root, it gets unprivileged host ids)");
}

/* Fail closed: a run without Landlock needs --allow-degraded (and then says so). */
static int landlock_decision(const ob_sandbox *sb, int *ret_abi, ob_error *reterr)
{
	*ret_abi = probe_landlock_abi();
	if (*ret_abi > 0 || sb->mode == OB_MODE_RWX || sb->allow_degraded)
		return 0;
	return ob_error_set(reterr, -EOPNOTSUPP,
	                    "Landlock is not available on this kernel; refusing to run less "
	                    "confined than asked (--allow-degraded runs without it)");
}

/* Fail closed: with an exec allow-list, memfds must be made non-executable (Landlock does
 * not check them; runner/notify-exec.c), which needs MFD_NOEXEC_SEAL (Linux >= 6.3). gVisor
 * runs no allow-list (its own kernel; needs --allow-degraded anyway). */
static int memfd_decision(const ob_sandbox *sb, Plan *plan, ob_error *reterr)
{
	if (plan->landlock_abi == 0 || sb->backend == OB_BACKEND_GVISOR || probe_memfd_noexec())
		return 0;
	if (!sb->allow_degraded)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "this kernel cannot make memfds non-executable (MFD_NOEXEC_SEAL, "
		    "Linux >= 6.3), so a program could run any code it writes to "
		    "one around the exec allow-list; refusing to run less confined "
		    "than asked (--allow-degraded runs so)");
	plan->memfd_noexec_unavailable = true;
	return 0;
}

/* The layout, then the Landlock rules that follow from it. */
static int build_plan(Plan *plan, const PlanInput *in, ob_error *reterr)
{
	int r = plan_build(plan, in, reterr);
	if (r >= 0 && plan->landlock_abi > 0)
		r = fs_rules_build(plan, in->caps, in->ctx, in->host_path, reterr);
	return r;
}

int sandbox_plan(ob_sandbox *sb, Plan *plan, bool probe_userns, ob_error *reterr)
{
	PlanInput in = {.argv = sb->argv,
	                .caps = sb->caps,
	                .ctx = sb->ctx,
	                .limits = &sb->limits,
	                .mode = sb->mode,
	                /* only native traps connect(): the others reach granted network
	                 * through the proxy (SPEC §3) */
	                .egress = sb->backend == OB_BACKEND_NATIVE ? sb->egress : OB_EGRESS_PROXY,
	                .workdir = sb->workdir,
	                .extra_env = sb->env,
	                .host_path = getenv("PATH"),
	                .secrets = sb->secrets,
	                .registry_dir = sb->registry_dir,
	                .artifacts_dir = sb->artifacts_dir};

	*plan = (Plan){0};
	if (!sb->argv)
		return ob_error_set(reterr, -EINVAL, "no program given");
	int r = apply_component(sb, reterr);
	if (r < 0)
		return r;
	r = sb->learn
	        ? learn_prepare(sb->learn, sb->backend, &sb->mode, &sb->caps, sb->secrets, reterr)
	        : 0;
	if (r < 0)
		return r;
	in.caps = sb->caps;
	in.mode = sb->mode;
	r = identity_decision(sb, reterr);
	if (r >= 0)
		r = landlock_decision(sb, &in.landlock_abi, reterr);
	if (r < 0)
		return r;
	r = build_plan(plan, &in, reterr);
	if (r >= 0 && plan->transparent && !probe_transparent_egress()) {
		if (!sb->allow_degraded)
			return ob_error_set(reterr, -EOPNOTSUPP,
			                    "transparent egress needs pidfd_getfd and "
			                    "SECCOMP_ADDFD_FLAG_SETFD (Linux >= 5.14); refusing to "
			                    "run less confined than asked (--egress proxy uses the "
			                    "proxy alone; --allow-degraded falls back to it)");
		plan_done(plan);
		in.egress = OB_EGRESS_PROXY;
		r = build_plan(plan, &in, reterr);
		plan->transparent_unavailable = true;
	}
	if (r < 0)
		return r;
	r = sb->learn ? learn_plan(sb->learn, plan) : 0;
	if (r >= 0)
		r = memfd_decision(sb, plan, reterr);
	if (r >= 0)
		/* runc and crun as root get the overlays from the supervisor (oci-disk.c) */
		r = overlay_decision(
		    sb->backend == OB_BACKEND_NATIVE ||
		        (plan->id_base && (sb->backend != OB_BACKEND_GVISOR || !plan->proxy)),
		    sb->allow_degraded, plan, reterr);
	if (r >= 0 && sb->backend != OB_BACKEND_NATIVE)
		r = backend_decision(sb, plan, reterr);
	/* Whether user namespaces are refused is asked only where the answer shapes the plan:
	 * with --allow-degraded (the tier without them) and for a plan shown. A run without it
	 * learns it from its own clone, which fails with the same message (start.c): the probe,
	 * a child cloned into a user namespace and waited for, cost up to a millisecond. */
	if (r >= 0 && sb->backend == OB_BACKEND_NATIVE && (sb->allow_degraded || probe_userns) &&
	    nons_needed())
		r = nons_plan(plan, sb->allow_degraded, reterr);
	if (r < 0)
		return r;
	/* learning also traps stat and access: a hidden host file is looked at on the host */
	return filter_build(&plan->seccomp, &sb->seccomp_profile, plan->n_dbs > 0 || sb->learn,
	                    reterr);
}

json_t *sandbox_limits_json(const ob_limits *l)
{
	json_t *o = json_object();
	for (int i = 0; o && i < OB_LIMIT_MAX; i++) {
		char v[32];
		ob_limit_format((ob_limit)i, l->value[i], v, sizeof(v));
		(void)json_object_set_new(o, ob_limit_to_string((ob_limit)i), json_string(v));
	}
	return o;
}

json_t *sandbox_granted_json(const ob_sandbox *sb)
{
	json_t *a = json_array();
	for (size_t i = 0; sb->caps && i < ob_capset_size(sb->caps); i++) {
		const ob_capability *c = ob_capset_get(sb->caps, i);
		if (!ob_capability_is_active(c, sb->ctx))
			continue;
		char buf[PATTERN_PATH_MAX + 64];
		capability_format(c, /* with_when= */ false, buf, sizeof(buf));
		(void)json_array_append_new(a, json_string(buf));
	}
	return a;
}

int ob_sandbox_plan_json(ob_sandbox *sb, char **ret, ob_error *reterr)
{
	Plan plan;
	char helper[4096], loader[4096];

	assert_return(sb && ret, -EINVAL);
	int r = sandbox_plan(sb, &plan, true, reterr);
	if (r < 0) {
		plan_done(&plan);
		return r;
	}
	json_t *o = plan_to_json(&plan);
	if (o)
		(void)json_object_set_new(
		    o, "seccomp", filter_profile_json(&sb->seccomp_profile, plan.n_dbs > 0));
	/* another backend: the bundle's config.json it would run (generated files left out) */
	if (o && sb->backend != OB_BACKEND_NATIVE)
		(void)json_object_set_new(
		    o, "oci",
		    oci_config(
		        &plan,
		        &(OciOptions){.seccomp = &sb->seccomp_profile,
		                      .gvisor = sb->backend == OB_BACKEND_GVISOR,
		                      .rootless = geteuid() != 0,
		                      .helper = sandbox_oci_helper(sb, helper, sizeof(helper)),
		                      .loader = sandbox_gvisor_loader(sb, loader, sizeof(loader)),
		                      /* the supervisor's namespace holding the proxy's listener */
		                      .netns = plan.proxy ? "/proc/SUPERVISOR/fd/N" : NULL,
		                      /* a private directory made for each run */
		                      .listener = sb->backend == OB_BACKEND_GVISOR
		                                      ? NULL
		                                      : "$TMPDIR/omnibase-sl-XXXXXX/seccomp.sock"},
		        NULL));
	if (o)
		(void)json_object_set_new(o, "backend",
		                          json_string(ob_backend_to_string(sb->backend)));
	json_t *egress = o ? json_object_get(o, "egress") : NULL;
	/* the host unix sockets the supervisor may connect the program to (notify-unix.c) */
	json_t *unix_grants = egress ? unix_grants_json(sb) : NULL;
	if (json_array_size(unix_grants) > 0)
		(void)json_object_set_new(egress, "unix_sockets", unix_grants);
	else
		json_decref(unix_grants);
	if (egress && sb->backend != OB_BACKEND_NATIVE)
		(void)json_object_set_new(egress, "note",
		                          json_string("trapping connect() is the native backend's: "
		                                      "this backend uses the proxy only"));
	plan_done(&plan);
	if (!o)
		return -ENOMEM;
	(void)json_object_set_new(o, "mode", json_string(ob_sandbox_mode_to_string(sb->mode)));
	(void)json_object_set_new(o, "limits", sandbox_limits_json(&sb->limits));
	(void)json_object_set_new(o, "capabilities", sandbox_granted_json(sb));
	plan_json_name_access(o);
	if (sb->review) /* the same as `caps review`: why each capability is or is not there */
		(void)json_object_set(o, "policy", (json_t *)review_json(sb->review));
	*ret = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return *ret ? 0 : -ENOMEM;
}
