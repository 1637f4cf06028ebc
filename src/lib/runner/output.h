/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The program's stdout and stderr, relayed (or captured) by the supervisor with a byte cap. */
#pragma once

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
