/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The program's stdio: stdout and stderr relayed (or captured) by the supervisor with a byte
 * cap; stdin relayed from the caller's into a pipe of ours. No program and no runtime is ever
 * handed one of the caller's own descriptors: a runtime fchown()s the stdio it is given (runsc
 * to nobody, crun and runc to the container's ids), and a rootless native program owns (and
 * could fchmod) the caller's files. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Stream {
	int fd;       /* the pipe's read end; -1 once closed */
	int out_fd;   /* where relayed bytes go (the supervisor's 1 or 2); -1 when capturing */
	uint64_t cap; /* bytes allowed */
	uint64_t total;
	bool exceeded;
	char *buf; /* captured bytes (out_fd == -1) */
	size_t len;
} Stream;

/* Reads what is available on S and relays or captures it, up to the cap. At the cap the read
 * end is closed: the writer then gets EPIPE/SIGPIPE. Closes S->fd at end-of-file. */
void stream_pump(Stream *s);
void stream_done(Stream *s);

/* The caller's stdin copied into the program's stdin pipe. What the program leaves unread is
 * given back to a seekable stdin (its offset moved back), so `while read; do omnibase run
 * ...; done < list` keeps its place; from a pipe or a terminal, up to a pipe's worth (the
 * pipe is made small) may have been read ahead. A terminal is read only while the supervisor
 * is in its foreground (a background run would be stopped by SIGTTIN). */
typedef struct StdinRelay {
	int from; /* the caller's stdin (its file description shared: never set non-blocking), or
	           * -1 once it ended */
	int to;   /* the pipe's write end, non-blocking; -1 once closed (the program reads EOF) */
	int peek; /* our copy of the pipe's read end: how much is still unread, or -1 */
	bool tty;
	size_t off, len;
	char buf[4096];
} StdinRelay;

/* The program's stdin: a pipe; its read end in *PROGRAM_END (for the program or the runtime),
 * the relay in R. A caller's stdin that is a null device, closed or unreadable gives the
 * program an empty pipe at once. */
int stdin_relay_open(StdinRelay *r, int *program_end);
/* The two pollfds of the relay: the caller's stdin while the buffer is empty, the pipe while
 * it is not (each -1 when not wanted). */
void stdin_relay_pollfds(const StdinRelay *r, struct pollfd p[2]);
/* Serves what P (as stdin_relay_pollfds set it, after poll) found. */
void stdin_relay_pump(StdinRelay *r, const struct pollfd p[2]);
/* The end of the run: the pipe closed and what the program left unread given back to a
 * seekable stdin. */
void stdin_relay_done(StdinRelay *r);
