/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * No side doors to exec (SPEC §2.1 EXTERNAL_COMMAND). Landlock grants EXECUTE only on the
 * allowed executables and their dynamic loader, but it checks the file execve opens, nothing
 * else, and skips internal file systems. So three ways ran a program no grant names:
 *
 * - execveat(fd, "", AT_EMPTY_PATH) (fexecve): refused here on the flags, a register the
 *   kernel hands us with the notification, so no thread can change it after the look;
 * - a memfd (on an internal file system: Landlock never checks it) run through fexecve or
 *   /proc/self/fd/N: every memfd is made non-executable. The filter lets memfd_create through
 *   only with MFD_NOEXEC_SEAL (Linux >= 6.3: mode without x, F_SEAL_EXEC so it stays so);
 *   without it, the supervisor makes the memfd itself with the seal and hands it in
 *   (SECCOMP_ADDFD_FLAG_SEND), and MFD_EXEC is refused. (The vm.memfd_noexec sysctl of the
 *   sandbox's pid namespace would do it in the kernel, but only global root may write it: a
 *   rootless run, or one with unprivileged ids, cannot.)
 * - the dynamic loader run as a program (`ld.so /usr/bin/id`: it mmaps the target, which
 *   Landlock does not check): refused here when the path names the loader, compared by inode.
 *   The kernel reads the path again after "continue", so a thread may swap it in after the
 *   look; the exec is therefore watched: at the process's next trap — and the loader must
 *   open its target, a trapped call, before it runs any of it — /proc/PID/exe, the kernel's
 *   own record of what runs, is compared with the loader, and a loader run as a program is
 *   refused, recorded and killed. Only processes that just exec'd are looked at.
 *
 * Without an exec allow-list (mode rwx, or no Landlock with --allow-degraded) there is nothing
 * to keep and everything goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/procfs.h"
#include "plan/exec-rules.h"
#include "runner/notify.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3 */
#define MFD_EXEC        0x0010U
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* A process that exec'd: its thread group (the pid it has after the exec), the thread that
 * called exec, and what it ran before, to tell when the new program is in place. */
struct ExecWatch {
	pid_t tgid, tid;
	dev_t dev;
	ino_t ino;
};

#define WATCH_PRUNE 64 /* look for gone processes once this many are watched */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Records a refused exec of RESOURCE, once per PATH search: execvp and the shells try each
 * PATH directory in turn, so `ls` ungranted is refused as /usr/bin/ls, then as /bin/ls. A
 * refusal of the same name in another directory by the same thread, with no other trapped
 * call in between (notify_exec_fold_end), is the same search: the first one stands for it. */
static void record(Notifier *n, const struct seccomp_notif *req, const char *resource)
{
	const char *base = base_name(resource);
	size_t dir = (size_t)(base - resource);
	bool same_search = n->fold_pid == (pid_t)req->pid && streq(base_name(n->fold_path), base) &&
	                   (strlen(n->fold_path) - strlen(base) != dir ||
	                    strncmp(n->fold_path, resource, dir) != 0);

	n->fold_pid = (pid_t)req->pid;
	(void)snprintf(n->fold_path, sizeof(n->fold_path), "%s", resource);
	if (!same_search)
		n->deny(n->userdata, "EXTERNAL_COMMAND", resource, "exec",
		        proc_inner_pid(req->pid));
}

void notify_exec_fold_end(Notifier *n, const struct seccomp_notif *req)
{
	if (n->fold_pid == (pid_t)req->pid && req->data.nr != __NR_execve &&
	    req->data.nr != __NR_execveat)
		n->fold_pid = 0;
}

static void refuse(Notifier *n, const struct seccomp_notif *req, const char *resource, Reply *rep)
{
	record(n, req, resource);
	*rep = (Reply){.emulated = true, .error = -EACCES, .addfd = -1};
}

/* Where process PID's exec of PATH (DIRFD: execveat's directory) leads inside the sandbox,
 * resolved as the kernel walks it; FD_TARGET: what a /proc/self/fd/N path names. */
static int exec_inside(Notifier *n, pid_t pid, int dirfd, const char *path, const char *fd_target,
                       char out[PATH_MAX])
{
	int r = 0;

	if (fd_target)
		(void)snprintf(out, PATH_MAX, "%s", fd_target);
	else if (path[0] == '/')
		(void)snprintf(out, PATH_MAX, "%s", path);
	else
		r = notify_path_absolute(pid, dirfd, path, out);
	return r < 0 ? r : notify_path_canonical(n, pid, out, out);
}

