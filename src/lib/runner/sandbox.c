/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob_sandbox: the builder (setters validate and copy, no syscalls) and the supervisor's side
 * of a run: plan, cgroup, clone, id maps, wait with a timeout, account, report.
 */
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
#include "egress/dnsstub.h"
#include "egress/proxy.h"
#include "egress/tconnect.h"
#include "model/capability.h"
#include "plan/dbfiles.h"
#include "plan/fs-rules.h"
#include "plan/plan.h"
#include "plan/syscall-filter.h"
#include "policy/registry.h"
#include "runner/cgroup.h"
#include "runner/notify.h"
#include "runner/output.h"
#include "runner/probe.h"
#include "runner/spawn.h"

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
	bool capture_output;
	bool verbose; /* also report what was allowed */
	char *log_paths[MAX_SINK_PATHS];
	size_t n_log_paths;
	char *socket_paths[MAX_SINK_PATHS];
	size_t n_socket_paths;
	int sink_fds[MAX_SINK_PATHS];
	size_t n_sink_fds;
	SeccompProfile seccomp_profile; /* --seccomp-profile additions and removals */
	char *component;                /* --component: grants come from the registry's policy */
	bool narrow;       /* the caps given besides it only narrow what the policy grants */
	ob_review *review; /* the component's decisions, once planned */
};

static const char *const mode_table[OB_MODE_MAX] = {
    [OB_MODE_SANDBOX] = "sandbox",
    [OB_MODE_RX] = "rx",
    [OB_MODE_RWX] = "rwx",
};

static const char *const backend_table[OB_BACKEND_MAX] = {
    [OB_BACKEND_NATIVE] = "native",
    [OB_BACKEND_GVISOR] = "gvisor",
    [OB_BACKEND_CRUN] = "crun",
    [OB_BACKEND_RUNC] = "runc",
};

/* The index of NAME in TABLE (N entries), or -EINVAL. */
static int table_index(const char *const *table, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (streq(name, table[i]))
			return i;
	return -EINVAL;
}

const char *ob_backend_to_string(ob_backend backend)
{
	return backend >= 0 && backend < OB_BACKEND_MAX ? backend_table[backend] : NULL;
}

ob_backend ob_backend_from_string(const char *name)
{
	return (ob_backend)table_index(backend_table, OB_BACKEND_MAX, name);
}

int ob_sandbox_set_backend(ob_sandbox *sb, ob_backend backend)
{
	assert_return(sb && backend >= 0 && backend < OB_BACKEND_MAX, -EINVAL);
	sb->backend = backend;
	return 0;
}

static const char *const egress_table[OB_EGRESS_MAX] = {
    [OB_EGRESS_BOTH] = "both",
    [OB_EGRESS_PROXY] = "proxy",
    [OB_EGRESS_TRANSPARENT] = "transparent",
};

const char *ob_egress_to_string(ob_egress egress)
{
	return egress >= 0 && egress < OB_EGRESS_MAX ? egress_table[egress] : NULL;
}

ob_egress ob_egress_from_string(const char *name)
{
	return (ob_egress)table_index(egress_table, OB_EGRESS_MAX, name);
}

int ob_sandbox_set_egress(ob_sandbox *sb, ob_egress egress)
{
	assert_return(sb && egress >= 0 && egress < OB_EGRESS_MAX, -EINVAL);
	sb->egress = egress;
	return 0;
}

const char *ob_sandbox_mode_to_string(ob_sandbox_mode mode)
{
	return mode >= 0 && mode < OB_MODE_MAX ? mode_table[mode] : NULL;
}

ob_sandbox_mode ob_sandbox_mode_from_string(const char *name)
{
	return (ob_sandbox_mode)table_index(mode_table, OB_MODE_MAX, name);
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

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

ob_sandbox *ob_sandbox_free(ob_sandbox *sb)
{
	if (!sb)
		return NULL;
	ob_capset_unref(sb->caps);
	ob_context_free(sb->ctx);
	free(sb->component);
	(void)ob_review_free(sb->review);
	seccomp_profile_done(&sb->seccomp_profile);
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
	SeccompProfile p;

	assert_return(sb && path, -EINVAL);
	int r = seccomp_profile_load(path, &p, reterr);
	if (r < 0)
		return r;
	seccomp_profile_done(&sb->seccomp_profile);
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

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = reallocarray(*v, *n + 2, sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
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
static const char *oci_helper(const ob_sandbox *sb, char *buf, size_t size)
{
	if (sb->backend == OB_BACKEND_GVISOR || sb->backend == OB_BACKEND_NATIVE)
		return NULL;
	if (backend_exec_helper(buf, size))
		return buf;
	buf[0] = '\0';
	return NULL;
}

/* What another backend cannot provide fails the run (125), said here; what it provides
 * less of (gVisor: no Landlock, no observed denials; runc/crun without omnibase-exec: no
 * Landlock) needs --allow-degraded. */
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
	char helper[4096];
	bool landlock = p->landlock_abi > 0 && oci_helper(sb, helper, sizeof(helper));
	/* as natively, mode rwx asks for no Landlock rules */
	if (!sb->allow_degraded &&
	    (sb->backend == OB_BACKEND_GVISOR || (!landlock && sb->mode != OB_MODE_RWX)))
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "backend %s applies no Landlock rules (the exec allow-list)%s (the mount "
		    "layout and the seccomp allow-list confine the program); refusing to run "
		    "less confined than asked (--allow-degraded runs it so)",
		    name,
		    sb->backend == OB_BACKEND_GVISOR ? " and records no refused system call"
		    : p->landlock_abi > 0            ? ": omnibase-exec is not installed"
		                                     : ": this kernel has no Landlock");
	return 0;
}

/* A network grant wants Landlock's TCP rules; Landlock is there but too old for them. */
static bool landlock_tcp_missing(const Plan *p)
{
	return (p->proxy || p->transparent) && p->landlock_abi > 0 && !p->tcp_connect_handled;
}

/* Fail closed: a run without Landlock needs --allow-degraded (and then says so). */
static int landlock_decision(const ob_sandbox *sb, int *ret_abi, ob_error *reterr)
{
	*ret_abi = fs_rules_abi();
	if (*ret_abi > 0 || sb->mode == OB_MODE_RWX || sb->allow_degraded)
		return 0;
	return ob_error_set(reterr, -EOPNOTSUPP,
	                    "Landlock is not available on this kernel; refusing to run less "
	                    "confined than asked (--allow-degraded runs without it)");
}

static int sandbox_plan(ob_sandbox *sb, Plan *plan, ob_error *reterr)
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
	in.caps = sb->caps;
	r = landlock_decision(sb, &in.landlock_abi, reterr);
	if (r < 0)
		return r;
	r = plan_build(plan, &in, reterr);
	if (r >= 0 && plan->transparent && !probe_transparent_egress()) {
		if (!sb->allow_degraded)
			return ob_error_set(reterr, -EOPNOTSUPP,
			                    "transparent egress needs pidfd_getfd and "
			                    "SECCOMP_ADDFD_FLAG_SETFD (Linux >= 5.14); refusing to "
			                    "run less confined than asked (--egress proxy uses the "
			                    "proxy alone; --allow-degraded falls back to it)");
		plan_done(plan);
		in.egress = OB_EGRESS_PROXY;
		r = plan_build(plan, &in, reterr);
		plan->transparent_unavailable = true;
	}
	if (r < 0)
		return r;
	if (r >= 0 && sb->backend != OB_BACKEND_NATIVE)
		r = backend_decision(sb, plan, reterr);
	if (r < 0)
		return r;
	if (landlock_tcp_missing(plan) && !sb->allow_degraded)
		return ob_error_set(reterr, -EOPNOTSUPP,
		                    "Landlock on this kernel (ABI %d) cannot restrict TCP connect "
		                    "(ABI 4 needed) for the network grant; refusing to run less "
		                    "confined than asked (--allow-degraded runs without it)",
		                    plan->landlock_abi);
	return seccomp_build(&plan->seccomp, &sb->seccomp_profile, plan->n_dbs > 0, reterr);
}

