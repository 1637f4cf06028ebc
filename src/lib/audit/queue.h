/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A socket sink that never stalls its writer (SPEC §5): the socket is non-blocking, what it
 * does not take at once waits in a bounded queue, sent when the socket is writable again;
 * what does not fit is dropped and counted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_QUEUE_MAX (1u << 20) /* bytes waiting per socket sink */

typedef struct AuditQueue {
	char *buf; /* whole lines, '\n'-terminated: a datagram socket sends one line each */
	size_t len;
	bool dgram;
	bool dead;            /* a send failed for good: nothing more is sent */
	uint64_t undelivered; /* lines dropped: the queue was full, or left at the end */
} AuditQueue;

/* Sends the line S (LEN bytes, ending in '\n') on FD, or queues it behind what waits.  0, or
 * -errno of a failed send (the sink is then dead). */
int queue_send(AuditQueue *q, int fd, const char *s, size_t len);
/* Sends what waits, as much as FD takes now.  0, or -errno of a failed send. */
int queue_flush(AuditQueue *q, int fd);
/* Counts the lines still waiting as undelivered and frees the queue. */
void queue_done(AuditQueue *q);
