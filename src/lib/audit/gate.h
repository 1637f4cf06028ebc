/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What reaches the record (SPEC §5, Floods): identical refusals folded, at most N events a
 * run, what went past the cap counted by kind.  Pure bookkeeping, no I/O: audit.c asks
 * gate_admit() before it writes, and the end of the record (gate_flush, EventsDropped) goes
 * through the callback it is given.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GATE_FOLDS     64            /* distinct refusals folded at once */
#define GATE_KINDS     16            /* event kinds counted when dropped */
#define GATE_WINDOW_NS 1000000000ULL /* repeats within a second are folded */

typedef struct GateFold {
	char *key;           /* the kind and the fields that make two events the same; NULL: free */
	const char *event;   /* the kind (static) */
	uint64_t written_ns; /* when the last one of them was written (or dropped) */
	uint64_t pending;    /* identical ones since then, not written */
	json_t *last;        /* the latest pending one's fields, written at the flush */
} GateFold;

typedef struct AuditGate {
	uint64_t limit;   /* events written at most; 0: no cap */
	uint64_t written; /* events counted against the cap */
	GateFold folds[GATE_FOLDS];
	struct {
		const char *event; /* static */
		uint64_t n;        /* occurrences dropped: an event and the repeats it carried */
	} dropped[GATE_KINDS];
} AuditGate;

typedef enum GateVerdict {
	GATE_WRITE,   /* write it (FIELDS may have gained "repeated") */
	GATE_FOLDED,  /* counted into a later one's "repeated" */
	GATE_DROPPED, /* past the cap: counted in EventsDropped */
} GateVerdict;

/* Writes one event the gate let through (FIELDS borrowed). */
typedef void (*GateWrite)(void *userdata, const char *event, json_t *fields);

/* Whether EVENT (a static name) with FIELDS, happening at NOW_NS (CLOCK_MONOTONIC), is
 * written.  CapabilityDenied folds on (capability, resource, operation), SandboxViolation on
 * (syscall, operation, detail): the first is written, the repeats within GATE_WINDOW_NS are
 * counted and the next one written carries them in "repeated".
 * SandboxExit, EventsDropped and ResourceLimitExceeded (at most one per limit) are always written
 * and not counted; past LIMIT the others are dropped and counted.  Each written refusal stands for
 * 1 + its "repeated" occurrences. */
GateVerdict gate_admit(AuditGate *g, const char *event, json_t *fields, uint64_t now_ns);
/* Writes, through WRITE, one more event for each fold with pending repeats (the latest of
 * them, "repeated" the others), so no count is lost; past the cap they are counted as
 * dropped instead.  Called once, at the end of the record. */
void gate_flush(AuditGate *g, GateWrite write, void *userdata);
/* EventsDropped's fields ({"dropped": {kind: n}, "limit": LIMIT}), or NULL when nothing was
 * dropped. */
json_t *gate_dropped_json(const AuditGate *g);
/* Frees what G holds; G may be reused after gate_done. */
void gate_done(AuditGate *g);
