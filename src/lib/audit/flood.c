/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The end of a bounded record (SPEC §5, Floods): the folded counts flushed, then what the
 * cap dropped said once; and the socket sinks' queues, flushed from the supervisor's loop
 * and, at the end, for a bounded time.
 */
#include <time.h>

#include "audit/events.h"

static void write_flushed(void *userdata, const char *event, json_t *fields)
{
	audit_write(userdata, event, fields);
}

/* Order: the folded counts (they may still be dropped), EventsDropped with the counts by
 * kind, then ResourceLimitExceeded (events) like every limit hit; SandboxExit follows. */
void audit_end(Audit *a)
{
	if (a->n_fds == 0)
		return;
	gate_flush(&a->gate, write_flushed, a);
	json_t *dropped = gate_dropped_json(&a->gate);
	if (!dropped)
		return;
	audit_write(a, "EventsDropped", dropped);
	json_decref(dropped);
	event_limit(a, OB_LIMIT_EVENTS, a->gate.limit);
}

void audit_flush(Audit *a)
{
	for (size_t i = 0; i < a->n_fds; i++) {
		if (!a->is_socket[i] || a->queue[i].len == 0)
			continue;
		int r = queue_flush(&a->queue[i], a->fds[i]);
		if (r < 0 && !a->write_error)
			a->write_error = r;
	}
}

size_t audit_pollfds(const Audit *a, struct pollfd *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < a->n_fds && k < n; i++)
		if (a->is_socket[i] && a->queue[i].len > 0)
			p[k++] = (struct pollfd){.fd = a->fds[i], .events = POLLOUT};
	return k;
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec now;
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

void audit_drain(Audit *a, int timeout_ms)
{
	struct pollfd p[AUDIT_MAX_SINKS];
	struct timespec t0;
	size_t n;

	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	audit_flush(a);
	while ((n = audit_pollfds(a, p, AUDIT_MAX_SINKS)) > 0) {
		int64_t left = timeout_ms - ms_since(&t0);
		if (left <= 0 || poll(p, n, (int)left) <= 0)
			break;
		audit_flush(a);
	}
	for (size_t i = 0; i < a->n_fds; i++)
		if (a->is_socket[i])
			queue_done(&a->queue[i]);
}

uint64_t audit_undelivered(const Audit *a)
{
	uint64_t n = 0;
	for (size_t i = 0; i < a->n_fds; i++)
		n += a->queue[i].undelivered;
	return n;
}
