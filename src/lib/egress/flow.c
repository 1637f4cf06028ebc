/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "egress/flow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* The copy path's buffer, as big as the former relay's */
#define COPY_SIZE ((size_t)256 * 1024)
/* The most one call moves: a source and a destination that never make it wait (a fast
 * download into a fast reader) must not hold the supervisor's loop; level-triggered
 * interest brings the rest back at the next turn. */
#define TURN_BYTES ((size_t)4 * 1024 * 1024)

int flow_open(Flow *f, PipePool *pool, bool pipe, size_t size)
{
	*f = FLOW_NULL;
	if (!pipe)
		goto copy;
	/* a spare of the size asked, else of any size (the size only bounds one read) */
	if (pool->n > 0) {
		unsigned k = pool->n - 1;
		for (unsigned i = 0; i < pool->n; i++)
			if (pool->size[i] == size)
				k = i;
		f->pipe[0] = pool->fd[k][0];
		f->pipe[1] = pool->fd[k][1];
		f->size = pool->size[k];
		pool->n--;
		pool->fd[k][0] = pool->fd[pool->n][0];
		pool->fd[k][1] = pool->fd[pool->n][1];
		pool->size[k] = pool->size[pool->n];
		return 0;
	}
	if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) == 0) {
		int r = fcntl(f->pipe[0], F_SETPIPE_SZ, (int)size);
		if (r > 0) {
			f->size = (size_t)r;
			return 0;
		}
		/* past the user's pipe quota (pipe-user-pages-soft) new pipes get two pages, and
		 * splicing 8 KiB a call is slower than the copy path: that instead */
		(void)close(f->pipe[0]);
		(void)close(f->pipe[1]);
	}
	/* out of fds or of pipe quota: the copy path, slower but the same relay */
	f->pipe[0] = f->pipe[1] = -1;
copy:
	f->size = COPY_SIZE;
	f->buf = malloc(COPY_SIZE);
	return f->buf ? 0 : -ENOMEM;
}

void flow_close(Flow *f, PipePool *pool)
{
	if (f->pipe[0] >= 0 && f->pending == 0 && pool->n < FLOW_SPARE_PIPES) {
		pool->fd[pool->n][0] = f->pipe[0];
		pool->fd[pool->n][1] = f->pipe[1];
		pool->size[pool->n] = f->size;
		pool->n++;
	} else {
		for (int i = 0; i < 2; i++)
			if (f->pipe[i] >= 0)
				(void)close(f->pipe[i]);
	}
	free(f->buf);
	*f = FLOW_NULL;
}

void pipe_pool_done(PipePool *pool)
{
	while (pool->n > 0) {
		pool->n--;
		(void)close(pool->fd[pool->n][0]);
		(void)close(pool->fd[pool->n][1]);
	}
}

static ssize_t flow_read(Flow *f, int src, size_t want)
{
	if (f->pipe[1] >= 0)
		return splice(src, NULL, f->pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	f->off = 0;
	return recv(src, f->buf, want, MSG_DONTWAIT);
}

static ssize_t flow_write(Flow *f, int dst)
{
	if (f->pipe[0] >= 0)
		return splice(f->pipe[0], NULL, dst, NULL, f->pending,
		              SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	return send(dst, f->buf + f->off, f->pending, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int flow_pump(Flow *f, int src, int dst, size_t (*room)(const void *userdata, size_t want),
              const void *userdata, uint64_t *count)
{
	while (f->pre_len > 0) {
		ssize_t n = send(dst, f->pre, f->pre_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		f->pre += n;
		f->pre_len -= (size_t)n;
	}
	for (size_t moved = 0; moved < TURN_BYTES;) {
		bool got = false;
		size_t want = room(userdata, f->size);
		/* only into an empty pipe: a full one could not be told from a silent source
		 * (both EAGAIN), and level-triggered interest would spin on it */
		if (!f->eof && f->pending == 0 && want) {
			ssize_t n = flow_read(f, src, want);
			if (n == 0)
				f->eof = true;
			else if (n < 0 && errno != EAGAIN)
				return -1;
			else if (n > 0) {
				f->pending = (size_t)n;
				*count += (uint64_t)n;
				moved += (size_t)n;
				got = true;
			}
		}
		while (f->pending > 0) {
			ssize_t n = flow_write(f, dst);
			if (n < 0)
				return errno == EAGAIN ? 0 : -1;
			f->off += (size_t)n;
			f->pending -= (size_t)n;
		}
		if (f->eof) {
			if (!f->shut)
				(void)shutdown(dst, SHUT_WR);
			f->shut = true;
			return 0;
		}
		if (!got)
			return 0; /* nothing more to read now: back to epoll */
	}
	return 0;
}