static json_t *limits_json(const ob_limits *l)
{
	json_t *o = json_object();
	for (int i = 0; o && i < OB_LIMIT_MAX; i++) {
		char v[32];
		ob_limit_format((ob_limit)i, l->value[i], v, sizeof(v));
		(void)json_object_set_new(o, ob_limit_to_string((ob_limit)i), json_string(v));
	}
	return o;
}

static json_t *granted_json(const ob_sandbox *sb)
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
	char helper[4096];

	assert_return(sb && ret, -EINVAL);
	int r = sandbox_plan(sb, &plan, reterr);
	if (r < 0) {
		plan_done(&plan);
		return r;
	}
	json_t *o = plan_to_json(&plan);
	if (o)
		(void)json_object_set_new(
		    o, "seccomp", seccomp_profile_json(&sb->seccomp_profile, plan.n_dbs > 0));
	/* another backend: the bundle's config.json it would run (generated files left out) */
	if (o && sb->backend != OB_BACKEND_NATIVE)
		(void)json_object_set_new(
		    o, "oci",
		    oci_config(
		        &plan,
		        &(OciOptions){.seccomp = &sb->seccomp_profile,
		                      .gvisor = sb->backend == OB_BACKEND_GVISOR,
		                      .rootless = geteuid() != 0,
		                      .helper = oci_helper(sb, helper, sizeof(helper)),
		                      /* a private directory made for each run */
		                      .listener = sb->backend == OB_BACKEND_GVISOR
		                                      ? NULL
		                                      : "$TMPDIR/omnibase-sl-XXXXXX/seccomp.sock"},
		        NULL));
	if (o)
		(void)json_object_set_new(o, "backend",
		                          json_string(ob_backend_to_string(sb->backend)));
	json_t *egress = o ? json_object_get(o, "egress") : NULL;
	if (egress && sb->backend != OB_BACKEND_NATIVE)
		(void)json_object_set_new(egress, "note",
		                          json_string("trapping connect() is the native backend's: "
		                                      "this backend uses the proxy only"));
	plan_done(&plan);
	if (!o)
		return -ENOMEM;
	(void)json_object_set_new(o, "mode", json_string(mode_table[sb->mode]));
	(void)json_object_set_new(o, "limits", limits_json(&sb->limits));
	(void)json_object_set_new(o, "capabilities", granted_json(sb));
	if (sb->review) /* the same as `caps review`: why each capability is or is not there */
		(void)json_object_set(o, "policy", (json_t *)review_json(sb->review));
	*ret = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return *ret ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- running */

/* How long the supervisor stays awake for the next notification (see serve_notifications). */
#define NOTIFY_SPIN_NS (50L * 1000)

typedef struct Run {
	ob_sandbox *sb;
	Plan plan;
	Audit audit;
	Cgroup cg;
	pid_t pid;
	int report_fd;
	ChildReport last; /* the most telling report: a failure beats "exited" */
	Stream out[2];    /* the program's stdout and stderr */
	int notify_sock;  /* the listener arrives here */
	int proxy_sock;   /* the egress sockets (proxy, DNS stub) arrive here, or -1 */
	Proxy *proxy;
	DnsStub *dns;
	Tconnect *tc;
	/* another backend than native: its runtime, the bundle, the container's name */
	char runtime[4096];
	char helper[4096]; /* omnibase-exec, when Landlock is applied inside */
	OciBundle bundle;
	char container[64];
	bool oci_finished;  /* the runtime ran the container to its end by itself */
	int seccomp_listen; /* where the runtime sends the seccomp listener, or -1 */
	GvTrace *trace;     /* gVisor: its strace log */
	char listener_dir[PATH_MAX];
	int netns_fd; /* the network namespace a container with network grants joins */
	Notifier notifier;
	bool got_exit, got_failure, report_hup;
	bool rlimit_pids_hit; /* rootless without cgroups: the process count reached --pids */
	struct timespec start;
} Run;

static uint64_t elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - start->tv_sec) * 1000 +
	             (int64_t)(now.tv_nsec - start->tv_nsec) / 1000000;
	return ms > 0 ? (uint64_t)ms : 0;
}

