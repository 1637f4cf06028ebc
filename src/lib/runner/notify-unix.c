/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host unix sockets only by grant (see notify-unix.h). The order of a decision:
 *  1. the path, as the program's process sees it (RESOLVE_IN_ROOT in the sandbox's root, a
 *     relative one from its working directory), opened O_PATH: the inode to decide on;
 *  2. the sandbox's own: on a tmpfs the plan mounts (/tmp, /dev/shm), or bound by a socket of
 *     the sandbox's network namespace (sock_diag UNIX_DIAG_VFS names the inode each bound
 *     socket was bound to: a fact of the kernel's, which no rename or link can fake);
 *  3. otherwise a host file: its host path (the bind that shows it) must be granted; the
 *     host path is then opened without following any symlink, and that inode connected;
 *  4. a path the sandbox does not show: granted, the host's socket there; not granted but a
 *     socket on the host, a denial (the kernel's answer stays ENOENT).
 * Connects are made on the program's own socket object (a pidfd_getfd copy), never waiting:
 * a blocking socket is made non-blocking for the call, and a full backlog is EAGAIN.
 */
#include "runner/notify-unix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fdpass.h"
#include "basic/macro.h"
#include "basic/procfs.h"
#include "egress/tconnect.h"

#define MAX_OWN_DEVS 8

struct UnixConnect {
	bool devs_known;
	dev_t own_devs[MAX_OWN_DEVS]; /* the tmpfs file systems the plan mounts */
	size_t n_own_devs;
	int diag;           /* NETLINK_SOCK_DIAG in the sandbox's network namespace, or -1 */
	ino_t diag_netns;   /* the namespace it was made in */
	bool getfd_missing; /* pidfd_getfd is not there: decide, then continue */
};

UnixConnect *unix_connect_free(UnixConnect *u)
{
	if (!u)
		return NULL;
	if (u->diag >= 0)
		(void)close(u->diag);
	free(u);
	return NULL;
}

/* PATH (absolute, in the sandbox) opened O_PATH as the process PID sees it. */
static int open_in_root(const UnixConnectContext *c, pid_t pid, const char *path)
{
	char root[64];
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};

	if (*c->root_fd < 0) {
		(void)snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
		*c->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*c->root_fd < 0)
			return -errno;
	}
	int fd = (int)syscall(SYS_openat2, *c->root_fd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* The devices of the tmpfs file systems the plan mounts: a socket there is the sandbox's. */
static void own_devs(UnixConnect *u, const UnixConnectContext *c, pid_t pid)
{
	struct stat st;

	u->devs_known = true;
	for (size_t i = 0; i < c->plan->n_steps && u->n_own_devs < MAX_OWN_DEVS; i++) {
		if (c->plan->steps[i].kind != STEP_TMPFS)
			continue;
		_cleanup_close_ int fd = open_in_root(c, pid, c->plan->steps[i].dest);
		if (fd >= 0 && fstat(fd, &st) == 0)
			u->own_devs[u->n_own_devs++] = st.st_dev;
	}
}

/* Is the socket FD (stat ST) one the program made under a --workdir overlay, on the upper
 * layer (plan/overlay.h)? The overlay shows such a file with a device number of its own, so
 * the upper layer's entry at the same path is compared: the same inode number and change
 * time, which a host socket beneath could not both have. */
static bool in_upper_layer(const Plan *p, int fd, const struct stat *st)
{
	char link[64], inner[PATH_MAX], upper[PATH_MAX + 32];
	struct stat us;

	if (!p->n_overlays || p->disk_fd <= 0)
		return false;
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, inner, sizeof(inner) - 1);
	inner[n > 0 ? n : 0] = '\0';
	for (size_t i = 0; i < p->n_steps; i++) {
		const MountStep *s = &p->steps[i];
		size_t len = strlen(s->dest);
		if (!s->overlay || strncmp(inner, s->dest, len) != 0 || inner[len] != '/')
			continue;
		(void)snprintf(upper, sizeof(upper), "%u/u%s", s->overlay, inner + len);
		return fstatat(p->disk_fd, upper, &us, AT_SYMLINK_NOFOLLOW) == 0 &&
		       S_ISSOCK(us.st_mode) && us.st_ino == st->st_ino &&
		       us.st_ctim.tv_sec == st->st_ctim.tv_sec &&
		       us.st_ctim.tv_nsec == st->st_ctim.tv_nsec;
	}
	return false;
}

