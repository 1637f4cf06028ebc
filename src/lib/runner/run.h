/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One run of a sandbox, shared by the parts of the runner: start.c starts the program
 * (natively: clone and the handshake; other backends: the bundle and the runtime),
 * supervisor.c serves it until it ends, report.c turns what happened into events and the
 * result.
 */
#pragma once

#include <signal.h>
#include <time.h>

#include "audit/audit.h"
#include "backends/gvtrace.h"
#include "backends/oci.h"
#include "egress/dnsstub.h"
#include "egress/proxy.h"
#include "egress/tconnect.h"
#include "plan/plan.h"
#include "runner/cgroup.h"
#include "runner/notify.h"
#include "runner/output.h"
#include "runner/sandbox.h"
#include "runner/spawn.h"

typedef struct Run {
	ob_sandbox *sb;
	Plan plan;
	Audit audit;
	Cgroup cg;
	pid_t pid;
	int report_fd;
	ChildReport last; /* the most telling report: a failure beats "exited" */
	Stream out[2];    /* the program's stdout and stderr */
	StdinRelay in;    /* the caller's stdin into the program's */
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
	bool rlimit_pids_hit;  /* rootless without cgroups: the process count reached --pids;
	                        * gVisor: its Sentry refused a fork (RLIMIT_NPROC) */
	uint64_t pids_seen_ms; /* rootless without cgroups: when it was last counted */
	struct timespec start;
	ob_result *res;  /* the caller's result: denials and limits are counted into it */
	bool disk_hit;   /* the disk tmpfs was seen full (disk_watch) */
	int *disk_hosts; /* the overlaid host directories, by overlay number - 1 */
	int disk_fd;     /* the tmpfs of the overlays' upper layers (disk.h), or -1 */
	int disk_sigfd;  /* SIGINT, SIGTERM, SIGHUP while the writes wait (disk.h), or -1 */
	int disk_signal; /* the one that came, or 0 */
	sigset_t disk_oldmask;
	char disk_error[512];               /* what the write-back could not do, or "" */
	char disk_degraded[PATH_MAX + 160]; /* an overlay not mounted (--allow-degraded), or "" */
} Run;

/* start.c: the sandbox's PID 1 cloned, its id maps and cgroups set, told to go. */
int run_start_native(Run *run, ob_error *reterr);
/* start.c: the bundle made and the runtime started on it with our stdio pipes. */
int run_start_oci(Run *run, ob_error *reterr);

/* supervisor.c: the egress proxy on LISTENER (taken). */
void run_start_proxy(Run *run, int listener);

/* report.c: the audit sinks the builder named, opened. */
int run_setup_sinks(Run *run, ob_error *reterr);
/* report.c: PolicyEvaluated, SandboxStart and SandboxDegraded, once the program started. */
void run_report_start(Run *run);
/* report.c: the result and the events of the end (limits hit, SandboxExit). */
void run_finish(Run *run, int wstatus, bool timed_out, ob_result *res);
/* report.c: milliseconds since the run started. */
uint64_t run_elapsed_ms(const Run *run);

/* report.c: what the notifier, the egress parts and gVisor's trace report, as events
 * (USERDATA: the Run). */
void run_on_denial(void *userdata, const char *capability, const char *resource,
                   const char *operation, int pid);
void run_on_violation(void *userdata, const char *syscall, const char *detail, int pid);
void run_on_proxy_denial(void *userdata, const char *capability, const char *resource,
                         const char *why);
void run_on_limit(void *userdata, ob_limit l);
void run_on_allowed(void *userdata, const char *resource, const char *address);
void run_on_dns_denial(void *userdata, const char *name, const char *why);
void run_on_tc_denial(void *userdata, const char *operation, const char *resource, const char *why,
                      int pid);
void run_on_tc_allowed(void *userdata, const char *resource, const char *address, int pid);
