/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The native backend's seccomp policy: an allow-list, built with libseccomp in the supervisor
 * before clone and installed by the sandbox's program right before its execve, with a
 * listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) that the supervisor holds.
 *
 * Every system call not on the list, a listed one with refused arguments, and every call
 * through another architecture's entry point (the i386 `int 0x80` path, x32) goes to the
 * supervisor, which records a SandboxViolation naming the call and answers EPERM: a refused
 * call is an error the program sees, not a kill, and it is always on the record. Only clone3
 * is answered ENOSYS directly, so that C libraries fall back to clone, whose flags the filter
 * can read (clone3 passes them in memory, out of a filter's reach); that is a probe, not a
 * violation. The calls the supervisor observes for denials (exec, connect, open; notify.c)
 * go to it too and are let through.
 */
#include "plan/syscall-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"

/*
 * The allow-list, by group, with why each group is safe to allow inside the sandbox.
 * Names this libseccomp does not know (newer calls) are skipped: they stay refused.
 */
static const char *const allowed[] = {
    /* Process and thread life: confined by the pid namespace and the cgroup or rlimits.
     * The set*id calls hold no power without capabilities in a user namespace that maps one
     * uid. clone is listed below with its flags checked. */
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "fork",
    "vfork",
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "getpgrp",
    "getsid",
    "setsid",
    "setpgid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capget",
    "capset",
    "prctl",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "restart_syscall",
    "getrusage",
    "times",
    "getpriority",
    "setpriority",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_setparam",
    "sched_getscheduler",
    "sched_setscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "sched_getattr",
    "sched_setattr",
    "getrlimit",
    "setrlimit",
    "prlimit64",
    "umask",
    "getcpu",
    "ioprio_get",
    "ioprio_set",
    "uname",
    "sysinfo",
    "getrandom",
    "futex",
    "futex_waitv",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    "membarrier",
    /* Signals: only within the sandbox's pid namespace (and Landlock's signal scope). */
    "kill",
    "tkill",
    "tgkill",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigsuspend",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    /* Memory of the process itself. */
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mincore",
    "msync",
    "memfd_create",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "get_mempolicy",
    "set_mempolicy",
    "mbind",
    "remap_file_pages",
    "mseal",
    "map_shadow_stack",
    /* Files: what is reachable is the mount layout's and Landlock's business; these only
     * use it. The opening calls are observed by the supervisor (notify.c). ioctl is listed
     * below with its commands checked. */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "lseek",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "sync",
    "syncfs",
    "sync_file_range",
    "fallocate",
    "ftruncate",
    "truncate",
    "sendfile",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "readahead",
    "fadvise64",
    "getdents",
    "getdents64",
    "cachestat",
    /* File-system metadata, same reasoning. mknod makes no devices without CAP_MKNOD. */
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "fchownat",
    "lchown",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mknod",
    "mknodat",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    /* Time: reading clocks and timers; setting the clock needs CAP_SYS_TIME (refused). */
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "alarm",
    "getitimer",
    "setitimer",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    /* Sockets: the network namespace holds only loopback; socket and socketpair are listed
     * below with their families checked, and the sends without TCP Fast Open (a connect
     * inside a send, around the trap); connect, listen and sendto with an address are
     * observed. */
    "bind",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "shutdown",
    "setsockopt",
    "getsockopt",
    /* System V and POSIX IPC: private to the sandbox's IPC namespace. */
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    /* A program may confine itself further: filters and rulesets only take away. */
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
};

/* Refused, named so that --dry-run, the docs and the tests can show them; not on the list
 * above, so the default action refuses them whatever this table says. */
static const char *const refused_examples[] = {
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "setns",
    "unshare",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "pidfd_getfd",
    "process_madvise",
    "kcmp",
    "swapon",
    "reboot",
    "acct",
    "syslog",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "sethostname",
    "iopl",
    "ioperm",
    "modify_ldt",
    "fanotify_init",
    "quotactl",
    "move_pages",
    "migrate_pages",
};

/* Observed by the supervisor (it records denials, then lets the kernel decide). */
static const char *const observed[] = {"execve", "execveat", "connect", "listen", "sendto",
                                       "open",   "openat",   "openat2", "creat"};
/* Observed too when a writable SQLite database's side files are handled (dbfiles.c). */
static const char *const observed_files[] = {"unlink",    "unlinkat",   "access",
                                             "faccessat", "faccessat2", "stat",
                                             "lstat",     "newfstatat", "statx"};

#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET | 0x00000080 /* CLONE_NEWTIME */)

static bool in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(list[i], name))
			return true;
	return false;
}

