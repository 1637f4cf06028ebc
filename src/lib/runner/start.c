/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting a run: natively the sandbox's PID 1 cloned (spawn.c runs after clone) with the
 * handshake of id maps and cgroups; on another backend the bundle made and the runtime
 * started on it, with a socket of ours for its seccomp listener.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/runtime.h"
#include "basic/error.h"
#include "basic/fdpass.h"
#include "basic/macro.h"
#include "runner/disk.h"
#include "runner/idmap.h"
#include "runner/nons.h"
#include "runner/run.h"

/* The run's cgroups to the child (spawn.c's join_cgroups): v1 as the `tasks` files it writes
 * "0" to, v2 as a byte (the child was moved already), none as 'r' (rlimits instead). */
static int send_cgroups(Run *run, int sock)
{
	int join[CG_MAX];
	int r = cgroup_open_join_fds(&run->cg, join);

	if (r >= 0)
		r = run->cg.version == 1 ? fd_send(sock, 'c', join, CG_MAX)
		    : send(sock, run->cg.version == 2 ? "c" : "r", 1, MSG_NOSIGNAL) == 1 ? 0
		                                                                         : -errno;
	close_many(join, CG_MAX);
	return r;
}

/* The parent's half of the handshake over SOCK, in two steps (see child_main): the maps, then
 * the cgroups while the child sets up; then the disk tmpfs it sends (--limit disk). */
static int release_child(Run *run, int sock, bool root)
{
	int r = run->plan.no_namespaces ? 0 : spawn_write_idmaps(run->pid, &run->plan, !root);
	if (r >= 0 && send(sock, "m", 1, MSG_NOSIGNAL) != 1)
		r = -errno;
	/* the cgroups made while the child builds its file system (the tier without namespaces
	 * joined them as it started: run_start_native) */
	if (r >= 0 && !run->plan.no_namespaces)
		r = cgroup_create(&run->cg, run->audit.execution_id, &run->plan.limits);
	if (r >= 0)
		r = cgroup_attach(&run->cg, run->pid);
	if (r >= 0)
		r = run->plan.no_namespaces ? (send(sock, "c", 1, MSG_NOSIGNAL) == 1 ? 0 : -errno)
		                            : send_cgroups(run, sock);
	if (r >= 0)
		disk_receive_native(run, sock);
	return r;
}

/* The program's stdio, pipes of ours on every backend (never the caller's own descriptors:
 * output.h): in STDIO the ends the program (or the runtime) gets, its stdin's read end and
 * the write ends of its stdout and stderr; the supervisor's ends in RUN. */
static int stdio_pipes(Run *run, int stdio[3], ob_error *reterr)
{
	int outp[2][2] = {{-1, -1}, {-1, -1}};

	stdio[0] = stdio[1] = stdio[2] = -1;
	for (int i = 0; i < 2; i++)
		if (pipe2(outp[i], O_CLOEXEC) < 0) {
			int e = -errno;
			close_many(&outp[0][0], 4);
			return ob_error_set(reterr, e, "pipe: %s", strerror(-e));
		}
	int r = stdin_relay_open(&run->in, &stdio[0]);
	if (r < 0) {
		close_many(&outp[0][0], 4);
		return ob_error_set(reterr, r, "the stdin pipe: %s", strerror(-r));
	}
	for (int i = 0; i < 2; i++) {
		run->out[i] = (Stream){.fd = outp[i][0],
		                       .out_fd = run->sb->capture_output ? -1 : 1 + i,
		                       .cap = run->plan.limits.value[OB_LIMIT_OUTPUT]};
		(void)fcntl(outp[i][0], F_SETFL, O_NONBLOCK);
		stdio[1 + i] = outp[i][1];
	}
	/* Run as root, the program is an unprivileged host id: the pipes are made its own, so
	 * that it can open /dev/stdin, /dev/stdout and /dev/stderr (a reopen through /proc checks
	 * the pipe's owner and mode, root's and 0600 otherwise). They are ours, never the
	 * caller's files. */
	for (int i = 0; i < 3 && run->plan.id_base; i++)
		if (stdio[i] >= 0 && fchown(stdio[i], run->plan.id_base + run->plan.uid,
		                            run->plan.id_base + run->plan.gid) < 0) {
			int e = -errno;
			close_many(stdio, 3);
			return ob_error_set(reterr, e, "the stdio pipes: %s", strerror(-e));
		}
	return 0;
}