static void read_reports(Run *run)
{
	ChildReport r;

	while (read(run->report_fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		if (r.kind == REPORT_EXITED) {
			run->got_exit = true;
			if (!run->got_failure)
				run->last = r;
		} else {
			run->got_failure = true;
			run->last = r;
		}
	}
}

static void emit_denial(void *userdata, const char *capability, const char *resource,
                        const char *operation, int pid)
{
	Run *run = userdata;
	audit_emit(&run->audit, "CapabilityDenied",
	           json_pack("{s:s, s:s, s:s, s:i}", "capability", capability, "resource", resource,
	                     "operation", operation, "pid", pid));
}

static void emit_violation(void *userdata, const char *syscall, const char *detail, int pid)
{
	Run *run = userdata;
	audit_emit(&run->audit, "SandboxViolation",
	           json_pack("{s:s, s:s, s:s, s:i}", "syscall", syscall, "operation", "syscall",
	                     "detail", detail, "pid", pid));
}

static void emit_proxy_denial(void *userdata, const char *capability, const char *resource,
                              const char *why)
{
	Run *run = userdata;
	audit_emit(&run->audit, "CapabilityDenied",
	           json_pack("{s:s, s:s, s:s, s:s, s:i}", "capability", capability, "resource",
	                     resource, "operation", "connect", "detail", why, "pid", 0));
}

static void emit_limit(Run *run, ob_limit l);

static void emit_proxy_limit(void *userdata, ob_limit l)
{
	emit_limit(userdata, l);
}

/* A connection made (--verbose): the counterpart of CapabilityDenied. */
static void emit_proxy_allowed(void *userdata, const char *resource, const char *address)
{
	Run *run = userdata;
	audit_emit(&run->audit, "CapabilityUsed",
	           json_pack("{s:s, s:s, s:s, s:s, s:i}", "capability", "NETWORK_CONNECT",
	                     "resource", resource, "operation", "connect", "address", address,
	                     "pid", 0));
}

static void emit_dns_denial(void *userdata, const char *name, const char *why)
{
	Run *run = userdata;
	audit_emit(&run->audit, "CapabilityDenied",
	           json_pack("{s:s, s:s, s:s, s:s, s:i}", "capability", "NETWORK_CONNECT",
	                     "resource", name, "operation", "resolve", "detail", why, "pid", 0));
}

static void emit_tc_denial(void *userdata, const char *resource, const char *why, int pid)
{
	Run *run = userdata;
	audit_emit(&run->audit, "CapabilityDenied",
	           json_pack("{s:s, s:s, s:s, s:s, s:i}", "capability", "NETWORK_CONNECT",
	                     "resource", resource, "operation", "connect", "detail", why, "pid",
	                     pid));
}

static void emit_tc_allowed(void *userdata, const char *resource, const char *address, int pid)
{
	Run *run = userdata;
	audit_emit(&run->audit, "CapabilityUsed",
	           json_pack("{s:s, s:s, s:s, s:s, s:i}", "capability", "NETWORK_CONNECT",
	                     "resource", resource, "operation", "connect", "address", address,
	                     "pid", pid));
}

/* The transparent path: the DNS stub on UDP and TCP, and the connects it serves. */
static void start_transparent(Run *run, int udp, int tcp)
{
	const DnsReport drep = {.deny = emit_dns_denial, .userdata = run};
	const TconnectReport trep = {.deny = emit_tc_denial,
	                             .allow = run->sb->verbose ? emit_tc_allowed : NULL,
	                             .limit = emit_proxy_limit,
	                             .userdata = run};
	uint64_t netns = tconnect_netns_of(udp);

	if (dnsstub_new(udp, tcp, run->sb->caps, run->sb->ctx, &drep, &run->dns) < 0) {
		(void)close(udp);
		(void)close(tcp);
		return;
	}
	const TconnectConfig cfg = {.caps = run->sb->caps,
	                            .ctx = run->sb->ctx,
	                            .dns = run->dns,
	                            .proxy = run->plan.proxy,
	                            .max_connections =
	                                (unsigned)run->plan.limits.value[OB_LIMIT_CONNECTIONS],
	                            .sandbox_netns = netns};
	/* Without it the program's connects run under the kernel's fences only: the empty
	 * namespace and Landlock (no TCP port allowed) refuse them all. */
	if (netns && tconnect_new(&cfg, &trep, &run->tc) >= 0)
		run->notifier.tc = run->tc;
}

/* The egress proxy on LISTENER (taken). */
static void start_proxy(Run *run, int listener)
{
	/* The caps are limits (connections, egress); the clocks are fixed: a minute of
	 * silence, ten seconds to say where to. */
	const ProxyLimits lim = {.max_connections =
	                             (unsigned)run->plan.limits.value[OB_LIMIT_CONNECTIONS],
	                         .max_bytes = run->plan.limits.value[OB_LIMIT_EGRESS],
	                         .idle_ms = 60000,
	                         .head_ms = 10000};
	const ProxyReport rep = {.deny = emit_proxy_denial,
	                         .allow = run->sb->verbose ? emit_proxy_allowed : NULL,
	                         .limit = emit_proxy_limit,
	                         .userdata = run};
	if (proxy_new(listener, run->sb->caps, run->sb->ctx, &lim, &rep, &run->proxy) < 0)
		(void)close(listener);
}

/* PID 1 sends the egress sockets once, before the program starts: the proxy's listener, the
 * DNS stub's UDP and TCP sockets, as the plan has them. */
static void receive_egress(Run *run)
{
	int fds[3] = {-1, -1, -1};
	size_t n = (run->plan.proxy ? 1 : 0) + (run->plan.transparent ? 2 : 0);
	int r = notify_receive_fds(run->proxy_sock, fds, n);
	(void)close(run->proxy_sock);
	run->proxy_sock = -1;
	if (r < 0)
		return;
	if (run->plan.proxy)
		start_proxy(run, fds[0]);
	if (run->plan.transparent)
		start_transparent(run, fds[n - 2], fds[n - 1]);
}

/* The runtime connected to send the seccomp listener: what it sends is read like the native
 * program's (receive_listener). */
static void accept_listener(Run *run)
{
	int c = accept4(run->seccomp_listen, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	(void)close(run->seccomp_listen);
	run->seccomp_listen = -1;
	run->notify_sock = c;
}

/* The sandboxed program sends its seccomp listener once, right before its first execve. */
static void receive_listener(Run *run)
{
	int fd = notify_receive(run->notify_sock);
	(void)close(run->notify_sock);
	run->notify_sock = -1;
	if (fd < 0)
		return;
	run->notifier = (Notifier){.fd = fd,
	                           .plan = &run->plan,
	                           .deny = emit_denial,
	                           .violation = emit_violation,
	                           .userdata = run,
	                           .mem_fd = -1,
	                           .root_fd = -1,
	                           .tc = run->tc,
	                           .trusted_exec = run->helper[0] ? OCI_HELPER_DEST : NULL};
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

/* Without a cgroup, RLIMIT_NPROC holds the process count but tells nobody: the supervisor
 * counts the sandbox's processes in its own /proc (reached through PID 1's root) at each
 * wake-up (at least every 100 ms), and a count at the limit is the limit hit. */
static void watch_rlimit_pids(Run *run)
{
	char path[96];
	struct dirent *de;
	uint64_t n = 0;
	int child = 0;

	if (run->cg.version != 0 || run->rlimit_pids_hit || run->pid <= 0)
		return;
	/* Through PID 1's first child, the program: PID 1 itself is not dumpable, and a
	 * rootless supervisor may not look into its root. */
	(void)snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)run->pid,
	               (int)run->pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &child) != 1 || child <= 0)
		return;
	(void)snprintf(path, sizeof(path), "/proc/%d/root/proc", child);
	_cleanup_(closedirp) DIR *d = opendir(path);
	while (d && (de = readdir(d)))
		n += de->d_name[0] >= '1' && de->d_name[0] <= '9';
	/* PID 1 counted too: whether the kernel counts it against the uid or not, a full table
	 * reaches the limit either way */
	if (n >= run->plan.limits.value[OB_LIMIT_PIDS])
		run->rlimit_pids_hit = true;
}

