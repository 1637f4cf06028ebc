/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The open broker: a trapped open performed by the supervisor, so that what is recorded is
 * what happened (docs/design/runner.md "Opens performed by the supervisor"). Answering
 * "continue" lets the kernel read the path again, and a second thread of the program can swap
 * it between the supervisor's look and the kernel's read: the fences refuse the swapped path,
 * but nothing records it. Here the supervisor's own copy of the path is opened, and the fd
 * handed in (SECCOMP_IOCTL_NOTIF_ADDFD), the refusal judged on that copy.
 *
 * The open must be the one the kernel would have done for the program: the same root (the
 * sandbox's, RESOLVE_IN_ROOT from /proc/PID/root), the same ids (DAC), the same Landlock
 * domain, no capability. A thread of the supervisor takes all of that for itself: credentials,
 * no_new_privs and a Landlock domain are per thread (the raw system calls; glibc's set*id()
 * would change every thread), and unshare(CLONE_FS) gives it its own umask. The ruleset is
 * the one the program's domain was made from, handed over by the sandbox with the seccomp
 * listener: rebuilt from paths, a program that renamed a granted directory could widen it.
 *
 * Only what the thread can do without side effects of its own is done: the path is first
 * opened O_PATH (no FIFO blocks, no device opens), and only a regular file, a directory or one
 * of the stateless memory devices (/dev/null, zero, full, random, urandom) on an ordinary file
 * system is then reopened with the program's flags (through /proc/thread-self/fd, where
 * Landlock and DAC check the open); a new file is created with O_EXCL (never a FIFO or device
 * met halfway), an O_TMPFILE one in its directory. Anything else is BROKER_FALLBACK, predicted
 * and continued as before: FIFOs, other devices (the terminal is the opener's), sockets;
 * procfs and the other pseudo file systems, whose files act on who opened them; O_PATH,
 * which SECCOMP_IOCTL_NOTIF_ADDFD cannot hand in. On runc and crun the ruleset is copied from
 * omnibase-exec as it executes the program (notify_broker_from_helper).
 *
 * The main thread waits for each answer: the thread never blocks but in its wait for work
 * (a futex word), and runs on the main thread's CPU (follow_cpu). It allocates nothing:
 * a raw clone elsewhere in the process (the Python package's other runs) may copy the process
 * at any moment.
 */
#include "runner/notify-broker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/macro.h"
#include "basic/procfs.h"
#include "egress/tconnect.h"
#include "runner/notify.h"

#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

enum {
	IDLE,
	POSTED,
	DONE,
	STOP
};

struct Broker {
	int state; /* IDLE, POSTED, DONE, STOP: the futex word */
	pthread_t thread;
	int started;  /* the thread's set-up: 1 taken, -errno failed, 0 under way */
	bool checked; /* STARTED seen by the main thread */
	int root_fd, ruleset_fd;
	pid_t tid; /* the thread's */
	int cpu;   /* the one CPU it may run on: the main thread's at the last open; -1 none yet, -2
	            * refused */
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int n_groups;
	struct {
		bool known, ordinary;
		dev_t dev;
	} devs[8]; /* ordinary_fs's answers */
	size_t next_dev;
	/* the job and its answer */
	const char *path;
	int flags, result;
	mode_t mode, umask;
	const BrokerJob *job; /* a write by path (broker_write), else an open */
};

static void futex_wait(int *word, int val)
{
	(void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(int *word)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits until *WORD is no longer FROM. Its new value. No spinning: on a machine with few
 * CPUs a spinning thread takes the CPU the other one needs. */
static int wait_change(int *word, int from)
{
	int v;
	while ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == from)
		futex_wait(word, from);
	return v;
}

static void set_state(Broker *b, int v)
{
	__atomic_store_n(&b->state, v, __ATOMIC_RELEASE);
	futex_wake(&b->state);
}

/* File systems whose files are plain data: opened by the broker, they are what the program
 * would have had. The pseudo file systems (procfs, sysfs, cgroupfs, FUSE …) answer after who
 * opened them (pid, namespace, credentials of the opener): not these. */
static bool ordinary_fs(Broker *b, int fd, dev_t dev)
{
	/* Local ones only: an open on NFS or 9p waits for its server, and the supervisor waits
	 * for the broker (a hung server would hold the run's loop: its timeout, the relays);
	 * left to the kernel, only the program's thread waits. */
	static const unsigned long kinds[] = {
	    EXT4_SUPER_MAGIC,      XFS_SUPER_MAGIC,   BTRFS_SUPER_MAGIC, TMPFS_MAGIC,
	    OVERLAYFS_SUPER_MAGIC, SQUASHFS_MAGIC,    RAMFS_MAGIC,       0x2fc12fc1 /* zfs */,
	    F2FS_SUPER_MAGIC,      MSDOS_SUPER_MAGIC, ISOFS_SUPER_MAGIC, 0xE0F5E1E2 /* erofs */};
	struct statfs sf;

	/* the answer for the last few devices kept: one fstatfs per file system */
	for (size_t i = 0; i < ELEMENTSOF(b->devs); i++)
		if (b->devs[i].known && b->devs[i].dev == dev)
			return b->devs[i].ordinary;
	if (fstatfs(fd, &sf) < 0)
		return false;
	bool ordinary = false;
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		ordinary = ordinary || (unsigned long)sf.f_type == kinds[i];
	b->devs[b->next_dev] =
	    (typeof(b->devs[0])){.known = true, .dev = dev, .ordinary = ordinary};
	b->next_dev = (b->next_dev + 1) % ELEMENTSOF(b->devs);
	return ordinary;
}

static int open_in_root(Broker *b, int flags, mode_t mode)
{
	struct open_how how = {.flags = (uint64_t)(unsigned)flags,
	                       .mode = (flags & O_CREAT) ? mode & 07777 : 0,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, b->root_fd, b->path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Opened with O_NONBLOCK, which on a regular file or directory only stops a wait for a
 * lease's holder (the program can hold one: the supervisor would wait for it): that wait is
 * left to the kernel, in the program's own call. The flag is then taken off again, unless
 * the program asked for it. */
static int nonblocking_done(int fd, int flags)
{
	if (fd == -EWOULDBLOCK && !(flags & O_NONBLOCK))
		return BROKER_FALLBACK;
	/* F_SETFL sets these (O_ASYNC left off: open() never arms it either) */
	if (fd >= 0 && !(flags & O_NONBLOCK)) {
		if (fcntl(fd, F_SETFL, flags & (O_APPEND | O_DIRECT | O_NOATIME)) < 0) {
			(void)close(fd);
			return BROKER_FALLBACK;
		}
	}
	return fd;
}

/* The flags open(2) knows: it drops the others silently, where openat2 refuses them. */
#define OPEN_FLAGS                                                                                 \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |     \
	 O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |     \
	 O_SYNC)

/* A new regular file, never anything met on the way: O_EXCL. */
static int create(Broker *b)
{
	(void)umask(b->umask); /* this thread's own (CLONE_FS unshared) */
	int fd = open_in_root(b,
	                      (b->flags & OPEN_FLAGS & ~O_CLOEXEC) | O_CREAT | O_EXCL | O_CLOEXEC |
	                          O_NOCTTY | O_NONBLOCK,
	                      b->mode);
	return nonblocking_done(fd, b->flags);
}

/* The file behind the O_PATH fd PFD opened with the program's flags: the kernel's own check
 * (Landlock's file_open, DAC's may_open) on the broker's credentials. */
static int reopen(int pfd, int flags)
{
	char p[64];
	(void)snprintf(p, sizeof(p), "/proc/thread-self/fd/%d", pfd);
	int fd = open(p, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)) | O_CLOEXEC |
	                     O_NONBLOCK);
	return nonblocking_done(fd < 0 ? -errno : fd, flags);
}

/* The memory devices that answer the same to every opener and keep no state: null, zero,
 * full, random, urandom (major 1). */
static bool stateless_device(const struct stat *st)
{
	unsigned mi = minor(st->st_rdev);
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 &&
	       (mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9);
}

/* An unnamed file in the directory the path names (O_TMPFILE), the umask applied. */
static int open_tmpfile(Broker *b)
{
	struct stat st;
	int d = open_in_root(b, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (d < 0)
		return d;
	if (fstat(d, &st) < 0 || !ordinary_fs(b, d, st.st_dev)) {
		(void)close(d);
		return BROKER_FALLBACK;
	}
	char p[64];
	(void)snprintf(p, sizeof(p), "/proc/thread-self/fd/%d", d);
	(void)umask(b->umask);
	int fd =
	    open(p, (b->flags & OPEN_FLAGS & ~O_CLOEXEC) | O_TMPFILE | O_CLOEXEC, b->mode & 07777);
	fd = fd < 0 ? -errno : fd;
	(void)close(d);
	return fd;
}

static int do_open(Broker *b)
{
	int flags = b->flags;
	int lookup = O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY));
	struct stat st;

	if ((flags & O_TMPFILE) == O_TMPFILE && !(flags & O_PATH))
		return open_tmpfile(b);
	/* O_PATH: SECCOMP_IOCTL_NOTIF_ADDFD takes no O_PATH file (fget() skips them) */
	if ((flags & (__O_TMPFILE | O_PATH)) || ((flags & O_CREAT) && (flags & O_DIRECTORY)))
		return BROKER_FALLBACK;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return create(b);
	/* A dangling symlink to create through, or a file that comes and goes: three tries,
	 * then the kernel's own open (continue). */
	for (int attempt = 0; attempt < 3; attempt++) {
		int pfd = open_in_root(b, lookup, 0);
		if (pfd == -ENOENT && (flags & O_CREAT)) {
			int r = create(b);
			if (r == -EEXIST)
				continue;
			return r;
		}
		if (pfd < 0)
			return pfd;
		if (fstat(pfd, &st) < 0 || !ordinary_fs(b, pfd, st.st_dev)) {
			(void)close(pfd);
			return BROKER_FALLBACK;
		}
		/* O_CREAT of a file of someone else's: fs.protected_regular may refuse it in a
		 * sticky directory, which the reopen (without O_CREAT) would not see */
		int r = (flags & O_CREAT) && st.st_uid != b->uid   ? BROKER_FALLBACK
		        : S_ISLNK(st.st_mode)                      ? -ELOOP /* O_NOFOLLOW */
		        : S_ISDIR(st.st_mode) && (flags & O_CREAT) ? -EISDIR
		        : S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || stateless_device(&st)
		            ? reopen(pfd, flags)
		            : BROKER_FALLBACK;
		(void)close(pfd);
		return r;
	}
	return BROKER_FALLBACK;
}

/* The program's identity, capabilities none, its Landlock domain: this thread only. */
static int take_identity(Broker *b)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	gid_t mine[64];
	uid_t r, e, s;

	if (unshare(CLONE_FS) < 0)
		return -errno;
	int n = getgroups(ELEMENTSOF(mine), mine);
	if ((n != b->n_groups || memcmp(mine, b->groups, sizeof(gid_t) * (size_t)MAX(n, 0)) != 0) &&
	    syscall(SYS_setgroups, b->n_groups, b->groups) < 0)
		return -errno;
	if (syscall(SYS_setresgid, b->gid, b->gid, b->gid) < 0 ||
	    syscall(SYS_setresuid, b->uid, b->uid, b->uid) < 0)
		return -errno;
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (b->ruleset_fd >= 0 && syscall(SYS_landlock_restrict_self, b->ruleset_fd, 0) < 0)
		return -errno;
	/* as asked, and nothing kept */
	if (getresuid(&r, &e, &s) < 0 || r != b->uid || e != b->uid || s != b->uid ||
	    syscall(SYS_capget, &h, d) < 0 || d[0].effective || d[0].permitted || d[1].effective ||
	    d[1].permitted)
		return -EPERM;
	return 0;
}

