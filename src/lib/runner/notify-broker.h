/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The open broker (notify-broker.c): the program's trapped opens performed by a supervisor
 * thread that holds the program's identity and Landlock domain, the fd handed in. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* broker_open's answer when it cannot do the open faithfully: predict and continue. */
#define BROKER_FALLBACK INT_MIN

typedef struct Broker Broker;

/* Starts the broker thread for the sandbox whose root is ROOT_FD (kept by the caller), with
 * the ids process PID holds (its /proc status, as the host names them) and the Landlock
 * ruleset RULESET_FD (-1: the program has no Landlock domain; the fd is closed). Into RET.
 * The thread takes that identity and domain on its own: broker_ready says how it went. */
int broker_start(Broker **ret, int root_fd, pid_t pid, int ruleset_fd);
/* Waits for the thread's start: 0, or -errno when it could not take the identity and domain
 * (then only broker_stop is left to do). */
int broker_ready(Broker *b);
/* Opens PATH (absolute, as the sandbox names it) with the program's FLAGS, MODE and umask MASK:
 * the fd (close-on-exec, the caller's), -errno as the kernel answered, or BROKER_FALLBACK. */
int broker_open(Broker *b, const char *path, int flags, mode_t mode, mode_t mask);
/* The calls that write by path without opening, performed by the broker like the opens
 * (notify-write.c): what the kernel then answers is what happened to the supervisor's copy
 * of the paths. */
typedef enum BrokerOp {
	BROKER_MKDIR,    /* PATH, MODE (the umask applies) */
	BROKER_MKNOD,    /* PATH, MODE: a regular file, FIFO or socket only */
	BROKER_UNLINK,   /* PATH, FLAGS (AT_REMOVEDIR) */
	BROKER_RENAME,   /* PATH to PATH2, FLAGS (renameat2's) */
	BROKER_LINK,     /* PATH as PATH2 */
	BROKER_SYMLINK,  /* PATH2 holding the text PATH */
	BROKER_CHMOD,    /* PATH, MODE */
	BROKER_CHOWN,    /* PATH, UID, GID, FLAGS (AT_SYMLINK_NOFOLLOW) */
	BROKER_TRUNCATE, /* PATH, LENGTH */
	BROKER_UTIMENS,  /* PATH, TIMES (NULL: now), FLAGS (AT_SYMLINK_NOFOLLOW) */
	BROKER_SETXATTR, /* PATH, XNAME, XVALUE of XSIZE bytes, XFLAGS, FLAGS (NOFOLLOW) */
	BROKER_RMXATTR,  /* PATH, XNAME, FLAGS (AT_SYMLINK_NOFOLLOW) */
} BrokerOp;

typedef struct BrokerJob {
	BrokerOp op;
	const char *path, *path2; /* absolute, as the sandbox names them (SYMLINK's PATH: text) */
	int flags;
	mode_t mode, umask;
	uid_t uid;
	gid_t gid;
	off_t length;
	const struct timespec *times;
	const char *xname;
	const void *xvalue;
	size_t xsize;
	int xflags;
	int fd; /* >= 0: the file is this one, a copy of the program's fd (PATH unused) */
} BrokerJob;

/* Performs JOB with the program's identity and Landlock domain: 0, -errno as the kernel
 * answered, or BROKER_FALLBACK (a pseudo file system, a form it cannot do faithfully). */
int broker_write(Broker *b, const BrokerJob *job);
/* Ends the thread and frees B; NULL is fine. Returns NULL. */
Broker *broker_stop(Broker *b);