/* Answers a notification, then keeps looking for the next one for a short while before going
 * back to poll: observed calls come in runs (a program start opens dozens of files), and a
 * supervisor that is still awake answers the next one without the sleep and wake-up that
 * otherwise cost most of a round trip. */
static void serve_notifications(Run *run)
{
	struct timespec start, now;

	notify_handle(&run->notifier);
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = {.fd = run->notifier.fd, .events = POLLIN};
		if (p.fd < 0 || poll(&p, 1, 0) < 0)
			return;
		if (p.revents & POLLIN) {
			notify_handle(&run->notifier);
			(void)clock_gettime(CLOCK_MONOTONIC, &start);
			continue;
		}
		if (p.revents & (POLLHUP | POLLERR))
			return;
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) >
		    NOTIFY_SPIN_NS)
			return;
	}
}

/* What wait_child's poll found, P[1..11] in its order, served. */
static void serve_events(Run *run, const struct pollfd *p)
{
	if (p[1].revents & POLLIN)
		read_reports(run);
	else if (p[1].revents & (POLLHUP | POLLERR))
		run->report_hup = true; /* every writer is gone: stop polling it */
	for (int i = 0; i < 2; i++)
		if (p[2 + i].revents & (POLLIN | POLLHUP | POLLERR))
			stream_pump(&run->out[i]);
	/* the egress sockets were sent first: in place before the first notification */
	if (p[6].revents)
		receive_egress(run);
	if (p[10].revents)
		accept_listener(run);
	if (p[4].revents)
		receive_listener(run);
	if (p[5].revents & POLLIN)
		serve_notifications(run);
	else if (p[5].revents & (POLLHUP | POLLERR))
		notify_done(&run->notifier); /* every trapped process is gone */
	if (p[7].revents & POLLIN)
		proxy_dispatch(run->proxy);
	if (p[8].revents & POLLIN)
		dnsstub_dispatch(run->dns);
	if (p[9].revents & POLLIN)
		tconnect_dispatch(run->tc);
	if (p[11].revents & POLLIN)
		gvtrace_dispatch(run->trace);
}

/* Waits for the child (PID 1 of the sandbox) or the timeout, whichever comes first, relaying
 * the program's output meanwhile; then drains the output (for at most a second). */
static bool wait_child(Run *run, int *wstatus)
{
	uint64_t timeout = run->plan.limits.value[OB_LIMIT_TIMEOUT];
	int pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
	bool timed_out = false, exited = false;

	if (pidfd < 0)
		exited = true; /* no pidfd: wait below, then drain */
	for (;;) {
		uint64_t spent = elapsed_ms(&run->start);
		if (!exited && !timed_out && spent >= timeout) {
			timed_out = true;
			/* PID 1 dies, and the kernel kills the whole pid namespace with it. */
			if (run->sb->backend == OB_BACKEND_NATIVE)
				(void)kill(run->pid, SIGKILL);
			else /* the runtime waits for its container: kill that */
				backend_kill(run->sb->backend, run->runtime, run->bundle.dir,
				             run->container);
		}
		if (exited && run->out[0].fd < 0 && run->out[1].fd < 0)
			break;
		struct pollfd p[12] = {
		    {.fd = exited ? -1 : pidfd, .events = POLLIN},
		    {.fd = run->report_hup ? -1 : run->report_fd, .events = POLLIN},
		    {.fd = run->out[0].fd, .events = POLLIN},
		    {.fd = run->out[1].fd, .events = POLLIN},
		    {.fd = run->notify_sock, .events = POLLIN},
		    {.fd = run->notifier.fd, .events = POLLIN},
		    {.fd = run->proxy_sock, .events = POLLIN},
		    {.fd = proxy_fd(run->proxy), .events = POLLIN},
		    {.fd = dnsstub_fd(run->dns), .events = POLLIN},
		    {.fd = tconnect_fd(run->tc), .events = POLLIN},
		    {.fd = run->seccomp_listen, .events = POLLIN},
		    {.fd = -1, .events = POLLIN}};
		int wait_ms = exited ? 1000 : timed_out ? 100 : (int)MIN(timeout - spent, 100);
		/* once the program is gone, no batching: the drain below waits up to a second */
		p[11].fd = exited ? gvtrace_fd(run->trace) : gvtrace_poll_fd(run->trace, &wait_ms);
		int n = poll(p, 12, wait_ms);
		if (n == 0 && exited)
			break; /* nothing more within a second: stop draining */
		if (p[0].revents & POLLIN)
			exited = true;
		serve_events(run, p);
		if (!exited && run->sb->backend == OB_BACKEND_NATIVE)
			watch_rlimit_pids(run);
	}
	while (waitpid(run->pid, wstatus, 0) < 0 && errno == EINTR)
		;
	run->pid = -1;
	if (pidfd >= 0)
		(void)close(pidfd);
	if (run->trace) /* the runtime is gone, and the Sentry with it: its last lines */
		gvtrace_dispatch(run->trace);
	read_reports(run);
	return timed_out;
}

