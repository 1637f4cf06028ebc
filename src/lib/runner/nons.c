/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tier without namespaces (nons.h). Nothing is mounted: the program sees the host's file
 * system, and the plan's Landlock rules, turned to the host paths its binds show, say what it
 * may read, write and execute. What the namespaces did otherwise is refused outright by a
 * second seccomp filter (sockets, host IPC, keyrings, io_uring) or said in SandboxDegraded.
 */
#include "runner/nons.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/events.h"
#include "basic/dirent-util.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "plan/identity.h"
#include "plan/overlay.h"
#include "plan/syscall-filter.h"
#include "runner/probe.h"

/* Landlock's read rights (LANDLOCK_ACCESS_FS_READ_FILE, _READ_DIR): the host's /proc is
 * readable, never writable. */
#define NONS_LL_READ ((1ULL << 2) | (1ULL << 3))

bool nons_needed(void)
{
	return !probe_user_namespaces();
}

/* The step that shows PATH: the one whose dest is PATH or its longest parent (a later one of
 * the same length wins, as it is mounted over the earlier). */
static const MountStep *covering_step(const Plan *p, const char *path)
{
	const MountStep *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		size_t n = strlen(s->dest);
		bool under = streq(s->dest, "/") || (strncmp(path, s->dest, n) == 0 &&
		                                     (path[n] == '\0' || path[n] == '/'));
		if (under && (!best || n >= best_len)) {
			best = s;
			best_len = n;
		}
	}
	return best;
}

int nons_host_path(const Plan *p, const char *path, char *buf, size_t size)
{
	const MountStep *s = covering_step(p, path);
	int n;

	if (!s) /* only the root itself is there without a step */
		n = streq(path, "/") ? snprintf(buf, size, "/") : -1;
	else if (s->kind == STEP_BIND && !s->src_inside)
		n = snprintf(buf, size, "%s%s", s->src,
		             streq(s->dest, "/") ? path + 1 : path + strlen(s->dest));
	else if (s->kind == STEP_SYMLINK || s->kind == STEP_PROC) /* the host has the same */
		n = snprintf(buf, size, "%s", path);
	else /* what the sandbox makes itself: a directory, a tmpfs, its devpts, its files */
		n = -1;
	if (n < 0)
		return -ENOENT;
	return (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* PATH (malloc'ed) replaced by its host path, or NULL when there is none. */
static int to_host(const Plan *p, char **path)
{
	char host[PATH_MAX];
	int r = nons_host_path(p, *path, host, sizeof(host));

	if (r < 0)
		return r;
	char *copy = strdup(host);
	if (!copy)
		return -ENOMEM;
	free(*path);
	*path = copy;
	return 0;
}

/* The Landlock rules on host paths; those for places the sandbox makes itself (its /tmp,
 * /dev, secrets) go: there is nothing of the host's to allow there. */
static int host_rules(Plan *p)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		FsRule r = p->rules[i];
		const MountStep *s = covering_step(p, r.path);
		int k = to_host(p, &r.path);
		if (k == -ENOMEM)
			return k;
		if (k < 0) {
			free(r.path);
			continue;
		}
		if (s && s->kind == STEP_PROC)
			r.access &= NONS_LL_READ;
		p->rules[kept++] = r;
	}
	p->n_rules = kept;
	return 0;
}

/* What the tier cannot honour: a reason, or NULL. */
static const char *unsupported(const Plan *p)
{
	if (p->landlock_abi == 0 && p->mode != OB_MODE_RWX)
		return "Landlock is what would confine files, and this kernel has none";
	if (p->proxy || p->transparent)
		return "network grants cannot be honoured: the egress proxy is reached only "
		       "from a network namespace, Landlock's TCP rules name ports, not hosts, and "
		       "no socket can be made";
	if (p->has_secrets)
		return "secrets cannot be delivered: they need a private mount (/run/secrets)";
	if (p->n_dbs > 0)
		return "writable SQLite databases cannot be served: they need the mount layout";
	return NULL;
}

/* HOME=/workspace names the workdir's host path (the sandbox's /tmp has none: left). */
static int host_home(Plan *p)
{
	char host[PATH_MAX];

	for (size_t i = 0; p->envp && p->envp[i]; i++) {
		if (strncmp(p->envp[i], "HOME=", 5) != 0 ||
		    nons_host_path(p, p->envp[i] + 5, host, sizeof(host)) < 0 ||
		    streq(host, p->envp[i] + 5))
			continue;
		char *home;
		if (asprintf(&home, "HOME=%s", host) < 0)
			return -ENOMEM;
		free(p->envp[i]);
		p->envp[i] = home;
	}
	return 0;
}

int nons_refuse(ob_error *reterr)
{
	return ob_error_set(reterr, -EOPNOTSUPP,
	                    "this host refuses new user namespaces (blocked by %s), so no sandbox "
	                    "can be built; `omnibase doctor` says how to allow them; "
	                    "--allow-degraded runs without namespaces, with Landlock, seccomp and "
	                    "rlimits only",
	                    probe_userns_blocker());
}

int nons_plan(Plan *p, bool allow_degraded, ob_error *reterr)
{
	if (!allow_degraded)
		return nons_refuse(reterr);
	const char *why = unsupported(p);
	if (why)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "this host refuses new user namespaces (blocked by %s), and without them "
		    "%s; refusing to run (`omnibase doctor` says how to allow them)",
		    probe_userns_blocker(), why);
	int r = host_rules(p);
	if (r >= 0)
		r = to_host(p, &p->exec_path);
	if (r == -ENOENT)
		return ob_error_set(
		    reterr, -EOPNOTSUPP,
		    "without namespaces the program must be a host file: %s is made "
		    "by the sandbox",
		    p->exec_path);
	if (r >= 0 && to_host(p, &p->cwd) == -ENOENT) {
		free(p->cwd);
		p->cwd = strdup("/");
		r = p->cwd ? 0 : -ENOMEM;
	}
	if (r >= 0)
		r = host_home(p);
	if (r < 0)
		return ob_error_set(reterr, r, "the plan without namespaces: %s", strerror(-r));
	if (p->n_overlays) { /* no mount namespace, no overlay: writes go straight to the host */
		plan_overlay_drop(p);
		p->disk_unbounded = true;
	}
	p->no_namespaces = true;
	return 0;
}