static bool profile_has(char *const *names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (streq(names[i], name))
			return true;
	return false;
}

/* Each allowed name that this libseccomp knows, as an unconditional rule; with FILES not
 * the SQLite side-file calls, which then take the default action (to the supervisor). */
static int add_allowed(scmp_filter_ctx ctx, const SeccompProfile *prof, bool files)
{
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR || profile_has(prof->deny, allowed[i]) ||
		    (files && in_list(observed_files, ELEMENTSOF(observed_files), allowed[i])))
			continue;
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The calls allowed only with some arguments (the rest of their uses are refused): one
 * entry per rule, its comparisons ANDed. Shared by the native filter and OCI bundles. */
typedef struct ArgCmp {
	unsigned arg;
	enum scmp_compare op;
	uint64_t a, b;
} ArgCmp;

typedef struct CondRule {
	const char *name;
	unsigned n;
	ArgCmp cmp[2];
} CondRule;

static const CondRule cond_rules[] = {
    /* clone without namespace flags (no nested user namespace and the like) */
    {"clone", 1, {{0, SCMP_CMP_MASKED_EQ, NS_FLAGS, 0}}},
    /* socket families: no module autoload through rare ones, no raw netlink or packet
     * sockets. The type argument is free (stream, datagram, raw on loopback only). */
    {"socket", 1, {{0, SCMP_CMP_EQ, AF_UNIX, 0}}},
    {"socket", 1, {{0, SCMP_CMP_EQ, AF_INET, 0}}},
    {"socket", 1, {{0, SCMP_CMP_EQ, AF_INET6, 0}}},
    {"socketpair", 1, {{0, SCMP_CMP_EQ, AF_UNIX, 0}}},
    /* personality: the default, or the query, nothing else (no READ_IMPLIES_EXEC, no
     * ADDR_NO_RANDOMIZE) */
    {"personality", 1, {{0, SCMP_CMP_EQ, 0, 0}}},
    {"personality", 1, {{0, SCMP_CMP_EQ, 0xffffffffu, 0}}},
    /* ioctl: an int's sign extension of a command with the top bit set (the other commands
     * are the ranges below) */
    {"ioctl", 1, {{1, SCMP_CMP_MASKED_EQ, 0xffffffff80000000ULL, 0xffffffff80000000ULL}}},
    /* sends: never TCP Fast Open (a connect inside a send, around the trap on connect);
     * natively, sendto with an address goes to the supervisor (the second comparison) */
    {"sendto", 2, {{3, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0}, {4, SCMP_CMP_EQ, 0, 0}}},
    {"sendmsg", 1, {{2, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0}}},
    {"sendmmsg", 1, {{3, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0}}},
};

/* The uses the rules above refuse, for the runtimes that take no notification as the default
 * action (runc, crun): listed with SCMP_ACT_NOTIFY so that the supervisor records them as it
 * does natively. Disjoint from the allowing rules (libseccomp lets an unconditional rule win
 * over conditional ones, but says nothing of two conditional ones that overlap). */
#define NS_FLAG_RULE(f)                                                                            \
	{                                                                                          \
		"clone", 1,                                                                        \
		{                                                                                  \
			{                                                                          \
				0, SCMP_CMP_MASKED_EQ, (f), (f)                                    \
			}                                                                          \
		}                                                                                  \
	}