/* What an OCI backend applies: the runtime's namespaces, cgroup limits and the seccomp
 * allow-list; on runc/crun Landlock (omnibase-exec) and the refusals recorded through the
 * seccomp listener. */
static json_t *oci_protections_json(const Run *run)
{
	/* the runtime by path: asking its version costs a run of it (doctor says it) */
	bool rootless = geteuid() != 0; /* runsc --rootless: its own user namespace, no cgroup */
	return json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:b, s:i, s:s, s:b, "
	                 "s:b}",
	                 "backend", ob_backend_to_string(run->sb->backend), "runtime", run->runtime,
	                 "userns", rootless, "mntns", 1, "pidns", 1, "netns", 1, "ipcns", 1,
	                 "utsns", 1, "no_new_privs", 1, "cgroup", rootless ? "none" : "runtime",
	                 "rlimits", rootless, "landlock",
	                 run->helper[0] ? run->plan.landlock_abi : 0, "seccomp",
	                 run->listener_dir[0] ? "allow-list (refusals recorded)"
	                                      : "allow-list (EPERM, not recorded)",
	                 "observed_denials", run->listener_dir[0] != '\0' || run->trace,
	                 "egress_proxy", run->plan.proxy);
}

static json_t *protections_json(const Run *run)
{
	if (run->sb->backend != OB_BACKEND_NATIVE)
		return oci_protections_json(run);
	return json_pack(
	    "{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:b, s:i, s:b, s:s, s:b, s:b}", "userns",
	    1, "mntns", 1, "pidns", 1, "netns", 1, "ipcns", 1, "utsns", 1, "cgroupns", 1,
	    "no_new_privs", 1, "cgroup", cgroup_version_string(&run->cg), "rlimits",
	    run->cg.version == 0, "landlock", run->plan.landlock_abi, "landlock_tcp",
	    run->plan.tcp_connect_handled, "seccomp", "allow-list", "egress_proxy", run->plan.proxy,
	    "egress_transparent", run->plan.transparent);
}

/* One PolicyEvaluated per capability the component requested (SPEC §5). */
static void emit_policy(Run *run)
{
	const json_t *req =
	    run->sb->review ? json_object_get(review_json(run->sb->review), "requested") : NULL;
	size_t i;
	json_t *e;

	json_array_foreach((json_t *)req, i, e) {
		json_t *ids = json_array(), *p;
		size_t k;
		json_array_foreach(json_object_get(e, "policies"), k, p)
			(void)json_array_append(ids, json_object_get(p, "id"));
		audit_emit(&run->audit, "PolicyEvaluated",
		           json_pack("{s:O, s:O, s:O, s:O, s:o, s:O, s:O}", "principal",
		                     json_object_get(e, "principal"), "action",
		                     json_object_get(e, "action"), "resource",
		                     json_object_get(e, "resource"), "decision",
		                     json_object_get(e, "decision"), "policies", ids, "errors",
		                     json_object_get(e, "errors"), "capability",
		                     json_object_get(e, "capability")));
	}
}

static void emit_start(Run *run)
{
	json_t *argv = json_array();
	for (size_t i = 0; run->sb->argv[i]; i++)
		(void)json_array_append_new(argv, json_string(run->sb->argv[i]));
	audit_emit(&run->audit, "SandboxStart",
	           json_pack("{s:s, s:o, s:o, s:o, s:s, s:o}", "program", run->plan.program, "argv",
	                     argv, "capabilities", granted_json(run->sb), "limits",
	                     limits_json(&run->plan.limits), "mode", mode_table[run->sb->mode],
	                     "protections", protections_json(run)));
}

static void emit_limit(Run *run, ob_limit l)
{
	char v[32];
	ob_limit_format(l, run->plan.limits.value[l], v, sizeof(v));
	/* SPEC §5 names the resource "cpu" where the limit is "cpus". */
	audit_emit(&run->audit, "ResourceLimitExceeded",
	           json_pack("{s:s, s:s}", "resource",
	                     l == OB_LIMIT_CPUS ? "cpu" : ob_limit_to_string(l), "limit", v));
}

static int setup_sinks(Run *run, ob_error *reterr)
{
	int r = audit_init(&run->audit, ob_backend_to_string(run->sb->backend));
	run->audit.component = run->sb->component;
	for (size_t i = 0; r >= 0 && i < run->sb->n_log_paths; i++) {
		r = audit_add_path(&run->audit, run->sb->log_paths[i]);
		if (r < 0)
			return ob_error_set(reterr, r, "--audit-log %s: %s", run->sb->log_paths[i],
			                    strerror(-r));
	}
	for (size_t i = 0; r >= 0 && i < run->sb->n_socket_paths; i++) {
		r = audit_add_socket(&run->audit, run->sb->socket_paths[i]);
		if (r < 0)
			return ob_error_set(reterr, r, "--audit-socket %s: %s",
			                    run->sb->socket_paths[i], strerror(-r));
	}
	for (size_t i = 0; r >= 0 && i < run->sb->n_sink_fds; i++)
		r = audit_add_fd(&run->audit, run->sb->sink_fds[i], false);
	return r < 0 ? ob_error_set(reterr, r, "audit sinks: %s", strerror(-r)) : 0;
}

