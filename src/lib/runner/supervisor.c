/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor's side of a run (ob_sandbox_run): plan, sinks, start, then one poll loop
 * until the program ends or the timeout: the program's output relayed, its seccomp
 * notifications answered (notify.c), the egress proxy, DNS stub and transparent connects
 * served, gVisor's trace read; then what the run holds released.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/runtime.h"
#include "basic/dirent-util.h"
#include "basic/error.h"
#include "basic/fdpass.h"
#include "basic/macro.h"
#include "plan/dbfiles.h"
#include "plan/fs-rules.h"
#include "plan/grantfiles.h"
#include "runner/disk.h"
#include "runner/nons.h"
#include "runner/run.h"

/* ---------------------------------------------------------------- running */

/* How long the supervisor stays awake for the next notification (see serve_notifications). */
#define NOTIFY_SPIN_NS (50L * 1000)
/* The most one loop turn spends answering notifications. */
#define NOTIFY_TURN_NS (10L * 1000 * 1000)
/* How long the end of a run waits for a slow audit socket reader. */
#define AUDIT_DRAIN_MS 1000

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

/* The transparent path: the DNS stub on UDP and TCP, and the connects it serves. */
static void start_transparent(Run *run, int udp, int tcp)
{
	const DnsReport drep = {.deny = run_on_dns_denial, .userdata = run};
	const TconnectReport trep = {.deny = run_on_tc_denial,
	                             /* learning records each connection made */
	                             .allow = run->sb->verbose || run->sb->learn ? run_on_tc_allowed
	                                                                         : NULL,
	                             .limit = run_on_limit,
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
void run_start_proxy(Run *run, int listener)
{
	/* The caps are limits (connections, egress); the clocks are fixed: a minute of
	 * silence, ten seconds to say where to. */
	const ProxyLimits lim = {.max_connections =
	                             (unsigned)run->plan.limits.value[OB_LIMIT_CONNECTIONS],
	                         .max_bytes = run->plan.limits.value[OB_LIMIT_EGRESS],
	                         .idle_ms = 60000,
	                         .head_ms = 10000};
	const ProxyReport rep = {.deny = run_on_proxy_denial,
	                         .allow =
	                             run->sb->verbose || run->sb->learn ? run_on_allowed : NULL,
	                         .limit = run_on_limit,
	                         .userdata = run};
	if (proxy_new(listener, run->sb->caps, run->sb->ctx, &lim, &rep, &run->proxy) < 0)
		(void)close(listener);
	run->notifier.proxy = run->proxy;
}

/* PID 1 sends the egress sockets once, before the program starts: the proxy's listener, the
 * DNS stub's UDP and TCP sockets, as the plan has them. */
static void receive_egress(Run *run)
{
	int fds[3] = {-1, -1, -1};
	size_t n = (run->plan.proxy ? 1 : 0) + (run->plan.transparent ? 2 : 0);
	int r = fd_receive(run->proxy_sock, fds, n);
	(void)close(run->proxy_sock);
	run->proxy_sock = -1;
	if (r < 0)
		return;
	if (run->plan.proxy)
		run_start_proxy(run, fds[0]);
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
	int ruleset = -1;
	int fd = notify_receive(run->notify_sock, &ruleset);
	(void)close(run->notify_sock);
	run->notify_sock = -1;
	if (fd < 0)
		return;
	/* The open broker only where it can take the program's Landlock domain: natively, with
	 * the ruleset sent (none: the program has no domain). The OCI runtimes' program gets its
	 * domain from omnibase-exec: below. */
	bool broker = !run->helper[0] && (ruleset >= 0 || run->plan.landlock_abi == 0);
	run->notifier = (Notifier){.fd = fd,
	                           .plan = &run->plan,
	                           .deny = run_on_denial,
	                           .violation = run_on_violation,
	                           .userdata = run,
	                           .mem_fd = -1,
	                           .root_fd = -1,
	                           .tc = run->tc,
	                           .proxy = run->proxy,
	                           /* as fs_rules_apply sets it (the OCI helper sets no port) */
	                           .landlock_tcp = run->sb->backend == OB_BACKEND_NATIVE &&
	                                           fs_rules_limit_tcp(&run->plan),
	                           .caps = run->sb->caps,
	                           .ctx = run->sb->ctx,
	                           .trusted_exec = run->helper[0] ? OCI_HELPER_DEST : NULL,
	                           .learn = run->sb->learn,
	                           .ruleset_fd = ruleset,
	                           .broker_off = !broker};
	/* The OCI runtimes: omnibase-exec applies the domain and keeps the ruleset's fd until it
	 * executes the program, where the broker takes a copy (notify_broker_from_helper). */
	struct stat hs;
	if (run->helper[0] && !run->sb->learn && stat(run->helper, &hs) == 0) {
		run->notifier.helper_state = HELPER_AWAITED;
		run->notifier.helper_dev = hs.st_dev;
		run->notifier.helper_ino = hs.st_ino;
	}
	/* its init holds the program's ids (spawn.c): the broker's set-up overlaps the exec.
	 * Run as root only: the init is not dumpable, and a rootless supervisor cannot open its
	 * /proc/PID/root (the broker then starts at the first open, from the program's). */
	if (broker && run->plan.id_base && !run->plan.no_namespaces && !run->sb->learn)
		notify_broker_launch(&run->notifier, run->pid);
}

/* Without a cgroup, RLIMIT_NPROC holds the process count but tells nobody: the supervisor
 * counts the sandbox's processes in its own /proc (reached through PID 1's root) at a
 * wake-up at most every PIDS_WATCH_MS (and at least every 100 ms), and a count at the limit
 * is the limit hit. Not at every wake-up: the count reads a directory, ~20 µs, and a busy
 * proxy wakes the loop several times per request. */
#define PIDS_WATCH_MS 10
static void watch_rlimit_pids(Run *run)
{
	char path[96];
	struct dirent *de;
	uint64_t n = 0, now = run_elapsed_ms(run);
	int child = 0;

	if (run->cg.version != 0 || run->rlimit_pids_hit || run->pid <= 0)
		return;
	if (now - run->pids_seen_ms < PIDS_WATCH_MS && run->pids_seen_ms != 0)
		return;
	run->pids_seen_ms = now ?: 1;
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

static long ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000L + (b->tv_nsec - a->tv_nsec);
}

/* Answers a notification, then keeps looking for the next one for a short while before going
 * back to poll: observed calls come in runs (a program start opens dozens of files), and a
 * supervisor that is still awake answers the next one without the sleep and wake-up that
 * otherwise cost most of a round trip. The egress parts are watched meanwhile: a connect to
 * the proxy is observed here, and the bytes that follow it (an accept, a request head) would
 * otherwise wait out the spin, which is most of a short request's cost through the proxy.
 * EGRESS[0..2] (proxy, DNS stub, transparent connects) are set for the parts found ready:
 * the caller serves them without another poll. */
static void serve_notifications(Run *run, bool egress[3])
{
	struct timespec first, start, now;

	notify_handle(&run->notifier);
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	first = start;
	for (;;) {
		struct pollfd p[] = {{.fd = run->notifier.fd, .events = POLLIN},
		                     {.fd = proxy_fd(run->proxy), .events = POLLIN},
		                     {.fd = dnsstub_fd(run->dns), .events = POLLIN},
		                     {.fd = tconnect_fd(run->tc), .events = POLLIN}};
		if (p[0].fd < 0 || poll(p, ELEMENTSOF(p), 0) < 0)
			return;
		/* a program that never pauses (a refusal in a loop) gets NOTIFY_TURN_NS, then the
		 * loop's turn: the clock, the output and the other parts are served too */
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		if (ns_between(&first, &now) > NOTIFY_TURN_NS)
			return;
		if (p[0].revents & POLLIN) {
			notify_handle(&run->notifier);
			(void)clock_gettime(CLOCK_MONOTONIC, &start);
			continue;
		}
		if (p[0].revents & (POLLHUP | POLLERR))
			return;
		/* egress work waiting: the loop's turn serves it now */
		for (int i = 0; i < 3; i++)
			egress[i] = p[1 + i].revents & POLLIN;
		if (egress[0] || egress[1] || egress[2])
			return;
		if (ns_between(&start, &now) > NOTIFY_SPIN_NS)
			return;
	}
}

/* What wait_child's poll found, P[1..13] in its order, served. */
static void serve_events(Run *run, const struct pollfd *p)
{
	bool egress[3] = {false, false, false};

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
		serve_notifications(run, egress);
	else if (p[5].revents & (POLLHUP | POLLERR))
		notify_done(&run->notifier); /* every trapped process is gone */
	if (p[7].revents & POLLIN || egress[0])
		proxy_dispatch(run->proxy);
	if (p[8].revents & POLLIN || egress[1])
		dnsstub_dispatch(run->dns);
	if (p[9].revents & POLLIN || egress[2])
		tconnect_dispatch(run->tc);
	if (p[11].revents & POLLIN)
		gvtrace_dispatch(run->trace);
	stdin_relay_pump(&run->in, p + 12);
}

/* Waits for the child (PID 1 of the sandbox) or the timeout, whichever comes first, relaying
 * the program's output meanwhile; then drains the output (for at most a second). */
static bool wait_child(Run *run, int *wstatus)
{
	uint64_t timeout = run->plan.limits.value[OB_LIMIT_TIMEOUT];
	int pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
	bool timed_out = false, exited = false;
	sigset_t pipe_set, old_mask;
	struct timespec zero = {0};

	/* SIGPIPE held while the loop runs: the proxy splices into sockets, and splice(2) has no
	 * MSG_NOSIGNAL; a client that went away costs its connection (EPIPE), not the supervisor */
	(void)sigemptyset(&pipe_set);
	(void)sigaddset(&pipe_set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	if (pidfd < 0)
		exited = true; /* no pidfd: wait below, then drain */
	for (;;) {
		uint64_t spent = run_elapsed_ms(run);
		if (!exited && !timed_out && spent >= timeout) {
			timed_out = true;
			/* PID 1 dies, and the kernel kills the whole pid namespace with it. */
			if (run->plan.no_namespaces) /* no pid namespace to end */
				nons_kill(run->pid);
			else if (run->sb->backend == OB_BACKEND_NATIVE)
				(void)kill(run->pid, SIGKILL);
			else /* the runtime waits for its container: kill that */
				backend_kill(run->sb->backend, run->runtime, run->bundle.dir,
				             run->container);
		}
		if (exited && run->out[0].fd < 0 && run->out[1].fd < 0)
			break;
		struct pollfd p[14 + AUDIT_MAX_SINKS] = {
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
		/* a socket sink with lines waiting: woken when its reader takes some */
		/* the caller's stdin into the program's while it runs */
		if (!exited)
			stdin_relay_pollfds(&run->in, p + 12);
		else
			p[12] = p[13] = (struct pollfd){.fd = -1};
		size_t np = 14 + audit_pollfds(&run->audit, p + 14, AUDIT_MAX_SINKS);
		int n = poll(p, np, wait_ms);
		if (n == 0 && exited)
			break; /* nothing more within a second: stop draining */
		audit_flush(&run->audit);
		if (p[0].revents & POLLIN)
			exited = true;
		serve_events(run, p);
		if (!exited && run->sb->backend == OB_BACKEND_NATIVE)
			watch_rlimit_pids(run);
		if (!exited)
			disk_watch(run);
	}
	while (waitpid(run->pid, wstatus, 0) < 0 && errno == EINTR)
		;
	run->pid = -1;
	if (pidfd >= 0)
		(void)close(pidfd);
	/* what the loop's EPIPEs left pending, consumed before the mask is restored; a caller
	 * that held SIGPIPE itself keeps whatever is pending (it may be its own) */
	while (!sigismember(&old_mask, SIGPIPE) && sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	(void)pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (run->trace) /* the runtime is gone, and the Sentry with it: its last lines */
		gvtrace_finish(run->trace);
	read_reports(run);
	return timed_out;
}

/* Everything a run holds, released; a program started but not waited for taken down. */
static void run_done(Run *run)
{
	if (run->pid > 0) {
		if (run->plan.no_namespaces)
			nons_kill(run->pid);
		(void)kill(run->pid, SIGKILL);
		(void)waitpid(run->pid, NULL, 0);
	}
	if (run->report_fd >= 0)
		(void)close(run->report_fd);
	stream_done(&run->out[0]);
	stream_done(&run->out[1]);
	stdin_relay_done(&run->in);
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
	disk_done(run);
	audit_done(&run->audit);
	grantfiles_cleanup(&run->plan);
	plan_done(&run->plan);
	disk_signals_end(run); /* last: it may end the process as the signal asked */
}

int ob_sandbox_run(ob_sandbox *sb, ob_result *res, ob_error *reterr)
{
	Run run = {.sb = sb,
	           .res = res,
	           .pid = -1,
	           .report_fd = -1,
	           .out = {{.fd = -1}, {.fd = -1}},
	           .in = {.from = -1, .to = -1, .peek = -1},
	           .notify_sock = -1,
	           .proxy_sock = -1,
	           .netns_fd = -1,
	           .seccomp_listen = -1,
	           .disk_fd = -1,
	           .disk_sigfd = -1,
	           .notifier = {.fd = -1, .mem_fd = -1, .root_fd = -1, .ruleset_fd = -1}};
	int wstatus = 0, r;

	assert_return(sb && res, -EINVAL);
	cgroup_init(&run.cg);
	*res = (ob_result){.exit_code = OB_EXIT_SETUP, .status = -1};
	(void)clock_gettime(CLOCK_MONOTONIC, &run.start);
	r = sandbox_plan(sb, &run.plan, false, reterr);
	if (r < 0) {
		res->exit_code = r == -ENOENT                    ? OB_EXIT_NOTFOUND
		                 : r == -EACCES || r == -ENOEXEC ? OB_EXIT_NOEXEC
		                                                 : OB_EXIT_SETUP;
		goto out;
	}
	r = run_setup_sinks(&run, reterr);
	if (r >= 0)
		r = dbfiles_prepare(&run.plan, reterr);
	if (r >= 0)
		r = grantfiles_prepare(&run.plan, reterr);
	if (r >= 0) /* --limit disk: where the write-back goes, as it is now */
		r = disk_open_hosts(&run, reterr);
	if (r < 0)
		goto out;
	memcpy(res->execution_id, run.audit.execution_id, sizeof(res->execution_id));
	if (sb->backend != OB_BACKEND_NATIVE) {
		r = run_start_oci(&run, reterr);
	} else {
		r = run_start_native(&run, reterr); /* the cgroups made there */
	}
	if (r < 0)
		goto out;
	run_report_start(&run);
	disk_signals_begin(&run);
	bool timed_out = wait_child(&run, &wstatus);
	run_finish(&run, wstatus, timed_out, res);
	/* a reader that stalls gets a second for what waits, then it is counted as lost */
	audit_drain(&run.audit, AUDIT_DRAIN_MS);
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
	else if (audit_undelivered(&run.audit) && r >= 0)
		(void)ob_error_set(
		    reterr, 0,
		    "audit socket: %llu events not delivered (the reader did not keep "
		    "up; at most %u KiB wait)",
		    (unsigned long long)audit_undelivered(&run.audit), AUDIT_QUEUE_MAX >> 10);
	else if (run.disk_error[0] && r >= 0)
		(void)ob_error_set(reterr, 0, "%s", run.disk_error);
out:
	run_done(&run);
	return r < 0 ? r : 0;
}