/* Clones the sandbox and completes the handshake: id maps, cgroup, go. */
int run_start_native(Run *run, ob_error *reterr)
{
	int sync_pipe[2], report_pipe[2];
	bool root = geteuid() == 0;

	/* root: the host binds opened here, where the host paths can be reached (idmap.h) */
	if (run->plan.id_base && !run->plan.no_namespaces) {
		int r = idmap_open_trees(&run->plan, reterr);
		if (r < 0)
			return r;
	}

	/* A socket, not a pipe, so that a child that died early costs EPIPE, not SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pipe) < 0) {
		idmap_close_trees(&run->plan);
		return ob_error_set(reterr, -errno, "socketpair: %s", strerror(errno));
	}
	if (pipe2(report_pipe, O_CLOEXEC | O_DIRECT) < 0) {
		int e = errno;
		close_many(sync_pipe, 2);
		idmap_close_trees(&run->plan);
		return ob_error_set(reterr, -e, "pipe: %s", strerror(e));
	}
	int stdio[3];
	int r = stdio_pipes(run, stdio, reterr);
	if (r < 0) {
		close_many(sync_pipe, 2);
		close_many(report_pipe, 2);
		idmap_close_trees(&run->plan);
		return r;
	}
	int nsock[2] = {-1, -1}, join[CG_MAX], psock[2] = {-1, -1};
	for (int i = 0; i < CG_MAX; i++)
		join[i] = -1;
	/* without namespaces the child joins the cgroups as it starts; otherwise they are made
	 * while it builds its file system (release_child) */
	r = run->plan.no_namespaces
	        ? cgroup_create(&run->cg, run->audit.execution_id, &run->plan.limits)
	        : 0;
	if (r >= 0 && run->plan.no_namespaces)
		r = cgroup_open_join_fds(&run->cg, join);
	if (r < 0)
		r = ob_error_set(reterr, r, "opening the cgroup: %s", strerror(-r));
	else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nsock) < 0 ||
	         ((run->plan.proxy || run->plan.transparent) &&
	          socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, psock) < 0))
		r = ob_error_set(reterr, -errno, "socketpair: %s", strerror(errno));
	if (r < 0) { /* nothing cloned yet: everything made here goes */
		close_many(join, CG_MAX);
		close_many(stdio, 3);
		close_many(nsock, 2);
		close_many(sync_pipe, 2);
		close_many(report_pipe, 2);
		idmap_close_trees(&run->plan);
		return r;
	}
	run->notify_sock = nsock[0];
	run->proxy_sock = psock[0];
	SpawnArgs a = {.plan = &run->plan,
	               .proxy_fd = psock[1],
	               .notify_fd = nsock[1],
	               .stdin_fd = stdio[0],
	               .stdout_fd = stdio[1],
	               .stderr_fd = stdio[2],
	               .sync_fd = sync_pipe[0],
	               .report_fd = report_pipe[1],
	               .rlimit_memory = run->cg.version == 0,
	               .rlimit_pids = run->cg.version == 0,
	               .join_fds = {join[0], join[1], join[2]},
	               .set_groups = root};
	r = run->plan.no_namespaces ? nons_spawn(&a, &run->pid) : spawn_sandbox(&a, &run->pid);
	idmap_close_trees(&run->plan); /* the child has its copies */
	close_many(join, CG_MAX);
	close_many(stdio, 3); /* the child has its copies */
	(void)close(nsock[1]);
	if (psock[1] >= 0)
		(void)close(psock[1]);
	(void)close(sync_pipe[0]);
	(void)close(report_pipe[1]);
	run->report_fd = report_pipe[0];
	if (r < 0) {
		(void)close(sync_pipe[1]);
		/* not probed before (sandbox_plan): a refused user namespace said as the plan would
		 */
		if (!run->plan.no_namespaces && nons_needed())
			return nons_refuse(reterr);
		return ob_error_set(reterr, r, "creating the namespaces: %s%s", strerror(-r),
		                    r == -EPERM || r == -ENOSPC
		                        ? " (are unprivileged user namespaces enabled?)"
		                        : "");
	}
	r = release_child(run, sync_pipe[1], root);
	(void)close(sync_pipe[1]);
	if (r < 0)
		return ob_error_set(reterr, r, "setting up the sandbox process: %s", strerror(-r));
	(void)fcntl(run->report_fd, F_SETFL, O_NONBLOCK);
	return 0;
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

