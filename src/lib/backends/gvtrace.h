/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Denials observed inside gVisor: runsc's strace of the open, creat, connect and exec calls
 * and of those that write by path (mkdir, unlink, rename, …)
 * (--strace, written by the Sentry to its debug log, here a FIFO the supervisor reads). The
 * failed calls that the sandbox's layout refused become the same CapabilityDenied events the
 * native notifier reports (docs/design/backends.md says what stays unseen).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* The longest line read (openat: a directory and a path); longer ones are skipped. */
#define GVTRACE_LINE_MAX (2 * PATH_MAX + 1024)

/* The system calls runsc is asked to trace (its --strace-syscalls). clone, fork and vfork:
 * the pids limit is RLIMIT_NPROC inside gVisor, enforced by its Sentry, whose refusal
 * (EAGAIN) shows nowhere else. */
#define GVTRACE_SYSCALLS                                                                           \
	"open,openat,creat,connect,execve,execveat,clone,fork,vfork,mkdir,mkdirat,rmdir,unlink,"   \
	"unlinkat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,chmod,fchmodat,"         \
	"chown,lchown,fchownat,truncate,utime,utimes,utimensat,mknod,mknodat,setxattr,lsetxattr,"  \
	"removexattr,lremovexattr,fsetxattr,fremovexattr,fchmod,fchown"

typedef enum GvKind {
	GV_OPEN,    /* open, openat, creat */
	GV_CONNECT, /* connect to an internet address */
	GV_CLONE,   /* clone, fork, vfork */
	GV_EXEC,    /* execve, execveat */
	GV_SECCOMP, /* a call the OCI seccomp profile refused ("denied by seccomp") */
	GV_WRITE,   /* a call that writes by path without opening: mkdir, unlink, rename, … */
} GvKind;

/* One failed call, as read from a message of the log. */
typedef struct GvCall {
	GvKind kind;
	int pid;       /* the caller, as the sandbox numbers it */
	int error;     /* the errno it failed with (GV_SECCOMP: EPERM) */
	int nr;        /* GV_SECCOMP: the system call's number */
	char name[16]; /* GV_WRITE: the call's name (the event's operation, as natively) */
	bool write;
	char path[PATH_MAX]; /* GV_OPEN, GV_EXEC, GV_WRITE: the first reading of the path
	                      * (below); GV_WRITE: the one it writes (rename: the old name) */
	char address[64];    /* GV_CONNECT: "ip:port" or "[ip6]:port" */
	bool loopback;       /* GV_CONNECT: to the sandbox's own loopback */
	/* GV_OPEN, GV_EXEC, GV_WRITE: the arguments as printed (GV_WRITE: from the path on,
	 * up to the arguments after it). runsc prints a path as it is, so a path
	 * that holds ", 0x1 " reads more than one way: gvtrace_denial tries each reading. */
	char text[GVTRACE_LINE_MAX];
	size_t text_len;
	bool at_start; /* the path is the first argument (not after a directory) */
} GvCall;

/* Reads one message of the log (without its last newline; a path with newlines spans lines):
 * 1 and *CALL for the exit of a traced call that failed and for a call the seccomp profile
 * refused, 0 for anything else (calls that succeeded, sockets other than internet ones,
 * messages this parser does not recognise). */
int gvtrace_parse_line(const char *line, size_t len, GvCall *call);

/* Is CALL a denial, and of what? The capability, resource and operation (NULL: not one).
 * A path the sandbox does not show but the host has, a write refused as read-only (an open
 * for writing, or a write by path: mkdir, unlink, … refused EROFS or EACCES), an outward
 * connect, an exec refused (not executable there: EACCES) or of a program the host
 * has and the sandbox does not show. Of the readings of a path, the first that is a denial
 * (copied to CALL->path). GV_SECCOMP is not a denial of a capability: NULL. */
const char *gvtrace_denial(GvCall *call, const char **resource, const char **operation);

/* The log's message header "Lmmdd hh:mm:ss.uuuuuu PID file:line] ": PID, or -1 when LINE
 * does not start with one. */
int gvtrace_header_pid(const char *line, size_t len);

typedef void (*gvtrace_deny_fn)(void *userdata, const char *capability, const char *resource,
                                const char *operation, int pid);
typedef void (*gvtrace_violation_fn)(void *userdata, const char *syscall, const char *detail,
                                     int pid);

typedef struct GvTrace GvTrace;

/* Makes the FIFO at PATH and opens it for reading (before runsc opens it to write). Each
 * denial goes to DENY, each call the seccomp profile refused to VIOLATION.
 *
 * The log is text and paths are the program's: a path with a newline and a copy of the log's
 * header after it would read as a line of its own. A message starts only at a line whose
 * header carries the Sentry's host pid, learnt from the log's first line (runsc writes it
 * before the program exists; the program sees gVisor's pids, never the host's); any other
 * line continues the message before it, so a forged line is read as part of its path. */
int gvtrace_new(const char *path, gvtrace_deny_fn deny, gvtrace_violation_fn violation,
                void *userdata, GvTrace **ret);
int gvtrace_fd(const GvTrace *t);
/* The fd to poll now, or -1 while the last read is less than 10 ms old, *WAIT_MS lowered to
 * when it is due: the Sentry writes a line per call, and a supervisor woken for each costs
 * the program more than the tracing itself (the FIFO holds 1 MiB meanwhile). */
int gvtrace_poll_fd(const GvTrace *t, int *wait_ms);
/* Reads what is there and reports each denial of the messages complete by then (a message is
 * complete when the next one starts). A message longer than the buffer keeps its start and
 * its end (the path and the result). */
void gvtrace_dispatch(GvTrace *t);
/* The runtime is gone: reads the rest and reports the last message too. */
void gvtrace_finish(GvTrace *t);
void gvtrace_free(GvTrace *t);
/* FN(USERDATA of gvtrace_new) for each clone, fork or vfork that failed with EAGAIN: the
 * process limit reached (RLIMIT_NPROC, or the Sentry's own task limit). */
void gvtrace_on_process_limit(GvTrace *t, void (*fn)(void *userdata));