static const CondRule cond_refusals[] = {
    NS_FLAG_RULE(CLONE_NEWNS),
    NS_FLAG_RULE(CLONE_NEWCGROUP),
    NS_FLAG_RULE(CLONE_NEWUTS),
    NS_FLAG_RULE(CLONE_NEWIPC),
    NS_FLAG_RULE(CLONE_NEWUSER),
    NS_FLAG_RULE(CLONE_NEWPID),
    NS_FLAG_RULE(CLONE_NEWNET),
    NS_FLAG_RULE(0x00000080 /* CLONE_NEWTIME */),
    {"socket", 1, {{0, SCMP_CMP_LT, AF_UNIX, 0}}},
    {"socket", 1, {{0, SCMP_CMP_GT, AF_INET6, 0}}},
    {"socketpair", 1, {{0, SCMP_CMP_LT, AF_UNIX, 0}}},
    {"socketpair", 1, {{0, SCMP_CMP_GT, AF_UNIX, 0}}},
    {"personality", 1, {{0, SCMP_CMP_GT, 0xffffffffu, 0}}},
    /* the kernel reads the command as 32 bits: TIOCSTI whatever the upper half holds */
    {"ioctl", 1, {{1, SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI}}},
    {"ioctl", 1, {{1, SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX}}},
    {"sendto", 1, {{3, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN}}},
    {"sendto", 1, {{4, SCMP_CMP_NE, 0, 0}}}, /* to an address: observed */
    {"sendmsg", 1, {{2, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN}}},
    {"sendmmsg", 1, {{3, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN}}},
};

/* And the refused values between allowed ones, as aligned blocks (next_block). */
static const struct {
	const char *name;
	unsigned arg;
	uint64_t lo, hi;
} cond_refused_ranges[] = {
    {"socket", 0, AF_INET + 1, AF_INET6 - 1},
    {"personality", 0, 1, 0xfffffffeu},
};

/* ioctl: every command but TIOCSTI (typing into the controlling terminal, bubblewrap
 * CVE-2017-5226) and TIOCLINUX. The kernel reads the command as 32 bits: allowed are the other
 * values with a clear upper half, so a TIOCSTI with garbage in the upper half cannot slip
 * through. Each range becomes aligned blocks matched with masks: libseccomp 2.5 takes one
 * comparison per argument and rule, and a plain 64-bit "greater than" would also admit a set
 * upper half. */
static const uint64_t ioctl_ranges[][2] = {
    {0, TIOCSTI - 1}, {TIOCSTI + 1, TIOCLINUX - 1}, {TIOCLINUX + 1, 0xffffffffu}};

/* The next aligned block of [*LO, HI]: its mask; *LO moves past it. */
static uint64_t next_block(uint64_t *lo, uint64_t hi)
{
	uint64_t size = 1;
	while ((*lo & (size * 2 - 1)) == 0 && *lo + size * 2 - 1 <= hi && size < (1ULL << 32))
		size *= 2;
	*lo += size;
	return ~(size - 1);
}

/* Adds the conditional rules to CTX (those PROF denies by name left out). */
static int add_conditional(scmp_filter_ctx ctx, const SeccompProfile *prof)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(cond_rules); i++) {
		const CondRule *c = &cond_rules[i];
		struct scmp_arg_cmp cmp[2];
		if (profile_has(prof->deny, c->name))
			continue;
		for (unsigned k = 0; k < c->n; k++)
			cmp[k] = SCMP_CMP64(c->cmp[k].arg, c->cmp[k].op, c->cmp[k].a, c->cmp[k].b);
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		                           seccomp_syscall_resolve_name(c->name), c->n, cmp);
	}
	for (size_t i = 0;
	     r >= 0 && !profile_has(prof->deny, "ioctl") && i < ELEMENTSOF(ioctl_ranges); i++)
		for (uint64_t lo = ioctl_ranges[i][0]; r >= 0 && lo <= ioctl_ranges[i][1];) {
			uint64_t start = lo, mask = next_block(&lo, ioctl_ranges[i][1]);
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			                     SCMP_A1_64(SCMP_CMP_MASKED_EQ, mask, start));
		}
	/* clone3's flags live in memory: answered "not implemented", callers use clone. */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r;
}

