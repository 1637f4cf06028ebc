/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runner/output.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* write(2) to FD with SIGPIPE held back: if whoever reads the supervisor's output went away,
 * that must cost the copy, not the supervisor (and with it the sandbox's guard). */
static void write_quietly(int fd, const char *p, size_t len)
{
	sigset_t pipe_set, old;
	bool failed = false;

	(void)sigemptyset(&pipe_set);
	(void)sigaddset(&pipe_set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (len > 0 && !failed) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		failed = n <= 0;
		if (!failed) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (failed && errno == EPIPE) {
		struct timespec zero = {0};
		(void)sigtimedwait(&pipe_set, NULL, &zero); /* consume the pending SIGPIPE */
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void keep(Stream *s, const char *p, size_t n)
{
	if (s->out_fd >= 0) {
		write_quietly(s->out_fd, p, n);
		return;
	}
	char *nb = realloc(s->buf, s->len + n + 1);
	if (!nb)
		return;
	s->buf = nb;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

void stream_pump(Stream *s)
{
	char chunk[65536];

	if (s->fd < 0)
		return;
	for (;;) {
		ssize_t n = read(s->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break; /* end of file, or an error: either way this stream is over */
		uint64_t room = s->cap - s->total;
		size_t take = (uint64_t)n > room ? (size_t)room : (size_t)n;
		keep(s, chunk, take);
		s->total += take;
		if (take < (size_t)n) {
			s->exceeded = true;
			break;
		}
	}
	(void)close(s->fd);
	s->fd = -1;
}

void stream_done(Stream *s)
{
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}