json_t *nons_protections_json(const Plan *p, const Cgroup *cg)
{
	return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:b, s:i, s:b, s:s, "
	                 "s:b, s:b, s:o, s:s}",
	                 "tier", "no-namespaces", "userns", 0, "mntns", 0, "pidns", 0, "netns", 0,
	                 "ipcns", 0, "utsns", 0, "cgroupns", 0, "no_new_privs", 1, "cgroup",
	                 cgroup_version_string(cg), "rlimits", cg->version == 0, "landlock",
	                 p->landlock_abi, "landlock_tcp", 0, "seccomp",
	                 "allow-list; socket, System V IPC, message queues, keyrings, io_uring "
	                 "refused",
	                 "egress_proxy", 0, "egress_transparent", 0, "host_ids", identity_json(p),
	                 "unix_sockets", "refused");
}

void nons_report_degraded(Audit *a, const Plan *p, const Cgroup *cg)
{
	char reason[512];

	(void)snprintf(reason, sizeof(reason),
	               "this host refuses new user namespaces (blocked by %s): no namespace at "
	               "all, and the program runs as %s; --allow-degraded",
	               probe_userns_blocker(),
	               p->id_base ? "an unprivileged host id" : "the caller");
	event_degraded(a, "userns", reason);
	event_degraded(a, "mntns",
	               "no mount namespace: the program sees the host's file system, Landlock "
	               "limiting what it may read, write and execute (no private /tmp, /dev, "
	               "/proc); --allow-degraded");
	event_degraded(a, "pidns",
	               p->landlock_abi >= 6
	                   ? "no pid namespace: the host's processes are listed in /proc; "
	                     "Landlock refuses signals and ptrace to them; --allow-degraded"
	                   : "no pid namespace: the host's processes are listed in /proc; "
	                     "Landlock refuses ptrace to them but, below ABI 6, not signals to "
	                     "the caller's other processes; --allow-degraded");
	event_degraded(a, "netns",
	               "no network namespace: seccomp refuses socket() altogether (socketpair "
	               "stays); --allow-degraded");
	event_degraded(a, "ipcns",
	               "no IPC namespace: System V IPC and POSIX message queues refused by "
	               "seccomp; --allow-degraded");
	event_degraded(a, "utsns", "no UTS namespace: the host's name shows; --allow-degraded");
	event_degraded(a, "cgroupns",
	               "no cgroup namespace: the host's cgroup paths show; --allow-degraded");
	if (cg->version == 0)
		event_degraded(a, "cgroup",
		               "no writable cgroup: memory by RLIMIT_DATA, processes by "
		               "RLIMIT_NPROC over the uid's own on the host, no CPU limit; "
		               "--allow-degraded");
}

