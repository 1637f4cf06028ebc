/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a run reports: its audit sinks, the events of its start and end (audit/events.c
 * builds them), what the notifier, the egress parts and gVisor's trace observed, and the
 * result the caller gets.
 */
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/events.h"
#include "backends/runtime.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/utf8.h"
#include "plan/identity.h"
#include "policy/registry.h"
#include "runner/disk.h"
#include "runner/learn.h"
#include "runner/nons.h"
#include "runner/result.h"
#include "runner/run.h"

uint64_t run_elapsed_ms(const Run *run)
{
	struct timespec now;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - run->start.tv_sec) * 1000 +
	             (int64_t)(now.tv_nsec - run->start.tv_nsec) / 1000000;
	return ms > 0 ? (uint64_t)ms : 0;
}

/* The grant that would allow a denial, "TYPE:RESOURCE" (SPEC §5 `needed`), or NULL where no
 * grant does: rebinding, listening on or disconnecting a socket the transparent path handed
 * in (tconnect.c) stays refused whatever is granted. */
static const char *denial_needed(const char *capability, const char *resource,
                                 const char *operation, char *buf, size_t size)
{
	if (streq(capability, "NETWORK_CONNECT") && !streq(operation, "connect") &&
	    !streq(operation, "resolve") && !streq(operation, "sendto") &&
	    !streq(operation, "sendmsg") && !streq(operation, "sendmmsg"))
		return NULL;
	(void)snprintf(buf, size, "%s:%s", capability, resource);
	return buf;
}

/* One denial: its event, and its place in the result (the --json denials, the stderr line). */
static void report_denial(Run *run, const char *capability, const char *resource,
                          const char *operation, const char *detail, int pid)
{
	char needed[PATH_MAX * 4 + 64];
	const char *n = denial_needed(capability, resource, operation, needed, sizeof(needed));

	event_denied(&run->audit, capability, resource, operation, n, detail, pid);
	if (run->res)
		result_add_denial(run->res, capability, resource, operation, n ? n : "");
}

void run_on_denial(void *userdata, const char *capability, const char *resource,
                   const char *operation, int pid)
{
	Run *run = userdata;
	char buf[PATH_MAX * 4 + 1]; /* every byte escaped, at worst */
	ob_cap_type type = ob_cap_type_from_string(capability);

	if (run->sb->learn && type >= 0) { /* learning: what would be refused is recorded */
		learn_note(run->sb->learn, type, resource, 0);
		return;
	}
	/* a path is the program's bytes: not UTF-8, it is written escaped (\xNN), never lost */
	report_denial(run, capability, utf8_escape(resource, buf, sizeof(buf)), operation, NULL,
	              pid);
}

void run_on_violation(void *userdata, const char *syscall, const char *detail, int pid)
{
	Run *run = userdata;
	event_violation(&run->audit, syscall, detail, pid);
}

void run_on_proxy_denial(void *userdata, const char *capability, const char *resource,
                         const char *why)
{
	Run *run = userdata;
	report_denial(run, capability, resource, "connect", why, 0);
}

void run_on_limit(void *userdata, ob_limit l)
{
	Run *run = userdata;
	if (run->res)
		run->res->limits_hit |= 1u << l;
	event_limit(&run->audit, l, run->plan.limits.value[l]);
}

/* A connection made (--verbose): the counterpart of CapabilityDenied. */
void run_on_allowed(void *userdata, const char *resource, const char *address)
{
	Run *run = userdata;
	if (run->sb->learn)
		learn_note(run->sb->learn, OB_CAP_NETWORK_CONNECT, resource, 0);
	if (run->sb->verbose)
		event_used(&run->audit, "NETWORK_CONNECT", resource, "connect", address, 0);
}

void run_on_dns_denial(void *userdata, const char *name, const char *why)
{
	Run *run = userdata;
	report_denial(run, "NETWORK_CONNECT", name, "resolve", why, 0);
}

void run_on_tc_denial(void *userdata, const char *operation, const char *resource, const char *why,
                      int pid)
{
	Run *run = userdata;
	report_denial(run, "NETWORK_CONNECT", resource, operation, why, pid);
}

void run_on_tc_allowed(void *userdata, const char *resource, const char *address, int pid)
{
	Run *run = userdata;
	if (run->sb->learn)
		learn_note(run->sb->learn, OB_CAP_NETWORK_CONNECT, resource, 0);
	if (run->sb->verbose)
		event_used(&run->audit, "NETWORK_CONNECT", resource, "connect", address, pid);
}

/* What an OCI backend applies: the runtime's namespaces, cgroup limits and the seccomp
 * allow-list; on runc/crun Landlock (omnibase-exec) and the refusals recorded through the
 * seccomp listener. */