/* ---------------------------------------------------------------- writes by path */

/* The directory holding PATH's last component, opened O_PATH in the root (ordinary file
 * systems only), and that component into BASE; BROKER_FALLBACK for what the kernel would
 * read otherwise (a trailing slash, ".", ".."). */
static int open_parent(Broker *b, const char *path, char base[NAME_MAX + 1])
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (path[0] != '/' || !slash || !slash[1] || streq(slash + 1, ".") ||
	    streq(slash + 1, "..") || strlen(slash + 1) > NAME_MAX)
		return BROKER_FALLBACK;
	(void)snprintf(dir, sizeof(dir), "%.*s", (int)MAX(slash - path, 1), path);
	(void)snprintf(base, NAME_MAX + 1, "%s", slash + 1);
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, b->root_fd, dir, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !ordinary_fs(b, fd, st.st_dev)) {
		(void)close(fd);
		return BROKER_FALLBACK;
	}
	return fd;
}

/* PATH itself opened O_PATH in the root (NOFOLLOW: a symlink as the last component is the
 * file), on an ordinary file system; BROKER_FALLBACK otherwise. */
static int open_file(Broker *b, const char *path, bool nofollow)
{
	struct stat st;

	b->path = path;
	int fd = open_in_root(b, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !ordinary_fs(b, fd, st.st_dev)) {
		(void)close(fd);
		return BROKER_FALLBACK;
	}
	return fd;
}