/* Exports CTX's BPF program into P (a pipe would do; a memfd needs no reader). */
static int export_bpf(scmp_filter_ctx ctx, SeccompProg *p)
{
	_cleanup_close_ int fd = memfd_create("omnibase-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	p->code = malloc((size_t)size);
	if (!p->code)
		return -ENOMEM;
	if (pread(fd, p->code, (size_t)size, 0) != size)
		return -EIO;
	p->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

#ifndef SECCOMP_NO_PREBUILT
/* The default policy, compiled at build time by seccomp-gen (seccomp-prebuilt.c): libseccomp
 * takes about 1.5 ms to build it, a third of a sandbox's start-up. */
extern const struct sock_filter seccomp_prebuilt_code[2][BPF_MAXINSNS];
extern const unsigned short seccomp_prebuilt_len[2];

static int copy_prebuilt(SeccompProg *prog, bool files)
{
	unsigned short len = seccomp_prebuilt_len[files];
	prog->code = malloc(len * sizeof(struct sock_filter));
	if (!prog->code)
		return -ENOMEM;
	memcpy(prog->code, seccomp_prebuilt_code[files], len * sizeof(struct sock_filter));
	prog->len = len;
	return 0;
}
#endif

int seccomp_build(SeccompProg *prog, const SeccompProfile *prof, bool files, ob_error *reterr)
{
	*prog = (SeccompProg){0};
#ifndef SECCOMP_NO_PREBUILT
	if (!prof->allow && !prof->deny) {
		int r = copy_prebuilt(prog, files);
		return r < 0 ? ob_error_set(reterr, r, "seccomp: out of memory") : 0;
	}
#endif
	return seccomp_build_fresh(prog, prof, files, reterr);
}

int seccomp_build_fresh(SeccompProg *prog, const SeccompProfile *prof, bool files, ob_error *reterr)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_NOTIFY);
	int r;

	*prog = (SeccompProg){0};
	if (!ctx)
		return ob_error_set(reterr, -ENOMEM, "seccomp: out of memory");
	/* Other architectures' entry points (i386 int 0x80, x32) reach the supervisor too. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
	if (r >= 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* the child sets it itself */
	if (r >= 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* a binary tree */
	if (r >= 0)
		r = add_allowed(ctx, prof, files);
	for (size_t i = 0; r >= 0 && prof->allow && prof->allow[i]; i++)
		if (!in_list(allowed, ELEMENTSOF(allowed), prof->allow[i]))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			                     seccomp_syscall_resolve_name(prof->allow[i]), 0);
	if (r >= 0)
		r = add_conditional(ctx, prof);
	/* The observed calls (exec, connect, open; with FILES the side-file ones) need no rule:
	 * the default action brings them to the supervisor, which tells them from refusals. */
	if (r >= 0)
		r = export_bpf(ctx, prog);
	seccomp_release(ctx);
	if (r < 0) {
		seccomp_prog_done(prog);
		return ob_error_set(reterr, r, "building the seccomp filter: %s", strerror(-r));
	}
	return 0;
}

void seccomp_prog_done(SeccompProg *p)
{
	free(p->code);
	*p = (SeccompProg){0};
}

bool seccomp_is_observed(int nr, bool files)
{
	/* Numbers, not names: this runs for every notification. */
	static const int calls[] = {__NR_execve, __NR_execveat, __NR_connect,
	                            __NR_listen, __NR_sendto,   __NR_openat,
#ifdef __NR_open
	                            __NR_open,   __NR_creat,
#endif
	                            437 /* openat2 */};
	static const int file_calls[] = {__NR_unlinkat,   __NR_faccessat, 439 /* faccessat2 */,
	                                 __NR_newfstatat, __NR_statx,
#ifdef __NR_unlink
	                                 __NR_unlink,     __NR_access,    __NR_stat,
	                                 __NR_lstat
#endif
	};
	for (size_t i = 0; i < ELEMENTSOF(calls); i++)
		if (calls[i] == nr)
			return true;
	for (size_t i = 0; files && i < ELEMENTSOF(file_calls); i++)
		if (file_calls[i] == nr)
			return true;
	return false;
}

const char *seccomp_name(uint32_t audit_arch, int nr, char *buf, size_t size)
{
	/* libseccomp's architecture tokens are the AUDIT_ARCH_* values themselves. */
	char *name = seccomp_syscall_resolve_num_arch(audit_arch, nr);

	if (name) {
		(void)snprintf(buf, size, "%s", name);
		free(name);
	} else {
		(void)snprintf(buf, size, "syscall %d", nr);
	}
	return buf;
}

