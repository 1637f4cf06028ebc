/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "egress/tconnect.h"
#include "plan/plan.h"
#include "runner/notify-unix.h"

typedef void (*DenyFn)(void *userdata, const char *capability, const char *resource,
                       const char *operation, int pid);
/* A call the seccomp policy refuses: SYSCALL's name, what about it, the caller's pid. */
typedef void (*ViolationFn)(void *userdata, const char *syscall, const char *detail, int pid);

/* How a trapped call is answered: "continue" (the kernel runs it under the fences), a value
 * or error of the supervisor's own doing, or an fd to install as the call's result. */
typedef struct Reply {
	bool answered; /* already (or later, from the egress loop): nothing to send */
	bool emulated;
	int64_t val;
	int error; /* negative errno, or 0 */
	int addfd; /* an fd to hand in (SECCOMP_IOCTL_NOTIF_ADDFD), or -1 */
	bool cloexec;
	bool brokered; /* ADDFD's fd is the open broker's: without ADDFD, "continue" instead */
} Reply;

/* A process that exec'd, looked at again at its next trap (notify-exec.c). */
typedef struct ExecWatch ExecWatch;
/* Learning mode's observations (runner/learn.h). */
typedef struct Learn Learn;

/* The supervisor's end of the observation: the listener and what it needs to judge. */
typedef struct Notifier {
	int fd; /* the seccomp listener, -1 until received */
	const Plan *plan;
	DenyFn deny;
	ViolationFn violation;
	void *userdata;
	int mem_fd;  /* /proc/PID/mem of the last process that trapped, or -1 */
	int root_fd; /* the sandbox's root (O_PATH), once a process trapped, or -1 */
	pid_t mem_pid;
	Tconnect *tc;        /* the transparent path (connect, listen), or NULL */
	struct Proxy *proxy; /* the egress proxy (its listener's queue), or NULL */
	bool landlock_tcp;   /* the program's domain limits TCP connects to the plan's ports */
	unsigned char
	    *xattr_buf; /* a setxattr's name and value as read (notify-write.c), or NULL */
	const char *trusted_exec; /* an exec that is ours, the first of that path (OCI), or NULL */
	ExecWatch *watch;         /* processes that exec'd, until their next trap */
	size_t n_watch, alloc_watch;
	const ob_capset *caps; /* the grants (host unix sockets: notify-unix.h), or NULL */
	const ob_context *ctx;
	UnixConnect *ux; /* created at the first connect to a unix socket path */
	pid_t fold_pid;  /* the thread whose refused exec of fold_path was the last recorded */
	char fold_path[PATH_MAX];
	Learn *learn; /* learning mode: opens recorded and served (notify-learn.c), or NULL */
	/* The open broker (notify-broker.c): started as the listener arrives (or at the first
	 * open); off when it cannot be
	 * (OCI runtimes until omnibase-exec's ruleset is copied, no ruleset from a sandbox with
	 * Landlock, a thread that could not take
	 * the program's identity): the opens are then predicted and continued. */
	struct Broker *broker;
	int ruleset_fd; /* the program's Landlock ruleset until the broker starts, or -1 */
	bool broker_off;
	/* The OCI runtimes: the broker takes its ruleset from omnibase-exec (HELPER_DEV/INO: its
	 * file) at that helper's exec of the program (notify_broker_from_helper). */
	enum {
		HELPER_NONE,
		HELPER_AWAITED,
		HELPER_STARTING
	} helper_state;
	dev_t helper_dev;
	ino_t helper_ino;
} Notifier;

/* Child, after no_new_privs: installs PROG (plan/syscall-filter.c: the allow-list, whose refusals
 * and observed calls come to the supervisor) with a listener, and sends the listener over SOCK
 * (SCM_RIGHTS), with RULESET, the Landlock ruleset of the program's domain, unless -1 (for the
 * open broker, notify-broker.c). No allocation. */
