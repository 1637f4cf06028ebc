/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The calls that write by path without opening: mkdir, rmdir, unlink, rename, link, symlink,
 * mknod, chmod, chown, truncate, utimes (docs/design/runner.md "Observed denials"). The filter
 * cannot see a path, so each comes here (a round trip, ~15 µs; they are rarer than opens:
 * measured in the commit); a refusal the sandbox's layout makes — a read-only place (EROFS) or
 * a hidden directory (ENOENT) — is recorded as CapabilityDenied (FILE_WRITE, operation the
 * call's name). Where the open broker runs (notify-broker.c), it performs the call itself on
 * the supervisor's copy of the paths, with the program's identity and Landlock domain, and
 * what the kernel answers it is the answer and the record (EROFS, EACCES, EPERM; ENOENT
 * judged on the same copy): a thread that swaps the path after the look cannot erase the
 * record. Otherwise, and for the forms the broker leaves alone, the kernel decides on what it
 * reads itself ("continue"): a swap then can mislabel the event, never write anything. A
 * set-user-ID or set-group-ID mode (a register, fixed at the trap) stays a violation.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/seccomp.h>
#include <linux/xattr.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "basic/macro.h"
#include "basic/procfs.h"
#include "egress/tconnect.h"
#include "runner/notify-broker.h"
#include "runner/notify.h"

/* What each call does with its paths. Numbers, not names: this runs for every trap. */
typedef struct WriteCall {
	const char *name;
	int nr;
	signed char dirfd[2]; /* the argument holding each path's directory fd, -1: cwd */
	signed char path[2];  /* the argument holding each path, -1: none */
	signed char mode;     /* the mode argument, -1: none */
	bool entry, create;   /* makes or removes an entry (with CREATE: makes it) */
	signed char op;       /* the broker's BrokerOp, -1: left to the kernel */
	signed char flags;    /* the flags argument, -1: none */
	signed char extra;    /* chown's uid (gid after it), truncate's length, utimensat's
	                       * times; -1: none */
} WriteCall;

static const WriteCall calls[] = {
#ifdef __NR_mkdir
    {"mkdir", __NR_mkdir, {-1, -1}, {0, -1}, 1, true, true, BROKER_MKDIR, -1, -1},
    {"rmdir", __NR_rmdir, {-1, -1}, {0, -1}, -1, true, false, BROKER_UNLINK, -1, -1},
    {"unlink", __NR_unlink, {-1, -1}, {0, -1}, -1, true, false, BROKER_UNLINK, -1, -1},
    {"rename", __NR_rename, {-1, -1}, {0, 1}, -1, true, false, BROKER_RENAME, -1, -1},
    {"link", __NR_link, {-1, -1}, {1, -1}, -1, true, true, BROKER_LINK, -1, -1},
    {"symlink", __NR_symlink, {-1, -1}, {1, -1}, -1, true, true, BROKER_SYMLINK, -1, -1},
    {"mknod", __NR_mknod, {-1, -1}, {0, -1}, 1, true, true, BROKER_MKNOD, -1, -1},
    {"chmod", __NR_chmod, {-1, -1}, {0, -1}, 1, false, false, BROKER_CHMOD, -1, -1},
    {"chown", __NR_chown, {-1, -1}, {0, -1}, -1, false, false, BROKER_CHOWN, -1, 1},
    {"lchown", __NR_lchown, {-1, -1}, {0, -1}, -1, false, false, BROKER_CHOWN, -1, 1},
    {"utime", __NR_utime, {-1, -1}, {0, -1}, -1, false, false, -1, -1, -1},
    {"utimes", __NR_utimes, {-1, -1}, {0, -1}, -1, false, false, -1, -1, -1},
    {"futimesat", __NR_futimesat, {0, -1}, {1, -1}, -1, false, false, -1, -1, -1},
#endif
    {"mkdirat", __NR_mkdirat, {0, -1}, {1, -1}, 2, true, true, BROKER_MKDIR, -1, -1},
    {"unlinkat", __NR_unlinkat, {0, -1}, {1, -1}, -1, true, false, BROKER_UNLINK, 2, -1},
    {"renameat", __NR_renameat, {0, 2}, {1, 3}, -1, true, false, BROKER_RENAME, -1, -1},
    {"renameat2", __NR_renameat2, {0, 2}, {1, 3}, -1, true, false, BROKER_RENAME, 4, -1},
    {"linkat", __NR_linkat, {2, -1}, {3, -1}, -1, true, true, BROKER_LINK, 4, -1},
    {"symlinkat", __NR_symlinkat, {1, -1}, {2, -1}, -1, true, true, BROKER_SYMLINK, -1, -1},
    {"mknodat", __NR_mknodat, {0, -1}, {1, -1}, 2, true, true, BROKER_MKNOD, -1, -1},
    {"fchmodat", __NR_fchmodat, {0, -1}, {1, -1}, 2, false, false, BROKER_CHMOD, -1, -1},
    {"fchmodat2", 452 /* fchmodat2 */, {0, -1}, {1, -1}, 2, false, false, BROKER_CHMOD, 3, -1},
    {"fchownat", __NR_fchownat, {0, -1}, {1, -1}, -1, false, false, BROKER_CHOWN, 4, 2},
    {"truncate", __NR_truncate, {-1, -1}, {0, -1}, -1, false, false, BROKER_TRUNCATE, -1, 1},
    {"utimensat", __NR_utimensat, {0, -1}, {1, -1}, -1, false, false, BROKER_UTIMENS, 3, 2},
    /* the name (and value) after the path */
    {"setxattr", __NR_setxattr, {-1, -1}, {0, -1}, -1, false, false, BROKER_SETXATTR, -1, 1},
    {"lsetxattr", __NR_lsetxattr, {-1, -1}, {0, -1}, -1, false, false, BROKER_SETXATTR, -1, 1},
    {"removexattr", __NR_removexattr, {-1, -1}, {0, -1}, -1, false, false, BROKER_RMXATTR, -1, 1},
    {"lremovexattr", __NR_lremovexattr, {-1, -1}, {0, -1}, -1, false, false, BROKER_RMXATTR, -1, 1},
    /* on the program's fd (its number where a directory fd would be) */
    {"fsetxattr", __NR_fsetxattr, {0, -1}, {-1, -1}, -1, false, false, BROKER_SETXATTR, -1, 1},
    {"fremovexattr", __NR_fremovexattr, {0, -1}, {-1, -1}, -1, false, false, BROKER_RMXATTR, -1, 1},
    {"fchmod", __NR_fchmod, {0, -1}, {-1, -1}, 1, false, false, BROKER_CHMOD, -1, -1},
    {"fchown", __NR_fchown, {0, -1}, {-1, -1}, -1, false, false, BROKER_CHOWN, -1, 1},
};

static const WriteCall *write_call(int nr)
{
	for (size_t i = 0; i < ELEMENTSOF(calls); i++)
		if (calls[i].nr == nr)
			return &calls[i];
	return NULL;
}

bool notify_is_write(int nr)
{
	return write_call(nr) != NULL;
}

/* The path argument at ADDR (relative to DIRFD's directory) made absolute, as the sandbox
 * names it, into PATH: false when unreadable, empty, or not the broker's to do (a walk
 * through /proc, whose links answer after who looks). */
static bool broker_path(Notifier *n, const struct seccomp_notif *req, uint64_t addr, int dirfd,
                        char path[PATH_MAX])
{
	char rel[PATH_MAX];

	if (addr == 0 || !notify_read_path(n, req, addr, path) || !path[0])
		return false;
	memcpy(rel, path, sizeof(rel));
	if (path[0] != '/' && notify_path_absolute(req->pid, dirfd, rel, path) < 0)
		return false;
	memcpy(rel, path, sizeof(rel));
	return !notify_path_via_proc(n, req->pid, rel);
}

bool notify_privileged_xattr(const char *name)
{
	return strncmp(name, "security.", 9) == 0 || strncmp(name, "trusted.", 8) == 0;
}

/* Does call C act on the program's fd rather than a path: the fd calls (fsetxattr, fchmod …)
 * and utimensat(fd, NULL) (futimens). Any other NULL path is the kernel's EFAULT. */
static bool on_program_fd(const struct seccomp_notif *req, const WriteCall *c)
{
	return c->path[0] < 0 || (req->data.nr == __NR_utimensat && req->data.args[1] == 0);
}

/* A copy of the program's FD for a call on its file, or -1: not an O_PATH one, on which the
 * kernel refuses these calls (EBADF) where the copy's /proc link would not. */
static int program_fd(Notifier *n, const struct seccomp_notif *req, int fd)
{
	int copy = fd < 0 ? -EBADF : tconnect_grab_fd(n->fd, req, fd);
	int fl = copy >= 0 ? fcntl(copy, F_GETFL) : -1;

	if (fl >= 0 && !(fl & O_PATH))
		return copy;
	if (copy >= 0)
		(void)close(copy);
	return -1;
}

/* An extended attribute's name (at argument ARG), and for setxattr its value and flags (the
 * arguments after it), into J. The buffers are the run's notifier's (one call at a time),
 * made at the first such call: never static, since a process may supervise several runs at
 * once (the Python package's threads). */
static bool xattr_args(Notifier *n, const struct seccomp_notif *req, int arg, BrokerJob *j)
{
	if (!n->xattr_buf && !(n->xattr_buf = malloc(XATTR_NAME_MAX + 1 + XATTR_SIZE_MAX)))
		return false;
	char *name = (char *)n->xattr_buf;
	unsigned char *value = n->xattr_buf + XATTR_NAME_MAX + 1;
	const __u64 *a = req->data.args;
	ssize_t k = notify_read_mem(n, req->pid, a[arg], name, XATTR_NAME_MAX + 1);

	if (k <= 0 || !memchr(name, '\0', (size_t)k))
		return false; /* unreadable, or too long: the kernel's EFAULT or ERANGE */
	j->xname = name;
	if (j->op == BROKER_RMXATTR)
		return true;
	j->xsize = (size_t)a[arg + 2];
	j->xflags = (int)a[arg + 3];
	j->xvalue = j->xsize ? value : NULL;
	return j->xsize <= XATTR_SIZE_MAX &&
	       (j->xsize == 0 || (a[arg + 1] && notify_read_mem(n, req->pid, a[arg + 1], value,
	                                                        j->xsize) == (ssize_t)j->xsize));
}

/* Call C's arguments as the broker's job J (its paths into P1, P2, TIMES): false for a form
 * it leaves to the kernel. */
static bool broker_job(Notifier *n, const struct seccomp_notif *req, const WriteCall *c,
                       BrokerJob *j, char p1[PATH_MAX], char p2[PATH_MAX], struct timespec times[2])
{
	const __u64 *a = req->data.args;
	int nr = req->data.nr;
	int dirfd = c->dirfd[0] >= 0 ? (int)a[c->dirfd[0]] : AT_FDCWD;
	bool on_fd = on_program_fd(req, c);

	*j = (BrokerJob){.op = (BrokerOp)c->op,
	                 .path = p1,
	                 .flags = c->flags >= 0 ? (int)a[c->flags] : 0,
	                 .mode = c->mode >= 0 ? (mode_t)a[c->mode] : 0,
	                 .fd = -1};
#ifdef __NR_rmdir
	if (nr == __NR_rmdir)
		j->flags = AT_REMOVEDIR;
	if (nr == __NR_lchown)
		j->flags = AT_SYMLINK_NOFOLLOW;
#endif
	if (nr == __NR_lsetxattr || nr == __NR_lremovexattr)
		j->flags = AT_SYMLINK_NOFOLLOW;
	if (on_fd && (j->flags || (j->fd = program_fd(n, req, dirfd)) < 0))
		return false;
	/* another NULL path: the kernel's EFAULT */
	if (!on_fd && a[c->path[0]] == 0)
		return false;
	switch (j->op) {
	case BROKER_SYMLINK: /* the text as it is; the link's place */
		j->path2 = p2;
		return notify_read_path(n, req, a[0], p1) && p1[0] &&
		       broker_path(n, req, a[c->path[0]], dirfd, p2);
	case BROKER_LINK: { /* link(old, new), linkat(olddir, old, newdir, new, flags) */
		bool at = nr == __NR_linkat;
		j->path2 = p2;
		return j->flags == 0 &&
		       broker_path(n, req, a[at ? 1 : 0], at ? (int)a[0] : AT_FDCWD, p1) &&
		       broker_path(n, req, a[c->path[0]], dirfd, p2);
	}
	case BROKER_RENAME:
		j->path2 = p2;
		return broker_path(n, req, a[c->path[0]], dirfd, p1) &&
		       broker_path(n, req, a[c->path[1]],
		                   c->dirfd[1] >= 0 ? (int)a[c->dirfd[1]] : AT_FDCWD, p2);
	case BROKER_CHOWN: {
		/* the ids as the program's namespace names them; the broker's are the host's */
		unsigned uid, gid;
		if (!proc_id_to_host(req->pid, "uid_map", (unsigned)a[c->extra], &uid) ||
		    !proc_id_to_host(req->pid, "gid_map", (unsigned)a[c->extra + 1], &gid))
			return false;
		j->uid = (uid_t)uid;
		j->gid = (gid_t)gid;
		break;
	}
	case BROKER_TRUNCATE:
		j->length = (off_t)a[c->extra];
		break;
	case BROKER_UTIMENS:
		if (a[c->extra] &&
		    notify_read_mem(n, req->pid, a[c->extra], times, 2 * sizeof(*times)) !=
		        (ssize_t)(2 * sizeof(*times)))
			return false;
		j->times = a[c->extra] ? times : NULL;
		break;
	case BROKER_SETXATTR:
	case BROKER_RMXATTR:
		if (!xattr_args(n, req, c->extra, j))
			return false;
		break;
	default:
		break;
	}
	/* AT_EMPTY_PATH and the like: the program's fd, not a path */
	return on_fd || (!(j->flags & ~(AT_REMOVEDIR | AT_SYMLINK_NOFOLLOW)) &&
	                 broker_path(n, req, a[c->path[0]], dirfd, p1));
}

/* Which of the job's paths a refusal R names: the one the layout refuses, else the one the
 * call writes (rename: the old name; link, symlink: the new one). NULL: not a refusal of a
 * write (an ENOENT or EPERM that the layout does not explain). */
static const char *refused_path(Notifier *n, pid_t pid, const WriteCall *c, const BrokerJob *j,
                                int r, char p1[PATH_MAX], char p2[PATH_MAX])
{
	char *paths[2] = {
	    j->op == BROKER_SYMLINK ? NULL : p1,
	    j->op == BROKER_RENAME || j->op == BROKER_LINK || j->op == BROKER_SYMLINK ? p2 : NULL};
	char judged[PATH_MAX];

	for (int i = 0; i < 2; i++)
		if (paths[i]) {
			memcpy(judged, paths[i], sizeof(judged));
			if (notify_write_refused(n, pid, judged, c->entry, c->create)) {
				memcpy(paths[i], judged, sizeof(judged));
				return paths[i];
			}
		}
	/* EROFS, and EACCES (Landlock, the directory's owner): a write refused; EPERM (chown to
	 * another id, a sticky directory) refuses a privilege, which no grant would give */
	if (r != -EROFS && r != -EACCES)
		return NULL;
	return j->op == BROKER_RENAME || !paths[1] ? paths[0] : paths[1];
}

/* A call on the program's fd refused with R: the file's name into BUF when R refuses a write
 * (EROFS, EACCES), else NULL (EPERM: another's file, a privilege no grant gives). */
static const char *fd_refused(const struct seccomp_notif *req, const WriteCall *c, int r,
                              char buf[PATH_MAX])
{
	if (r != -EROFS && r != -EACCES)
		return NULL;
	notify_fd_resource((pid_t)req->pid, (int)req->data.args[c->dirfd[0]], buf, PATH_MAX);
	return buf;
}

/* Call C performed by the open broker, answered into REP and recorded as its result says:
 * true; false when the broker leaves it to the kernel. */
static bool brokered(Notifier *n, const struct seccomp_notif *req, const WriteCall *c, Reply *rep)
{
	char p1[PATH_MAX] = "", p2[PATH_MAX] = "";
	struct timespec times[2];
	BrokerJob j;
	struct Broker *b;

	if (c->op < 0 || !(b = notify_broker_for(n, req->pid)))
		return false;
	bool ok = broker_job(n, req, c, &j, p1, p2, times);
	_cleanup_close_ _unused_ int copy = j.fd; /* the program's fd, for a call on its file */
	if (!ok ||
	    ((j.op == BROKER_MKDIR || j.op == BROKER_MKNOD) && !notify_umask(req->pid, &j.umask)))
		return false;
	/* the name the broker would set, judged on that very copy (on_setxattr's look came from
	 * a read of its own, which a thread may have swapped since) */
	if (j.op == BROKER_SETXATTR && notify_privileged_xattr(j.xname)) {
		notify_violation(n, req, rep);
		return true;
	}
	/* the paths came from the trapping thread's memory: still its request? */
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return false;
	int r = broker_write(b, &j);
	if (r == BROKER_FALLBACK)
		return false;
	const char *path = r >= 0      ? NULL
	                   : j.fd >= 0 ? fd_refused(req, c, r, p1)
	                               : refused_path(n, req->pid, c, &j, r, p1, p2);
	if (path)
		n->deny(n->userdata, "FILE_WRITE", path, c->name, proc_inner_pid(req->pid));
	*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
	return true;
}

/* Call C on the program's fd, left to the kernel: predicted as a write to a read-only place
 * when the fd's file (a regular file or directory) is on a read-only mount (EROFS). */
static void on_read_only_fd(Notifier *n, const struct seccomp_notif *req, const WriteCall *c)
{
	char res[PATH_MAX];
	struct stat st;
	int fd = (int)req->data.args[c->dirfd[0]];

	_cleanup_close_ int copy = program_fd(n, req, fd);
	if (copy < 0 || fstat(copy, &st) < 0 || !notify_fd_read_only(copy, &st))
		return;
	notify_fd_resource((pid_t)req->pid, fd, res, sizeof(res));
	n->deny(n->userdata, "FILE_WRITE", res, c->name, proc_inner_pid(req->pid));
}

void notify_write(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	const WriteCall *c = write_call(req->data.nr);
	const __u64 *a = req->data.args;
	char path[PATH_MAX], rel[PATH_MAX];

	if (!c)
		return;
	if (c->mode >= 0 && (a[c->mode] & (S_ISUID | S_ISGID))) {
		notify_violation(n, req, rep);
		return;
	}
	if (brokered(n, req, c, rep))
		return;
	if (on_program_fd(req, c)) {
		on_read_only_fd(n, req, c);
		return;
	}
	for (int i = 0; i < 2 && c->path[i] >= 0; i++) {
		/* utimensat(fd, NULL): the fd's file, no path to judge */
		if (a[c->path[i]] == 0 || !notify_read_path(n, req, a[c->path[i]], path) ||
		    !path[0])
			continue;
		int dirfd = c->dirfd[i] >= 0 ? (int)a[c->dirfd[i]] : AT_FDCWD;
		memcpy(rel, path, sizeof(rel));
		if (path[0] != '/' && notify_path_absolute(req->pid, dirfd, rel, path) < 0)
			continue;
		if (notify_write_refused(n, req->pid, path, c->entry, c->create)) {
			n->deny(n->userdata, "FILE_WRITE", path, c->name, proc_inner_pid(req->pid));
			return;
		}
	}
}

void notify_bind_path(Notifier *n, const struct seccomp_notif *req,
                      const struct sockaddr_storage *ss, size_t len, Reply *rep)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path);
	char name[sizeof(un->sun_path) + 1], path[PATH_MAX];
	struct sockaddr_storage now;

	if (ss->ss_family != AF_UNIX || len <= off || un->sun_path[0] == '\0')
		return; /* unnamed, abstract: no file */
	size_t plen = MIN(len - off, sizeof(un->sun_path));
	memcpy(name, un->sun_path, plen);
	name[plen] = '\0';
	if (name[0] != '/' && notify_path_absolute(req->pid, AT_FDCWD, name, path) < 0)
		return;
	if (name[0] == '/')
		memcpy(path, name, plen + 1);
	if (notify_write_refused(n, req->pid, path, true, true)) {
		n->deny(n->userdata, "FILE_WRITE", path, "bind", proc_inner_pid(req->pid));
		return;
	}
	/* allowed: read once more before the kernel does (notify.c: path_swapped) */
	if (notify_read_mem(n, req->pid, req->data.args[1], &now, len) == (ssize_t)len &&
	    memcmp(&now, ss, len) != 0)
		notify_swap_refused(n, req, "address", rep);
}