/* Clones the sandbox and completes the handshake: id maps, cgroup, go. */
static int start_child(Run *run, ob_error *reterr)
{
	int sync_pipe[2], report_pipe[2];
	bool root = geteuid() == 0;

	/* A socket, not a pipe, so that a child that died early costs EPIPE, not SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pipe) < 0)
		return ob_error_set(reterr, -errno, "socketpair: %s", strerror(errno));
	if (pipe2(report_pipe, O_CLOEXEC | O_DIRECT) < 0) {
		(void)close(sync_pipe[0]);
		(void)close(sync_pipe[1]);
		return ob_error_set(reterr, -errno, "pipe: %s", strerror(errno));
	}
	int outp[2][2] = {{-1, -1}, {-1, -1}};
	for (int i = 0; i < 2; i++)
		if (pipe2(outp[i], O_CLOEXEC) < 0)
			return ob_error_set(reterr, -errno, "pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		run->out[i] = (Stream){.fd = outp[i][0],
		                       .out_fd = run->sb->capture_output ? -1 : 1 + i,
		                       .cap = run->plan.limits.value[OB_LIMIT_OUTPUT]};
		(void)fcntl(outp[i][0], F_SETFL, O_NONBLOCK);
	}
	int nsock[2], join[CG_MAX];
	int r = cgroup_open_join_fds(&run->cg, join);
	if (r < 0) {
		close_many(join, CG_MAX);
		return ob_error_set(reterr, r, "opening the cgroup: %s", strerror(-r));
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nsock) < 0) {
		close_many(join, CG_MAX);
		return ob_error_set(reterr, -errno, "socketpair: %s", strerror(errno));
	}
	run->notify_sock = nsock[0];
	int psock[2] = {-1, -1};
	if ((run->plan.proxy || run->plan.transparent) &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, psock) < 0) {
		close_many(join, CG_MAX);
		return ob_error_set(reterr, -errno, "socketpair: %s", strerror(errno));
	}
	run->proxy_sock = psock[0];
	SpawnArgs a = {.plan = &run->plan,
	               .proxy_fd = psock[1],
	               .notify_fd = nsock[1],
	               .stdout_fd = outp[0][1],
	               .stderr_fd = outp[1][1],
	               .sync_fd = sync_pipe[0],
	               .report_fd = report_pipe[1],
	               .rlimit_memory = run->cg.version == 0,
	               .rlimit_pids = run->cg.version == 0,
	               .join_fds = {join[0], join[1], join[2]},
	               .set_groups = root};
	r = spawn_sandbox(&a, &run->pid);
	close_many(join, CG_MAX);
	(void)close(outp[0][1]);
	(void)close(outp[1][1]);
	(void)close(nsock[1]);
	if (psock[1] >= 0)
		(void)close(psock[1]);
	(void)close(sync_pipe[0]);
	(void)close(report_pipe[1]);
	run->report_fd = report_pipe[0];
	if (r < 0) {
		(void)close(sync_pipe[1]);
		return ob_error_set(reterr, r, "creating the namespaces: %s%s", strerror(-r),
		                    r == -EPERM || r == -ENOSPC
		                        ? " (are unprivileged user namespaces enabled?)"
		                        : "");
	}
	/* Two steps (see child_main): the maps, then the cgroups while the child sets up. */
	r = spawn_write_idmaps(run->pid, &run->plan, !root);
	if (r >= 0 && send(sync_pipe[1], "m", 1, MSG_NOSIGNAL) != 1)
		r = -errno;
	if (r >= 0)
		r = cgroup_attach(&run->cg, run->pid);
	if (r >= 0 && send(sync_pipe[1], "c", 1, MSG_NOSIGNAL) != 1)
		r = -errno;
	(void)close(sync_pipe[1]);
	if (r < 0)
		return ob_error_set(reterr, r, "setting up the sandbox process: %s", strerror(-r));
	(void)fcntl(run->report_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static void finish(Run *run, int wstatus, bool timed_out, ob_result *res)
{
	CgroupStats st;
	struct rusage ru;

	cgroup_stats(&run->cg, &st);
	res->duration_ms = elapsed_ms(&run->start);
	res->timed_out = timed_out;
	res->oom = st.oom;
	(void)getrusage(RUSAGE_CHILDREN, &ru);
	res->max_rss_kb = (uint64_t)ru.ru_maxrss;
	if (run->sb->backend != OB_BACKEND_NATIVE) {
		/* the runtime exits with the program's status, 128+N for a signal N */
		int c = WIFEXITED(wstatus) && backend_started(run->bundle.dir)
		            ? WEXITSTATUS(wstatus)
		            : OB_EXIT_SETUP;
		run->oci_finished = c != OB_EXIT_SETUP && !timed_out;
		bool sig = c > OB_EXIT_SIGNAL_BASE && c <= OB_EXIT_SIGNAL_BASE + 64;
		res->status = sig ? -1 : c;
		res->signal = sig ? c - OB_EXIT_SIGNAL_BASE : 0;
		res->exit_code = c;
	} else if (run->got_exit && !run->got_failure) {
		int s = run->last.wstatus;
		res->status = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
		res->signal = WIFSIGNALED(s) ? WTERMSIG(s) : 0;
		res->exit_code = WIFEXITED(s) ? res->status : OB_EXIT_SIGNAL_BASE + res->signal;
	} else if (run->got_failure && run->last.kind == REPORT_EXEC_FAILED) {
		res->exit_code = run->last.err == ENOENT ? OB_EXIT_NOTFOUND : OB_EXIT_NOEXEC;
	} else {
		res->exit_code = OB_EXIT_SETUP;
	}
	if (timed_out) {
		res->exit_code = OB_EXIT_TIMEOUT;
		res->signal = SIGKILL;
		emit_limit(run, OB_LIMIT_TIMEOUT);
	}
	if (st.oom)
		emit_limit(run, OB_LIMIT_MEMORY);
	/* Rootless: PID 1 counted what was left when the program ended; with the program itself
	 * that many were alive at once (a lower bound of the peak: never a false alarm). */
	if (run->cg.version == 0 && run->got_exit &&
	    run->last.procs_left + 1 >= run->plan.limits.value[OB_LIMIT_PIDS])
		run->rlimit_pids_hit = true;
	if (st.pids_max || run->rlimit_pids_hit)
		emit_limit(run, OB_LIMIT_PIDS);
	/* Without a cgroup, RLIMIT_DATA refuses allocations silently: a peak within 10 % of the
	 * limit is taken as the limit reached (approximate; documented). */
	if (run->cg.version == 0 && !timed_out &&
	    res->max_rss_kb * 1024 >= run->plan.limits.value[OB_LIMIT_MEMORY] / 10 * 9)
		emit_limit(run, OB_LIMIT_MEMORY);
	if (st.cpu_throttled)
		emit_limit(run, OB_LIMIT_CPUS);
	if (run->last.tmpfs_full)
		emit_limit(run, OB_LIMIT_TMPFS);
	res->output_exceeded = run->out[0].exceeded || run->out[1].exceeded;
	if (res->output_exceeded)
		emit_limit(run, OB_LIMIT_OUTPUT);
	res->stdout_data = TAKE_PTR(run->out[0].buf);
	res->stdout_len = run->out[0].len;
	res->stderr_data = TAKE_PTR(run->out[1].buf);
	res->stderr_len = run->out[1].len;
	res->violations = run->audit.violations;
	json_t *exit_fields =
	    json_pack("{s:i, s:i, s:I, s:I, s:i}", "status", res->status, "signal", res->signal,
	              "duration_ms", (json_int_t)res->duration_ms, "max_rss_kb",
	              (json_int_t)res->max_rss_kb, "violations", (int)res->violations);
	if ((run->proxy || run->tc) && exit_fields) {
		uint64_t conns, out, in, direct, refused, answered, dns_refused;
		proxy_stats(run->proxy, &conns, &out, &in);
		tconnect_stats(run->tc, &direct, &refused);
		dnsstub_stats(run->dns, &answered, &dns_refused);
		/* connections/bytes: through the proxy; direct: sockets connected from the host
		 * side and handed over (their bytes are the kernel's, not counted here) */
		(void)json_object_set_new(
		    exit_fields, "egress",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "connections",
		              (json_int_t)conns, "bytes_out", (json_int_t)out, "bytes_in",
		              (json_int_t)in, "direct_connections", (json_int_t)direct,
		              "direct_refused", (json_int_t)refused, "dns_answered",
		              (json_int_t)answered, "dns_refused", (json_int_t)dns_refused));
	}
	audit_emit(&run->audit, "SandboxExit", exit_fields);
}

/* What runs less confined than it could, each said once (--allow-degraded asked for it). */
static void emit_degraded(Run *run)
{
	static const char *const fmt = "{s:s, s:s}";

	if (run->sb->backend == OB_BACKEND_GVISOR)
		audit_emit(&run->audit, "SandboxDegraded",
		           json_pack(fmt, "protection", "landlock, recorded violations", "reason",
		                     "gVisor: no Landlock inside its kernel (no exec allow-list), "
		                     "refused system calls unrecorded (denied opens and connects "
		                     "are, from runsc's strace); --allow-degraded"));
	else if (run->sb->backend != OB_BACKEND_NATIVE && run->sb->mode != OB_MODE_RWX &&
	         (!run->helper[0] || run->plan.landlock_abi == 0))
		audit_emit(&run->audit, "SandboxDegraded",
		           json_pack(fmt, "protection", "landlock", "reason",
		                     "omnibase-exec not installed or no Landlock on this kernel; "
		                     "--allow-degraded"));
	else if (run->plan.landlock_abi == 0 && run->sb->mode != OB_MODE_RWX)
		audit_emit(&run->audit, "SandboxDegraded",
		           json_pack(fmt, "protection", "landlock", "reason",
		                     "not available on this kernel; --allow-degraded"));
	if (run->plan.transparent_unavailable)
		audit_emit(&run->audit, "SandboxDegraded",
		           json_pack(fmt, "protection", "egress-transparent", "reason",
		                     "pidfd_getfd or SECCOMP_ADDFD_FLAG_SETFD unavailable: the "
		                     "proxy alone; --allow-degraded"));
	if (landlock_tcp_missing(&run->plan))
		audit_emit(&run->audit, "SandboxDegraded",
		           json_pack(fmt, "protection", "landlock-tcp", "reason",
		                     "Landlock ABI < 4 has no TCP rules; --allow-degraded"));
}

/* Everything a run holds, released; a program started but not waited for taken down. */
static void run_done(Run *run)
{
	if (run->pid > 0) {
		(void)kill(run->pid, SIGKILL);
		(void)waitpid(run->pid, NULL, 0);
	}
	if (run->report_fd >= 0)
		(void)close(run->report_fd);
	stream_done(&run->out[0]);
	stream_done(&run->out[1]);
	if (run->notify_sock >= 0)
		(void)close(run->notify_sock);
	if (run->proxy_sock >= 0)
		(void)close(run->proxy_sock);
	/* a runtime that ran its container to the end removed it; after a kill, a failure or
	 * no wait at all, what it left goes */
	if (run->container[0] && !run->oci_finished)
		backend_delete(run->sb->backend, run->runtime, run->bundle.dir, run->container);
	gvtrace_free(run->trace); /* its FIFO is in the bundle */
	oci_bundle_remove(&run->bundle);
	if (run->seccomp_listen >= 0)
		(void)close(run->seccomp_listen);
	if (run->listener_dir[0]) {
		char sock[PATH_MAX + 32];
		(void)snprintf(sock, sizeof(sock), "%s/seccomp.sock", run->listener_dir);
		(void)unlink(sock);
		(void)rmdir(run->listener_dir);
	}
	if (run->netns_fd >= 0)
		(void)close(run->netns_fd);
	proxy_free(run->proxy);
	tconnect_free(run->tc);
	dnsstub_free(run->dns);
	notify_done(&run->notifier);
	cgroup_destroy(&run->cg);
	audit_done(&run->audit);
	plan_done(&run->plan);
}

/* A listening unix socket in a private directory of ours, where the runtime connects to send
 * the seccomp listener (runtime-spec linux.seccomp.listenerPath); its path in PATH. */
static int oci_listener(Run *run, char *path, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	(void)snprintf(run->listener_dir, sizeof(run->listener_dir), "%s/omnibase-sl-XXXXXX",
	               tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(run->listener_dir)) {
		run->listener_dir[0] = '\0';
		return -errno;
	}
	(void)snprintf(path, size, "%s/seccomp.sock", run->listener_dir);
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	run->seccomp_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (run->seccomp_listen < 0 ||
	    bind(run->seccomp_listen, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(run->seccomp_listen, 1) < 0)
		return -errno;
	return 0;
}

/* Another backend: the bundle, and its runtime started on it with our output pipes. */
static int start_oci(Run *run, ob_error *reterr)
{
	int outp[2][2] = {{-1, -1}, {-1, -1}};

	for (int i = 0; i < 2; i++)
		if (pipe2(outp[i], O_CLOEXEC) < 0) {
			int e = -errno;
			close_many(&outp[0][0], 4);
			return ob_error_set(reterr, e, "pipe: %s", strerror(-e));
		}
	for (int i = 0; i < 2; i++) {
		run->out[i] = (Stream){.fd = outp[i][0],
		                       .out_fd = run->sb->capture_output ? -1 : 1 + i,
		                       .cap = run->plan.limits.value[OB_LIMIT_OUTPUT]};
		(void)fcntl(outp[i][0], F_SETFL, O_NONBLOCK);
	}
	if (!backend_find(run->sb->backend, run->runtime, sizeof(run->runtime)))
		return ob_error_set(reterr, -ENOENT, "the runtime of backend %s is gone",
		                    ob_backend_to_string(run->sb->backend));
	/* network grants: the container joins a namespace of ours that holds the proxy's
	 * listener (through /proc/SUPERVISOR/fd/N, an fd we keep open for the run) */
	char netns_path[64] = "";
	int listener = -1;
	int r = 0;
	if (run->plan.proxy) {
		r = backend_netns_create(&run->netns_fd, &listener);
		if (r < 0)
			return ob_error_set(reterr, r,
			                    "the network namespace for the egress proxy: %s",
			                    strerror(-r));
		start_proxy(run, listener);
		(void)snprintf(netns_path, sizeof(netns_path), "/proc/%d/fd/%d", (int)getpid(),
		               run->netns_fd);
	}
	/* runc and crun hand the seccomp listener to a socket of ours: observed as natively */
	char lpath[PATH_MAX + 32] = "";
	if (run->sb->backend != OB_BACKEND_GVISOR) {
		r = oci_listener(run, lpath, sizeof(lpath));
		if (r < 0)
			return ob_error_set(reterr, r, "the seccomp listener's socket: %s",
			                    strerror(-r));
	}
	const OciOptions opt = {.seccomp = &run->sb->seccomp_profile,
	                        .gvisor = run->sb->backend == OB_BACKEND_GVISOR,
	                        .rootless = geteuid() != 0,
	                        .netns = netns_path[0] ? netns_path : NULL,
	                        .helper = oci_helper(run->sb, run->helper, sizeof(run->helper)),
	                        .listener = lpath[0] ? lpath : NULL};
	r = oci_bundle_create(&run->plan, &opt, &run->bundle, reterr);
	(void)snprintf(run->container, sizeof(run->container), "omnibase-%s",
	               run->audit.execution_id);
	const int out[2] = {outp[0][1], outp[1][1]};
	/* gVisor: its strace log of the calls a denial shows in, read from a FIFO */
	char trace[PATH_MAX + 16] = "";
	if (r >= 0 && run->sb->backend == OB_BACKEND_GVISOR) {
		(void)snprintf(trace, sizeof(trace), "%s/trace", run->bundle.dir);
		r = gvtrace_new(trace, emit_denial, run, &run->trace);
		if (r < 0)
			r = ob_error_set(reterr, r, "the trace FIFO %s: %s", trace, strerror(-r));
	}
	if (r >= 0)
		r = backend_start(run->sb->backend, run->runtime, run->bundle.dir, run->container,
		                  netns_path[0] != '\0', trace[0] ? trace : NULL, out, &run->pid);
	(void)close(outp[0][1]);
	(void)close(outp[1][1]);
	if (r < 0)
		return ob_error_set(reterr, r, "starting %s: %s", run->runtime, strerror(-r));
	return 0;
}

int ob_sandbox_run(ob_sandbox *sb, ob_result *res, ob_error *reterr)
{
	Run run = {.sb = sb,
	           .pid = -1,
	           .report_fd = -1,
	           .out = {{.fd = -1}, {.fd = -1}},
	           .notify_sock = -1,
	           .proxy_sock = -1,
	           .netns_fd = -1,
	           .seccomp_listen = -1,
	           .notifier = {.fd = -1, .mem_fd = -1, .root_fd = -1}};
	int wstatus = 0, r;

	assert_return(sb && res, -EINVAL);
	cgroup_init(&run.cg);
	*res = (ob_result){.exit_code = OB_EXIT_SETUP, .status = -1};
	(void)clock_gettime(CLOCK_MONOTONIC, &run.start);
	r = sandbox_plan(sb, &run.plan, reterr);
	if (r < 0) {
		res->exit_code = r == -ENOENT                    ? OB_EXIT_NOTFOUND
		                 : r == -EACCES || r == -ENOEXEC ? OB_EXIT_NOEXEC
		                                                 : OB_EXIT_SETUP;
		goto out;
	}
	r = setup_sinks(&run, reterr);
	if (r >= 0)
		r = dbfiles_prepare(&run.plan, reterr);
	if (r < 0)
		goto out;
	memcpy(res->execution_id, run.audit.execution_id, sizeof(res->execution_id));
	emit_policy(&run);
	if (sb->backend != OB_BACKEND_NATIVE) {
		r = start_oci(&run, reterr);
	} else {
		r = cgroup_create(&run.cg, run.audit.execution_id, &run.plan.limits);
		if (r >= 0)
			r = start_child(&run, reterr);
	}
	if (r < 0)
		goto out;
	emit_start(&run);
	emit_degraded(&run);
	bool timed_out = wait_child(&run, &wstatus);
	finish(&run, wstatus, timed_out, res);
	if (run.got_failure && run.last.kind == REPORT_SETUP_FAILED) {
		r = ob_error_set(reterr, -run.last.err ?: -EIO, "sandbox setup: %s: %s",
		                 run.last.msg, strerror(run.last.err));
		res->exit_code = OB_EXIT_SETUP;
	} else if (run.got_failure) {
		(void)ob_error_set(reterr, -run.last.err, "%s: %s", run.last.msg,
		                   strerror(run.last.err));
	}
	if (run.audit.write_error && r >= 0)
		(void)ob_error_set(reterr, 0, "audit log: %s", strerror(-run.audit.write_error));
out:
	run_done(&run);
	return r < 0 ? r : 0;
}
