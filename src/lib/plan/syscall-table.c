/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system call policy as data: the allow-list by group with why each group is safe, the
 * calls the supervisor observes, the conditional rules and their refused complements. Both
 * the native filter (syscall-filter.c, libseccomp) and the OCI backends' seccomp object
 * (backends/oci-seccomp.c) are made from these tables, so the two cannot drift apart.
 */
#include "plan/syscall-table.h"

#include <linux/memfd.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "basic/macro.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3; build headers may be older */
#endif

/*
 * The allow-list, by group, with why each group is safe to allow inside the sandbox.
 * Names this libseccomp does not know (newer calls) are skipped: they stay refused.
 */
const char *const syscalls_allowed[] = {
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
    "fchmodat2",
    "chown",
    "fchown",
    "fchownat",
    "lchown",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
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
     * inside a send, around the trap); connect, bind, listen and sendto with an address
     * are observed. */
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
const char *const syscalls_refused_examples[] = {
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

/* Observed by the supervisor (it records denials, then lets the kernel decide; memfd_create
 * without MFD_NOEXEC_SEAL it makes itself, sealed: notify-exec.c). */
const char *const syscalls_observed[] = {
    "execve", "execveat", "connect", "bind", "listen", "sendto", "open", "openat", "openat2",
    "creat",
    /* every one: the destination is in memory (msg_name), out of a filter's reach */
    "sendmsg", "sendmmsg",
    /* security.* and trusted.* names refused and recorded; the others let through */
    "setxattr", "lsetxattr", "fsetxattr", "memfd_create"};
/* Observed too when a writable SQLite database's side files are handled (dbfiles.c). */
const char *const syscalls_observed_files[] = {"unlink",    "unlinkat",   "access",
                                               "faccessat", "faccessat2", "stat",
                                               "lstat",     "newfstatat", "statx"};

/* Where a listener exists (natively; runc and crun with one), the calls that write by path
 * without opening are observed too: the supervisor records those the layout refuses (EROFS, a
 * hidden directory; runner/notify-write.c). Still in syscalls_allowed (and the mode rules
 * below) for an OCI runtime without a listener. */
const char *const syscalls_observed_writes[] = {
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link",
    "linkat", "symlink", "symlinkat", "mknod", "mknodat", "chmod", "fchmodat", "fchmodat2", "chown",
    "lchown", "fchownat", "truncate", "utime", "utimes", "utimensat", "futimesat", "removexattr",
    "lremovexattr",
    /* on an fd: the file of a read-only place (EROFS) refused and recorded */
    "fchmod", "fchown", "fremovexattr"};

#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET | 0x00000080 /* CLONE_NEWTIME */)

/* The calls allowed only with some arguments (the rest of their uses are refused): one
 * entry per rule, its comparisons ANDed. Shared by the native filter and OCI bundles. */
const CondRule cond_rules[] = {
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
     * natively, sendto with an address goes to the supervisor (the second comparison).
     * sendmsg and sendmmsg are observed (the supervisor refuses Fast Open there): their
     * rules are cond_unobserved's */
    {"sendto", 2, {{3, SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0}, {4, SCMP_CMP_EQ, 0, 0}}},
    /* modes without the set-user-ID and set-group-ID bits: what the program makes through
     * an id-mapped grant belongs to the caller on the host, who may be root (SPEC §3) */
    {"chmod", 1, {{1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    {"fchmod", 1, {{1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    {"fchmodat", 1, {{2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    {"mkdir", 1, {{1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    {"mkdirat", 1, {{2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    {"mknod", 1, {{1, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    {"mknodat", 1, {{2, SCMP_CMP_MASKED_EQ, S_ISUID | S_ISGID, 0}}},
    /* memfd_create with MFD_NOEXEC_SEAL (Linux >= 6.3): never executable, so no way around
     * the exec allow-list (Landlock does not check internal file systems). Without it the
     * call goes to the supervisor, which makes the memfd sealed (notify-exec.c). */
    {"memfd_create", 1, {{1, SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, MFD_NOEXEC_SEAL}}},
};

/* Observed calls' own limits, where nobody observes them (an OCI runtime without a listener):
 * sendmsg and sendmmsg without TCP Fast Open. */
const CondRule cond_unobserved[] = {
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
#define PRIV_MODE_RULES(name, arg)                                                                 \
	{name, 1, {{arg, SCMP_CMP_MASKED_EQ, S_ISUID, S_ISUID}}},                                  \
	{                                                                                          \
		name, 1,                                                                           \
		{                                                                                  \
			{                                                                          \
				arg, SCMP_CMP_MASKED_EQ, S_ISGID, S_ISGID                          \
			}                                                                          \
		}                                                                                  \
	}
const CondRule cond_refusals[] = {
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
    /* either privileged mode bit (the two rules overlap where both are set: both notify) */
    PRIV_MODE_RULES("chmod", 1),
    PRIV_MODE_RULES("fchmod", 1),
    PRIV_MODE_RULES("fchmodat", 2),
    PRIV_MODE_RULES("mkdir", 1),
    PRIV_MODE_RULES("mkdirat", 2),
    PRIV_MODE_RULES("mknod", 1),
    PRIV_MODE_RULES("mknodat", 2),
    {"memfd_create", 1, {{1, SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, 0}}}, /* observed */
};

/* And the refused values between allowed ones, as aligned blocks (next_block). */
const CondRange cond_refused_ranges[] = {
    {"socket", 0, AF_INET + 1, AF_INET6 - 1},
    {"personality", 0, 1, 0xfffffffeu},
};

/* ioctl: every command but TIOCSTI (typing into the controlling terminal, bubblewrap
 * CVE-2017-5226) and TIOCLINUX. The kernel reads the command as 32 bits: allowed are the other
 * values with a clear upper half, so a TIOCSTI with garbage in the upper half cannot slip
 * through. Each range becomes aligned blocks matched with masks: libseccomp 2.5 takes one
 * comparison per argument and rule, and a plain 64-bit "greater than" would also admit a set
 * upper half. */
const uint64_t ioctl_ranges[][2] = {
    {0, TIOCSTI - 1}, {TIOCSTI + 1, TIOCLINUX - 1}, {TIOCLINUX + 1, 0xffffffffu}};

/* The next aligned block of [*LO, HI]: its mask; *LO moves past it. */
const size_t syscalls_allowed_n = ELEMENTSOF(syscalls_allowed);
const size_t syscalls_refused_examples_n = ELEMENTSOF(syscalls_refused_examples);
const size_t syscalls_observed_n = ELEMENTSOF(syscalls_observed);
const size_t syscalls_observed_files_n = ELEMENTSOF(syscalls_observed_files);
const size_t syscalls_observed_writes_n = ELEMENTSOF(syscalls_observed_writes);
const size_t cond_rules_n = ELEMENTSOF(cond_rules);
const size_t cond_unobserved_n = ELEMENTSOF(cond_unobserved);
const size_t cond_refusals_n = ELEMENTSOF(cond_refusals);
const size_t cond_refused_ranges_n = ELEMENTSOF(cond_refused_ranges);
const size_t ioctl_ranges_n = ELEMENTSOF(ioctl_ranges);

bool syscall_in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(list[i], name))
			return true;
	return false;
}

bool filter_profile_has(char *const *names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (streq(names[i], name))
			return true;
	return false;
}

uint64_t syscall_next_block(uint64_t *lo, uint64_t hi)
{
	uint64_t size = 1;
	while ((*lo & (size * 2 - 1)) == 0 && *lo + size * 2 - 1 <= hi && size < (1ULL << 32))
		size *= 2;
	*lo += size;
	return ~(size - 1);
}
bool syscall_is_conditional(const char *name)
{
	for (size_t i = 0; i < cond_rules_n; i++)
		if (streq(cond_rules[i].name, name))
			return true;
	return streq(name, "clone3");
}