/* An exec that a command pattern's prefix rule lets through Landlock: allowed when the
 * pattern matches the file it resolves to. 1: matched, 0: refused here (answered into
 * REP), -1: no pattern's business. */
static int exec_pattern_check(Notifier *n, const struct seccomp_notif *req, int dirfd,
                              const char *path, const char *fd_target, Reply *rep)
{
	char inside[PATH_MAX];

	if (n->plan->n_exec_patterns == 0 ||
	    exec_inside(n, (pid_t)req->pid, dirfd, path, fd_target, inside) < 0)
		return -1;
	if (exec_patterns_match(n->plan, inside))
		return 1;
	if (!exec_patterns_beneath(n->plan, inside))
		return -1;
	refuse(n, req, inside, rep);
	return 0;
}

/* Why an executable with ST may run, as process PID sees the plan's rules: FS_RULE_EXEC_*
 * bits, 0 when no rule allows it. *INTERP: the first rule naming it as a loader. */
static unsigned exec_as(const Notifier *n, pid_t pid, const struct stat *st, const char **interp)
{
	unsigned as = 0;

	for (size_t i = 0; i < n->plan->n_rules; i++) {
		const FsRule *rule = &n->plan->rules[i];
		char path[PATH_MAX + 64];
		struct stat rs;
		if (!(rule->access & 1)) /* LANDLOCK_ACCESS_FS_EXECUTE */
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, rule->path);
		if (stat(path, &rs) < 0 || !same_file(&rs, st))
			continue;
		as |= rule->exec_as ? rule->exec_as : FS_RULE_EXEC_PROGRAM;
		if (rule->exec_as == FS_RULE_EXEC_INTERP && interp && !*interp)
			*interp = rule->path;
	}
	return as;
}

/* What fd FD of process PID holds, for the record: "memfd:NAME", the path it was opened at,
 * or "fd N" (AT_FDCWD: the working directory). */
void notify_fd_resource(pid_t pid, int fd, char *buf, size_t size)
{
	char link[64], target[PATH_MAX];

	if (fd == AT_FDCWD)
		(void)snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	else
		(void)snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t k = readlink(link, target, sizeof(target) - 1);
	if (k <= 0 || target[0] != '/') {
		(void)snprintf(buf, size, "fd %d", fd);
		return;
	}
	target[k] = '\0';
	if (strncmp(target, "/memfd:", 7) == 0) {
		static const char deleted[] = " (deleted)"; /* a memfd never has a name on disk */
		if ((size_t)k > strlen(deleted) && streq(target + k - strlen(deleted), deleted))
			target[k - strlen(deleted)] = '\0';
		(void)snprintf(buf, size, "%s", target + 1);
		return;
	}
	(void)snprintf(buf, size, "%s", target);
}

/* Where the host finds what PATH names for process PID (DIRFD: execveat's directory): the
 * process's own fd links (/proc/self/fd/N, /proc/thread-self/fd/N, /dev/fd/N, which the
 * supervisor cannot follow through the sandbox's /proc: "self" is nobody there) through the
 * host's /proc; the rest through the process's root, working directory or DIRFD. Returns
 * the fd such a link names, else -1. */
static int exec_host_path(pid_t pid, int dirfd, const char *path, char *buf, size_t size)
{
	static const char *const self[] = {"/proc/self/", "/proc/thread-self/", "/dev/fd/"};

	for (size_t i = 0; i < ELEMENTSOF(self); i++) {
		size_t len = strlen(self[i]);
		if (strncmp(path, self[i], len) != 0)
			continue;
		const char *rest = path + len;
		(void)snprintf(buf, size, "/proc/%d/%s%s", (int)pid, i == 2 ? "fd/" : "", rest);
		if (i < 2 && strncmp(rest, "fd/", 3) != 0)
			return -1;
		rest += i < 2 ? 3 : 0;
		char *end;
		long fd = strtol(rest, &end, 10);
		return end != rest && *end == '\0' && fd >= 0 && fd <= INT_MAX ? (int)fd : -1;
	}
	if (path[0] == '/')
		(void)snprintf(buf, size, "/proc/%d/root%s", (int)pid, path);
	else if (dirfd == AT_FDCWD)
		(void)snprintf(buf, size, "/proc/%d/cwd/%s", (int)pid, path);
	else
		(void)snprintf(buf, size, "/proc/%d/fd/%d/%s", (int)pid, dirfd, path);
	return -1;
}