static int result(long r)
{
	return r < 0 ? -errno : 0;
}

/* The calls on a directory entry: the parents opened, then the *at call on their fds. */
static int do_entry(Broker *b, const BrokerJob *j)
{
	char base[NAME_MAX + 1], base2[NAME_MAX + 1];
	bool two = j->op == BROKER_RENAME || j->op == BROKER_LINK;
	int r;

	if (j->op == BROKER_SYMLINK) { /* PATH is the link's text, PATH2 its place */
		_cleanup_close_ int d = open_parent(b, j->path2, base2);
		return d < 0 ? d : result(symlinkat(j->path, d, base2));
	}
	_cleanup_close_ int d = open_parent(b, j->path, base);
	if (d < 0)
		return d;
	_cleanup_close_ int d2 = two ? open_parent(b, j->path2, base2) : -1;
	if (two && d2 < 0)
		return d2;
	(void)umask(b->umask); /* this thread's own (CLONE_FS unshared) */
	switch (j->op) {
	case BROKER_MKDIR:
		return result(mkdirat(d, base, j->mode & 07777));
	case BROKER_MKNOD:
		r = (int)(j->mode & S_IFMT);
		if (r != 0 && r != S_IFREG && r != S_IFIFO && r != S_IFSOCK)
			return BROKER_FALLBACK;
		return result(mknodat(d, base, j->mode, 0));
	case BROKER_UNLINK:
		return result(unlinkat(d, base, j->flags & AT_REMOVEDIR));
	case BROKER_RENAME:
		return result(syscall(SYS_renameat2, d, base, d2, base2, (unsigned)j->flags));
	case BROKER_LINK:
		return result(linkat(d, base, d2, base2, 0));
	default:
		return BROKER_FALLBACK;
	}
}

