/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Denials observed inside gVisor: runsc's strace of the open, creat and connect calls
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
#define GVTRACE_SYSCALLS "open,openat,creat,connect,clone,fork,vfork"

typedef enum GvKind {
	GV_OPEN,    /* open, openat, creat */
	GV_CONNECT, /* connect to an internet address */
	GV_CLONE,   /* clone, fork, vfork */
} GvKind;

/* One failed call, as read from a line of the log. */
typedef struct GvCall {
	GvKind kind;
	int pid;   /* the caller, as the sandbox numbers it */
	int error; /* the errno it failed with */
	bool write;
	char path[PATH_MAX]; /* GV_OPEN: as the program gave it */
	char address[64];    /* GV_CONNECT: "ip:port" or "[ip6]:port" */
	bool loopback;       /* GV_CONNECT: to the sandbox's own loopback */
} GvCall;

/* Reads one log line (without its newline): 1 and *CALL for the exit of a traced call that
 * failed, 0 for any other line (including calls that succeeded, on sockets other than
 * internet ones, and lines this parser does not recognise as strace). */
int gvtrace_parse_line(const char *line, size_t len, GvCall *call);

/* Is CALL a denial, and of what? The capability, resource and operation (NULL: not one).
 * A path the sandbox does not show but the host has, a write refused as read-only, an
 * outward connect. */
const char *gvtrace_denial(const GvCall *call, const char **resource, const char **operation);

typedef void (*gvtrace_deny_fn)(void *userdata, const char *capability, const char *resource,
                                const char *operation, int pid);

typedef struct GvTrace GvTrace;

/* Makes the FIFO at PATH and opens it for reading (before runsc opens it to write). */
int gvtrace_new(const char *path, gvtrace_deny_fn deny, void *userdata, GvTrace **ret);
int gvtrace_fd(const GvTrace *t);
/* The fd to poll now, or -1 while the last read is less than 10 ms old, *WAIT_MS lowered to
 * when it is due: the Sentry writes a line per call, and a supervisor woken for each costs
 * the program more than the tracing itself (the FIFO holds 1 MiB meanwhile). */
int gvtrace_poll_fd(const GvTrace *t, int *wait_ms);
/* Reads what is there and reports each denial; lines longer than the buffer are skipped. */
void gvtrace_dispatch(GvTrace *t);
void gvtrace_free(GvTrace *t);
/* FN(USERDATA of gvtrace_new) for each clone, fork or vfork that failed with EAGAIN: the
 * process limit reached (RLIMIT_NPROC, or the Sentry's own task limit). */
void gvtrace_on_process_limit(GvTrace *t, void (*fn)(void *userdata));
