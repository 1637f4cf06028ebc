/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runner/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "runner/mount-api.h"

/* FROM as TO, and ROOT as itself when not 0 (idmap_userns). */
static int write_map(pid_t pid, const char *file, unsigned from, unsigned to, unsigned root)
{
	char path[64], map[96];

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int len = snprintf(map, sizeof(map), "%u %u 1\n", from, to);
	if (root && root != from && root != to)
		(void)snprintf(map + len, sizeof(map) - (size_t)len, "%u %u 1\n", root, root);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, map, strlen(map));
	return n == (ssize_t)strlen(map) ? 0 : n < 0 ? -errno : -EIO;
}

/* GCOVR_EXCL_START: the helper child's only line runs in another process. */
static _Noreturn void hold(int fd)
{
	char c;
	(void)read(fd, &c, 1); /* until the parent has what it needs, or dies */
	_exit(0);
}
/* GCOVR_EXCL_STOP */

int idmap_userns(uid_t uid, uid_t to_uid, gid_t gid, gid_t to_gid, uid_t root)
{
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	/* A child in a new user namespace that waits: its namespace outlives it through the
	 * fd we open on it. fork semantics, no exec. */
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0) {
		(void)close(sp[0]);
		hold(sp[1]);
	}
	(void)close(sp[1]);
	if (pid < 0) {
		(void)close(sp[0]);
		return -errno;
	}
	int r = write_map(pid, "uid_map", uid, to_uid, root);
	if (r >= 0)
		r = write_map(pid, "gid_map", gid, to_gid, root);
	int fd = -1;
	if (r >= 0) {
		char path[64];
		(void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : 0;
	}
	(void)close(sp[0]); /* the child reads end-of-file and leaves */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

/* Enough fds for one per bind: they stay open from here until the sandbox mounted them. */
static int reserve_fds(size_t n)
{
	return nofile_raise(n + 256) >= n + 256 ? 0 : -EMFILE;
}

/* Host path SRC as a detached copy of its mount (the subtree with RECURSIVE), reached
 * without following a symlink anywhere on the way: what was planned is what is bound. */
static int open_tree_of(const char *src, bool recursive)
{
	struct ob_open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	int t = (int)syscall(SYS_open_tree, fd, "",
	                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
	                         (recursive ? AT_RECURSIVE : 0));
	return t < 0 ? -errno : t;
}

static int set_attrs(int tree, const MountStep *s, uint64_t extra, int userns)
{
	struct ob_mount_attr attr = {.attr_set = mount_attrs(s->flags) | extra,
	                             .userns_fd = userns >= 0 ? (uint64_t)userns : 0};
	if (!attr.attr_set)
		return 0;
	return syscall(SYS_mount_setattr, tree, "",
	               AT_EMPTY_PATH | (s->recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0
	           ? -errno
	           : 0;
}

/* One bind: opened, id-mapped if a grant, its flags set. */
static int open_step(Plan *p, MountStep *s, int userns)
{
	int tree = open_tree_of(s->src, s->recursive);
	if (tree < 0)
		return tree;
	int r = s->idmap ? set_attrs(tree, s, MOUNT_ATTR_IDMAP, userns) : set_attrs(tree, s, 0, -1);
	/* A file system without id-mapped mounts (EINVAL), or a tree with such a submount, or
	 * one the kernel will not id-map at all (EPERM: a mount of another user namespace, a
	 * container's tmpfs mounted meanwhile): the grant as is; the program then reaches only
	 * what any unprivileged user may. */
	if ((r == -EINVAL || r == -EPERM) && s->idmap) {
		if (!p->idmap_unsupported)
			p->idmap_unsupported = s->src;
		r = set_attrs(tree, s, 0, -1);
	}
	if (r < 0) {
		(void)close(tree);
		return r;
	}
	s->tree_fd = tree;
	return 0;
}

/* The user namespace the grants' id map goes through, made once per process and mapping
 * (kept: a caller that starts many sandboxes pays the ~0.4 ms of making it once), as a copy
 * the caller closes. The kept fd is close-on-exec and closed in the sandbox's first process
 * like every fd not its own. */
static int grant_userns(const Plan *p)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int fd = -1;
	static uid_t from_uid, to_uid, root;
	static gid_t from_gid, to_gid;
	uid_t want_root = p->idmap_root ? p->id_base : 0;

	(void)pthread_mutex_lock(&lock);
	if (fd < 0 || from_uid != p->outer_uid || to_uid != p->id_base + p->uid ||
	    from_gid != p->outer_gid || to_gid != p->id_base + p->gid || root != want_root) {
		int nfd = idmap_userns(p->outer_uid, p->id_base + p->uid, p->outer_gid,
		                       p->id_base + p->gid, want_root);
		if (nfd >= 0) {
			if (fd >= 0)
				(void)close(fd);
			fd = nfd;
			from_uid = p->outer_uid;
			to_uid = p->id_base + p->uid;
			from_gid = p->outer_gid;
			to_gid = p->id_base + p->gid;
			root = want_root;
		} else {
			(void)pthread_mutex_unlock(&lock);
			return nfd;
		}
	}
	/* a copy: another thread may replace the kept one while this run uses it */
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	r = r < 0 ? -errno : r;
	(void)pthread_mutex_unlock(&lock);
	return r;
}

int idmap_open_trees(Plan *p, ob_error *reterr)
{
	size_t n = 0;
	bool any_idmap = false;

	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].kind == STEP_BIND && !p->steps[i].src_inside) {
			n++;
			any_idmap |= p->steps[i].idmap;
		}
	int r = reserve_fds(n);
	if (r < 0)
		return ob_error_set(reterr, r, "%zu binds need as many open files: %s", n,
		                    strerror(-r));
	_cleanup_close_ int userns = -1;
	if (any_idmap) {
		userns = grant_userns(p);
		if (userns < 0)
			return ob_error_set(reterr, userns, "the id map for grants: %s",
			                    strerror(-userns));
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		MountStep *s = &p->steps[i];
		if (s->kind != STEP_BIND || s->src_inside)
			continue;
		r = open_step(p, s, userns);
		if (r < 0)
			return ob_error_set(reterr, r, "binding %s: %s", s->src, strerror(-r));
	}
	return 0;
}

void idmap_close_trees(Plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].tree_fd >= 0) {
			(void)close(p->steps[i].tree_fd);
			p->steps[i].tree_fd = -1;
		}
}