/* Drops entry I of the watch list. */
static void watch_drop(Notifier *n, size_t i)
{
	n->watch[i] = n->watch[--n->n_watch];
}

/* Watches the process of thread TID, which is about to exec: what it runs now (its exe) is
 * kept, so that its next trap can tell the new program from the old. */
static void watch_add(Notifier *n, pid_t tid)
{
	char exe[64];
	struct stat st;

	(void)snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)tid);
	if (stat(exe, &st) < 0)
		return; /* gone */
	pid_t tgid = proc_thread_group(tid);
	for (size_t i = n->n_watch; i > 0; i--)
		if (n->watch[i - 1].tgid == tgid ||
		    (n->n_watch >= WATCH_PRUNE && kill(n->watch[i - 1].tgid, 0) < 0 &&
		     errno == ESRCH))
			watch_drop(n, i - 1);
	if (n->n_watch == n->alloc_watch) {
		size_t alloc = n->alloc_watch ? n->alloc_watch * 2 : 8;
		ExecWatch *w = reallocarray(n->watch, alloc, sizeof(ExecWatch));
		if (!w)
			return; /* out of memory: the look before the exec stands alone */
		n->watch = w;
		n->alloc_watch = alloc;
	}
	n->watch[n->n_watch++] =
	    (ExecWatch){.tgid = tgid, .tid = tid, .dev = st.st_dev, .ino = st.st_ino};
}

void notify_exec(Notifier *n, const struct seccomp_notif *req, const char *path, Reply *rep)
{
	char res[PATH_MAX + 16], host[PATH_MAX + 64];
	pid_t pid = (pid_t)req->pid;
	bool at = req->data.nr == __NR_execveat;
	int dirfd = at ? (int)req->data.args[0] : AT_FDCWD;
	struct stat st;
	bool allow_list = n->plan->landlock_abi > 0; /* else nothing to keep, nothing denied */

	if (allow_list && at && (req->data.args[4] & AT_EMPTY_PATH)) {
		/* fexecve: what the fd holds was never looked up by path, and a memfd lives where
		 * Landlock does not look. The flags are the call's own registers: no race. */
		if (path[0])
			(void)snprintf(res, sizeof(res), "%s", path);
		else
			notify_fd_resource(pid, dirfd, res, sizeof(res));
		refuse(n, req, res, rep);
		return;
	}
	if (n->trusted_exec && streq(path, n->trusted_exec)) {
		/* the OCI runtime starting the Landlock helper, once: its next exec is the
		 * program's. A later exec of the helper is the program's own, judged as any other
		 * (Landlock refuses it, and no ruleset is taken from it). */
		n->trusted_exec = NULL;
		if (n->helper_state == HELPER_AWAITED)
			n->helper_state = HELPER_STARTING;
		return;
	}
	notify_broker_from_helper(n, req);
	if (path[0] == '\0')
		return;
	int fd = exec_host_path(pid, dirfd, path, host, sizeof(host));
	if (stat(host, &st) < 0) {
		if (allow_list) /* not there (ENOENT from the kernel), unless swapped in */
			watch_add(n, pid);
		return;
	}
	if (fd >= 0)
		notify_fd_resource(pid, fd, res, sizeof(res));
	else
		(void)snprintf(res, sizeof(res), "%s", path);
	unsigned as = allow_list ? exec_as(n, pid, &st, NULL) : FS_RULE_EXEC_PROGRAM;
	if (as == 0) {
		int m = exec_pattern_check(n, req, dirfd, path, fd >= 0 ? res : NULL, rep);
		if (m == 0)
			return;
		as = m > 0 ? FS_RULE_EXEC_PROGRAM : 0;
	}
	if (as == FS_RULE_EXEC_INTERP) {
		/* the dynamic loader as a program: it would load what Landlock never sees */
		refuse(n, req, res, rep);
		return;
	}
	if (as == 0) /* Landlock refuses it (EACCES), or a memfd's missing x bit does */
		record(n, req, res);
	else if ((st.st_mode & (S_ISUID | S_ISGID)) && n->violation)
		/* A set-user-ID or set-group-ID program gains nothing here (nosuid mounts,
		 * no_new_privs), but reaching for one is worth recording. */
		n->violation(n->userdata, "execve",
		             "set-user-ID/set-group-ID bit ignored (nosuid, no_new_privs)",
		             proc_inner_pid(req->pid));
	if (allow_list)
		watch_add(n, pid);
}