/* GCOVR_EXCL_START: the child's counters are never written (it leaves with _exit). */
static void diag_child(int netns, int userns, int sock)
{
	/* root enters the namespace directly; the owner of the sandbox's user namespace (a
	 * rootless run) has CAP_SYS_ADMIN only inside it, so enters it first */
	if (setns(netns, CLONE_NEWNET) < 0 &&
	    (setns(userns, CLONE_NEWUSER) < 0 || setns(netns, CLONE_NEWNET) < 0))
		_exit(1);
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	_exit(s < 0 || fd_send(sock, 'd', &s, 1) < 0 ? 1 : 0);
}
/* GCOVR_EXCL_STOP */

/* A NETLINK_SOCK_DIAG socket in the network namespace of PID (sock_diag answers for the
 * namespace its socket lives in), made by a short-lived child that enters it: the supervisor
 * stays where it is. Once per run (per namespace). */
static int diag_socket(UnixConnect *u, pid_t pid)
{
	char path[64];
	struct stat st;
	int sv[2];

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int netns = open(path, O_RDONLY | O_CLOEXEC);
	if (netns < 0 || fstat(netns, &st) < 0)
		return -errno;
	if (u->diag >= 0 && u->diag_netns == st.st_ino)
		return u->diag;
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	_cleanup_close_ int userns = open(path, O_RDONLY | O_CLOEXEC);
	if (userns < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t child = fork();
	if (child == 0)
		diag_child(netns, userns, sv[1]);
	(void)close(sv[1]);
	_cleanup_close_ int sock = sv[0];
	if (child < 0)
		return -errno;
	int status, fd = -1;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	int r = fd_receive(sock, &fd, 1);
	if (r < 0)
		return r;
	if (u->diag >= 0)
		(void)close(u->diag);
	u->diag = fd;
	u->diag_netns = st.st_ino;
	struct timeval tv = {.tv_sec = 1};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* NLMSG_OK and NLMSG_NEXT without their mixed-sign arithmetic (an int length compared with
 * the u32 message length): LEFT bytes remain at H. */
static bool nlmsg_fits(const struct nlmsghdr *h, size_t left)
{
	return left >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= left;
}

static struct nlmsghdr *nlmsg_next(struct nlmsghdr *h, size_t *left)
{
	size_t step = MIN((size_t)NLMSG_ALIGN(h->nlmsg_len), *left);
	*left -= step;
	return (struct nlmsghdr *)((char *)h + step);
}

/* Does one reply message of a UNIX_DIAG dump name the inode ST as its bound file? */
static bool diag_msg_binds(const struct nlmsghdr *h, const struct stat *st)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(struct unix_diag_vfs))
			continue;
		const struct unix_diag_vfs *v = RTA_DATA(a);
		/* the kernel's own dev_t: 12 bits of major above 20 of minor */
		if (v->udiag_vfs_ino == st->st_ino && v->udiag_vfs_dev >> 20 == major(st->st_dev) &&
		    (v->udiag_vfs_dev & 0xfffff) == minor(st->st_dev))
			return true;
	}
	return false;
}

/* Is the socket inode ST bound by a socket of PID's network namespace? */
static bool bound_in_sandbox(UnixConnect *u, pid_t pid, const struct stat *st)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} q = {.h = {.nlmsg_len = sizeof(q),
	             .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	             .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
	       .r = {.sdiag_family = AF_UNIX, .udiag_states = ~0U, .udiag_show = UDIAG_SHOW_VFS}};
	_Alignas(struct nlmsghdr) char buf[16384];
	bool found = false;

	int s = diag_socket(u, pid);
	if (s < 0 || send(s, &q, sizeof(q), 0) < 0)
		return false;
	for (;;) {
		ssize_t k = recv(s, buf, sizeof(buf), 0);
		if (k <= 0) { /* a dump cut short: its remainder must not answer the next one */
			(void)close(u->diag);
			u->diag = -1;
			return false;
		}
		size_t left = (size_t)k;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nlmsg_fits(h, left);
		     h = nlmsg_next(h, &left)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
				return found;
			found = found || diag_msg_binds(h, st);
		}
	}
}

