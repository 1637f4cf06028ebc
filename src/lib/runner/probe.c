/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What this kernel and user can apply (omnibase doctor). Each probe tries the real thing. */
#include "runner/probe.h"

#include <jansson.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/runtime.h"
#include "basic/fdpass.h"
#include "basic/macro.h"
#include "basic/procfs.h"
#include "plan/syscall-filter.h"
#include "runner/cgroup.h"
#include "runner/doctor.h"

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif

static int probe_child(void *arg)
{
	(void)arg;
	return 0;
}

/* Can this user create namespaces FLAGS?  Tried by cloning a child into them that exits at
 * once. It shares our memory and we wait while it lives (CLONE_VM | CLONE_VFORK): no page
 * tables are copied, as a fork() would. */
static bool probe_unshare(int flags)
{
	/* the child's stack is a local of ours: we are suspended while it runs */
	char stack[8192] __attribute__((aligned(16)));
	int status;

	pid_t pid = clone(probe_child, stack + sizeof(stack),
	                  flags | CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (pid < 0)
		return false;
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* All the namespaces a run makes (doctor): the user namespace first, the others in it. */
static bool probe_namespaces(void)
{
	return probe_unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
	                     CLONE_NEWIPC | CLONE_NEWUTS);
}

/* Asked before every native run (a user namespace alone: cheap to make and to drop); the
 * answer does not change under us, so once per process. */
bool probe_user_namespaces(void)
{
	static int known = -1;
	if (known < 0)
		known = probe_unshare(CLONE_NEWUSER);
	return known;
}

/* The first line of PATH is TEXT (a sysctl's value). */
static bool file_says(const char *path, const char *text)
{
	char buf[64] = "";
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f || !fgets(buf, sizeof(buf), f))
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return streq(buf, text);
}

/* Why new user namespaces are refused, and what allows them; the sysctls bind only the
 * unprivileged (root has CAP_SYS_ADMIN), a seccomp filter everyone. */
static const struct {
	const char *blocker, *fix;
} userns_blockers[] = {
    {"kernel.apparmor_restrict_unprivileged_userns=1, AppArmor's restriction as on Ubuntu 24.04",
     "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile "
     "for omnibase that allows `userns,`"},
    {"kernel.unprivileged_userns_clone=0", "sudo sysctl -w kernel.unprivileged_userns_clone=1"},
    {"user.max_user_namespaces=0", "sudo sysctl -w user.max_user_namespaces=15000"},
    {"a seccomp filter of the caller's, such as Docker's default profile",
     "in Docker, a seccomp profile that allows clone and unshare with namespace flags "
     "(--security-opt seccomp=PROFILE.json: Docker's default plus those), not --privileged"},
    {"the kernel, for no reason a known sysctl or filter shows",
     "a kernel with user namespaces (CONFIG_USER_NS)"},
};

static size_t userns_blocker_index(void)
{
	bool root = geteuid() == 0;
	if (!root && file_says("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"))
		return 0;
	if (!root && file_says("/proc/sys/kernel/unprivileged_userns_clone", "0"))
		return 1;
	if (file_says("/proc/sys/user/max_user_namespaces", "0"))
		return 2;
	char mode[16];
	return proc_status_field(getpid(), "Seccomp", mode, sizeof(mode)) && streq(mode, "2") ? 3
	                                                                                      : 4;
}

const char *probe_userns_blocker(void)
{
	return userns_blockers[userns_blocker_index()].blocker;
}

const char *probe_userns_fix(void)
{
	return userns_blockers[userns_blocker_index()].fix;
}

int probe_lower_landlock_abi(int abi, const char *cap)
{
	char *end;

	if (!cap || !*cap)
		return abi;
	errno = 0;
	long v = strtol(cap, &end, 10);
	/* anything but a plain number below ABI is ignored: the knob never raises the ABI */
	if (errno != 0 || *end != '\0' || v < 0 || v >= abi)
		return abi;
	return (int)v;
}

int probe_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return probe_lower_landlock_abi(abi < 0 ? 0 : (int)abi, getenv(PROBE_LANDLOCK_ABI_ENV));
}

static const char *probe_cgroup(void)
{
	Cgroup cg;
	ob_limits l;
	char id[32];

	ob_limits_init(&l);
	(void)snprintf(id, sizeof(id), "probe-%d", (int)getpid());
	(void)cgroup_create(&cg, id, &l);
	const char *v = cgroup_version_string(&cg);
	cgroup_destroy(&cg);
	return v;
}