/* Kills process PID, whose trap REQ is pending (so PID is not yet another process). */
static void kill_trapped(const Notifier *n, const struct seccomp_notif *req)
{
	/* a thread's trap too: SIGKILL through its pidfd takes the whole process */
	_cleanup_close_ int pidfd = tconnect_trap_pidfd(n->fd, req);

	if (pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

/* The program that now runs in the trapping process came in by a command pattern's prefix
 * rule: the pattern must match what the kernel says runs (/proc/PID/exe), else the path was
 * swapped after notify_exec looked; refused, recorded and killed. */
static bool exec_pattern_after(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	static const char deleted[] = " (deleted)";
	char exe[64], path[PATH_MAX];

	(void)snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)req->pid);
	ssize_t k = readlink(exe, path, sizeof(path) - 1);
	if (k <= 0 || path[0] != '/')
		return false;
	path[k] = '\0';
	/* a program may unlink itself: its name is still the one it was run by */
	if ((size_t)k > strlen(deleted) && streq(path + k - strlen(deleted), deleted))
		path[k - strlen(deleted)] = '\0';
	if (!exec_patterns_beneath(n->plan, path) || exec_patterns_match(n->plan, path))
		return false;
	/* recorded whatever came before: no PATH search ends in a kill */
	n->deny(n->userdata, "EXTERNAL_COMMAND", path, "exec", proc_inner_pid(req->pid));
	*rep = (Reply){.emulated = true, .error = -EACCES, .addfd = -1};
	kill_trapped(n, req);
	return true;
}

bool notify_exec_watch(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	pid_t pid = (pid_t)req->pid;
	char exe[64];
	struct stat st;
	size_t i;

	for (i = 0; i < n->n_watch; i++)
		if (n->watch[i].tgid == pid || n->watch[i].tid == pid)
			break;
	if (i == n->n_watch)
		return false;
	(void)snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	ExecWatch w = n->watch[i];
	if (stat(exe, &st) < 0) {
		watch_drop(n, i);
		return false;
	}
	if (st.st_dev == w.dev && st.st_ino == w.ino) {
		/* The old program still: the exec is not done yet (another thread traps), or
		 * it came back (failed, or ran the same file) when the caller traps again. */
		if (pid == w.tid)
			watch_drop(n, i);
		return false;
	}
	watch_drop(n, i);
	const char *interp = NULL;
	unsigned as = exec_as(n, pid, &st, &interp);
	if (as == 0)
		return exec_pattern_after(n, req, rep);
	if (as != FS_RULE_EXEC_INTERP)
		return false;
	/* The loader runs as a program: its path was swapped in after notify_exec looked.
	 * (INTERP alone means a rule named it so: interp is set.) */
	refuse(n, req, interp ? interp : "", rep);
	kill_trapped(n, req);
	return true;
}

void notify_memfd(Notifier *n, const struct seccomp_notif *req, const char *name, Reply *rep)
{
	unsigned flags = (unsigned)req->data.args[1]; /* the kernel reads an unsigned int */
	char res[300];

	if (n->plan->landlock_abi == 0 || n->plan->memfd_noexec_unavailable)
		return; /* no allow-list to keep, or no seal on this kernel (--allow-degraded) */
	if (!name) {
		*rep = (Reply){.emulated = true, .error = -EINVAL, .addfd = -1};
		return;
	}
	if (flags & MFD_EXEC) {
		(void)snprintf(res, sizeof(res), "memfd:%s", name);
		refuse(n, req, res, rep);
		return;
	}
	int fd = (int)syscall(SYS_memfd_create, name, flags | MFD_NOEXEC_SEAL | MFD_CLOEXEC);
	*rep = (Reply){.emulated = true,
	               .error = fd < 0 ? -errno : 0,
	               .addfd = fd < 0 ? -1 : fd,
	               .cloexec = (flags & MFD_CLOEXEC) != 0};
}

void notify_exec_done(Notifier *n)
{
	free(n->watch);
	n->watch = NULL;
	n->n_watch = n->alloc_watch = 0;
}