/* The calls on a file's metadata: the file opened O_PATH (or the program's own fd, copied),
 * then changed through that fd (or its /proc/thread-self/fd link, which the kernel follows
 * to that very file). */
static int do_attr(Broker *b, const BrokerJob *j)
{
	bool nofollow = (j->flags & AT_SYMLINK_NOFOLLOW) != 0;
	char link[64];

	_cleanup_close_ int opened = j->fd >= 0 ? -1 : open_file(b, j->path, nofollow);
	int fd = j->fd >= 0 ? j->fd : opened;
	struct stat st;
	if (fd < 0)
		return fd;
	/* the program's own fd: on an ordinary file system too (a hung NFS or FUSE server
	 * would hold the supervisor; left to the kernel, only the program's thread waits) */
	if (j->fd >= 0 && (fstat(fd, &st) < 0 || !ordinary_fs(b, fd, st.st_dev)))
		return BROKER_FALLBACK;
	(void)snprintf(link, sizeof(link), "/proc/thread-self/fd/%d", fd);
	switch (j->op) {
	case BROKER_CHMOD:
		return nofollow ? BROKER_FALLBACK : result(chmod(link, j->mode & 07777));
	case BROKER_CHOWN:
		return result(fchownat(fd, "", j->uid, j->gid, AT_EMPTY_PATH));
	case BROKER_TRUNCATE:
		return result(truncate(link, j->length));
	case BROKER_UTIMENS: {
		/* a symlink's own times: not through a link to it */
		if (nofollow && (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)))
			return BROKER_FALLBACK;
		return result(utimensat(AT_FDCWD, link, j->times, 0));
	}
	case BROKER_SETXATTR: /* a symlink's own (NOFOLLOW): the link reaches it, not past it */
		return result(setxattr(link, j->xname, j->xvalue, j->xsize, j->xflags));
	case BROKER_RMXATTR:
		return result(removexattr(link, j->xname));
	default:
		return BROKER_FALLBACK;
	}
}

