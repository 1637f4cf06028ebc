/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runner/output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* One write(2) to FD with SIGPIPE held back: if whoever reads the supervisor's output (or the
 * program's stdin) went away, that must cost the copy, not the supervisor (and with it the
 * sandbox's guard). Bytes written, or -errno. */
static ssize_t write_nopipe(int fd, const char *p, size_t len)
{
	sigset_t pipe_set, old;

	(void)sigemptyset(&pipe_set);
	(void)sigaddset(&pipe_set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t n;
	do
		n = write(fd, p, len);
	while (n < 0 && errno == EINTR);
	int e = n < 0 ? -errno : 0;
	if (e == -EPIPE) {
		struct timespec zero = {0};
		(void)sigtimedwait(&pipe_set, NULL, &zero); /* consume the pending SIGPIPE */
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e < 0 ? e : n;
}

static void write_quietly(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write_nopipe(fd, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
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

static bool is_null_device(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

int stdin_relay_open(StdinRelay *r, int *program_end)
{
	struct stat st;
	int p[2];

	*r = (StdinRelay){.from = -1, .to = -1, .peek = -1};
	/* asked before the pipe is made: with 0 closed, the pipe could take it */
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	bool none = fl < 0 || (fl & O_ACCMODE) == O_WRONLY || fstat(STDIN_FILENO, &st) < 0 ||
	            is_null_device(&st);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	for (int i = 0; i < 2; i++)
		if (p[i] < 3) { /* never one of the standard numbers (the child dup2s onto 0) */
			int moved = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
			(void)close(p[i]);
			p[i] = moved;
		}
	if (p[0] < 0 || p[1] < 0) {
		int e = -errno;
		(void)close(p[0]);
		(void)close(p[1]);
		return e;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096); /* a page: as little read ahead as can be */
	(void)fcntl(p[1], F_SETFL, O_NONBLOCK);
	*program_end = p[0];
	if (none) {
		(void)close(p[1]); /* nothing to give: end-of-file at once */
		return 0;
	}
	/* a seekable stdin gets back what the program did not read: how much is still in the
	 * pipe is asked through a read end of our own */
	if (lseek(STDIN_FILENO, 0, SEEK_CUR) >= 0)
		r->peek = fcntl(p[0], F_DUPFD_CLOEXEC, 3);
	r->from = STDIN_FILENO;
	r->to = p[1];
	r->tty = isatty(STDIN_FILENO);
	return 0;
}

/* A terminal is read only by its foreground process group (else SIGTTIN would stop the
 * supervisor); one that is not our controlling terminal stops nobody. */
static bool may_read(const StdinRelay *r)
{
	if (!r->tty)
		return true;
	pid_t fg = tcgetpgrp(r->from);
	return fg < 0 || fg == getpgrp();
}

void stdin_relay_pollfds(const StdinRelay *r, struct pollfd p[2])
{
	bool want = r->from >= 0 && r->to >= 0 && r->len == 0 && may_read(r);
	p[0] = (struct pollfd){.fd = want ? r->from : -1, .events = POLLIN};
	p[1] = (struct pollfd){.fd = r->len > 0 ? r->to : -1, .events = POLLOUT};
}

void stdin_relay_pump(StdinRelay *r, const struct pollfd p[2])
{
	if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(r->from, r->buf, sizeof(r->buf));
		if (n > 0) {
			r->off = 0;
			r->len = (size_t)n;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			r->from = -1; /* end-of-file, or an error: either way no more input */
		}
	}
	if (r->len > 0 && r->to >= 0) { /* at once, not at the next turn of the loop */
		ssize_t n = write_nopipe(r->to, r->buf + r->off, r->len);
		if (n > 0) {
			r->off += (size_t)n;
			r->len -= (size_t)n;
		} else if (n != -EAGAIN) {
			r->from = -1; /* the program's end is closed: nothing more goes in */
			r->len = 0;
		}
	}
	if (r->from < 0 && r->len == 0 && r->to >= 0) {
		(void)close(r->to); /* the program reads end-of-file */
		r->to = -1;
	}
}

void stdin_relay_done(StdinRelay *r)
{
	if (r->to >= 0)
		(void)close(r->to);
	r->to = -1;
	if (r->peek >= 0) {
		int queued = 0;
		if (ioctl(r->peek, FIONREAD, &queued) < 0)
			queued = 0;
		off_t unread = (off_t)queued + (off_t)r->len;
		if (unread > 0)
			(void)lseek(STDIN_FILENO, -unread, SEEK_CUR);
		(void)close(r->peek);
	}
	r->peek = r->from = -1;
	r->len = 0;
}