static json_t *oci_protections_json(const Run *run)
{
	/* the runtime by path: asking its version costs a run of it (doctor says it) */
	bool rootless = geteuid() != 0; /* runsc --rootless: its own user namespace, no cgroup */
	/* host unix sockets: decided by the supervisor through the runtime's seccomp listener;
	 * runsc refuses them all itself (--host-uds=none), unrecorded */
	const char *unix_sockets = run->listener_dir[0]                    ? "by grant"
	                           : run->sb->backend == OB_BACKEND_GVISOR ? "refused (gVisor)"
	                                                                   : "unchecked";
	return json_pack(
	    "{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:b, s:i, s:s, s:b, "
	    "s:b, s:s}",
	    "backend", ob_backend_to_string(run->sb->backend), "runtime", run->runtime, "userns",
	    rootless || (run->plan.id_base && run->sb->backend != OB_BACKEND_GVISOR), "mntns", 1,
	    "pidns", 1, "netns", 1, "ipcns", 1, "utsns", 1, "no_new_privs", 1, "cgroup",
	    rootless          ? "none"
	    : run->cg.version ? cgroup_version_string(&run->cg)
	                      : "runtime",
	    "rlimits", rootless, "landlock", run->helper[0] ? run->plan.landlock_abi : 0, "seccomp",
	    run->listener_dir[0] ? "allow-list (refusals recorded)"
	                         : "allow-list (EPERM, not recorded)",
	    "observed_denials", run->listener_dir[0] != '\0' || run->trace, "egress_proxy",
	    run->plan.proxy, "unix_sockets", unix_sockets);
}

static json_t *protections_json(const Run *run)
{
	if (run->sb->backend != OB_BACKEND_NATIVE)
		return oci_protections_json(run);
	if (run->plan.no_namespaces)
		return nons_protections_json(&run->plan, &run->cg);
	return json_pack(
	    "{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:b, s:i, s:b, s:s, s:b, s:b, s:o, s:s}",
	    "userns", 1, "mntns", 1, "pidns", 1, "netns", 1, "ipcns", 1, "utsns", 1, "cgroupns", 1,
	    "no_new_privs", 1, "cgroup", cgroup_version_string(&run->cg), "rlimits",
	    run->cg.version == 0, "landlock", run->plan.landlock_abi, "landlock_tcp",
	    run->plan.tcp_connect_handled, "seccomp", "allow-list", "egress_proxy", run->plan.proxy,
	    "egress_transparent", run->plan.transparent, "host_ids", identity_json(&run->plan),
	    "unix_sockets", "by grant");
}

/* What runs less confined than it could, each said once (--allow-degraded asked for it). */
static void report_degraded(Run *run)
{
	if (run->plan.no_namespaces)
		nons_report_degraded(&run->audit, &run->plan, &run->cg);
	const char *why = run->sb->review ? review_untrusted_reason(run->sb->review) : NULL;
	if (why)
		event_degraded(&run->audit, "signature", why);
	if (sandbox_identity_degraded(run->sb))
		event_degraded(&run->audit, "identity",
		               "rootless: the program's host identity is the caller's, and mode rx "
		               "shows it what the caller may read; --allow-degraded");
	/* not less confined: less usable (the grant is reached as any unprivileged user may) */
	if (run->plan.idmap_unsupported) {
		char reason[PATH_MAX + 160];
		(void)snprintf(reason, sizeof(reason),
		               "%s: its file system has no id-mapped mounts; the grant is bound as "
		               "is and the program reaches there only what others may",
		               run->plan.idmap_unsupported);
		event_degraded(&run->audit, "idmapped-grants", reason);
	}
	const char *gap = sandbox_gvisor_exec_gap(run->sb, &run->plan);
	if (run->sb->backend == OB_BACKEND_GVISOR) {
		if (gap)
			event_degraded(&run->audit, "landlock", gap);
	} else if (run->sb->backend != OB_BACKEND_NATIVE && run->sb->mode != OB_MODE_RWX &&
	           (!run->helper[0] || run->plan.landlock_abi == 0))
		event_degraded(&run->audit, "landlock",
		               "omnibase-exec not installed or no Landlock on this kernel; "
		               "--allow-degraded");
	else if (run->plan.landlock_abi == 0 && run->sb->mode != OB_MODE_RWX)
		event_degraded(&run->audit, "landlock",
		               "not available on this kernel; --allow-degraded");
	/* gVisor as root with network grants: no user namespace (oci_userns) */
	if (run->sb->backend == OB_BACKEND_GVISOR && run->plan.id_base && run->plan.proxy)
		event_degraded(&run->audit, "identity",
		               "gVisor with network grants: no user namespace (runsc cannot join "
		               "the proxy's network namespace from one); the program's uid 1000 "
		               "is the host's uid 1000 for the files it reaches (root's own stay "
		               "unreadable); grants are bound without an id map; --allow-degraded");
	if (run->plan.transparent_unavailable)
		event_degraded(&run->audit, "egress-transparent",
		               "pidfd_getfd or SECCOMP_ADDFD_FLAG_SETFD unavailable: the "
		               "proxy alone; --allow-degraded");
	if (run->disk_degraded[0])
		event_degraded(&run->audit, "disk", run->disk_degraded);
	if (run->plan.disk_unbounded)
		event_degraded(&run->audit, "disk",
		               "this backend binds --workdir and FILE_WRITE directories directly: "
		               "what the program writes there is not bounded by --limit disk; "
		               "--allow-degraded");
	if (run->plan.memfd_noexec_unavailable)
		event_degraded(&run->audit, "memfd-noexec",
		               "MFD_NOEXEC_SEAL unavailable (Linux < 6.3): a memfd the program "
		               "writes can be executed around the exec allow-list; "
		               "--allow-degraded");
}