static int do_write(Broker *b, const BrokerJob *j)
{
	switch (j->op) {
	case BROKER_MKDIR:
	case BROKER_MKNOD:
	case BROKER_UNLINK:
	case BROKER_RENAME:
	case BROKER_LINK:
	case BROKER_SYMLINK:
		return do_entry(b, j);
	default:
		return do_attr(b, j);
	}
}

static void *broker_main(void *userdata)
{
	Broker *b = userdata;

	b->tid = gettid();
	int r = take_identity(b);
	if (b->ruleset_fd >= 0)
		(void)close(b->ruleset_fd);
	b->ruleset_fd = -1;
	b->started = r < 0 ? r : 1;
	set_state(b, DONE);
	if (r < 0)
		return NULL;
	for (;;) {
		int v = wait_change(&b->state, DONE);
		if (v == IDLE)
			v = wait_change(&b->state, IDLE);
		if (v == STOP)
			return NULL;
		if (v != POSTED)
			continue;
		b->result = b->job ? do_write(b, b->job) : do_open(b);
		set_state(b, DONE);
	}
}

/* "Uid:\tR\tE\tS\tFS": the fourth, the one file access checks. */
static bool status_id(pid_t pid, const char *key, unsigned *id)
{
	char buf[128];
	unsigned v[4];
	if (!proc_status_field(pid, key, buf, sizeof(buf)) ||
	    sscanf(buf, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]) != 4)
		return false;
	*id = v[3];
	return true;
}

static bool status_groups(pid_t pid, gid_t *groups, int *n)
{
	char buf[1024];
	*n = 0;
	if (!proc_status_field(pid, "Groups", buf, sizeof(buf)))
		return false;
	for (char *p = buf, *end; *p; p = end) {
		unsigned long g = strtoul(p, &end, 10);
		if (end == p)
			break;
		if (*n >= 64)
			return false;
		groups[(*n)++] = (gid_t)g;
	}
	return true;
}

