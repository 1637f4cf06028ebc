/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running an OCI bundle with crun, runc or runsc (see backend.h). */
#include "backends/runtime.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/gvtrace.h"
#include "basic/fdpass.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "egress/proxy.h"

static const char *const runtime_names[OB_BACKEND_MAX] = {
    [OB_BACKEND_GVISOR] = "runsc",
    [OB_BACKEND_CRUN] = "crun",
    [OB_BACKEND_RUNC] = "runc",
};

bool backend_find(ob_backend backend, char *path, size_t size)
{
	const char *name = backend > 0 && backend < OB_BACKEND_MAX ? runtime_names[backend] : NULL;
	const char *env = getenv("PATH");
	char dirs[4096];

	path[0] = '\0';
	if (!name)
		return false;
	(void)snprintf(dirs, sizeof(dirs), "%s", env && *env ? env : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		(void)snprintf(path, size, "%s/%s", d, name);
		if (d[0] == '/' && access(path, X_OK) == 0)
			return true;
	}
	path[0] = '\0';
	return false;
}

static bool is_fs(const char *path, long magic)
{
	struct statfs sfs;
	return statfs(path, &sfs) == 0 && (long)sfs.f_type == magic;
}

/* In the runtime's child, before it executes the runtime. crun 1.8 refuses a hybrid host
 * (cgroup v1 controllers, a v2 mount beside them) whose v2 hierarchy has any controller
 * enabled, even with its cgroup manager disabled. It is shown the host in legacy mode: its
 * own mount namespace with an empty tmpfs over the v2 mount, so it uses the v1 controllers, as
 * the native backend does on such a host (the directory it makes for the "0::" line lands in
 * that tmpfs, gone with the namespace). False when that fails. */
static bool runtime_view(ob_backend backend)
{
	static const char unified[] = "/sys/fs/cgroup/unified";

	if (backend != OB_BACKEND_CRUN || !is_fs("/sys/fs/cgroup", TMPFS_MAGIC) ||
	    !is_fs(unified, CGROUP2_SUPER_MAGIC))
		return true;
	return unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 &&
	       mount("omnibase", unified, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	             "size=64k,nr_inodes=64,mode=0755") == 0;
}

/* Runs ARGV with stdout to OUT (-1: /dev/null) and stderr to /dev/null; its exit status. */
static int run_quietly(ob_backend backend, char *const argv[], int out)
{
	pid_t pid = fork();
	int status = 0;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		(void)dup2(out >= 0 ? out : null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		(void)dup2(null, STDIN_FILENO);
		if (runtime_view(backend))
			execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}

void backend_version(ob_backend backend, char *buf, size_t size)
{
	char path[4096];
	int p[2];

	buf[0] = '\0';
	if (!backend_find(backend, path, sizeof(path)) || pipe2(p, O_CLOEXEC) < 0)
		return;
	char *argv[] = {path, (char *)"--version", NULL};
	(void)run_quietly(OB_BACKEND_NATIVE, argv, p[1]);
	(void)close(p[1]);
	ssize_t n = read(p[0], buf, size - 1);
	(void)close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The runtime's global options: its state under the bundle; gVisor without a network and
 * with the bundle's seccomp filter applied to the program inside. */
static size_t global_args(ob_backend backend, const char *runtime, const char *state, bool netns,
                          char *argv[])
{
	size_t k = 0;
	argv[k++] = (char *)runtime;
	argv[k++] = (char *)"--root";
	argv[k++] = (char *)state;
	if (backend == OB_BACKEND_GVISOR) {
		/* its own netstack with loopback only; or, joining our namespace that holds the
		 * proxy's listener, the host kernel's sockets in that namespace */
		argv[k++] = netns ? (char *)"--network=host" : (char *)"--network=none";
		argv[k++] = (char *)"--oci-seccomp"; /* else it ignores linux.seccomp */
		if (geteuid() != 0)                  /* its sandbox in a user namespace of ours */
			argv[k++] = (char *)"--rootless";
	}
	return k;
}

int backend_start(ob_backend backend, const char *runtime, const char *dir, const char *id,
                  bool netns, const char *trace, const int stdio[3], pid_t *ret)
{
	char state[4096], pidfile[4096], log[4096 + 16];
	char *argv[24];

	for (int i = 0; i < 3; i++)
		if (stdio[i] < 3) /* ours, never the caller's 0-2 */
			return -EBADF;
	(void)snprintf(state, sizeof(state), "%s/state", dir);
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	size_t k = global_args(backend, runtime, state, netns, argv);
	if (trace && backend == OB_BACKEND_GVISOR) {
		/* the Sentry's strace of the calls gvtrace.c reads, into its debug log (the
		 * FIFO); the other runsc commands log nothing there */
		(void)snprintf(log, sizeof(log), "--debug-log=%s", trace);
		argv[k++] = (char *)"--strace";
		/* the Sentry's "Syscall N: denied by seccomp" is a debug message */
		argv[k++] = (char *)"--debug";
		argv[k++] = (char *)"--strace-syscalls=" GVTRACE_SYSCALLS;
		argv[k++] = log;
		argv[k++] = (char *)"--debug-command=boot";
	}
	argv[k++] = (char *)"run";
	argv[k++] = (char *)"--bundle";
	argv[k++] = (char *)dir;
	argv[k++] = (char *)"--pid-file";
	argv[k++] = pidfile;
	argv[k++] = (char *)id;
	argv[k] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			if (dup2(stdio[i], STDIN_FILENO + i) < 0)
				_exit(125);
		/* nothing else of the caller's reaches the runtime (what it leaves open, runc
		 * and runsc hand on to the container) */
		(void)syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
		if (!runtime_view(backend)) {
			(void)dprintf(STDERR_FILENO,
			              "omnibase: cannot prepare %s's mount namespace: %m\n",
			              runtime);
			_exit(125);
		}
		execv(runtime, argv);
		_exit(125);
	}
	*ret = pid;
	return 0;
}

bool backend_started(const char *dir)
{
	char pidfile[4096];
	(void)snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	return access(pidfile, F_OK) == 0;
}

static void simple_command(ob_backend backend, const char *runtime, const char *dir,
                           const char *const *args)
{
	char state[4096];
	char *argv[12];

	(void)snprintf(state, sizeof(state), "%s/state", dir);
	size_t k = global_args(backend, runtime, state, false, argv);
	for (; *args && k < ELEMENTSOF(argv) - 1; args++)
		argv[k++] = (char *)*args;
	argv[k] = NULL;
	(void)run_quietly(backend, argv, -1);
}

/* GCOVR_EXCL_START: runs in a forked child that leaves with _exit (its coverage counters are
 * never written); tests/integration/test_backends.py exercises it. */
/* In the child: loopback up and the listener bound, sent over SOCK; then it exits (the
 * namespace lives on through the fd the parent opened). */
static _Noreturn void netns_child(int sock)
{
	struct ifreq ifr = {0};
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons(PROXY_PORT),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(1);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		_exit(1);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		_exit(1);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(l, 256) < 0)
		_exit(1);
	if (fd_send(sock, 'n', &l, 1) < 0)
		_exit(1);
	/* wait until the parent holds the namespace */
	char byte;
	(void)!read(sock, &byte, 1);
	_exit(0);
}
/* GCOVR_EXCL_STOP */