static bool is_own(UnixConnect *u, const UnixConnectContext *c, pid_t pid, const struct stat *st)
{
	if (!u->devs_known)
		own_devs(u, c, pid);
	for (size_t i = 0; i < u->n_own_devs; i++)
		if (u->own_devs[i] == st->st_dev)
			return true;
	return bound_in_sandbox(u, pid, st);
}

bool unix_host_path(const Plan *plan, const char *inner, char *buf, size_t size)
{
	const MountStep *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < plan->n_steps; i++) {
		const MountStep *s = &plan->steps[i];
		size_t n = strlen(s->dest);
		if (s->kind != STEP_BIND || s->src_inside || !s->src)
			continue;
		if (streq(s->dest, "/"))
			n = 0;
		else if (!path_under(inner, s->dest))
			continue;
		if (!best || n >= best_len) {
			best = s;
			best_len = n;
		}
	}
	if (!best)
		return false;
	const char *rest = inner + best_len;
	int k =
	    snprintf(buf, size, "%s%s", streq(best->src, "/") && rest[0] ? "" : best->src, rest);
	return k > 0 && (size_t)k < size;
}

/* HOST (absolute) opened O_PATH on the host, no symlink followed anywhere on the way: the
 * inode that a grant naming HOST means, and no other. */
static int open_host(const char *host)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
	                       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, host, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static bool granted(const UnixConnectContext *c, const char *host)
{
	return c->caps && ob_check_unix_socket(c->caps, c->ctx, host, NULL) == 0;
}

/* Connects S, a copy of the program's socket, to the inode TARGET (our O_PATH fd) through
 * /proc/self/fd/TARGET, which the kernel resolves to that inode. Never waits: a blocking
 * stream socket is made non-blocking for the call (a full backlog is then EAGAIN, where the
 * kernel would wait). */
static int connect_to(int s, int target)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int type = 0;
	socklen_t tl = sizeof(type);

	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "/proc/self/fd/%d", target);
	int fl = fcntl(s, F_GETFL);
	bool toggle = fl >= 0 && !(fl & O_NONBLOCK) &&
	              getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type != SOCK_DGRAM;
	if (toggle)
		(void)fcntl(s, F_SETFL, fl | O_NONBLOCK);
	int r = connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	if (toggle)
		(void)fcntl(s, F_SETFL, fl);
	return r;
}

/* The decided outcome: the program's socket (its fd args[0], a pidfd_getfd copy) connected to
 * TARGET by us (1, *RET_ERROR the result), or, without pidfd_getfd, the call continued (0). */
static int allow(UnixConnect *u, const UnixConnectContext *c, const struct seccomp_notif *req,
                 int target, int *ret_error)
{
	if (u->getfd_missing || c->judge_only)
		return 0;
	_cleanup_close_ int s = tconnect_grab_fd(c->notify_fd, req, (int)req->data.args[0]);
	if (s == -ENOSYS || s == -EPERM) {
		u->getfd_missing = true; /* an old kernel, or a ptrace policy that refuses it */
		return 0;
	}
	*ret_error = s < 0 ? s : connect_to(s, target);
	return 1;
}

static int refuse(const UnixConnectContext *c, const struct seccomp_notif *req, const char *host,
                  int error, int *ret_error)
{
	char res[PATH_MAX + 8];

	(void)snprintf(res, sizeof(res), "unix:%s", host);
	c->deny(c->userdata, res, c->op, proc_inner_pid(req->pid));
	*ret_error = error;
	return 1;
}