static bool probe_pidfd_getfd(void)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	_cleanup_close_ int copy = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);
	return copy >= 0;
}

#ifdef FILTER_NATIVE_ARCH
#define PROBE_AUDIT_ARCH FILTER_NATIVE_ARCH
#endif

/* GCOVR_EXCL_START: runs in a forked child, which leaves with _exit (no counters written) */
/* The child of probe_addfd_setfd: its getppid() goes to a listener it hands over on SOCK,
 * and succeeds when answered with 0. */
static _Noreturn void addfd_child(int sock)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROBE_AUDIT_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = ELEMENTSOF(f), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	                            SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0 || fd_send(sock, 'l', &listener, 1) < 0)
		_exit(1);
	(void)close(listener);
	_exit(syscall(SYS_getppid) == 0 ? 0 : 1);
}
/* GCOVR_EXCL_STOP */

/* FD has something to read within two seconds (the probe's child is quick or broken). */
static bool readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, 2000) == 1 && (pfd.revents & POLLIN);
}

/* SECCOMP_ADDFD_FLAG_SETFD (Linux 5.14), tried: a child traps a getppid() of its own and we
 * answer it by placing an fd at a number we choose, as the transparent path does. */
static bool probe_addfd_setfd(void)
{
	int sv[2];
	bool ok = false;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	pid_t pid = fork();
	if (pid == 0) {
		(void)close(sv[0]);
		addfd_child(sv[1]);
	}
	(void)close(sv[1]);
	_cleanup_close_ int sock = sv[0];
	_cleanup_close_ int listener = -1;
	struct seccomp_notif req = {0};
	if (pid > 0 && readable(sock) && fd_receive(sock, &listener, 1) >= 0 &&
	    readable(listener) && ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
		struct seccomp_notif_addfd add = {.id = req.id,
		                                  .flags = SECCOMP_ADDFD_FLAG_SETFD,
		                                  .srcfd = (unsigned)listener,
		                                  .newfd = 100};
		ok = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0;
		struct seccomp_notif_resp resp = {.id = req.id};
		(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	if (pid > 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
	}
	return ok;
}

/* The transparent egress path needs pidfd_getfd (Linux 5.6) and SECCOMP_ADDFD_FLAG_SETFD
 * (5.14): each tried. */
static bool probe_transparent_once(void)
{
	return probe_pidfd_getfd() && probe_addfd_setfd();
}

/* Asked before every run with network grants: the kernel does not change under us, so once
 * per process (a race between threads only probes twice). */
bool probe_transparent_egress(void)
{
	static int known = -1;
	if (known < 0)
		known = probe_transparent_once();
	return known;
}

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3; build headers may be older */
#endif

/* Asked before every run with an exec allow-list: tried once per process (the kernel does not
 * change under us). An unknown flag is EINVAL. */
bool probe_memfd_noexec(void)
{
	static int known = -1;
	if (known < 0) {
		int fd =
		    (int)syscall(SYS_memfd_create, "omnibase-probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
		known = fd >= 0;
		if (fd >= 0)
			(void)close(fd);
	}
	return known;
}

/* Each backend: installed or not, its version, and what it provides here. */
static json_t *probe_backends(void)
{
	json_t *o = json_pack("{s:{s:b, s:s, s:s}}", "native", "installed", true, "version",
	                      ob_version(), "provides",
	                      "namespaces, Landlock, seccomp allow-list with observed denials, "
	                      "cgroups or rlimits, egress proxy and transparent connects");
	for (int b = OB_BACKEND_GVISOR; o && b < OB_BACKEND_MAX; b++) {
		char path[4096], version[128];
		bool there = backend_find((ob_backend)b, path, sizeof(path));
		bool shim = b == OB_BACKEND_GVISOR && backend_loader_shim(path, sizeof(path));
		backend_version((ob_backend)b, version, sizeof(version));
		(void)json_object_set_new(
		    o, ob_backend_to_string((ob_backend)b),
		    json_pack(
		        "{s:b, s:s, s:s, s:s, s:b}", "installed", there, "version", version,
		        "provides",
		        b == OB_BACKEND_GVISOR
		            ? "gVisor's own kernel, seccomp allow-list with refusals recorded "
		              "(runsc's log), denied opens, connects and execs recorded (runsc "
		              "strace), the exec allow-list by the mounts (omnibase-loader at "
		              "the dynamic loader's place), egress proxy"
		            : "namespaces, cgroups, Landlock (omnibase-exec), seccomp "
		              "allow-list with observed denials (seccomp listener), egress "
		              "proxy",
		        "lacks",
		        b == OB_BACKEND_GVISOR
		            ? (shim ? "Landlock (its exec allow-list is the mounts'), transparent "
		                      "egress, SQLite writes, network grants when rootless, a user "
		                      "namespace with network grants as root (needs "
		                      "--allow-degraded)"
		                    : "Landlock (without omnibase-loader the loader run as a "
		                      "program runs a visible executable: needs --allow-degraded), "
		                      "transparent egress, SQLite writes, network grants when "
		                      "rootless")
		            : "transparent egress, SQLite writes, rootless",
		        "complete", b != OB_BACKEND_GVISOR || shim));
	}
	return o;
}

/* Whether the seccomp user notification (Linux 5.0) is there: the supervisor's whole view of
 * the program's refused and observed system calls. */
static bool probe_seccomp_notify(void)
{
	unsigned action = SECCOMP_RET_USER_NOTIF;
	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* The controllers of our own cgroup v2 that we may hand to a child ("" on a v1-only host). */
static json_t *probe_cgroup_v2_controllers(void)
{
	char line[PATH_MAX], path[PATH_MAX + 64], ctl[256] = "";
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	json_t *a = json_array();

	while (a && f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			(void)snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.controllers",
			               streq(line + 3, "/") ? "" : line + 3);
			_cleanup_fclose_ FILE *c = fopen(path, "re");
			if (c && fgets(ctl, sizeof(ctl), c))
				ctl[strcspn(ctl, "\n")] = '\0';
		}
	for (char *save = NULL, *t = strtok_r(ctl, " ", &save); a && t;
	     t = strtok_r(NULL, " ", &save))
		(void)json_array_append_new(a, json_string(t));
	return a;
}

static json_t *probe_build(void)
{
	struct utsname u;
	bool seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
	bool pidfd = true;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0)
		pidfd = false;
	else
		(void)close(fd);
	if (uname(&u) < 0)
		(void)snprintf(u.release, sizeof(u.release), "unknown");
	long kabi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int abi = probe_landlock_abi();
	bool userns = probe_user_namespaces();
	json_t *o = json_pack(
	    "{s:s, s:s, s:b, s:b, s:o, s:o, s:b, s:i, s:i, s:b, s:b, s:s, s:o, s:b, s:b, s:b, s:b, "
	    "s:{s:b, s:b}, s:b}",
	    "version", ob_version(), "kernel", u.release, "namespaces", probe_namespaces(),
	    "userns", userns, "userns_blocker",
	    userns ? json_null() : json_string(probe_userns_blocker()), "userns_fix",
	    userns ? json_null() : json_string(probe_userns_fix()), "root", geteuid() == 0,
	    "landlock_abi", abi, "landlock_abi_kernel", kabi < 0 ? 0 : (int)kabi, "seccomp",
	    seccomp, "seccomp_notify", probe_seccomp_notify(), "cgroup", probe_cgroup(),
	    "cgroup_v2_controllers", probe_cgroup_v2_controllers(), "pidfd", pidfd, "pidfd_getfd",
	    probe_pidfd_getfd(), "memfd_noexec", probe_memfd_noexec(), "addfd_setfd",
	    probe_transparent_egress(), "egress", "proxy", true, "transparent",
	    probe_transparent_egress(), "landlock_tcp", abi >= 4);
	if (o)
		(void)json_object_set_new(o, "landlock_lacks", doctor_landlock_lacks(abi));
	if (o)
		(void)json_object_set_new(o, "backends", probe_backends());
	/* the native backend's tier follows from the rest (doctor.c) */
	json_t *native = json_object_get(json_object_get(o, "backends"), "native");
	if (native)
		(void)json_object_set_new(native, "tier", json_string(doctor_native_tier(o)));
	return o;
}

int ob_probe_json(char **ret)
{
	assert_return(ret, -EINVAL);
	json_t *o = probe_build();
	if (!o)
		return -ENOMEM;
	*ret = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return *ret ? 0 : -ENOMEM;
}

int ob_probe_text(char **ret)
{
	assert_return(ret, -EINVAL);
	json_t *o = probe_build();
	if (!o)
		return -ENOMEM;
	int r = doctor_text(o, ret);
	json_decref(o);
	return r;
}
