/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The socket sinks' bounded queues (queue.h): a stalled reader costs memory up to a bound,
 * then events, never the supervisor's time. */
#include "audit/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/macro.h"

static uint64_t count_lines(const char *s, size_t len)
{
	uint64_t n = 0;
	if (!s)
		return 0;
	for (const char *p = s; (p = memchr(p, '\n', len - (size_t)(p - s))); p++)
		n++;
	return n;
}

/* Sends S on FD: the bytes taken (a datagram is taken whole or not at all), 0 for none now,
 * or -errno. */
static ssize_t send_some(const AuditQueue *q, int fd, const char *s, size_t len)
{
	for (;;) {
		ssize_t k = send(fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k >= 0)
			return k;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || (q->dgram && errno == ENOBUFS))
			return 0;
		return -errno;
	}
}

static int fail(AuditQueue *q, int r)
{
	q->dead = true;
	q->undelivered += count_lines(q->buf, q->len);
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
	return r;
}

int queue_flush(AuditQueue *q, int fd)
{
	size_t off = 0;

	while (off < q->len) {
		const char *s = q->buf + off;
		size_t n = q->dgram ? (size_t)((char *)memchr(s, '\n', q->len - off) - s) + 1
		                    : q->len - off;
		ssize_t k = send_some(q, fd, s, n);
		if (k < 0) {
			q->len -= off;
			memmove(q->buf, q->buf + off, q->len);
			return fail(q, (int)k);
		}
		if (k == 0)
			break;
		off += (size_t)k;
	}
	q->len -= off;
	memmove(q->buf, q->buf + off, q->len);
	return 0;
}

int queue_send(AuditQueue *q, int fd, const char *s, size_t len)
{
	if (q->dead)
		return 0; /* its failure was reported once */
	/* a line the queue could never hold is not started on a stream: half of it sent would
	 * glue the next line onto the rest */
	if (!q->dgram && len > AUDIT_QUEUE_MAX) {
		q->undelivered++;
		return 0;
	}
	if (q->len == 0) {
		ssize_t k = send_some(q, fd, s, len);
		if (k < 0)
			return fail(q, (int)k);
		s += k;
		len -= (size_t)k;
		if (len == 0)
			return 0;
	}
	if (q->len + len > AUDIT_QUEUE_MAX) {
		q->undelivered++;
		return 0;
	}
	if (!q->buf) {
		q->buf = malloc(AUDIT_QUEUE_MAX);
		if (!q->buf) {
			q->undelivered++;
			return 0;
		}
	}
	memcpy(q->buf + q->len, s, len);
	q->len += len;
	return 0;
}

void queue_done(AuditQueue *q)
{
	q->undelivered += count_lines(q->buf, q->len);
	free(q->buf);
	q->buf = NULL;
	q->len = 0;
}