/* A path the sandbox does not show (PATH, absolute in the sandbox): granted, the host's socket
 * there; else ENOENT, as the kernel says, and a denial when the host has a socket there. */
static int hidden(UnixConnect *u, const UnixConnectContext *c, const struct seccomp_notif *req,
                  const char *path, int *ret_error)
{
	struct stat st;

	_cleanup_close_ int fd = open_host(path);
	bool sock = fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	if (sock && granted(c, path))
		return allow(u, c, req, fd, ret_error); /* continued: the kernel says ENOENT */
	if (sock)
		return refuse(c, req, path, -ENOENT, ret_error);
	*ret_error = -ENOENT;
	return 1;
}

/* The absolute path, in the sandbox, that the process PID's connect to NAME means. */
static int absolute(pid_t pid, const char *name, char *buf, size_t size)
{
	char link[64], cwd[PATH_MAX];

	if (name[0] == '/')
		return snprintf(buf, size, "%s", name) < (int)size ? 0 : -ENAMETOOLONG;
	/* its working directory as the sandbox sees it: the link is written from the root of
	 * the process's own mount namespace, which ours cannot reach */
	(void)snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	cwd[n] = '\0';
	if (cwd[0] != '/')
		return -ENOENT; /* removed, or out of reach */
	int k = snprintf(buf, size, "%s/%s", streq(cwd, "/") ? "" : cwd, name);
	return k > 0 && (size_t)k < size ? 0 : -ENAMETOOLONG;
}

static int decide(UnixConnect *u, const UnixConnectContext *c, const struct seccomp_notif *req,
                  const char *name, int *ret_error)
{
	char path[PATH_MAX] = "", link[64], inner[PATH_MAX], host[PATH_MAX];
	struct stat st;

	int r = absolute(req->pid, name, path, sizeof(path));
	if (r < 0) {
		*ret_error = r;
		return 1;
	}
	_cleanup_close_ int fd = open_in_root(c, req->pid, path);
	if (fd == -ENOENT)
		return hidden(u, c, req, path, ret_error);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*ret_error = fd < 0 ? fd : -errno;
		return 1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*ret_error = -ECONNREFUSED; /* what connect(2) says of a file that is no socket */
		return 1;
	}
	if (is_own(u, c, req->pid, &st) || in_upper_layer(c->plan, fd, &st))
		return allow(u, c, req, fd, ret_error);
	/* a host file: where the sandbox shows it (the link is written from the sandbox's
	 * root: see absolute()), then which host path the bind showing it comes from */
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, inner, sizeof(inner) - 1);
	inner[n > 0 ? n : 0] = '\0';
	if (inner[0] != '/' || !unix_host_path(c->plan, inner, host, sizeof(host)))
		return refuse(c, req, inner[0] == '/' ? inner : path, -EACCES, ret_error);
	if (!granted(c, host))
		return refuse(c, req, host, -EACCES, ret_error);
	_cleanup_close_ int hfd = open_host(host);
	if (hfd < 0 || fstat(hfd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return refuse(c, req, host, -EACCES, ret_error); /* a symlink on the way, or gone */
	return allow(u, c, req, hfd, ret_error);
}

int unix_connect_handle(UnixConnect **state, const UnixConnectContext *c,
                        const struct seccomp_notif *req, const struct sockaddr_storage *ss,
                        size_t len, int *ret_error)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	char name[sizeof(un->sun_path) + 1];

	if (len <= off || un->sun_path[0] == '\0')
		return -1; /* unnamed or abstract: scoped by the network namespace */
	size_t plen = MIN(len - off, sizeof(un->sun_path));
	memcpy(name, un->sun_path, plen);
	name[plen] = '\0';
	if (!*state) {
		*state = calloc(1, sizeof(**state));
		if (!*state) {
			*ret_error = -ENOMEM;
			return 1;
		}
		(*state)->diag = -1;
	}
	/* without pidfd_getfd an allowed connect continues (0): a refused one is answered */
	return decide(*state, c, req, name, ret_error);
}