int broker_start(Broker **ret, int root_fd, pid_t pid, int ruleset_fd)
{
	_cleanup_free_ Broker *b = calloc(1, sizeof(Broker));
	sigset_t all, old;
	unsigned uid, gid;

	if (!b) {
		if (ruleset_fd >= 0)
			(void)close(ruleset_fd);
		return -ENOMEM;
	}
	b->root_fd = root_fd;
	b->ruleset_fd = ruleset_fd;
	b->cpu = -1;
	if (!status_id(pid, "Uid", &uid) || !status_id(pid, "Gid", &gid) ||
	    !status_groups(pid, b->groups, &b->n_groups)) {
		if (ruleset_fd >= 0)
			(void)close(ruleset_fd);
		return -ESRCH;
	}
	b->uid = uid;
	b->gid = gid;
	/* signals stay the main thread's */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = -pthread_create(&b->thread, NULL, broker_main, b);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		if (ruleset_fd >= 0)
			(void)close(ruleset_fd);
		return r;
	}
	/* Not waited for here: the thread takes the identity and domain (and closes the ruleset)
	 * while the main thread goes on, e.g. answering the program's exec; broker_ready waits.
	 * Run as root, the change of ids leaves the whole process non-dumpable (the mm is
	 * shared): kept so. Dumpable, a process of the program's host uid would pass ptrace's
	 * uid check against this thread, into a process that is root. */
	*ret = TAKE_PTR(b);
	return 0;
}

int broker_ready(Broker *b)
{
	if (!b->checked) {
		(void)wait_change(&b->state, IDLE);
		b->checked = true;
	}
	return b->started < 0 ? b->started : 0;
}

/* The thread runs on the CPU of the main thread, which sleeps while it works: a wake-up
 * on another CPU costs tens of microseconds (an idle CPU woken, caches cold), one on this
 * CPU a context switch. Moved only when the main thread was. */
static void follow_cpu(Broker *b)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu == b->cpu || b->cpu == -2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* refused (a cpuset of the caller's, a filter): remembered, not tried at every open */
	b->cpu = sched_setaffinity(b->tid, sizeof(set), &set) == 0 ? cpu : -2;
}

int broker_open(Broker *b, const char *path, int flags, mode_t mode, mode_t mask)
{
	follow_cpu(b);
	b->job = NULL;
	b->path = path;
	b->flags = flags;
	b->mode = mode;
	b->umask = mask;
	set_state(b, POSTED);
	(void)wait_change(&b->state, POSTED);
	return b->result;
}

int broker_write(Broker *b, const BrokerJob *job)
{
	follow_cpu(b);
	b->job = job;
	b->umask = job->umask;
	set_state(b, POSTED);
	(void)wait_change(&b->state, POSTED);
	b->job = NULL;
	return b->result;
}

Broker *broker_stop(Broker *b)
{
	if (!b)
		return NULL;
	/* a thread still taking its identity would set DONE over a STOP set now */
	if (broker_ready(b) >= 0)
		set_state(b, STOP);
	(void)pthread_join(b->thread, NULL);
	free(b);
	return NULL;
}

/* ---------------------------------------------------------------- the main thread's side */

void notify_broker_launch(Notifier *n, pid_t pid)
{
	if (n->broker || n->broker_off)
		return;
	int root = notify_root_fd(n, pid);
	if (root < 0)
		return; /* tried again at the next open */
	/* ADDFD with SEND (Linux >= 5.14), tried: an id no request has is ENOENT, an unknown
	 * flag EINVAL first */
	struct seccomp_notif_addfd probe = {
	    .id = UINT64_MAX, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (__u32)n->fd};
	int r = ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &probe) < 0 && errno == ENOENT
	            ? broker_start(&n->broker, root, pid, n->ruleset_fd)
	            : -EOPNOTSUPP;
	if (r == -EOPNOTSUPP && n->ruleset_fd >= 0)
		(void)close(n->ruleset_fd);
	n->ruleset_fd = -1; /* closed by broker_start or its thread */
	if (r < 0)
		n->broker_off = true;
}

/* The fd of the process of trap REQ that is a Landlock ruleset, copied into this process
 * (pidfd_getfd, the trap confirmed still pending: no pid reused), or -errno. */