/* PATH's first SIZE - 1 bytes into BUF, NUL-terminated: its length, or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* SIG to PID and, through every thread's list of children, to all its descendants: PID
 * first (a stopped parent makes no more children), or with LAST its descendants first (a
 * killed parent would hand them to another reaper, out of our sight). */
static void signal_tree(pid_t pid, int sig, bool last, unsigned depth)
{
	char path[64];

	if (!last)
		(void)kill(pid, sig);
	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	_cleanup_(closedirp) DIR *tasks = depth < 64 ? opendir(path) : NULL;
	for (struct dirent *t; tasks && (t = readdir(tasks));) {
		char children[4096] = "";
		if (t->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)pid,
		               t->d_name);
		if (read_small(path, children, sizeof(children)) <= 0)
			continue;
		for (char *s = children, *end; *s; s = end) {
			long child = strtol(s, &end, 10);
			if (end == s)
				break;
			signal_tree((pid_t)child, sig, last, depth + 1);
		}
	}
	if (last)
		(void)kill(pid, sig);
}

void nons_kill(pid_t reaper)
{
	/* no pid namespace to end with the reaper: the program and what it started, stopped
	 * first so that none forks past the kill */
	signal_tree(reaper, SIGSTOP, false, 0);
	signal_tree(reaper, SIGKILL, true, 0);
}

/* GCOVR_EXCL_START: runs after fork, in the run's processes, whose coverage counters cannot
 * be written (like spawn.c); tests/security/test_ladder.py exercises it. */

static _Noreturn void fail(const SpawnArgs *a, int err, const char *what)
{
	ChildReport r = {.kind = REPORT_SETUP_FAILED, .err = err};

	(void)snprintf(r.msg, sizeof(r.msg), "%s", what);
	(void)!write(a->report_fd, &r, sizeof(r));
	_exit(OB_EXIT_SETUP);
}

#ifdef FILTER_NATIVE_ARCH
#define NONS_AUDIT_ARCH FILTER_NATIVE_ARCH
#else
#error "the tier without namespaces knows x86_64 and aarch64"
#endif
#define X32_SYSCALL_BIT 0x40000000U
#define REFUSE(nr, err)                                                                            \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                                           \
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

/* What the namespaces kept to the sandbox, refused: sockets (the host's network, its unix
 * and abstract sockets), System V IPC and message queues, keyrings, and io_uring (which makes
 * sockets without socket()). Stacked under the allow-list: a refusal wins over its notifier. */
