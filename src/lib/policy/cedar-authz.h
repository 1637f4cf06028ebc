/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An authorizer (a policy set linked to an entity store) and a prepared request: built by
 * cedar-authz.c, read by the evaluator (cedar-eval.c).  Everything a decision needs is
 * resolved when they are built — entity literals to the store's uids, the candidate
 * policies of the request, attribute names to slots — so that a decision only reads.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/cedar.h"

/* A slot's byte: 0 the record lacks the name; 1..SLOT_FAR-1 its field index + 1; SLOT_FAR
 * a field beyond those (looked up by name). */
#define SLOT_FAR 255

/* What a decision needs of a policy, packed (8 bytes, the whole set in a few cache lines):
 * its effect and, when it has exactly one condition (the usual case), that condition. */
typedef struct PolicyRun {
	uint32_t root; /* the condition's node, when n == 1 */
	bool forbid;
	bool unless;
	uint8_t n; /* conditions: 0, 1, or 2 for "more: read the policy" */
} PolicyRun;

struct ob_authorizer {
	const ob_policy_set *ps;
	PolicyRun *runs; /* one per policy */
	const ob_entities *es;
	ob_entities empty; /* when no store is given */
	Arena arena;
	UidTable link;      /* policy literals the store does not have; base = store size */
	uint32_t *lit_uid;  /* policy literal index -> uid */
	uint32_t n_known;   /* store + link uids */
	uint32_t **cand;    /* per known action uid: candidate policies (UINT32_MAX-terminated) */
	uint32_t *cand_all; /* for an action nobody names: policies with `action` All */
	/* Candidates per (principal, action), both known: those whose principal and action
	 * scopes match, found on first use (open addressing; key 0 = empty). */
	struct PairList {
		uint64_t key;
		uint32_t *list;
	} * pairs;
	size_t n_pairs, cap_pairs;
	/* Per store entity, ps->n_keys bytes: where each slotted attribute name is among its
	 * attributes (SLOT_FAR and the like above); NULL when the table would be too big. */
	uint8_t *slots;
	uint32_t n_slots;
	Arena scratch;
	uint32_t *reasons, *errors;
	const char **msgs;
};

/* A request lives in its own small arena, the struct first: what a decision reads of it
 * (variables, candidates, attributes, the context) sits in a few adjacent cache lines, the
 * first holding the candidates themselves when they are few (they usually are). */
#define REQUEST_LOCAL_CAND 6
struct ob_authz_request {
	Arena arena;
	UidTable uids; /* entities neither the store nor the policies know */
	/* what a decision reads: from here to the end, then the context's values */
	uint32_t var[3];
	uint32_t n_cand;
	const uint32_t *cand; /* the policies whose three scopes match, in policy order */
	uint32_t local_cand[REQUEST_LOCAL_CAND]; /* cand, when they fit */
	/* Per variable (principal, action, resource, context): its attributes (NULL: an entity
	 * the store lacks) and their slots (NULL: found by name). */
	const CVal *attrs[4];
	const uint8_t *slots[4];
	CVal context;
};

/* The uid U (of the store, of A's own table or of R's). */
static inline const Uid *authz_uid(const ob_authorizer *a, const ob_authz_request *r, uint32_t u)
{
	uint32_t n_store = a->es->uids.n;
	if (u < n_store)
		return &a->es->uids.uids[u];
	if (u < a->n_known)
		return &a->link.uids[u - n_store];
	return &r->uids.uids[u - a->n_known];
}

/* X in Y: the same entity, or Y among X's ancestors (sorted: a binary search). */
static inline bool entity_in(const ob_authorizer *a, uint32_t x, uint32_t y)
{
	if (x == y)
		return true;
	if (x >= a->es->uids.n)
		return false;
	const uint32_t *anc = a->es->data[x].anc;
	uint32_t lo = 0, hi = a->es->data[x].n_anc;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (anc[mid] == y)
			return true;
		if (anc[mid] < y)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}