json_t *seccomp_profile_json(const SeccompProfile *prof, bool files)
{
	json_t *allow = json_array(), *refused = json_array(), *obs = json_array();

	for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
		if (seccomp_syscall_resolve_name(allowed[i]) != __NR_SCMP_ERROR &&
		    !(prof && profile_has(prof->deny, allowed[i])))
			(void)json_array_append_new(allow, json_string(allowed[i]));
	for (size_t i = 0; prof && prof->allow && prof->allow[i]; i++)
		(void)json_array_append_new(allow, json_string(prof->allow[i]));
	for (size_t i = 0; i < ELEMENTSOF(refused_examples); i++)
		if (!(prof && profile_has(prof->allow, refused_examples[i])))
			(void)json_array_append_new(refused, json_string(refused_examples[i]));
	for (size_t i = 0; i < ELEMENTSOF(observed); i++)
		(void)json_array_append_new(obs, json_string(observed[i]));
	for (size_t i = 0; files && i < ELEMENTSOF(observed_files); i++)
		(void)json_array_append_new(obs, json_string(observed_files[i]));
	return json_pack(
	    "{s:s, s:o, s:[s,s,s,s,s], s:o, s:o, s:s}", "default",
	    "refused (EPERM) and recorded as SandboxViolation", "allowed", allow, "conditional",
	    "clone without namespace flags", "socket: AF_UNIX, AF_INET, AF_INET6",
	    "socketpair: AF_UNIX", "personality: default or query only",
	    "ioctl: all but TIOCSTI and TIOCLINUX", "observed", obs, "refused_examples", refused,
	    "other_architectures", "refused (EPERM) and recorded: i386 int 0x80, x32");
}

#if defined(__aarch64__)
#define OCI_ARCH "SCMP_ARCH_AARCH64"
#else
#define OCI_ARCH "SCMP_ARCH_X86_64"
#endif

static const char *const oci_ops[] = {
    [SCMP_CMP_NE] = "SCMP_CMP_NE",
    [SCMP_CMP_LT] = "SCMP_CMP_LT",
    [SCMP_CMP_LE] = "SCMP_CMP_LE",
    [SCMP_CMP_EQ] = "SCMP_CMP_EQ",
    [SCMP_CMP_GE] = "SCMP_CMP_GE",
    [SCMP_CMP_GT] = "SCMP_CMP_GT",
    [SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static json_t *oci_rule(const char *name, json_t *args)
{
	json_t *r = json_pack("{s:[s], s:s}", "names", name, "action", "SCMP_ACT_ALLOW");
	if (r && args)
		(void)json_object_set_new(r, "args", args);
	return r;
}

static json_t *oci_arg(unsigned index, enum scmp_compare op, uint64_t a, uint64_t b)
{
	/* OCI's MASKED_EQ: value is the mask, valueTwo the datum, as in libseccomp. JSON numbers
	 * from jansson are signed: bit 63 is left out of masks, which only lets a value with it
	 * set match a block its low bits are in — these rules' decisions rest on the low 32
	 * bits (the kernel reads ioctl's command as an unsigned int). */
	if (op == SCMP_CMP_MASKED_EQ) {
		a &= INT64_MAX;
		b &= INT64_MAX;
	}
	return json_pack("{s:i, s:I, s:I, s:s}", "index", (int)index, "value", (json_int_t)a,
	                 "valueTwo", (json_int_t)b, "op", oci_ops[op]);
}

static json_t *oci_notify_rule(const char *name, json_t *args)
{
	json_t *r = json_pack("{s:[s], s:s}", "names", name, "action", "SCMP_ACT_NOTIFY");
	if (r && args)
		(void)json_object_set_new(r, "args", args);
	return r;
}

static bool is_conditional(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(cond_rules); i++)
		if (streq(cond_rules[i].name, name))
			return true;
	return streq(name, "clone3");
}

/* Allowed outright or by the conditional rules (whose refused uses are added apart). */
static bool oci_not_notified(const SeccompProfile *prof, const char *name)
{
	if (profile_has(prof->allow, name))
		return true;
	if (profile_has(prof->deny, name))
		return false;
	return (in_list(allowed, ELEMENTSOF(allowed), name) &&
	        !in_list(observed, ELEMENTSOF(observed), name)) ||
	       is_conditional(name);
}

/* Every call this libseccomp knows that the filter refuses or the supervisor observes, by
 * name: runc takes no notification as the default action, so each is listed. */
/* Past the last system call number of the native table (x86_64's and aarch64's end below
 * 512; 512 and up are x32's own numbers). */
#define OCI_NR_END 512

static json_t *oci_notified_names(const SeccompProfile *prof)
{
	json_t *names = json_array();

	for (int nr = 0; nr < OCI_NR_END; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name && !oci_not_notified(prof, name))
			(void)json_array_append_new(names, json_string(name));
		free(name);
	}
	return names;
}

