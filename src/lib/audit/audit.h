/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audit events (SPEC §5): one JSON object per line to every sink. */
#pragma once

#include <jansson.h>
#include <poll.h>

#include "omnibase/omnibase.h"

#include "audit/chain.h"
#include "audit/gate.h"
#include "audit/queue.h"

#define AUDIT_MAX_SINKS 8

typedef struct Audit {
	int fds[AUDIT_MAX_SINKS];
	bool owned[AUDIT_MAX_SINKS];
	bool is_socket[AUDIT_MAX_SINKS];
	AuditChain chains[AUDIT_MAX_SINKS]; /* per sink: a file's continues, a stream's is new */
	size_t n_fds;
	char execution_id[37];
	const char *backend;
	const char *component; /* the registry component's id, or NULL (borrowed) */
	unsigned violations;
	int write_error; /* the first sink failure (-errno), reported, never fatal */
	AuditGate gate;  /* folding and the events cap (gate.h) */
	AuditQueue queue[AUDIT_MAX_SINKS]; /* a socket sink's bounded queue (queue.h) */
} Audit;

/* A fresh execution id (UUID v4 from getrandom) and no sinks. */
int audit_init(Audit *a, const char *backend);
/* Opens PATH for appending as a sink.  A regular file's hash chain continues from its last
 * line (read under the file's lock): -EBADMSG (RETERR says why) when that line is not a
 * chained event or the file does not end in a newline, the sink is refused rather than its
 * chain broken.  Anything else (a FIFO, a terminal) is a stream whose chain starts at seq 1. */
int audit_add_path(Audit *a, const char *path, ob_error *reterr);
int audit_add_fd(Audit *a, int fd, bool owned);
/* Connects to the unix socket PATH (stream, else datagram) as a sink. */
int audit_add_socket(Audit *a, const char *path);
/* Writes one event: the common fields (with each sink's own "seq" and "prev"), then FIELDS (a
 * JSON object, reference stolen); a refusal is counted in violations, then folded or dropped
 * as the gate says (gate.h). A file is locked (flock) while its line is appended, so runs
 * appending to one log keep one chain. */
void audit_emit(Audit *a, const char *event, json_t *fields);
/* Writes EVENT with FIELDS (borrowed) to every sink, past the gate. */
void audit_write(Audit *a, const char *event, json_t *fields);
void audit_done(Audit *a);

/* flood.c: the end of the record, and the socket sinks' queues. */
/* Flushes the folded counts, then writes EventsDropped and ResourceLimitExceeded (events)
 * when the cap dropped any (before SandboxExit). */
void audit_end(Audit *a);
/* Sends what the socket sinks' queues hold, as much as they take now. */
void audit_flush(Audit *a);
/* Fills P (room for N) with the socket sinks that have lines waiting (POLLOUT); their count. */
size_t audit_pollfds(const Audit *a, struct pollfd *p, size_t n);
/* Flushes the queues for at most TIMEOUT_MS, then counts what is left as undelivered. */
void audit_drain(Audit *a, int timeout_ms);
/* Lines the socket sinks dropped or could not deliver. */
uint64_t audit_undelivered(const Audit *a);
/* Formats the current time as RFC 3339 UTC with microseconds into BUF (32 bytes). */
void audit_timestamp(char buf[32]);
