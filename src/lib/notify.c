/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Observed denials (SPEC §5): the program's execve, execveat, connect and open calls are trapped
 * with a seccomp user-notification filter, and the supervisor, holding the listener, records
 * a CapabilityDenied for each one the grants do not allow.  It always answers "continue": the
 * kernel then runs the call under the real fences (mount layout, Landlock, the empty network
 * namespace), so a race on the arguments can only mislabel an event, never open a hole.
 * Only these calls are trapped; a trap costs a round trip to the supervisor (~50 µs; a Python
 * start makes about 35 opens).
 */
#include "notify.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/macro.h"

#ifndef __NR_openat2
#define __NR_openat2 437
#endif
/* open(2) and creat(2) exist on x86_64 only; elsewhere a number no call has. */
#ifdef __NR_open
#define NR_OPEN  __NR_open
#define NR_CREAT __NR_creat
#else
#define NR_OPEN  0xfffff
#define NR_CREAT 0xffffe
#endif

#if defined(__x86_64__)
#define NOTIFY_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOTIFY_ARCH AUDIT_ARCH_AARCH64
#endif

/* ---------------------------------------------------------------- child side */

/* GCOVR_EXCL_START: runs in the program's process, inside the sandbox, where the coverage
 * counters cannot be written (see spawn.c); tests/security exercises it. */
int notify_install(int sock)
{
#ifdef NOTIFY_ARCH
	/* Other architectures' entry points are not trapped here; the seccomp policy of the
	 * hardening issue refuses them outright. */
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOTIFY_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 7, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 6, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_connect, 5, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 4, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 3, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_OPEN, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_CREAT, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog prog = {.len = ELEMENTSOF(code), .filter = code};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	char byte = 'n';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};

	int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	                            SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0)
		return -errno;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	int r = n == 1 ? 0 : -errno;
	(void)close(listener);
	return r;
#else
	(void)sock;
	return -EOPNOTSUPP;
#endif
}

/* GCOVR_EXCL_STOP */

/* ---------------------------------------------------------------- supervisor side */

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int notify_receive(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};

	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n <= 0)
		return n == 0 ? -EPIPE : -errno;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	/* Linux >= 6.6: wake the supervisor on the same CPU, about halving a round trip. */
	(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0);
	return fd;
}

/* Reads up to SIZE bytes at ADDR in PID's memory.  The /proc/PID/mem fd of the last process
 * is kept: a program's opens come in runs from one process. A pid reused since then reads
 * nothing through the old fd (its memory is gone), and the fd is opened anew. */
static ssize_t read_mem(Notifier *n, pid_t pid, uint64_t addr, void *buf, size_t size)
{
	char path[64];

	for (int attempt = 0; attempt < 2; attempt++) {
		if (n->mem_fd < 0 || n->mem_pid != pid) {
			if (n->mem_fd >= 0)
				(void)close(n->mem_fd);
			(void)snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
			n->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
			n->mem_pid = pid;
			if (n->mem_fd < 0)
				return -errno;
		}
		ssize_t k = pread(n->mem_fd, buf, size, (off_t)addr);
		if (k > 0)
			return k;
		(void)close(n->mem_fd);
		n->mem_fd = -1;
	}
	return -EIO;
}

void notify_done(Notifier *n)
{
	if (n->mem_fd >= 0)
		(void)close(n->mem_fd);
	if (n->fd >= 0)
		(void)close(n->fd);
	n->mem_fd = n->fd = -1;
}

/* The pid of PID inside the sandbox (the last NSpid field). */
static int inner_pid(pid_t pid)
{
	char path[64], line[256];
	int inner = (int)pid;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return inner;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "NSpid:", 6) == 0) {
			char *last = strrchr(line, '\t');
			inner = last ? atoi(last + 1) : inner;
		}
	(void)fclose(f);
	return inner;
}

/* Is PATH (as the process PID sees it) one of the executables the plan allows? Compared by
 * inode, through the process's own root and working directory. */