/* The conditional calls' refused uses (cond_refusals, cond_refused_ranges) to RULES. */
static void oci_add_cond_refusals(json_t *rules, const SeccompProfile *prof)
{
	for (size_t i = 0; i < ELEMENTSOF(cond_refusals); i++) {
		const CondRule *c = &cond_refusals[i];
		if (profile_has(prof->deny, c->name) || profile_has(prof->allow, c->name))
			continue;
		(void)json_array_append_new(
		    rules,
		    oci_notify_rule(c->name, json_pack("[o]", oci_arg(c->cmp[0].arg, c->cmp[0].op,
		                                                      c->cmp[0].a, c->cmp[0].b))));
	}
	for (size_t i = 0; i < ELEMENTSOF(cond_refused_ranges); i++) {
		const char *name = cond_refused_ranges[i].name;
		if (profile_has(prof->deny, name) || profile_has(prof->allow, name))
			continue;
		for (uint64_t lo = cond_refused_ranges[i].lo; lo <= cond_refused_ranges[i].hi;) {
			uint64_t start = lo, mask = next_block(&lo, cond_refused_ranges[i].hi);
			(void)json_array_append_new(
			    rules,
			    oci_notify_rule(
			        name, json_pack("[o]", oci_arg(cond_refused_ranges[i].arg,
			                                       SCMP_CMP_MASKED_EQ, mask, start))));
		}
	}
}

json_t *seccomp_oci_json(const SeccompProfile *prof, const char *listener)
{
	json_t *names = json_array(), *rules = json_array();

	/* With a listener the observed calls and every refusal reach the supervisor as
	 * natively (each listed: runc takes no notification as the default action; what stays
	 * EPERM unrecorded is in docs/design/backends.md). Without one nobody observes: the
	 * observed calls are plainly allowed (the layout and the kernel's fences decide); sendto
	 * keeps its Fast Open check below. */
	for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
		if (!profile_has(prof->deny, allowed[i]))
			(void)json_array_append_new(names, json_string(allowed[i]));
	for (size_t i = 0; !listener && i < ELEMENTSOF(observed); i++)
		if (!streq(observed[i], "sendto"))
			(void)json_array_append_new(names, json_string(observed[i]));
	for (size_t i = 0; !listener && i < ELEMENTSOF(observed_files); i++)
		(void)json_array_append_new(names, json_string(observed_files[i]));
	for (size_t i = 0; prof->allow && prof->allow[i]; i++)
		(void)json_array_append_new(names, json_string(prof->allow[i]));
	(void)json_array_append_new(
	    rules, json_pack("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ALLOW"));
	for (size_t i = 0; i < ELEMENTSOF(cond_rules); i++) {
		const CondRule *c = &cond_rules[i];
		json_t *args = json_array();
		if (profile_has(prof->deny, c->name)) {
			json_decref(args);
			continue;
		}
		/* without a listener sendto with an address is a plain send: nobody to check it */
		unsigned n = streq(c->name, "sendto") && !listener ? 1 : c->n;
		for (unsigned k = 0; k < n; k++)
			(void)json_array_append_new(
			    args, oci_arg(c->cmp[k].arg, c->cmp[k].op, c->cmp[k].a, c->cmp[k].b));
		(void)json_array_append_new(rules, oci_rule(c->name, args));
	}
	for (size_t i = 0; !profile_has(prof->deny, "ioctl") && i < ELEMENTSOF(ioctl_ranges); i++)
		for (uint64_t lo = ioctl_ranges[i][0]; lo <= ioctl_ranges[i][1];) {
			uint64_t start = lo, mask = next_block(&lo, ioctl_ranges[i][1]);
			(void)json_array_append_new(
			    rules, oci_rule("ioctl", json_pack("[o]", oci_arg(1, SCMP_CMP_MASKED_EQ,
			                                                      mask, start))));
		}
	(void)json_array_append_new(rules,
	                            json_pack("{s:[s], s:s, s:i}", "names", "clone3", "action",
	                                      "SCMP_ACT_ERRNO", "errnoRet", ENOSYS));
	if (listener) {
		(void)json_array_append_new(rules, json_pack("{s:o, s:s}", "names",
		                                             oci_notified_names(prof), "action",
		                                             "SCMP_ACT_NOTIFY"));
		oci_add_cond_refusals(rules, prof);
		return json_pack("{s:s, s:i, s:s, s:[s], s:o}", "defaultAction", "SCMP_ACT_ERRNO",
		                 "defaultErrnoRet", EPERM, "listenerPath", listener,
		                 "architectures", OCI_ARCH, "syscalls", rules);
	}
	return json_pack("{s:s, s:i, s:[s], s:o}", "defaultAction", "SCMP_ACT_ERRNO",
	                 "defaultErrnoRet", EPERM, "architectures", OCI_ARCH, "syscalls", rules);
}