int notify_install(int sock, const FilterProg *prog, int ruleset);
/* Supervisor: receives the listener fd from SOCK, and with it the program's Landlock ruleset
 * when the sandbox sent one (into RET_RULESET, else -1). */
int notify_receive(int sock, int *ret_ruleset);
/* Supervisor: answers one notification, reporting denials: "continue" (the kernel decides
 * under the fences), except for SQLite side files, which it handles itself. */
void notify_handle(Notifier *n);
/* Supervisor: closes what the notifier holds. */
void notify_done(Notifier *n);

/* The exec side doors (notify-exec.c; SPEC §2.1 EXTERNAL_COMMAND). Each records a refusal as
 * CapabilityDenied (EXTERNAL_COMMAND, operation exec). */
struct seccomp_notif;
/* An execve or execveat of PATH (as the program passed it, "" when unreadable): an execveat
 * of an fd (AT_EMPTY_PATH) or of the dynamic loader as a program is refused here (EACCES);
 * another exec the allow-list refuses is recorded and left to Landlock; what goes on is
 * watched until the process's next trap. Answers into REP. */
void notify_exec(Notifier *n, const struct seccomp_notif *req, const char *path, Reply *rep);
/* First thing for every trap: when the trapping process has just exec'd, the kernel's own view
 * (/proc/PID/exe) says what it runs; the dynamic loader run as a program (a path swapped after
 * notify_exec looked) is refused, recorded and killed: true, answered into REP. */
bool notify_exec_watch(Notifier *n, const struct seccomp_notif *req, Reply *rep);
/* memfd_create without MFD_NOEXEC_SEAL (the filter lets sealed ones through): made here,
 * sealed non-executable, and handed in; MFD_EXEC refused. NAME as read from the program, NULL
 * when unreadable or too long. */
void notify_memfd(Notifier *n, const struct seccomp_notif *req, const char *name, Reply *rep);
/* Ends the PATH search (one recorded refusal) of REQ's thread at any call but an exec. */
void notify_exec_fold_end(Notifier *n, const struct seccomp_notif *req);
/* Frees what notify_exec_watch keeps. */
void notify_exec_done(Notifier *n);

/* Paths as the kernel resolves them inside the sandbox (notify-paths.c). */
/* PATH (absolute, as the program sees it) opened O_PATH inside the sandbox's root: symlinks,
 * absolute ones too, stay within it (RESOLVE_IN_ROOT); magic links are not followed, nor, with
 * NOFOLLOW, a symlink as the last component. -errno on failure. */
int notify_open_inside(Notifier *n, pid_t pid, const char *path, bool nofollow);
/* The sandbox's root (O_PATH), opened through process PID's at the first call; -errno. */
int notify_root_fd(Notifier *n, pid_t pid);
/* Does the kernel's walk of PATH (absolute) inside the sandbox go through /proc (as written,
 * through "..", or through a symlink such as /dev/fd)? There "self" and the pid directories
 * answer after who looks: the open broker leaves such opens to the kernel. A walk through a
 * symlink rewrites PATH to where it leads (/dev/stdin: /proc/self/fd/0). */
bool notify_path_via_proc(Notifier *n, pid_t pid, char path[PATH_MAX]);
/* Records a refusal of the open of PATH (absolute; rewritten to the path judged) with FLAGS,
 * as judged on that path: a missing secret, a hidden or read-only file, one the program's
 * ids may not open (notify-paths.c); with DENIED (the kernel answered EACCES or EPERM to the
 * open broker) a refusal whatever the judgement. */
void notify_open_record(Notifier *n, const struct seccomp_notif *req, char path[PATH_MAX],
                        uint64_t flags, bool denied);
/* PATH made absolute as the kernel would start its walk: relative to DIRFD of process PID
 * (AT_FDCWD: its working directory), both as the sandbox names them (/proc/PID/cwd and
 * /proc/PID/fd/N read from the host give the path from the sandbox's root). Into OUT;
 * -EBADF when DIRFD is not a directory with a path (a socket, a pipe). */