static int copy_ruleset(int notify_fd, const struct seccomp_notif *req)
{
	pid_t pid = (pid_t)req->pid;
	char dir[64], link[PATH_MAX + 96], target[64];
	struct dirent *de;
	int found = -1;

	(void)snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	_cleanup_(closedirp) DIR *d = opendir(dir);
	if (!d)
		return -errno;
	while (found < 0 && (de = readdir(d))) {
		(void)snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		ssize_t k = readlink(link, target, sizeof(target) - 1);
		if (k > 0 && (size_t)k < sizeof(target)) {
			target[k] = '\0';
			if (streq(target, "anon_inode:[landlock-ruleset]"))
				found = atoi(de->d_name);
		}
	}
	return found < 0 ? -ENOENT : tconnect_grab_fd(notify_fd, req, found);
}

void notify_broker_from_helper(Notifier *n, const struct seccomp_notif *req)
{
	pid_t pid = (pid_t)req->pid;
	char exe[64];
	struct stat st;

	if (n->helper_state != HELPER_STARTING)
		return;
	/* One chance, at the exec right after the runtime's exec of the helper: a later one
	 * could be the program's, and a helper it ran with rules of its own would hand over a
	 * ruleset wider than its domain (Landlock stacks: the program keeps the narrower). */
	n->helper_state = HELPER_NONE;
	(void)snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	if (stat(exe, &st) < 0 || st.st_dev != n->helper_dev || st.st_ino != n->helper_ino)
		return;
	int ruleset = n->plan->landlock_abi > 0 ? copy_ruleset(n->fd, req) : -1;
	if (n->plan->landlock_abi > 0 && ruleset < 0)
		return; /* predicted, as before */
	n->ruleset_fd = ruleset;
	n->broker_off = false;
	notify_broker_launch(n, pid);
}

Broker *notify_broker_for(Notifier *n, pid_t pid)
{
	if (n->broker_off || notify_root_fd(n, pid) < 0)
		return NULL;
	if (!n->broker)
		notify_broker_launch(n, pid);
	if (n->broker && broker_ready(n->broker) < 0) { /* it could not take the identity */
		n->broker = broker_stop(n->broker);
		n->broker_off = true;
	}
	return n->broker;
}

bool notify_umask(pid_t pid, mode_t *mask)
{
	char field[32];
	unsigned um = 0;

	/* the process's (its threads share it) */
	if (!proc_status_field(pid, "Umask", field, sizeof(field)) || sscanf(field, "%o", &um) != 1)
		return false;
	*mask = (mode_t)um;
	return true;
}

bool notify_broker_open(Notifier *n, const struct seccomp_notif *req, char path[PATH_MAX],
                        uint64_t flags, uint64_t mode, Reply *rep)
{
	pid_t pid = (pid_t)req->pid;
	mode_t um = 0;

	if (!path[0] || !notify_broker_for(n, pid))
		return false;
	/* A new file gets the program's umask. */
	if (((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) && !notify_umask(pid, &um))
		return false;
	/* The path came from the trapping thread's memory: still its request (no pid reused)? */
	if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return false;
	int r = broker_open(n->broker, path, (int)flags, (mode_t)mode, (mode_t)um);
	if (r == BROKER_FALLBACK)
		return false;
	if (r >= 0) {
		*rep = (Reply){.emulated = true,
		               .addfd = r,
		               .cloexec = (flags & O_CLOEXEC) != 0,
		               .brokered = true};
		return true;
	}
	/* The broker's /proc is not the program's ("self" names no process of the sandbox's
	 * pid namespace for it): such a refusal may be the broker's alone. */
	if (notify_path_via_proc(n, pid, path))
		return false;
	/* EACCES, EPERM: the kernel's own refusal (Landlock, the program's ids, an immutable
	 * file), whatever the prediction would have said */
	notify_open_record(n, req, path, flags, r == -EACCES || r == -EPERM);
	*rep = (Reply){.emulated = true, .error = r, .addfd = -1};
	return true;
}

void notify_broker_done(Notifier *n)
{
	n->broker = broker_stop(n->broker);
	if (n->ruleset_fd >= 0)
		(void)close(n->ruleset_fd);
	n->ruleset_fd = -1;
}