/* gVisor refused a fork at RLIMIT_NPROC (its pids limit): reported as the cgroup's is. */
static void on_gvisor_process_limit(void *userdata)
{
	Run *run = userdata;
	run->rlimit_pids_hit = true;
}

/* The bundle made and the runtime started on it with STDIO. */
static int run_start_runtime(Run *run, const int stdio[3], ob_error *reterr)
{
	int r = 0;

	if (!backend_find(run->sb->backend, run->runtime, sizeof(run->runtime)))
		return ob_error_set(reterr, -ENOENT, "the runtime of backend %s is gone",
		                    ob_backend_to_string(run->sb->backend));
	/* network grants: the container joins a namespace of ours that holds the proxy's
	 * listener (through /proc/SUPERVISOR/fd/N, an fd we keep open for the run) */
	char netns_path[64] = "";
	int listener = -1;
	if (run->plan.proxy) {
		r = backend_netns_create(&run->netns_fd, &listener);
		if (r < 0)
			return ob_error_set(reterr, r,
			                    "the network namespace for the egress proxy: %s",
			                    strerror(-r));
		run_start_proxy(run, listener);
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
	/* gVisor as root: its sandbox in a cgroup of ours, whose counters outlive runsc's end
	 * (the memory limit's kill is the Sentry's, by the host's OOM killer) */
	char cgroups_path[96] = "";
	if (run->sb->backend == OB_BACKEND_GVISOR && geteuid() == 0)
		(void)cgroup_create_for_runtime(&run->cg, run->audit.execution_id,
		                                &run->plan.limits, cgroups_path,
		                                sizeof(cgroups_path));
	char loader[4096];
	const OciOptions opt = {.seccomp = &run->sb->seccomp_profile,
	                        .gvisor = run->sb->backend == OB_BACKEND_GVISOR,
	                        .rootless = geteuid() != 0,
	                        .netns = netns_path[0] ? netns_path : NULL,
	                        .helper =
	                            sandbox_oci_helper(run->sb, run->helper, sizeof(run->helper)),
	                        .listener = lpath[0] ? lpath : NULL,
	                        .cgroups_path = cgroups_path[0] ? cgroups_path : NULL,
	                        .loader = sandbox_gvisor_loader(run->sb, loader, sizeof(loader))};
	/* runc, crun as root: the binds opened here (id-mapped for grants) and attached in the
	 * bundle, as natively (oci.h) */
	run->plan.idmap_root = opt.gvisor;
	if (oci_userns(&run->plan, &opt))
		r = idmap_open_trees(&run->plan, reterr);
	if (r >= 0)
		r = oci_bundle_create(&run->plan, &opt, &run->bundle, reterr);
	idmap_close_trees(&run->plan);
	/* --limit disk under runc and crun as root: the overlays' tmpfs is ours (disk.h) */
	if (run->bundle.dir[0])
		run->disk_fd = run->plan.disk_fd = TAKE_FD(run->bundle.disk_fd);
	(void)snprintf(run->container, sizeof(run->container), "omnibase-%s",
	               run->audit.execution_id);
	/* gVisor: its strace log of the calls a denial shows in, read from a FIFO */
	char trace[PATH_MAX + 16] = "";
	if (r >= 0 && run->sb->backend == OB_BACKEND_GVISOR) {
		(void)snprintf(trace, sizeof(trace), "%s/trace", run->bundle.dir);
		r = gvtrace_new(trace, run_on_denial, run_on_violation, run, &run->trace);
		if (r >= 0)
			gvtrace_on_process_limit(run->trace, on_gvisor_process_limit);
		if (r < 0)
			r = ob_error_set(reterr, r, "the trace FIFO %s: %s", trace, strerror(-r));
	}
	if (r >= 0)
		r = backend_start(run->sb->backend, run->runtime, run->bundle.dir, run->container,
		                  netns_path[0] != '\0', trace[0] ? trace : NULL, stdio, &run->pid);
	if (r < 0)
		return ob_error_set(reterr, r, "starting %s: %s", run->runtime, strerror(-r));
	return 0;
}

/* Another backend: the bundle, and its runtime started on it with our stdio pipes (never the
 * caller's own: the runtimes fchown what they are handed, output.h). */
int run_start_oci(Run *run, ob_error *reterr)
{
	int stdio[3];
	int r = stdio_pipes(run, stdio, reterr);
	if (r < 0)
		return r;
	r = run_start_runtime(run, stdio, reterr);
	close_many(stdio, 3); /* the runtime has its copies */
	return r;
}