static int refuse_host_facilities(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NONS_AUDIT_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    REFUSE(__NR_socket, EAFNOSUPPORT),
	    REFUSE(__NR_shmget, EPERM),
	    REFUSE(__NR_semget, EPERM),
	    REFUSE(__NR_msgget, EPERM),
	    REFUSE(__NR_mq_open, EPERM),
	    REFUSE(__NR_keyctl, EPERM),
	    REFUSE(__NR_add_key, EPERM),
	    REFUSE(__NR_request_key, EPERM),
	    REFUSE(__NR_io_uring_setup, EPERM),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = ELEMENTSOF(f), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

/* Root: the program's host ids are the unprivileged ones its sandbox ids map to otherwise. */
static void take_ids(const SpawnArgs *a)
{
	const Plan *p = a->plan;

	if (a->set_groups && setgroups(0, NULL) < 0)
		fail(a, errno, "setgroups");
	if (p->id_base &&
	    (setresgid(p->id_base + p->gid, p->id_base + p->gid, p->id_base + p->gid) < 0 ||
	     setresuid(p->id_base + p->uid, p->id_base + p->uid, p->id_base + p->uid) < 0))
		fail(a, errno, "taking the program's host ids");
}

/* SIGKILL to every child of ours (/proc/self/task/TID/children); how many there were. */
static unsigned kill_children(void)
{
	char path[64], buf[4096] = "";
	unsigned n = 0;

	(void)snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	for (char *s = buf, *end; *s; s = end) {
		long pid = strtol(s, &end, 10);
		if (end == s)
			break;
		if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
			n++;
	}
	return n;
}

/* The program's reaper (a child subreaper): waits for it, then takes down what it left, as
 * the end of a pid namespace would, and reports its status. */
/* The value after KEY ("\nThreads:\t") in the NUL-terminated TEXT, or -1. */
static long status_field(const char *text, const char *key)
{
	const char *s = strstr(text, key);
	return s ? strtol(s + strlen(key), NULL, 10) : -1;
}

/* The threads of real uid UID on this host, from every /proc/PID/status (getdents64, no
 * allocation): what RLIMIT_NPROC counts against. */
static unsigned count_threads_of(uid_t uid)
{
	char buf[4096], path[64], status[4096];
	unsigned n = 0;
	_cleanup_close_ int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	for (long k; fd >= 0 && (k = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0;)
		for (long off = 0; off < k;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);
			off += de->d_reclen;
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			(void)snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
			if (read_small(path, status, sizeof(status)) <= 0 ||
			    status_field(status, "\nUid:\t") != (long)uid)
				continue;
			long threads = status_field(status, "\nThreads:\t");
			n += threads > 0 ? (unsigned)threads : 1;
		}
	return n;
}

/* The program's process: the tier's refusals, then as any run. Without a cgroup the pids
 * limit is RLIMIT_NPROC, which counts every thread of the uid on the host (no user namespace
 * of its own to count in): the limit is those already there plus --pids. */
static _Noreturn void exec_program(const SpawnArgs *a)
{
	SpawnArgs b = *a;

	if (a->rlimit_pids) {
		uint64_t v = count_threads_of(getuid()) + a->plan->limits.value[OB_LIMIT_PIDS];
		struct rlimit rl = {.rlim_cur = v, .rlim_max = v};
		(void)setrlimit(RLIMIT_NPROC, &rl);
		b.rlimit_pids = false;
	}
	int r = refuse_host_facilities();
	if (r < 0)
		fail(a, -r, "the seccomp filter of the tier without namespaces");
	spawn_exec_program(&b);
}

static volatile pid_t the_program;

/* The supervisor died (SIGKILL, a crash): no pid namespace ends with it, so the reaper ends
 * the program, and with it (below, in reap) everything the program left. */
static void on_supervisor_gone(int sig)
{
	(void)sig;
	if (the_program > 0)
		(void)kill(the_program, SIGKILL);
}

/* The supervisor's death is SIGTERM to us from now on, which ends the run (on_supervisor_gone);
 * false when it is already gone. */
static bool watch_supervisor(pid_t supervisor)
{
	struct sigaction sa = {.sa_handler = on_supervisor_gone};

	(void)sigaction(SIGTERM, &sa, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	return getppid() == supervisor;
}

static _Noreturn void reap(const SpawnArgs *a, pid_t program)
{
	int status = W_EXITCODE(OB_EXIT_SETUP, 0), s;

	for (;;) {
		pid_t w = waitpid(-1, &s, 0);
		if (w == program) {
			status = s;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
	}
	ChildReport r = {.kind = REPORT_EXITED, .wstatus = status, .procs_left = 1};
	r.procs_left += kill_children();
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		(void)kill_children(); /* orphans of the killed come to us */
	(void)snprintf(r.msg, sizeof(r.msg), "exited");
	(void)!write(a->report_fd, &r, sizeof(r));
	_exit(0);
}

static _Noreturn void child_main(const SpawnArgs *a)
{
	pid_t supervisor = getppid();
	char c;

	/* the caller's stdin stays out of the sandbox: ours is 0 from here on (output.h) */
	if (a->stdin_fd >= 0 && (dup2(a->stdin_fd, STDIN_FILENO) < 0 || close(a->stdin_fd) < 0))
		fail(a, errno, "dup2 of the stdin pipe");
	for (size_t i = 0; i < ELEMENTSOF(a->join_fds); i++) {
		if (a->join_fds[i] < 0)
			continue;
		if (write(a->join_fds[i], "0", 1) != 1)
			fail(a, errno, "joining the cgroup");
		(void)close(a->join_fds[i]);
	}
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (read(a->sync_fd, &c, 1) != 1) /* no id maps to wait for: the start */
		_exit(OB_EXIT_SETUP);
	take_ids(a);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* cleared by the change of ids */
	if (read(a->sync_fd, &c, 1) != 1)                /* in the run's cgroups */
		_exit(OB_EXIT_SETUP);
	(void)close(a->sync_fd);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (!watch_supervisor(supervisor))
		_exit(OB_EXIT_SETUP);
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0)
		fail(a, errno, "fork");
	the_program = pid;
	if (pid > 0 && getppid() != supervisor) /* gone before the_program was set */
		(void)kill(pid, SIGKILL);
	if (pid == 0)
		exec_program(a);
	/* the reaper keeps only its report pipe: the output pipes end with the program */
	if (a->report_fd > 3)
		(void)syscall(SYS_close_range, 3, a->report_fd - 1, 0);
	(void)syscall(SYS_close_range, a->report_fd + 1, ~0U, 0);
	reap(a, pid);
}

int nons_spawn(const SpawnArgs *a, pid_t *ret_pid)
{
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_main(a);
	*ret_pid = pid;
	return 0;
}
/* GCOVR_EXCL_STOP */
