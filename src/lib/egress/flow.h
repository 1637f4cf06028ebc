/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One direction of the proxy's relay: the proxy's own bytes first (a reply, a request head),
 * then what one socket sends, moved to the other through a pipe with splice(2) — the bytes
 * never pass through user space — or, when no pipe can be had, through a buffer. A flow
 * reads only while it holds nothing, so a side that does not take its bytes stops the other
 * side being read, and a connection holds at most one pipe's worth per direction.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_SPARE_PIPES 16

typedef struct Flow {
	const char *pre; /* the proxy's own bytes still to send, before any relayed one */
	size_t pre_len;
	int pipe[2];    /* read and write end; -1: the copy path through buf */
	char *buf;      /* the copy path's buffer */
	size_t size;    /* the most one read takes (the pipe's or the buffer's size) */
	size_t off;     /* copy path: where the pending bytes start in buf */
	size_t pending; /* bytes read and not yet written on (in the pipe or buf) */
	bool eof;       /* the source ended */
	bool shut;      /* ...and the destination was told (SHUT_WR) */
} Flow;

/* Empty pipes of connections that ended, for the next ones (a short request then costs no
 * pipe2/fcntl/close). Only a pipe known empty is kept: no byte crosses to another connection. */
typedef struct PipePool {
	int fd[FLOW_SPARE_PIPES][2];
	size_t size[FLOW_SPARE_PIPES];
	unsigned n;
} PipePool;

#define FLOW_NULL ((Flow){.pipe = {-1, -1}})

/* With PIPE, a pipe from POOL or a new one of SIZE bytes (as far as the kernel grants it);
 * without, or when no pipe can be made, a buffer. -ENOMEM. */
int flow_open(Flow *f, PipePool *pool, bool pipe, size_t size);
/* Gives an empty pipe back to POOL (when there is room), closes anything else. */
void flow_close(Flow *f, PipePool *pool);
void pipe_pool_done(PipePool *pool);

/* Nothing of the proxy's own and nothing read waits to be written. */
static inline bool flow_idle(const Flow *f)
{
	return f->pre_len == 0 && f->pending == 0;
}

/* Moves what SRC has to DST for as long as both go without waiting, up to a few MiB a call
 * (the loop's turn stays bounded). At most ROOM(USERDATA)
 * bytes are read at a time (the run's byte budget); each read is added to *COUNT. When SRC
 * has ended and all is written, DST is shut for writing, once. 0, or -1: the connection is
 * broken. */
int flow_pump(Flow *f, int src, int dst, size_t (*room)(const void *userdata, size_t want),
              const void *userdata, uint64_t *count);
