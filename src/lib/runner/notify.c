/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Observed denials (SPEC §5): the program's execve, execveat, connect and open calls are trapped
 * with a seccomp user-notification filter, and the supervisor, holding the listener, records
 * a CapabilityDenied for each one the grants do not allow.  Mostly it answers "continue": the
 * kernel then runs the call under the real fences (mount layout, Landlock, the empty network
 * namespace), so a race on the arguments can only mislabel an event, never open a hole.
 * Opens are performed by the supervisor where it can do them as the program would
 * (notify-broker.c: its ids, its Landlock domain), on its own copy of the path, so that a
 * swapped path cannot erase the record; and for SQLite side files (dbfiles.c) the supervisor
 * performs the call itself on a fixed host file, with its own copy of the name. The exec side
 * doors (fexecve, memfds, the dynamic loader as a program) are shut in notify-exec.c.
 * The filter is plan/syscall-filter.c's allow-list: what it refuses comes here too, and is answered
 * EPERM after a SandboxViolation. A trap costs a round trip to the supervisor (~15-50 µs; a
 * Python start makes about 30 opens).
 */
#include "runner/notify.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fdpass.h"
#include "basic/macro.h"
#include "basic/procfs.h"
#include "egress/dnsstub.h"
#include "egress/egress.h"
#include "plan/dbfiles.h"
#include "plan/syscall-filter.h"
#include "runner/notify-rules.h"

#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_faccessat2
#define __NR_faccessat2 439
#endif
/* The old path calls exist on x86_64 only; elsewhere a number no call has. */
#ifdef __NR_open
#define NR_OPEN   __NR_open
#define NR_CREAT  __NR_creat
#define NR_CHMOD  __NR_chmod
#define NR_MKDIR  __NR_mkdir
#define NR_MKNOD  __NR_mknod
#define NR_UNLINK __NR_unlink
#define NR_ACCESS __NR_access
#define NR_STAT   __NR_stat
#define NR_LSTAT  __NR_lstat
#else
#define NR_OPEN   0xfffff
#define NR_CREAT  0xffffe
#define NR_CHMOD  0xfff00
#define NR_MKDIR  0xfff01
#define NR_MKNOD  0xfff02
#define NR_UNLINK 0xffffd
#define NR_ACCESS 0xffffc
#define NR_STAT   0xffffb
#define NR_LSTAT  0xffffa
#endif

#ifdef FILTER_NATIVE_ARCH
#define NOTIFY_ARCH FILTER_NATIVE_ARCH
#endif

/* ---------------------------------------------------------------- child side */

/* GCOVR_EXCL_START: runs in the program's process, inside the sandbox, where the coverage
 * counters cannot be written (see spawn.c); tests/security exercises it. */

/* The listener goes to the supervisor with sendmsg, which the filter traps (notify-send.c), and
 * nobody answers a trap before the listener has arrived. So a helper made before the filter
 * sends it: a filter binds the caller and the children it makes afterwards, not those it made
 * before. The helper shares our memory and fd table (it sees the listener's fd as we do), waits
 * until we have one, sends it and exits; we wait for it. A task more for a moment: a pids limit
 * of 2 (the sandbox's init and the program) leaves no room for it, and the run fails (125). */
typedef struct Handoff {
	int sock;
	int listener; /* -1: installing the filter failed */
	int ruleset;  /* the program's Landlock ruleset, for the open broker, or -1 */
	int ready;    /* a futex: 1 once LISTENER is set */
} Handoff;

static int handoff_main(void *arg)
{
	Handoff *h = arg;

	while (__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE) == 0)
		(void)syscall(SYS_futex, &h->ready, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	int fds[2] = {h->listener, h->ruleset};
	return h->listener >= 0 && fd_send(h->sock, 'n', fds, h->ruleset >= 0 ? 2 : 1) >= 0 ? 0 : 1;
}

