/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The calls that write by path without opening: mkdir, rmdir, unlink, rename, link, symlink,
 * mknod, chmod, chown, truncate, utimes (docs/design/runner.md "Observed denials"). The filter
 * cannot see a path, so each comes here (a round trip, ~15 µs; they are rarer than opens:
 * measured in the commit); a refusal the sandbox's layout makes — a read-only place (EROFS) or
 * a hidden directory (ENOENT) — is recorded as CapabilityDenied (FILE_WRITE, operation the
 * call's name), and the kernel then decides on what it reads itself ("continue"): a thread
 * that swaps the path after the look can mislabel the event, never write anything. A
 * set-user-ID or set-group-ID mode (a register, fixed at the trap) stays a violation.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/macro.h"
#include "basic/procfs.h"
#include "runner/notify.h"

/* What each call does with its paths. Numbers, not names: this runs for every trap. */
typedef struct WriteCall {
	int nr;
	const char *name;
	signed char dirfd[2]; /* the argument holding each path's directory fd, -1: cwd */
	signed char path[2];  /* the argument holding each path, -1: none */
	signed char mode;     /* the mode argument, -1: none */
	bool entry, create;   /* makes or removes an entry (with CREATE: makes it) */
} WriteCall;

static const WriteCall calls[] = {
#ifdef __NR_mkdir
    {__NR_mkdir, "mkdir", {-1, -1}, {0, -1}, 1, true, true},
    {__NR_rmdir, "rmdir", {-1, -1}, {0, -1}, -1, true, false},
    {__NR_unlink, "unlink", {-1, -1}, {0, -1}, -1, true, false},
    {__NR_rename, "rename", {-1, -1}, {0, 1}, -1, true, false},
    {__NR_link, "link", {-1, -1}, {1, -1}, -1, true, true},
    {__NR_symlink, "symlink", {-1, -1}, {1, -1}, -1, true, true},
    {__NR_mknod, "mknod", {-1, -1}, {0, -1}, 1, true, true},
    {__NR_chmod, "chmod", {-1, -1}, {0, -1}, 1, false, false},
    {__NR_chown, "chown", {-1, -1}, {0, -1}, -1, false, false},
    {__NR_lchown, "lchown", {-1, -1}, {0, -1}, -1, false, false},
    {__NR_utime, "utime", {-1, -1}, {0, -1}, -1, false, false},
    {__NR_utimes, "utimes", {-1, -1}, {0, -1}, -1, false, false},
    {__NR_futimesat, "futimesat", {0, -1}, {1, -1}, -1, false, false},
#endif
    {__NR_mkdirat, "mkdirat", {0, -1}, {1, -1}, 2, true, true},
    {__NR_unlinkat, "unlinkat", {0, -1}, {1, -1}, -1, true, false},
    {__NR_renameat, "renameat", {0, 2}, {1, 3}, -1, true, false},
    {__NR_renameat2, "renameat2", {0, 2}, {1, 3}, -1, true, false},
    {__NR_linkat, "linkat", {2, -1}, {3, -1}, -1, true, true},
    {__NR_symlinkat, "symlinkat", {1, -1}, {2, -1}, -1, true, true},
    {__NR_mknodat, "mknodat", {0, -1}, {1, -1}, 2, true, true},
    {__NR_fchmodat, "fchmodat", {0, -1}, {1, -1}, 2, false, false},
    {452 /* fchmodat2 */, "fchmodat2", {0, -1}, {1, -1}, 2, false, false},
    {__NR_fchownat, "fchownat", {0, -1}, {1, -1}, -1, false, false},
    {__NR_truncate, "truncate", {-1, -1}, {0, -1}, -1, false, false},
    {__NR_utimensat, "utimensat", {0, -1}, {1, -1}, -1, false, false},
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