int notify_path_absolute(pid_t pid, int dirfd, const char *path, char out[PATH_MAX]);
/* PATH (absolute) resolved as the kernel walks it inside the sandbox's root: component by
 * component, "." dropped, ".." never above the root, symlinks followed (at most 40); a
 * missing component ends the walk and the rest is kept as written (the kernel stops there
 * too). Under /proc the walk is textual: its links name pids of another namespace. Into OUT
 * (may be PATH). */
int notify_path_canonical(Notifier *n, pid_t pid, const char *path, char out[PATH_MAX]);
/* Does the sandbox refuse this open of PATH (absolute; rewritten in place to the path judged)
 * with FLAGS, for writing with WRITE? See notify-paths.c. */
bool notify_open_refused(Notifier *n, pid_t pid, char path[PATH_MAX], uint64_t flags, bool write);
/* A read of /run/secrets/NAME that the sandbox lacks: NAME (within PATH), the secret a
 * SECRET_ACCESS grant would bring; NULL for any other path. */
const char *notify_secret_refused(Notifier *n, pid_t pid, const char *path);
/* Would the kernel refuse a write at PATH (absolute; rewritten in place to the path judged)
 * because the sandbox shows it read-only or hides it? ENTRY: the call makes or removes a
 * directory entry (its directory counts; with CREATE an existing entry is EEXIST, no
 * refusal); otherwise it changes the file itself (mode, owner, times, size). */
bool notify_write_refused(Notifier *n, pid_t pid, char path[PATH_MAX], bool entry, bool create);
/* The NUL-terminated path at ADDR in the trapping process, into PATH. */
bool notify_read_path(Notifier *n, const struct seccomp_notif *req, uint64_t addr,
                      char path[PATH_MAX]);
/* Up to SIZE bytes at ADDR in process PID's memory, into BUF: the count, or -errno. */
ssize_t notify_read_mem(Notifier *n, pid_t pid, uint64_t addr, void *buf, size_t size);
/* The destinations of sends (notify-send.c): sendto with an address, and sendmsg and sendmmsg
 * (each message's msg_name). One the sandbox does not reach is recorded (NETWORK_CONNECT,
 * operation the call's name) and, with the transparent path, answered EACCES; TCP Fast Open
 * is a violation. Answers into REP. */
void notify_sendto(Notifier *n, const struct seccomp_notif *req, Reply *rep);
void notify_sendmsg(Notifier *n, const struct seccomp_notif *req, Reply *rep);
/* The argument WHAT ("path", "address") of a call about to be continued was read again and
 * differs from what was judged: another thread swapping it. A SandboxViolation, EPERM. */
void notify_swap_refused(Notifier *n, const struct seccomp_notif *req, const char *what,
                         Reply *rep);
/* A call the policy refuses: a SandboxViolation, and EPERM into REP. */
void notify_violation(Notifier *n, const struct seccomp_notif *req, Reply *rep);
/* A copy of the program's socket (the fd in args[0] of trap REQ, pidfd_getfd) when it is of
 * DOMAIN, TYPE and PROTOCOL (0: any), else -1. */
int notify_grab_socket(Notifier *n, const struct seccomp_notif *req, int domain, int type,
                       int protocol);
/* A trapped connect (notify-connect.c): answered into REP, or left to continue. */
void notify_connect(Notifier *n, const struct seccomp_notif *req, Reply *rep);
/* The unix address SS (LEN bytes) of the trapped call OP decided as notify-unix.c decides a
 * connect: -1 not a pathname, 0 allowed ("continue"), 1 answered with *ERROR (a refusal
 * recorded as NETWORK_CONNECT unix:PATH with operation OP). A connect is made by the
 * supervisor; a send's destination is only decided. */
int notify_unix_judge(Notifier *n, const struct seccomp_notif *req,
                      const struct sockaddr_storage *ss, size_t len, const char *op, int *error);