int backend_netns_create(int *netns, int *listener)
{
	int sp[2], status = 0;
	char path[64];

	*netns = *listener = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		(void)close(sp[0]);
		(void)close(sp[1]);
		return e;
	}
	if (pid == 0) {
		(void)close(sp[0]);
		netns_child(sp[1]);
	}
	(void)close(sp[1]);
	struct pollfd pf = {.fd = sp[0], .events = POLLIN};
	int r = poll(&pf, 1, 5000) == 1 ? fd_receive(sp[0], listener, 1) : -ETIMEDOUT;
	if (r >= 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		*netns = open(path, O_RDONLY | O_CLOEXEC);
		r = *netns < 0 ? -errno : 0;
	}
	(void)close(sp[0]); /* the child reads end-of-file and leaves */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0 && *listener >= 0) {
		(void)close(*listener);
		*listener = -1;
	}
	return r;
}

void backend_kill(ob_backend backend, const char *runtime, const char *dir, const char *id)
{
	const char *const args[] = {"kill", id, "KILL", NULL};
	simple_command(backend, runtime, dir, args);
}

void backend_delete(ob_backend backend, const char *runtime, const char *dir, const char *id)
{
	const char *const args[] = {"delete", "-f", id, NULL};
	simple_command(backend, runtime, dir, args);
}

/* NAME in the directory of FILE into PATH: whether it is there, executable. */
static bool beside(const char *file, const char *name, char *path, size_t size)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	if (!slash)
		return false;
	(void)snprintf(path, size, "%.*s/%s", (int)(slash - file), file, name);
	return access(path, X_OK) == 0;
}

/* The helper NAME beside the running program (a build tree, the CLI), beside the object this
 * code is in (the Python package's extension, whose wheel holds the helpers), else
 * INSTALLED, into PATH: whether it is there. */
static bool find_helper(const char *name, const char *installed, char *path, size_t size)
{
	char self[4096];
	Dl_info info;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if (beside(self, name, path, size))
			return true;
	}
	if (dladdr((void *)find_helper, &info) && beside(info.dli_fname, name, path, size))
		return true;
	(void)snprintf(path, size, "%s", installed);
	return access(path, X_OK) == 0;
}

bool backend_exec_helper(char *path, size_t size)
{
	return find_helper("omnibase-exec", OB_EXEC_HELPER, path, size);
}

bool backend_loader_shim(char *path, size_t size)
{
	return find_helper("omnibase-loader", OB_LOADER_SHIM, path, size);
}
