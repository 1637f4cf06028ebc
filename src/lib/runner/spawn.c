/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The child side of a run.  Layout built the bubblewrap way: a private mount namespace, a
 * tmpfs staging root entered with pivot_root so the host tree sits at /oldroot, every step
 * applied to /newroot with sources taken from /oldroot, then /oldroot detached and a second
 * pivot_root into /newroot.  No allocation after clone: only stack buffers and the plan the
 * parent prepared.
 */
#include "runner/spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fdpass.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "egress/dnsstub.h"
#include "egress/proxy.h"
#include "plan/fs-rules.h"
#include "plan/identity.h"
#include "plan/overlay.h"
#include "runner/cgroup.h"
#include "runner/mount-api.h"
#include "runner/notify.h"

#define NEWROOT "/newroot"
#define OLDROOT "/oldroot"

static void report(int fd, ReportKind kind, int err, int wstatus, const char *what,
                   const char *path)
{
	ChildReport r = {.kind = kind, .err = err, .wstatus = wstatus};

	(void)snprintf(r.msg, sizeof(r.msg), "%s%s%s", what, path ? " " : "", path ? path : "");
	(void)!write(fd, &r, sizeof(r));
}

/* Fails the setup: report and leave (the supervisor turns it into exit 125). */
static _Noreturn void die_setup(const SpawnArgs *a, int err, const char *what, const char *path)
{
	report(a->report_fd, REPORT_SETUP_FAILED, err, 0, what, path);
	_exit(OB_EXIT_SETUP);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p of PATH's parents, from the nearest one up: most mount points have an existing
 * parent (one mkdir then, not one per component).  Existing ones may sit on read-only binds:
 * that is fine. */
static int mkdir_parents(char *path)
{
	char *slash = strrchr(path, '/');
	int r = 0;

	if (!slash || slash == path)
		return 0;
	*slash = '\0';
	int e = mkdir(path, 0755) < 0 ? errno : 0;
	if (e == ENOENT) {
		r = mkdir_parents(path);
		e = r >= 0 && mkdir(path, 0755) < 0 ? errno : 0;
	}
	if (e && r >= 0 && !is_dir(path))
		r = -e;
	*slash = '/';
	return r;
}

static int make_mountpoint(char *dest, bool dir)
{
	struct stat st;

	if (lstat(dest, &st) == 0)
		return 0;
	int r = mkdir_parents(dest);
	if (r < 0)
		return r;
	if (dir)
		return mkdir(dest, 0755) < 0 ? -errno : 0;
	int fd = open(dest, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return -errno;
	(void)close(fd);
	return 0;
}

/* Binds SRC (a host path under /oldroot, or a path inside the new root) at DEST.  The
 * source is opened without following any symlink (a grant must not be steered elsewhere
 * between planning and mounting), then mounted through its /proc/self/fd magic link.  The
 * flags go onto every submount with mount_setattr(AT_RECURSIVE). */
static int bind_step(const MountStep *s, char *dest)
{
	char src[PATH_MAX + 16], fdpath[64];
	struct ob_open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS};

	(void)snprintf(src, sizeof(src), "%s%s", s->src_inside ? NEWROOT : OLDROOT, s->src);
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, src, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	int r = make_mountpoint(dest, s->src_is_dir);
	(void)snprintf(fdpath, sizeof(fdpath), OLDROOT "/proc/self/fd/%d", fd);
	if (r >= 0 && mount(fdpath, dest, NULL, MS_BIND | (s->recursive ? MS_REC : 0), NULL) < 0)
		r = -errno;
	(void)close(fd);
	if (r < 0)
		return r;
	struct ob_mount_attr attr = {.attr_set = mount_attrs(s->flags)};
	if (attr.attr_set && syscall(SYS_mount_setattr, AT_FDCWD, dest,
	                             s->recursive ? AT_RECURSIVE : 0, &attr, sizeof(attr)) < 0)
		return -errno;
	return 0;
}

/* A bind the supervisor opened and set up (runner/idmap.c): moved into place. */
static int move_tree(const MountStep *s, char *dest)
{
	int r = make_mountpoint(dest, s->src_is_dir);
	if (r >= 0 &&
	    syscall(SYS_move_mount, s->tree_fd, "", AT_FDCWD, dest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	(void)close(s->tree_fd);
	return r;
}

/* The bind at its place (writable) under an overlay whose upper layer is on the disk tmpfs
 * (plan/overlay.h): the kernel answers ENOSPC past --limit disk, the supervisor writes the
 * layer back when the program has ended. The upper directory takes the bind's mode, as the
 * overlay's root shows the upper's. */
static int overlay_step(const MountStep *s)
{
	char dest[PATH_MAX + 16], upper[64], work[64];
	struct stat st;

	(void)snprintf(dest, sizeof(dest), NEWROOT "%s", s->dest);
	(void)snprintf(upper, sizeof(upper), OVERLAY_DISK_DIR "/%u", s->overlay);
	if (stat(dest, &st) < 0 || mkdir(upper, 0700) < 0)
		return -errno;
	(void)snprintf(work, sizeof(work), OVERLAY_DISK_DIR "/%u/w", s->overlay);
	(void)snprintf(upper, sizeof(upper), OVERLAY_DISK_DIR "/%u/u", s->overlay);
	if (mkdir(upper, 0700) < 0 || mkdir(work, 0700) < 0 || chmod(upper, st.st_mode & 07777) < 0)
		return -errno;
	return overlay_mount(dest, upper, work, s->flags, /* userxattr= */ true);
}

/* The tmpfs that holds the overlays' upper layers, in the staging root (never in the new
 * one: the program cannot reach it but through the overlays), and its root sent to the
 * supervisor, which writes the layers back at the end (runner/disk.c). */
static void mount_disk(const SpawnArgs *a)
{
	if (mkdir(OVERLAY_DISK_DIR, 0700) < 0 ||
	    mount("omnibase-disk", OVERLAY_DISK_DIR, "tmpfs", MS_NOSUID | MS_NODEV,
	          a->plan->disk_data) < 0)
		die_setup(a, errno, "mounting the disk tmpfs (--limit disk)", NULL);
}

/* The overlay of S could not be mounted: the run fails, or with --allow-degraded keeps the
 * plain bind and leaves the error in "N/failed" on the disk tmpfs, where the supervisor
 * finds it (runner/disk.c) and says so in SandboxDegraded. */
static void overlay_failed(const SpawnArgs *a, const MountStep *s, int err)
{
	char path[64], text[16];

	if (!a->plan->disk_may_degrade)
		die_setup(a, err, "the --limit disk overlay (--allow-degraded binds without it) on",
		          s->dest);
	(void)snprintf(path, sizeof(path), OVERLAY_DISK_DIR "/%u", s->overlay);
	(void)mkdir(path, 0700);
	(void)snprintf(path, sizeof(path), OVERLAY_DISK_DIR "/%u/failed", s->overlay);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int n = snprintf(text, sizeof(text), "%d", err);
	if (fd < 0 || write(fd, text, (size_t)n) != n)
		die_setup(a, errno, "noting a failed overlay", s->dest);
	(void)close(fd);
}

static void send_disk(const SpawnArgs *a)
{
	int fd = open(OVERLAY_DISK_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_setup(a, errno, "opening the disk tmpfs", NULL);
	int r = fd_send(a->sync_fd, 'd', &fd, 1);
	(void)close(fd);
	if (r < 0)
		die_setup(a, -r, "sending the disk tmpfs", NULL);
}

static int write_step_file(const MountStep *s, const char *dest, mode_t mode)
{
	int fd = open(dest, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < s->data_len) {
		ssize_t n = write(fd, s->data + off, s->data_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			(void)close(fd);
			return n < 0 ? -errno : -EIO;
		}
		off += (size_t)n;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int apply_step(const MountStep *s)
{
	char dest[PATH_MAX + 16];
	int r;

	(void)snprintf(dest, sizeof(dest), NEWROOT "%s", s->dest);
	switch (s->kind) {
	case STEP_DIR:
		r = mkdir_parents(dest);
		return r < 0 ? r : (mkdir(dest, 0755) < 0 && errno != EEXIST ? -errno : 0);
	case STEP_SYMLINK:
		r = mkdir_parents(dest);
		return r < 0 ? r : (symlink(s->src, dest) < 0 && errno != EEXIST ? -errno : 0);
	case STEP_BIND:
		return s->tree_fd >= 0 ? move_tree(s, dest) : bind_step(s, dest);
	case STEP_SECRET:
		return write_step_file(s, dest, 0400);
	case STEP_FILE:
		return write_step_file(s, dest, 0444);
	case STEP_TMPFS:
	case STEP_PROC:
	case STEP_DEVPTS: {
		static const char *const fstype[] = {
		    [STEP_TMPFS] = "tmpfs", [STEP_PROC] = "proc", [STEP_DEVPTS] = "devpts"};
		r = make_mountpoint(dest, true);
		if (r >= 0 && mount(fstype[s->kind], dest, fstype[s->kind], s->flags, s->data) < 0)
			r = -errno;
		return r;
	}
	}
	return -EINVAL;
}

static void setup_root(const SpawnArgs *a)
{
	const Plan *p = a->plan;

	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_setup(a, errno, "making / private", NULL);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
		die_setup(a, errno, "mounting the staging tmpfs", NULL);
	if (mkdir("/tmp" NEWROOT, 0755) < 0 || mkdir("/tmp" OLDROOT, 0755) < 0)
		die_setup(a, errno, "creating the staging directories", NULL);
	if (mount("tmpfs", "/tmp" NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		die_setup(a, errno, "mounting the root tmpfs", NULL);
	if (syscall(SYS_pivot_root, "/tmp", "/tmp" OLDROOT) < 0 || chdir("/") < 0)
		die_setup(a, errno, "pivot_root into the staging root", NULL);
	if (p->n_overlays)
		mount_disk(a);
	for (size_t i = 0; i < p->n_steps; i++) {
		int r = apply_step(&p->steps[i]);
		if (r < 0)
			die_setup(a, -r, "mounting", p->steps[i].dest);
		if (p->steps[i].overlay && (r = overlay_step(&p->steps[i])) < 0)
			overlay_failed(a, &p->steps[i], -r);
	}
	if (p->n_overlays)
		send_disk(a);
	/* The secrets are written: from now on nobody changes them. */
	if (p->has_secrets &&
	    mount(NULL, NEWROOT "/run/secrets", NULL,
	          MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0500") < 0)
		die_setup(a, errno, "making /run/secrets read-only", NULL);
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		die_setup(a, errno, "detaching the host root", NULL);
	/* pivot_root(".", ".") stacks the old root under the new one; detaching "." drops it. */
	if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die_setup(a, errno, "pivot_root into the new root", NULL);
	if (p->mode == OB_MODE_SANDBOX &&
	    mount("/", "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	        0)
		die_setup(a, errno, "making the root read-only", NULL);
}

static void loopback_up(const SpawnArgs *a)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die_setup(a, errno, "socket for the loopback", NULL);
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die_setup(a, errno, "SIOCGIFFLAGS lo", NULL);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die_setup(a, errno, "bringing up lo", NULL);
	(void)close(fd);
}

/* A socket of TYPE bound to the sandbox's own 127.0.0.1:PORT (listening when a stream). */
static int loopback_socket(const SpawnArgs *a, int type, unsigned port, const char *what)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_port = htons((uint16_t)port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;

	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 256) < 0))
		die_setup(a, errno, what, NULL);
	return fd;
}

/* The egress sockets, on the sandbox's own 127.0.0.1 (so the program can reach them and
 * nothing else): the proxy's listener, the DNS stub's UDP and TCP sockets, as the plan has
 * them, in that order. Handed to the supervisor, which serves them from the host's side; the
 * program never holds them. */
static void egress_sockets(const SpawnArgs *a)
{
	int fds[3], n = 0;

	if (a->plan->proxy)
		fds[n++] = loopback_socket(a, SOCK_STREAM, PROXY_PORT, "the egress proxy's socket");
	if (a->plan->transparent) {
		fds[n++] = loopback_socket(a, SOCK_DGRAM, DNS_PORT, "the DNS stub's UDP socket");
		fds[n++] = loopback_socket(a, SOCK_STREAM, DNS_PORT, "the DNS stub's TCP socket");
	}
	int r = fd_send(a->proxy_fd, 'e', fds, (size_t)n);
	if (r < 0)
		die_setup(a, -r, "handing over the egress sockets", NULL);
	for (int i = 0; i < n; i++)
		(void)close(fds[i]);
	(void)close(a->proxy_fd);
}

static void set_limit(int resource, uint64_t v)
{
	struct rlimit rl = {.rlim_cur = v, .rlim_max = v};
	(void)setrlimit(resource, &rl);
}

static void drop_capabilities(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	/* up to the first number the kernel does not know (EINVAL): its last capability */
	for (int c = 0; c <= 63; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno == EINVAL)
			break;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	(void)syscall(SYS_capset, &h, d);
}

_Noreturn void spawn_exec_program(const SpawnArgs *a)
{
	const Plan *p = a->plan;
	const ob_limits *l = &p->limits;

	(void)setsid();
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if ((a->stdout_fd >= 0 && dup2(a->stdout_fd, STDOUT_FILENO) < 0) ||
	    (a->stderr_fd >= 0 && dup2(a->stderr_fd, STDERR_FILENO) < 0)) {
		report(a->report_fd, REPORT_SETUP_FAILED, errno, 0, "dup2 of the output pipes",
		       NULL);
		_exit(OB_EXIT_SETUP);
	}
	if (chdir(p->cwd) < 0) {
		report(a->report_fd, REPORT_SETUP_FAILED, errno, 0, "chdir", p->cwd);
		_exit(OB_EXIT_SETUP);
	}
	set_limit(RLIMIT_CORE, 0);
	set_limit(RLIMIT_NOFILE, l->value[OB_LIMIT_FILES]);
	/* A file granted alone (no overlay: plan/overlay.h) grows at most by the disk limit;
	 * past it write(2) fails with EFBIG rather than SIGXFSZ killing the writer. */
	set_limit(RLIMIT_FSIZE, l->value[OB_LIMIT_DISK]);
	(void)signal(SIGXFSZ, SIG_IGN);
	if (a->rlimit_pids)
		set_limit(RLIMIT_NPROC, l->value[OB_LIMIT_PIDS]);
	if (a->rlimit_memory)
		set_limit(RLIMIT_DATA, l->value[OB_LIMIT_MEMORY]);
	/* Only 0-2 survive exec: everything else, the report pipe included, is close-on-exec. */
	(void)syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	drop_capabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		report(a->report_fd, REPORT_SETUP_FAILED, errno, 0, "no_new_privs", NULL);
		_exit(OB_EXIT_SETUP);
	}
	const char *failed = NULL;
	int ruleset = -1;
	int r = p->landlock_abi > 0 ? fs_rules_apply(p, &failed, &ruleset) : 0;
	if (r < 0) {
		report(a->report_fd, REPORT_SETUP_FAILED, -r, 0, "Landlock", failed);
		_exit(OB_EXIT_SETUP);
	}
	/* Last: from here on our own execve is trapped and judged too. The ruleset goes with
	 * the listener: the supervisor's open broker takes the same domain (notify-broker.c). */
	r = a->notify_fd >= 0 ? notify_install(a->notify_fd, &p->seccomp, ruleset) : 0;
	if (ruleset >= 0)
		(void)close(ruleset);
	if (r < 0) {
		report(a->report_fd, REPORT_SETUP_FAILED, -r, 0, "seccomp user notification", NULL);
		_exit(OB_EXIT_SETUP);
	}
	/* The raw system call: a coverage build rewrites execve() into a counter dump that
	 * would open an error file here, inside the sandbox, for the program to inherit. */
	(void)syscall(SYS_execve, p->exec_path, p->argv, p->envp);
	int err = errno;
	report(a->report_fd, REPORT_EXEC_FAILED, err, 0, "execve", p->exec_path);
	_exit(err == ENOENT ? OB_EXIT_NOTFOUND : OB_EXIT_NOEXEC);
}

/* Zeroes the memory that /proc/self/cmdline and /proc/self/environ show (arg_start..arg_end
 * and env_start..env_end, fields 48 to 51 of /proc/self/stat): PID 1 is a copy of the
 * supervisor, and the program must not read the supervisor's command line or environment
 * through /proc/1. Those files stay readable to everyone in the pid namespace even when the
 * process is not dumpable. No allocation: a stack buffer. */
static void wipe_args_and_environment(void)
{
	char buf[2048];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		(void)close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long v[52] = {0};
	int field = 2;
	while (p && field < 51) {
		p = strchr(p, ' ');
		if (!p)
			break;
		v[++field] = strtoul(++p, NULL, 10);
	}
	if (field < 51)
		return;
	if (v[49] > v[48])
		explicit_bzero((void *)v[48], v[49] - v[48]);
	if (v[51] > v[50])
		explicit_bzero((void *)v[50], v[51] - v[50]);
}

/* The processes of this pid namespace, from its /proc (getdents64: no allocation). */
static unsigned count_processes(void)
{
	char buf[4096];
	unsigned n = 0;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (;;) {
		long k = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (k <= 0)
			break;
		for (long off = 0; off < k;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);
			n += de->d_name[0] >= '1' && de->d_name[0] <= '9';
			off += de->d_reclen;
		}
	}
	(void)close(fd);
	return n;
}

/* PID 1 of the sandbox: reaps everything, reports the program's status, and by exiting takes
 * the whole pid namespace down.  Not dumpable (the program cannot ptrace it), and its copy of
 * the supervisor's command line and environment wiped. */
static _Noreturn void run_init(const SpawnArgs *a, pid_t program)
{
	int status = 0;

	/* Only the program holds the output pipes: their end-of-file is its end. */
	if (a->stdout_fd >= 0)
		(void)close(a->stdout_fd);
	if (a->stderr_fd >= 0)
		(void)close(a->stderr_fd);
	for (;;) {
		pid_t w = waitpid(-1, &status, 0);
		if (w == program)
			break;
		if (w < 0 && errno != EINTR) {
			status = W_EXITCODE(OB_EXIT_SETUP, 0);
			break;
		}
	}
	/* A full /tmp or /dev/shm is a limit the program ran into: said here, where both are
	 * still mounted (they go with this namespace). */
	ChildReport r = {.kind = REPORT_EXITED, .wstatus = status};
	struct statvfs sv;
	const char *const tmpfs[] = {"/tmp", "/dev/shm"};
	for (size_t i = 0; i < ELEMENTSOF(tmpfs); i++)
		if (statvfs(tmpfs[i], &sv) == 0 && sv.f_blocks > 0 && sv.f_bavail == 0)
			r.tmpfs_full = true;
	/* Rootless, the pids limit is an rlimit whose hits the supervisor infers from counts;
	 * a short fork bomb may end between its samples, but not before this one. */
	r.procs_left = count_processes();
	(void)snprintf(r.msg, sizeof(r.msg), "exited");
	(void)!write(a->report_fd, &r, sizeof(r));
	_exit(0);
}

/* Closes every fd from 3 up except those in KEEP (at most 12): the clone copied the
 * supervisor's whole table, including the read ends of the output pipes, and a reader left
 * in here would keep a capped writer blocked instead of failing with EPIPE. */
/* Closes [FROM, TO] but the fds in [LO, HI]. */
static void close_around(unsigned from, unsigned to, int lo, int hi)
{
	if (from > to)
		return;
	if (lo < 0 || (unsigned)hi < from || (unsigned)lo > to) {
		(void)syscall(SYS_close_range, from, to, 0);
		return;
	}
	if ((unsigned)lo > from)
		(void)syscall(SYS_close_range, from, (unsigned)lo - 1, 0);
	if ((unsigned)hi < to)
		(void)syscall(SYS_close_range, (unsigned)hi + 1, to, 0);
}

/* The range of the binds the supervisor opened ([-1, -1]: none). */
static void tree_fd_range(const Plan *p, int *lo, int *hi)
{
	*lo = *hi = -1;
	for (size_t i = 0; i < p->n_steps; i++) {
		int fd = p->steps[i].tree_fd;
		if (fd < 0)
			continue;
		if (*lo < 0 || fd < *lo)
			*lo = fd;
		if (fd > *hi)
			*hi = fd;
	}
}

/* Closes every fd but 0-2, those of KEEP, and the range [LO, HI] (the opened binds: other
 * fds inside it, if any, are closed once the binds are in place). */
static void close_other_fds(const int *keep, size_t n, int lo, int hi)
{
	int sorted[12];
	size_t k = 0;

	for (size_t i = 0; i < n && k < 12; i++)
		if (keep[i] >= 3)
			sorted[k++] = keep[i];
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	unsigned from = 3;
	for (size_t i = 0; i < k; i++) {
		if ((unsigned)sorted[i] > from)
			close_around(from, (unsigned)sorted[i] - 1, lo, hi);
		from = (unsigned)sorted[i] + 1;
	}
	close_around(from, ~0U, lo, hi);
}

/* The second message: the run's cgroups, which the supervisor made while we built the file
 * system (the two overlap). v1 comes as its `tasks` files, to write "0" to: a single thread
 * moving itself takes no global lock, where a pid written for it waits for an RCU grace period
 * (cgroup.h); under v2 the supervisor has moved us (that wait overlapped our setup); 'r' says
 * there is no cgroup, and the program gets rlimits instead. Nothing of the program runs
 * before this. */
static void join_cgroups(SpawnArgs *a)
{
	int fds[CG_MAX];
	char tag = 0;
	int n = fd_receive_wait(a->sync_fd, &tag, fds, CG_MAX);

	if (n < 0)
		_exit(OB_EXIT_SETUP);
	for (int i = 0; i < n; i++) {
		if (write(fds[i], "0", 1) != 1)
			die_setup(a, errno, "joining the cgroup", NULL);
		(void)close(fds[i]);
	}
	a->rlimit_memory = a->rlimit_pids = tag == 'r';
}

static _Noreturn void child_main(const SpawnArgs *a)
{
	char c;
	const int keep[] = {a->sync_fd,     a->report_fd, a->stdin_fd,    a->stdout_fd,
	                    a->stderr_fd,   a->notify_fd, a->join_fds[0], a->join_fds[1],
	                    a->join_fds[2], a->proxy_fd};

	int lo, hi;
	tree_fd_range(a->plan, &lo, &hi);
	close_other_fds(keep, ELEMENTSOF(keep), lo, hi);
	/* the caller's stdin stays out of the sandbox: ours is 0 from here on (output.h) */
	if (a->stdin_fd >= 0 && (dup2(a->stdin_fd, STDIN_FILENO) < 0 || close(a->stdin_fd) < 0))
		die_setup(a, errno, "dup2 of the stdin pipe", NULL);
	/* If the supervisor is already gone, the read below sees end-of-file (we hold no copy of
	 * its end); from now on its death kills us. getppid() cannot tell: in the new pid
	 * namespace our parent is outside, so it is 0. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* First byte: our uid and gid maps are written. */
	if (read(a->sync_fd, &c, 1) != 1)
		_exit(OB_EXIT_SETUP);
	/* Raw system calls, not libc's set*id(): those signal every thread libc believes this
	 * process has, and a clone of a threaded caller has one thread only (the wait for the
	 * others' answers deadlocked the Python package's concurrent runs). */
	if (a->set_groups && syscall(SYS_setgroups, 0, NULL) < 0)
		die_setup(a, errno, "setgroups", NULL);
	/* Run as root, our host identity (root's) is mapped to nothing: become the sandbox's
	 * uid, an unprivileged host id, keeping the capabilities of this user namespace (the
	 * change is from an id outside it, so none are dropped). */
	if (a->plan->id_base &&
	    (syscall(SYS_setresgid, a->plan->gid, a->plan->gid, a->plan->gid) < 0 ||
	     syscall(SYS_setresuid, a->plan->uid, a->plan->uid, a->plan->uid) < 0))
		die_setup(a, errno, "taking the sandbox's ids", NULL);
	/* A change of credentials clears the parent-death signal: set it again (a supervisor
	 * that died meanwhile is seen at the next read of the sync socket). */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	setup_root(a);
	/* the binds are in place: whatever else was in their range goes, our own fds kept (another
	 * thread of the caller may have freed an fd in that range before we were cloned) */
	if (lo >= 0)
		close_other_fds(keep, ELEMENTSOF(keep), -1, -1);
	if (sethostname("sandbox", 7) < 0)
		die_setup(a, errno, "sethostname", NULL);
	loopback_up(a);
	if (a->proxy_fd >= 0)
		egress_sockets(a);
	SpawnArgs b = *a;
	join_cgroups(&b);
	(void)close(a->sync_fd);
	/* A cgroup namespace rooted at the cgroup the supervisor just moved us into. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		die_setup(a, errno, "unshare(CLONE_NEWCGROUP)", NULL);
	/* Before the program exists, so it never sees PID 1 otherwise. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	wipe_args_and_environment();
	/* Not fork(): its atfork handlers take glibc's malloc locks, which a raw clone (ours, in
	 * spawn_sandbox) copied in whatever state the caller's other threads held them; with a
	 * threaded caller (the Python package) that deadlocked here. */
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0)
		die_setup(a, errno, "fork", NULL);
	if (pid == 0)
		spawn_exec_program(&b);
	run_init(a, pid);
}

int spawn_sandbox(const SpawnArgs *a, pid_t *ret_pid)
{
	unsigned long flags =
	    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	/* fork semantics (no new stack): the child continues here with a copy of ours. */
	pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_main(a);
	*ret_pid = pid;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	return n == (ssize_t)strlen(text) ? 0 : (n < 0 ? -errno : -EIO);
}

int spawn_write_idmaps(pid_t pid, const Plan *plan, bool deny_setgroups)
{
	char path[64], map[64];
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (plan->id_base) /* root: a whole unprivileged range (plan/identity.h) */
		(void)snprintf(map, sizeof(map), "0 %u %u\n", plan->id_base, IDENTITY_RANGE);
	else
		(void)snprintf(map, sizeof(map), "%u %u 1\n", plan->uid, plan->outer_uid);
	r = write_file(path, map);
	if (r < 0)
		return r;
	if (deny_setgroups) {
		(void)snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		r = write_file(path, "deny");
		if (r < 0)
			return r;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (plan->id_base)
		(void)snprintf(map, sizeof(map), "0 %u %u\n", plan->id_base, IDENTITY_RANGE);
	else
		(void)snprintf(map, sizeof(map), "%u %u 1\n", plan->gid, plan->outer_gid);
	return write_file(path, map);
}