static int exec_allowed(const Notifier *n, pid_t pid, const char *path)
{
	char host[PATH_MAX + 64];
	struct stat st;

	(void)snprintf(host, sizeof(host), "/proc/%d/%s/%s", (int)pid,
	               path[0] == '/' ? "root" : "cwd", path);
	if (stat(host, &st) < 0)
		return -errno; /* not there: ENOENT, not a denial */
	for (size_t i = 0; i < n->plan->n_rules; i++) {
		struct stat rs;
		char rule[PATH_MAX + 64];
		if (!(n->plan->rules[i].access & 1)) /* LANDLOCK_ACCESS_FS_EXECUTE */
			continue;
		(void)snprintf(rule, sizeof(rule), "/proc/%d/root%s", (int)pid,
		               n->plan->rules[i].path);
		if (stat(rule, &rs) == 0 && rs.st_dev == st.st_dev && rs.st_ino == st.st_ino)
			return 1;
	}
	return 0;
}

static void on_exec(Notifier *n, const struct seccomp_notif *req)
{
	char path[PATH_MAX];
	uint64_t addr = req->data.nr == __NR_execveat ? req->data.args[1] : req->data.args[0];
	ssize_t k = read_mem(n, req->pid, addr, path, sizeof(path) - 1);

	if (k <= 0)
		return;
	path[k] = '\0';
	path[strnlen(path, (size_t)k)] = '\0';
	if (path[0] == '\0' || exec_allowed(n, req->pid, path) != 0)
		return;
	n->deny(n->userdata, "EXTERNAL_COMMAND", path, "exec", inner_pid(req->pid));
}

static void on_connect(Notifier *n, const struct seccomp_notif *req)
{
	struct sockaddr_storage ss = {0};
	size_t len = MIN((size_t)req->data.args[2], sizeof(ss));
	char addr[INET6_ADDRSTRLEN], res[INET6_ADDRSTRLEN + 16];

	if (read_mem(n, req->pid, req->data.args[1], &ss, len) < (ssize_t)sizeof(sa_family_t))
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		if ((ntohl(in->sin_addr.s_addr) >> 24) == 127)
			return; /* the sandbox's own loopback */
		(void)inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		(void)snprintf(res, sizeof(res), "%s:%u", addr, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return;
		(void)inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		(void)snprintf(res, sizeof(res), "[%s]:%u", addr, ntohs(in6->sin6_port));
	} else {
		return; /* unix sockets stay inside the sandbox's own file system */
	}
	/* No NETWORK_CONNECT reaches out of the empty network namespace yet (the egress proxy
	 * is a later issue): every outward connect is a denial. */
	n->deny(n->userdata, "NETWORK_CONNECT", res, "connect", inner_pid(req->pid));
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* An open of a path the sandbox does not show although the host has it is a denial: that is
 * how a read of /etc/passwd is refused (ENOENT) and still recorded. /proc, /sys and /dev are
 * the sandbox's own (or absent by design), so probes there are not reported. Relative paths
 * are left alone: what they name on the host cannot be told from here. */
static void on_open(Notifier *n, const struct seccomp_notif *req)
{
	char path[PATH_MAX], inside[PATH_MAX + 64];
	uint64_t addr = req->data.args[1], flags = req->data.args[2];
	struct stat st;

	if (req->data.nr == NR_OPEN || req->data.nr == NR_CREAT) {
		addr = req->data.args[0];
		flags = req->data.nr == NR_CREAT ? (O_CREAT | O_WRONLY) : req->data.args[1];
	} else if (req->data.nr == __NR_openat2 && read_mem(n, req->pid, req->data.args[2], &flags,
	                                                    sizeof(flags)) != sizeof(flags)) {
		return;
	}
	ssize_t k = read_mem(n, req->pid, addr, path, sizeof(path) - 1);
	if (k <= 0)
		return;
	path[k] = '\0';
	if (path[0] != '/' || under(path, "/proc") || under(path, "/sys") || under(path, "/dev"))
		return;
	(void)snprintf(inside, sizeof(inside), "/proc/%d/root%s", (int)req->pid, path);
	if (lstat(inside, &st) == 0 || errno != ENOENT || lstat(path, &st) < 0)
		return;
	bool write = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
	n->deny(n->userdata, write ? "FILE_WRITE" : "FILE_READ", path, write ? "write" : "read",
	        inner_pid(req->pid));
}

void notify_handle(Notifier *n)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return; /* the target died meanwhile (ENOENT), or nothing to read */
	if (req.data.nr == __NR_execve || req.data.nr == __NR_execveat)
		on_exec(n, &req);
	else if (req.data.nr == __NR_connect)
		on_connect(n, &req);
	else
		on_open(n, &req);
	resp = (struct seccomp_notif_resp){.id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
	(void)ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}
