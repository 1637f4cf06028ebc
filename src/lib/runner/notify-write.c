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
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/macro.h"
#include "basic/procfs.h"
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

/* Call C's arguments as the broker's job J (its paths into P1, P2, TIMES): false for a form
 * it leaves to the kernel. */
static bool broker_job(Notifier *n, const struct seccomp_notif *req, const WriteCall *c,
                       BrokerJob *j, char p1[PATH_MAX], char p2[PATH_MAX], struct timespec times[2])
{
	const __u64 *a = req->data.args;
	int nr = req->data.nr;
	int dirfd = c->dirfd[0] >= 0 ? (int)a[c->dirfd[0]] : AT_FDCWD;

	*j = (BrokerJob){.op = (BrokerOp)c->op,
	                 .path = p1,
	                 .flags = c->flags >= 0 ? (int)a[c->flags] : 0,
	                 .mode = c->mode >= 0 ? (mode_t)a[c->mode] : 0};
#ifdef __NR_rmdir
	if (nr == __NR_rmdir)
		j->flags = AT_REMOVEDIR;
	if (nr == __NR_lchown)
		j->flags = AT_SYMLINK_NOFOLLOW;
#endif
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
	default:
		break;
	}
	/* AT_EMPTY_PATH and the like: the program's fd, not a path */
	return !(j->flags & ~(AT_REMOVEDIR | AT_SYMLINK_NOFOLLOW)) &&
	       broker_path(n, req, a[c->path[0]], dirfd, p1);
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

/* Call C performed by the open broker, answered into REP and recorded as its result says:
 * true; false when the broker leaves it to the kernel. */
static bool brokered(Notifier *n, const struct seccomp_notif *req, const WriteCall *c, Reply *rep)
{
	char p1[PATH_MAX], p2[PATH_MAX];
	struct timespec times[2];
	BrokerJob j;
	struct Broker *b;

	if (c->op < 0 || !(b = notify_broker_for(n, req->pid)) ||
	    !broker_job(n, req, c, &j, p1, p2, times) ||
	    ((j.op == BROKER_MKDIR || j.op == BROKER_MKNOD) && !notify_umask(req->pid, &j.umask)))
		return false;
	/* the paths came from the trapping thread's memory: still its request? */
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return false;
	int r = broker_write(b, &j);
	if (r == BROKER_FALLBACK)
		return false;
	const char *path = r < 0 ? refused_path(n, req->pid, c, &j, r, p1, p2) : NULL;
	if (path)
		n->deny(n->userdata, "FILE_WRITE", path, c->name, proc_inner_pid(req->pid));
	*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
	return true;
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