void run_report_start(Run *run)
{
	const ob_sandbox *sb = run->sb;
	event_policies(&run->audit,
	               sb->review ? json_object_get(review_json(sb->review), "requested") : NULL);
	event_start(&run->audit, run->plan.program, sb->argv, sandbox_granted_json(sb),
	            sandbox_limits_json(&run->plan.limits), ob_sandbox_mode_to_string(sb->mode),
	            protections_json(run), run->plan.warnings, run->plan.n_warnings);
	report_degraded(run);
	for (size_t i = 0; sb->has_warning_fd && i < run->plan.n_warnings; i++)
		(void)dprintf(sb->warning_fd, "omnibase: warning: %s\n", run->plan.warnings[i]);
}

int run_setup_sinks(Run *run, ob_error *reterr)
{
	int r = audit_init(&run->audit, ob_backend_to_string(run->sb->backend));
	run->audit.component = run->sb->component;
	run->audit.gate.limit = run->plan.limits.value[OB_LIMIT_EVENTS];
	for (size_t i = 0; r >= 0 && i < run->sb->n_log_paths; i++) {
		ob_error e = {0};
		r = audit_add_path(&run->audit, run->sb->log_paths[i], &e);
		if (r < 0)
			return ob_error_set(reterr, r, "--audit-log %s: %s", run->sb->log_paths[i],
			                    e.msg[0] ? e.msg : strerror(-r));
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

void run_finish(Run *run, int wstatus, bool timed_out, ob_result *res)
{
	CgroupStats st;
	struct rusage ru;

	cgroup_stats(&run->cg, &st);
	res->limits = run->plan.limits;
	res->duration_ms = run_elapsed_ms(run);
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
		run_on_limit(run, OB_LIMIT_TIMEOUT);
	}
	if (st.oom)
		run_on_limit(run, OB_LIMIT_MEMORY);
	/* Rootless: PID 1 counted what was left when the program ended; with the program itself
	 * that many were alive at once (a lower bound of the peak: never a false alarm). */
	if (run->cg.version == 0 && run->got_exit &&
	    run->last.procs_left + 1 >= run->plan.limits.value[OB_LIMIT_PIDS])
		run->rlimit_pids_hit = true;
	if (st.pids_max || run->rlimit_pids_hit)
		run_on_limit(run, OB_LIMIT_PIDS);
	/* Without a cgroup, RLIMIT_DATA refuses allocations silently: a peak within 10 % of the
	 * limit is taken as the limit reached (approximate; documented). Not on gVisor: the
	 * peak there is runsc's and its Sentry's own (~32 MB), never the program's. */
	if (run->cg.version == 0 && !timed_out && run->sb->backend != OB_BACKEND_GVISOR &&
	    res->max_rss_kb * 1024 >= run->plan.limits.value[OB_LIMIT_MEMORY] / 10 * 9)
		run_on_limit(run, OB_LIMIT_MEMORY);
	/* gVisor: the Sentry's own threads share the cgroup, and its start-up alone can
	 * exceed a one-CPU quota: not the program's doing, not reported (docs/design/backends.md)
	 */
	if (st.cpu_throttled && run->sb->backend != OB_BACKEND_GVISOR)
		run_on_limit(run, OB_LIMIT_CPUS);
	if (run->last.tmpfs_full)
		run_on_limit(run, OB_LIMIT_TMPFS);
	run_finish_disk(run);
	res->output_exceeded = run->out[0].exceeded || run->out[1].exceeded;
	if (res->output_exceeded)
		run_on_limit(run, OB_LIMIT_OUTPUT);
	res->stdout_data = TAKE_PTR(run->out[0].buf);
	res->stdout_len = run->out[0].len;
	res->stderr_data = TAKE_PTR(run->out[1].buf);
	res->stderr_len = run->out[1].len;
	res->violations = run->audit.violations;
	json_t *egress = NULL;
	if (run->proxy || run->tc) {
		uint64_t conns, out, in, direct, refused, answered, dns_refused;
		proxy_stats(run->proxy, &conns, &out, &in);
		tconnect_stats(run->tc, &direct, &refused);
		dnsstub_stats(run->dns, &answered, &dns_refused);
		/* connections/bytes: through the proxy; direct: sockets connected from the host
		 * side and handed over (their bytes are the kernel's, not counted here) */
		egress = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "connections",
		                   (json_int_t)conns, "bytes_out", (json_int_t)out, "bytes_in",
		                   (json_int_t)in, "direct_connections", (json_int_t)direct,
		                   "direct_refused", (json_int_t)refused, "dns_answered",
		                   (json_int_t)answered, "dns_refused", (json_int_t)dns_refused);
	}
	audit_end(&run->audit); /* folded counts, EventsDropped: before SandboxExit */
	event_exit(&run->audit, res, egress);
}
