/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Floods (SPEC §5): a program that repeats a refused call in a loop writes one event a
 * second per distinct refusal, carrying the count of the others; and no program writes more
 * than --limit events=N.  What happens at the end of the record (SandboxExit, EventsDropped,
 * the ResourceLimitExceeded of each limit) is never dropped: it is bounded by construction.
 */
#include "audit/gate.h"

#include <stdio.h>
#include <stdlib.h>

#include "basic/macro.h"

static const char *str_field(const json_t *fields, const char *name)
{
	return json_string_value(json_object_get(fields, name)) ?: "";
}

/* The identity of a foldable event, or NULL: the fields SPEC §5 names for CapabilityDenied
 * (capability, resource, operation); for SandboxViolation its call, operation and detail (which
 * names the refused argument of a conditional call: socket(AF_PACKET) is not
 * socket(AF_KEY); runner/notify.c). Folded events read the same on the record, so folding
 * loses nothing it would have shown; the pid is the latest one's. */
static char *fold_key(const char *event, const json_t *fields)
{
	char *key = NULL;
	int r;

	if (streq(event, "CapabilityDenied"))
		r = asprintf(&key, "D\x1f%s\x1f%s\x1f%s", str_field(fields, "capability"),
		             str_field(fields, "resource"), str_field(fields, "operation"));
	else if (streq(event, "SandboxViolation"))
		r = asprintf(&key, "V\x1f%s\x1f%s\x1f%s", str_field(fields, "syscall"),
		             str_field(fields, "operation"), str_field(fields, "detail"));
	else
		return NULL;
	return r < 0 ? NULL : key;
}

static bool is_exempt(const char *event)
{
	return streq(event, "SandboxExit") || streq(event, "EventsDropped") ||
	       streq(event, "ResourceLimitExceeded");
}

static void count_dropped(AuditGate *g, const char *event, uint64_t n)
{
	for (size_t i = 0; i < GATE_KINDS; i++) {
		if (!g->dropped[i].event)
			g->dropped[i].event = event;
		if (streq(g->dropped[i].event, event)) {
			g->dropped[i].n += n;
			return;
		}
	}
	/* more kinds than there are: the last slot takes them (never reached: SPEC §5 has 8) */
	g->dropped[GATE_KINDS - 1].n += n;
}

static GateFold *fold_find(AuditGate *g, const char *key)
{
	for (size_t i = 0; i < GATE_FOLDS; i++)
		if (g->folds[i].key && streq(g->folds[i].key, key))
			return &g->folds[i];
	return NULL;
}

/* A slot for a new refusal: a free one, else the oldest with nothing pending whose window is
 * over; NULL when every slot still holds a count (the refusal is then simply not folded). */
static GateFold *fold_slot(AuditGate *g, uint64_t now_ns)
{
	GateFold *best = NULL;

	for (size_t i = 0; i < GATE_FOLDS; i++) {
		GateFold *f = &g->folds[i];
		if (!f->key)
			return f;
		if (f->pending == 0 && now_ns - f->written_ns >= GATE_WINDOW_NS &&
		    (!best || f->written_ns < best->written_ns))
			best = f;
	}
	if (best) {
		free(best->key);
		*best = (GateFold){0};
	}
	return best;
}

/* Counts one event against the cap: false when past it (then counted as N dropped). */
static bool take(AuditGate *g, const char *event, uint64_t n)
{
	if (g->limit && g->written >= g->limit) {
		count_dropped(g, event, n);
		return false;
	}
	g->written++;
	return true;
}

GateVerdict gate_admit(AuditGate *g, const char *event, json_t *fields, uint64_t now_ns)
{
	if (is_exempt(event))
		return GATE_WRITE;
	_cleanup_free_ char *key = fold_key(event, fields);
	GateFold *f = key ? fold_find(g, key) : NULL;
	uint64_t carried = 0;

	if (f && now_ns - f->written_ns < GATE_WINDOW_NS) {
		f->pending++;
		json_decref(f->last);
		f->last = json_incref(fields);
		return GATE_FOLDED;
	}
	if (f) {
		carried = f->pending;
		f->pending = 0;
		json_decref(f->last);
		f->last = NULL;
	} else if (key && (f = fold_slot(g, now_ns))) {
		f->key = TAKE_PTR(key);
		f->event = event;
	}
	if (f)
		f->written_ns = now_ns; /* written or dropped: the next second's repeats fold */
	if (!take(g, event, 1 + carried))
		return GATE_DROPPED;
	if (carried)
		(void)json_object_set_new(fields, "repeated", json_integer((json_int_t)carried));
	return GATE_WRITE;
}

void gate_flush(AuditGate *g, GateWrite write, void *userdata)
{
	for (size_t i = 0; i < GATE_FOLDS; i++) {
		GateFold *f = &g->folds[i];
		if (f->pending == 0 || !f->last)
			continue;
		/* the latest pending one, standing for itself and the pending - 1 before it */
		if (take(g, f->event, f->pending)) {
			json_t *o = json_deep_copy(f->last);
			if (o && f->pending > 1)
				(void)json_object_set_new(
				    o, "repeated", json_integer((json_int_t)(f->pending - 1)));
			if (o)
				write(userdata, f->event, o);
			json_decref(o);
		}
		f->pending = 0;
		json_decref(f->last);
		f->last = NULL;
	}
}

json_t *gate_dropped_json(const AuditGate *g)
{
	if (!g->dropped[0].event)
		return NULL;
	json_t *d = json_object();
	for (size_t i = 0; d && i < GATE_KINDS && g->dropped[i].event; i++)
		(void)json_object_set_new(d, g->dropped[i].event,
		                          json_integer((json_int_t)g->dropped[i].n));
	return json_pack("{s:o, s:I}", "dropped", d, "limit", (json_int_t)g->limit);
}

void gate_done(AuditGate *g)
{
	for (size_t i = 0; i < GATE_FOLDS; i++) {
		free(g->folds[i].key);
		json_decref(g->folds[i].last);
	}
	*g = (AuditGate){.limit = g->limit};
}