/* What process PID's FD names, for an event's resource: its path as the sandbox names it
 * (AT_FDCWD: the working directory), "memfd:NAME", or "fd N". */
void notify_fd_resource(pid_t pid, int fd, char *buf, size_t size);
/* The calls that write to a directory or a file's metadata by path (notify-write.c): mkdir,
 * rmdir, unlink, rename, link, symlink, mknod, chmod, chown, truncate, utimes. A refusal the
 * sandbox's layout makes (EROFS, a hidden directory) is recorded; the answer is "continue",
 * but for a set-user-ID mode (refused, a violation). */
void notify_write(Notifier *n, const struct seccomp_notif *req, Reply *rep);
/* bind(2) of a unix socket to a path, its address SS (LEN bytes) as read: a refusal the
 * layout makes (a read-only or hidden directory) recorded as FILE_WRITE "bind". Left to the
 * kernel: the socket's address is the string the program gave, which only its own call can
 * give it (docs/design/runner.md). */
void notify_bind_path(Notifier *n, const struct seccomp_notif *req,
                      const struct sockaddr_storage *ss, size_t len, Reply *rep);
/* Is FD's file (ST its fstat) one a write to fails with EROFS: a regular file or directory
 * on a read-only mount (devices and FIFOs take writes there)? */
bool notify_fd_read_only(int fd, const struct stat *st);
/* security.* (file capabilities, LSM labels) and trusted.*: set only by privilege, whose
 * attempt is a violation, judged on the copy of the name that is used. */
bool notify_privileged_xattr(const char *name);
/* Is NR one of notify_write's calls? */
bool notify_is_write(int nr);
/* The open of PATH (absolute, the supervisor's copy) with FLAGS and MODE performed by the
 * open broker (notify-broker.c), the fd or the error answered into REP, a refusal recorded as
 * judged on that copy: true. False when the broker cannot do it faithfully (predict and
 * continue). */
/* Starts the open broker with the ids of PID (a process of the sandbox whose ids are the
 * program's: its init), early, so that its set-up overlaps the program's start; at the first
 * open otherwise. Nothing when it is off or cannot be. */
void notify_broker_launch(Notifier *n, pid_t pid);
/* The OCI runtimes: at the exec trap that follows the runtime's exec of omnibase-exec (the
 * helper's own exec of the program, before any of the program's code ran), takes a copy of
 * the ruleset the helper applied to itself and starts the broker with it. Once per run. */
void notify_broker_from_helper(Notifier *n, const struct seccomp_notif *req);
bool notify_broker_open(Notifier *n, const struct seccomp_notif *req, char path[PATH_MAX],
                        uint64_t flags, uint64_t mode, Reply *rep);
/* The open broker, ready, for process PID's calls (started now if it was not); NULL when it
 * is off or cannot be. */
struct Broker *notify_broker_for(Notifier *n, pid_t pid);
/* Process PID's umask (from its status), into MASK. */
bool notify_umask(pid_t pid, mode_t *mask);
/* Ends the open broker's thread, closes the ruleset not yet handed to it. */
void notify_broker_done(Notifier *n);
/* Learning mode (notify-learn.c): the open of PATH (absolute) with FLAGS, for writing with
 * WRITE, recorded; one the learning layout refuses is served: a read from the host file
 * (read-only), a write to a scratch copy. Answers into REP. */
void notify_learn_open(Notifier *n, const struct seccomp_notif *req, char path[PATH_MAX],
                       uint64_t flags, bool write, Reply *rep);
/* Learning mode: a stat or access call (REQ) of PATH (as the program passed it), with its *at
 * FLAGS, on a host file the learning layout hides: done on the host (the file recorded), the
 * result written into the program, answered into REP. Otherwise REP is left alone. */
void notify_learn_path_call(Notifier *n, const struct seccomp_notif *req, const char *path,
                            uint64_t flags, Reply *rep);