/* ---------------------------------------------------------------- --seccomp-profile FILE */

void seccomp_profile_done(SeccompProfile *p)
{
	for (size_t i = 0; p->allow && p->allow[i]; i++)
		free(p->allow[i]);
	for (size_t i = 0; p->deny && p->deny[i]; i++)
		free(p->deny[i]);
	free(p->allow);
	free(p->deny);
	*p = (SeccompProfile){0};
}

static int profile_fail(const char *data, size_t len, const char *name, const char *path,
                        const char *what, ob_error *reterr)
{
	unsigned line, col;
	if (json_locate(data, len, path, &line, &col) >= 0)
		return ob_error_set(reterr, -EINVAL, "%s:%u:%u: %s: %s", name, line, col, path,
		                    what);
	return ob_error_set(reterr, -EINVAL, "%s: %s: %s", name, path, what);
}

static int profile_list(const char *data, size_t len, const char *name, const json_t *root,
                        const char *key, char ***ret, ob_error *reterr)
{
	const json_t *list = json_object_get(root, key);
	char path[64];

	(void)snprintf(path, sizeof(path), "$.%s", key);
	if (!list)
		return 0;
	if (!json_is_array(list))
		return profile_fail(data, len, name, path, "expected an array of system call names",
		                    reterr);
	*ret = calloc(json_array_size(list) + 1, sizeof(char *));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));
		(void)snprintf(path, sizeof(path), "$.%s[%zu]", key, i);
		if (!s || seccomp_syscall_resolve_name(s) == __NR_SCMP_ERROR)
			return profile_fail(data, len, name, path,
			                    s ? "unknown system call name" : "expected a string",
			                    reterr);
		if (in_list(observed, ELEMENTSOF(observed), s))
			return profile_fail(data, len, name, path,
			                    "exec, connect and open are observed by the supervisor "
			                    "and cannot be changed here",
			                    reterr);
		if (!((*ret)[i] = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

int seccomp_profile_load(const char *file, SeccompProfile *p, ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t jerr;
	size_t len;
	const char *key;
	json_t *v;

	*p = (SeccompProfile){0};
	int r = read_file_limited(file, 1u << 20, &data, &len, reterr);
	if (r < 0)
		return r;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ob_error_set(reterr, -EINVAL, "%s:%d:%d: %s", file, jerr.line, jerr.column,
		                    jerr.text);
	if (!json_is_object(root))
		return profile_fail(data, len, file, "$", "expected an object", reterr);
	json_object_foreach(root, key, v) {
		char path[80];
		(void)snprintf(path, sizeof(path), "$.%.40s", key);
		if (streq(key, "version") ? !json_is_integer(v) || json_integer_value(v) != 1
		                          : !streq(key, "allow") && !streq(key, "deny"))
			return profile_fail(data, len, file, path,
			                    streq(key, "version")
			                        ? "expected 1"
			                        : "unknown key (expected version, "
			                          "allow, deny)",
			                    reterr);
	}
	r = profile_list(data, len, file, root, "allow", &p->allow, reterr);
	if (r >= 0)
		r = profile_list(data, len, file, root, "deny", &p->deny, reterr);
	if (r < 0) {
		seccomp_profile_done(p);
		return r == -ENOMEM ? ob_error_set(reterr, r, "out of memory") : r;
	}
	return 0;
}