int notify_install(int sock, const FilterProg *p, int ruleset)
{
#ifdef NOTIFY_ARCH
	static Handoff h;
	static char stack[32768] __attribute__((aligned(16)));
	struct sock_fprog prog = {.len = p->len, .filter = p->code};
	int status = 0;

	h = (Handoff){.sock = sock, .listener = -1, .ruleset = ruleset};
	pid_t helper =
	    clone(handoff_main, stack + sizeof(stack), CLONE_VM | CLONE_FILES | SIGCHLD, &h);
	if (helper < 0)
		return -errno;
	int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	                            SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	int r = listener < 0 ? -errno : 0;
	h.listener = listener;
	__atomic_store_n(&h.ready, 1, __ATOMIC_RELEASE);
	(void)syscall(SYS_futex, &h.ready, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pid_t w;
	while ((w = waitpid(helper, &status, 0)) < 0 && errno == EINTR)
		;
	if (listener >= 0)
		(void)close(listener);
	if (r < 0)
		return r;
	return w == helper && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPIPE;
#else
	(void)sock;
	(void)p;
	(void)ruleset;
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

int notify_receive(int sock, int *ret_ruleset)
{
	int fds[2] = {-1, -1};
	int r = fd_receive_some(sock, fds, 2);
	if (r < 0)
		return r;
	*ret_ruleset = fds[1];
	/* Linux >= 6.6: wake the supervisor on the same CPU, about halving a round trip. */
	(void)ioctl(fds[0], SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0);
	return fds[0];
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
			n->mem_fd = open(path, O_RDWR | O_CLOEXEC);
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

ssize_t notify_read_mem(Notifier *n, pid_t pid, uint64_t addr, void *buf, size_t size)
{
	return read_mem(n, pid, addr, buf, size);
}

void notify_done(Notifier *n)
{
	notify_broker_done(n);
	if (n->root_fd >= 0)
		(void)close(n->root_fd);
	n->root_fd = -1;
	if (n->mem_fd >= 0)
		(void)close(n->mem_fd);
	if (n->fd >= 0)
		(void)close(n->fd);
	n->mem_fd = n->fd = -1;
	notify_exec_done(n);
	n->ux = unix_connect_free(n->ux);
	free(n->xattr_buf);
	n->xattr_buf = NULL;
}

/* How a trapped call is answered: "continue" (the kernel runs it under the fences), a value
 * or error of the supervisor's own doing, or an fd to install as the call's result. */

/* Reads the NUL-terminated path at ADDR in the trapping process into PATH. */
bool notify_read_path(Notifier *n, const struct seccomp_notif *req, uint64_t addr,
                      char path[PATH_MAX])
{
	/* Most paths are short: a first read of 256 bytes, the rest only when needed. */
	path[0] = '\0';
	ssize_t k = read_mem(n, req->pid, addr, path, 256);
	if (k <= 0)
		return false;
	if (k == 256 && !memchr(path, '\0', 256)) {
		ssize_t more = read_mem(n, req->pid, addr + 256, path + 256, PATH_MAX - 1 - 256);
		k += more > 0 ? more : 0;
	}
	/* no NUL where the memory ends, or past PATH_MAX: the kernel fails the call (EFAULT,
	 * ENAMETOOLONG), and a cut path would be another file */
	bool whole = memchr(path, '\0', (size_t)k) != NULL;
	path[k] = '\0';
	return whole;
}

/* The SQLite side file an absolute PATH names, NAME its name in the database's directory.
 * Acting on it is only safe while the request is live: checked after reading the path, so
 * that the memory read was the trapping process's and no pid was reused meanwhile. */
static const SqliteDb *side_file(Notifier *n, const struct seccomp_notif *req, const char *path,
                                 char name[NAME_MAX + 1])
{
	if (n->plan->n_dbs == 0 || path[0] != '/')
		return NULL;
	const SqliteDb *db = dbfiles_match(n->plan, path, name, NAME_MAX + 1);
	if (db && ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return NULL;
	return db;
}

/* Privilege never leaves through a grant (SPEC §3): what the program creates there belongs
 * to the caller on the host (id-mapped mounts), who may be root, so a set-user-ID or
 * set-group-ID mode is refused and recorded. The flags and mode of open, openat and creat
 * are register arguments: the kernel acts on the values judged here. openat2 keeps them in
 * memory, which a second thread could change after the check: it is answered ENOSYS, as
 * clone3 is, and callers fall back to openat. True when answered. */
static bool refused_mode(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	const __u64 *a = req->data.args;
	uint64_t flags = req->data.nr == __NR_openat ? a[2]
	                 : req->data.nr == NR_OPEN   ? a[1]
	                                             : O_CREAT;
	uint64_t mode = req->data.nr == __NR_openat ? a[3] : req->data.nr == NR_OPEN ? a[2] : a[1];

	if (req->data.nr == __NR_openat2) {
		*rep = (Reply){.emulated = true, .error = -ENOSYS, .addfd = -1};
		return true;
	}
	if (!(flags & O_CREAT) && (flags & O_TMPFILE) != O_TMPFILE)
		return false;
	if (!(mode & (S_ISUID | S_ISGID)))
		return false;
	notify_violation(n, req, rep);
	return true;
}

/* setxattr and kin: security.* (file capabilities, LSM labels) and trusted.* are refused and
 * recorded. The name is in memory: a thread that swaps it after this check meets the
 * kernel's own rule (the program holds no capability, so both need one it lacks); what this
 * adds is the record. */
static void on_setxattr(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	char name[32] = "";

	if (read_mem(n, req->pid, req->data.args[1], name, sizeof(name) - 1) <= 0)
		return;
	if (notify_privileged_xattr(name))
		notify_violation(n, req, rep);
	else /* a write like the others: to a read-only place refused and recorded */
		notify_write(n, req, rep);
}

/* An open left to the kernel (not performed by the open broker) is read again by the kernel
 * after the answer. Read once more here, just before: a path that is no longer the one judged
 * is another thread swapping it (no program does that to a path in use), refused and on the
 * record. The window between this read and the kernel's stays; a thread that swaps all the
 * time is caught at once, one that swaps once with luck is not. */
static bool path_swapped(Notifier *n, const struct seccomp_notif *req, uint64_t addr,
                         const char *raw, size_t len)
{
	char now[PATH_MAX];
	return read_mem(n, req->pid, addr, now, len) == (ssize_t)len && memcmp(now, raw, len) != 0;
}

static void on_open(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	uint64_t addr = req->data.args[1], flags = req->data.args[2];

	if (refused_mode(n, req, rep))
		return;
	if (req->data.nr == NR_OPEN || req->data.nr == NR_CREAT) {
		addr = req->data.args[0];
		flags =
		    req->data.nr == NR_CREAT ? (O_CREAT | O_WRONLY | O_TRUNC) : req->data.args[1];
	} /* openat2 never gets here: refused_mode answered it */
	if (!notify_read_path(n, req, addr, path))
		return;
	const SqliteDb *db = side_file(n, req, path, name);
	if (db) {
		int fd = dbfiles_open(db, name, (int)flags);
		*rep = (Reply){.emulated = true,
		               .error = fd < 0 ? fd : 0,
		               .addfd = fd,
		               .cloexec = (flags & O_CLOEXEC) != 0};
		return;
	}
	/* as read, for path_swapped */
	char raw[PATH_MAX];
	size_t raw_len = strlen(path) + 1;
	memcpy(raw, path, raw_len);
	if (path[0] != '/') {
		int dirfd = req->data.nr == __NR_openat ? (int)req->data.args[0] : AT_FDCWD;
		if (notify_path_absolute(req->pid, dirfd, raw, path) < 0)
			return;
	}
	bool write = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
	if (n->learn) {
		notify_learn_open(n, req, path, flags, write, rep);
		return;
	}
	uint64_t mode = req->data.nr == __NR_openat ? req->data.args[3]
	                : req->data.nr == NR_OPEN   ? req->data.args[2]
	                                            : req->data.args[1];
	if (notify_broker_open(n, req, path, flags, mode, rep))
		return;
	notify_open_record(n, req, path, flags, false);
	if (path_swapped(n, req, addr, raw, raw_len))
		notify_swap_refused(n, req, "path", rep);
}

void notify_open_record(Notifier *n, const struct seccomp_notif *req, char path[PATH_MAX],
                        uint64_t flags, bool denied)
{
	bool write = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
	const char *secret = write ? NULL : notify_secret_refused(n, req->pid, path);

	if (secret)
		n->deny(n->userdata, "SECRET_ACCESS", secret, "read", proc_inner_pid(req->pid));
	else if (notify_open_refused(n, req->pid, path, flags, write) || denied)
		n->deny(n->userdata, write ? "FILE_WRITE" : "FILE_READ", path,
		        write ? "write" : "read", proc_inner_pid(req->pid));
}

/* The path argument of a trapped unlink, access or stat call, and its *at flags. */
static uint64_t path_arg(const struct seccomp_notif *req, uint64_t *flags)
{
	const __u64 *a = req->data.args;
	int nr = req->data.nr;

	*flags = nr == __NR_unlinkat || nr == __NR_faccessat2 ? a[nr == __NR_unlinkat ? 2 : 3]
	         : nr == __NR_newfstatat || nr == __NR_statx  ? a[nr == __NR_statx ? 2 : 3]
	                                                      : 0;
	return nr == NR_UNLINK || nr == NR_ACCESS || nr == NR_STAT || nr == NR_LSTAT ? a[0] : a[1];
}

/* Writes SIZE bytes of BUF at ADDR in the trapping process (a stat result). */
static int write_mem(Notifier *n, const struct seccomp_notif *req, uint64_t addr, const void *buf,
                     size_t size)
{
	if (n->mem_fd < 0 || n->mem_pid != (pid_t)req->pid)
		return -ESRCH;
	ssize_t k = pwrite(n->mem_fd, buf, size, (off_t)addr);
	return k == (ssize_t)size ? 0 : k < 0 ? -errno : -EFAULT;
}

/* exec: the path read here, judged in notify-exec.c. */
static void on_exec(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	char path[PATH_MAX];
	uint64_t addr = req->data.nr == __NR_execveat ? req->data.args[1] : req->data.args[0];

	if (!notify_read_path(n, req, addr, path))
		path[0] = '\0';
	notify_exec(n, req, path, rep);
}

/* memfd_create without the no-exec seal: its name read here (the kernel's limit, 249 bytes
 * and the NUL), the memfd made in notify-exec.c. */
static void on_memfd(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	char name[250];
	ssize_t k = read_mem(n, req->pid, req->data.args[0], name, sizeof(name));

	notify_memfd(n, req, k > 0 && memchr(name, '\0', (size_t)k) ? name : NULL, rep);
}

/* unlink, access and the stat family on a side file, done in the database's directory. */
static void on_path_call(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	uint64_t flags;
	uint64_t addr = path_arg(req, &flags);
	const __u64 *a = req->data.args;
	int nr = req->data.nr, r;

	if (!notify_read_path(n, req, addr, path))
		return;
	const SqliteDb *db = side_file(n, req, path, name);
	if (!db) {
		if (n->learn)
			notify_learn_path_call(n, req, path, flags, rep);
		return;
	}
	if (nr == NR_UNLINK || nr == __NR_unlinkat) {
		if (flags & AT_REMOVEDIR)
			return; /* not a file: the kernel answers */
		r = unlinkat(db->dirfd, name, 0) < 0 ? -errno : 0;
	} else if (nr == NR_ACCESS || nr == __NR_faccessat || nr == __NR_faccessat2) {
		int mode = (int)a[nr == NR_ACCESS ? 1 : 2];
		r = faccessat(db->dirfd, name, mode, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	} else if (nr == __NR_statx) {
		struct statx stx;
		r = statx(db->dirfd, name, AT_SYMLINK_NOFOLLOW, (unsigned)a[3], &stx) < 0 ? -errno
		                                                                          : 0;
		if (r >= 0)
			r = write_mem(n, req, a[4], &stx, sizeof(stx));
	} else {
		struct stat st;
		r = fstatat(db->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		if (r >= 0)
			r = write_mem(n, req, a[nr == __NR_newfstatat ? 2 : 1], &st, sizeof(st));
	}
	*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
}

static void reply(Notifier *n, const struct seccomp_notif *req, const Reply *rep)
{
	struct seccomp_notif_resp resp = {.id = req->id};

	if (rep->answered)
		return;
	if (rep->addfd >= 0) {
		/* Installs the fd and answers with its number in one step (Linux >= 5.14). */
		struct seccomp_notif_addfd add = {.id = req->id,
		                                  .flags = SECCOMP_ADDFD_FLAG_SEND,
		                                  .srcfd = (uint32_t)rep->addfd,
		                                  .newfd_flags = rep->cloexec ? O_CLOEXEC : 0};
		int r = ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
		(void)close(rep->addfd);
		if (r >= 0 || errno == ENOENT)
			return; /* answered, or the target is gone */
		/* e.g. EMFILE: the program's fd table is full. Never "continue" after the broker
		 * opened: the kernel would do the open again (a second create, a second
		 * truncation). ADDFD with SEND was tried before the broker started; failing
		 * otherwise now, the kernel opens for the rest of the run. */
		if (rep->brokered && errno != EMFILE)
			n->broker_off = true;
		resp.error = -errno;
	} else if (!rep->emulated) {
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		resp.error = rep->error;
		resp.val = rep->val;
	}
	(void)ioctl(n->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* What about a refused call is worth saying beyond its name. */
#define X32_SYSCALL_BIT 0x40000000

static bool is_x32(const struct seccomp_notif *req)
{
	return req->data.arch == NOTIFY_ARCH && (req->data.nr & X32_SYSCALL_BIT);
}

/* The argument that was refused is named where one was: identical violations are folded on
 * their detail (audit/gate.c), and socket(AF_PACKET) is not socket(AF_KEY). Into BUF. */
static const char *violation_detail(const struct seccomp_notif *req, char *buf, size_t size)
{
	unsigned long long a0 = req->data.args[0], a1 = req->data.args[1];

	if (req->data.arch != NOTIFY_ARCH)
		return "another architecture's system call entry (i386 int 0x80): refused";
	if (is_x32(req))
		return "the x32 system call ABI: refused";
	switch (req->data.nr) {
	case __NR_clone:
		(void)snprintf(buf, size, "clone with namespace flags (0x%llx): refused", a0);
		return buf;
	case __NR_socket:
	case __NR_socketpair:
		(void)snprintf(buf, size,
		               "socket family %llu, other than AF_UNIX, AF_INET, AF_INET6: refused",
		               a0);
		return buf;
	case __NR_ioctl:
		(void)snprintf(buf, size,
		               "ioctl 0x%llx: TIOCSTI, TIOCLINUX or a command with its upper half "
		               "set: refused",
		               a1);
		return buf;
	case __NR_personality:
		(void)snprintf(buf, size, "personality 0x%llx, other than the default: refused",
		               a0);
		return buf;
	case NR_CHMOD:
	case __NR_fchmod:
	case __NR_fchmodat:
	case NR_MKDIR:
	case __NR_mkdirat:
	case NR_MKNOD:
	case __NR_mknodat:
	case NR_OPEN:
	case NR_CREAT:
	case __NR_openat:
		return "a set-user-ID or set-group-ID mode: refused (it would carry the caller's "
		       "privilege on the host)";
	case __NR_setxattr:
	case __NR_lsetxattr:
	case __NR_fsetxattr:
		return "a security.* or trusted.* extended attribute: refused";
	case __NR_sendto:
	case __NR_sendmsg:
	case __NR_sendmmsg:
		return "TCP Fast Open (MSG_FASTOPEN, a connect inside a send): refused";
	default:
		return "not on the seccomp allow-list: refused";
	}
}

static void violation(Notifier *n, const struct seccomp_notif *req, const char *detail, Reply *rep)
{
	char name[64];

	if (n->violation)
		n->violation(n->userdata,
		             filter_syscall_name(is_x32(req) ? SCMP_ARCH_X32 : req->data.arch,
		                                 req->data.nr, name, sizeof(name)),
		             detail, proc_inner_pid(req->pid));
	*rep = (Reply){.emulated = true, .error = -EPERM, .addfd = -1};
}

void notify_swap_refused(Notifier *n, const struct seccomp_notif *req, const char *what, Reply *rep)
{
	char detail[128];

	(void)snprintf(detail, sizeof(detail),
	               "the %s changed while the supervisor judged it (another thread swapping "
	               "it): refused",
	               what);
	violation(n, req, detail, rep);
}

/* A call the policy refuses: on the record, and EPERM to the program. */
void notify_violation(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	char detail[128];

	violation(n, req, violation_detail(req, detail, sizeof(detail)), rep);
}

/* bind: with the transparent path the program may hold host sockets (tconnect.c), which
 * must not take a port on the host's addresses; without it every socket is the sandbox's. */
static void on_bind(Notifier *n, const struct seccomp_notif *req, Reply *rep)
{
	struct sockaddr_storage ss = {0};
	size_t len = (size_t)req->data.args[2];

	if (len > sizeof(ss)) {
		*rep = (Reply){.emulated = true, .error = -EINVAL, .addfd = -1};
		return;
	}
	/* an address that cannot be read: EFAULT, as the kernel would say (len 0: EINVAL) */
	bool got = len == 0 || read_mem(n, req->pid, req->data.args[1], &ss, len) == (ssize_t)len;
	int r = n->tc ? tconnect_bind(n->tc, n->fd, req, got ? &ss : NULL, len) : TCONNECT_CONTINUE;
	if (r != TCONNECT_CONTINUE)
		*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
	else if (got && len > 0)
		notify_bind_path(n, req, &ss, len, rep);
}

void notify_handle(Notifier *n)
{
	struct seccomp_notif req;
	Reply rep = {.addfd = -1};

	memset(&req, 0, sizeof(req));
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return; /* the target died meanwhile (ENOENT), or nothing to read */
	notify_exec_fold_end(n, &req);
	if (n->n_watch > 0 && notify_exec_watch(n, &req, &rep)) {
		reply(n, &req, &rep);
		return;
	}
	if (req.data.arch != NOTIFY_ARCH ||
	    (!filter_is_observed(req.data.nr, n->plan->n_dbs > 0 || n->learn) &&
	     !notify_is_write(req.data.nr))) {
		notify_violation(n, &req, &rep);
		reply(n, &req, &rep);
		return;
	}
	switch (req.data.nr) {
	case __NR_execve:
	case __NR_execveat:
		on_exec(n, &req, &rep);
		break;
	case __NR_memfd_create:
		on_memfd(n, &req, &rep);
		break;
	case __NR_connect:
		notify_connect(n, &req, &rep);
		break;
	case __NR_listen:
		if (n->tc) /* performed here: on one of ours it must not happen at all */
			rep = (Reply){.emulated = true,
			              .error = tconnect_listen(n->tc, n->fd, &req),
			              .addfd = -1};
		break;
	case __NR_bind:
		on_bind(n, &req, &rep);
		break;
	case __NR_sendto:
		notify_sendto(n, &req, &rep);
		break;
	case __NR_sendmsg:
	case __NR_sendmmsg:
		notify_sendmsg(n, &req, &rep);
		break;
	case __NR_setxattr:
	case __NR_lsetxattr:
	case __NR_fsetxattr:
		on_setxattr(n, &req, &rep);
		break;
	case __NR_openat:
	case __NR_openat2:
	case NR_OPEN:
	case NR_CREAT:
		on_open(n, &req, &rep);
		break;
	default:
		if (!notify_is_write(req.data.nr) || req.data.nr == NR_UNLINK ||
		    req.data.nr == __NR_unlinkat)
			on_path_call(n, &req, &rep);
		if (!rep.emulated && notify_is_write(req.data.nr))
			notify_write(n, &req, &rep);
	}
	reply(n, &req, &rep);
}
