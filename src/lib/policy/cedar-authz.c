/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linking a policy set to an entity store (an authorizer) and preparing requests: policy
 * entity literals become uids of the store (or of the authorizer's own table when the store
 * lacks them); the policies that can apply to each action are listed on first use, then
 * those of each (principal, action) pair; the attribute names the policies read get slots,
 * indexed once per store entity and once per request context.  A prepared request holds
 * its candidate policies (all three scopes matched), so a decision evaluates conditions
 * only (cedar-eval.c).
 */
#include "policy/cedar-authz.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "policy/cedar.h"

/* Whether the scope S matches the uid U of the request R. */
static bool scope_matches(const ob_authorizer *a, const ob_authz_request *r, const Scope *s,
                          uint32_t u)
{
	switch (s->op) {
	case SCOPE_ALL:
		return true;
	case SCOPE_EQ:
		return u == a->lit_uid[s->ents[0]];
	case SCOPE_IN:
		for (uint32_t k = 0; k < s->n_ents; k++)
			if (entity_in(a, u, a->lit_uid[s->ents[k]]))
				return true;
		return false;
	default: {
		const Uid *id = authz_uid(a, r, u);
		if (id->type_len != s->type_len || memcmp(id->type, s->type, s->type_len) != 0)
			return false;
		return s->op == SCOPE_IS || entity_in(a, u, a->lit_uid[s->ents[0]]);
	}
	}
}

/* ---------------------------------------------------------------- linking */

/* The slots of the record REC into ROW (a->n_slots bytes). */
static void record_slots(const ob_authorizer *a, const CVal *rec, uint8_t *row)
{
	for (uint32_t k = 0; k < a->n_slots; k++) {
		const CField *key = &a->ps->keys[k];
		uint32_t i = record_find(rec, key->key, key->len, key->hash);
		row[k] = i == UINT32_MAX ? 0 : i < SLOT_FAR - 1 ? (uint8_t)(i + 1) : SLOT_FAR;
	}
}

/* Each store entity's slots; none (lookups by name) when the table would pass 64 MiB. */
static int entity_slots(ob_authorizer *a)
{
	size_t n = a->es->uids.n;

	a->n_slots = a->ps->n_keys;
	if (!a->n_slots || n == 0 || n > ((size_t)64 << 20) / a->n_slots)
		return 0;
	a->slots = calloc(n, a->n_slots);
	if (!a->slots)
		return -ENOMEM;
	for (size_t u = 0; u < n; u++)
		if (a->es->data[u].defined)
			record_slots(a, &a->es->data[u].attrs, a->slots + u * a->n_slots);
	return 0;
}

ob_authorizer *ob_authorizer_free(ob_authorizer *a)
{
	if (!a)
		return NULL;
	free(a->slots);
	free(a->runs);
	uid_table_free(&a->link);
	arena_free(&a->arena);
	arena_free(&a->scratch);
	free(a->lit_uid);
	free(a->cand);
	free(a->pairs);
	free(a->reasons);
	free(a->errors);
	free(a->msgs);
	free(a);
	return NULL;
}

static uint32_t *candidates(ob_authorizer *a, uint32_t action, bool known)
{
	uint32_t *list = arena_alloc(&a->arena, (a->ps->n + 1) * sizeof(uint32_t));
	uint32_t k = 0;

	if (!list)
		return NULL;
	for (uint32_t i = 0; i < a->ps->n; i++) {
		const Scope *s = &a->ps->policies[i].scope[1];
		bool match = s->op == SCOPE_ALL;
		for (uint32_t j = 0; known && !match && j < s->n_ents; j++)
			match = s->op == SCOPE_EQ ? action == a->lit_uid[s->ents[j]]
			                          : entity_in(a, action, a->lit_uid[s->ents[j]]);
		if (match)
			list[k++] = i;
	}
	list[k] = UINT32_MAX;
	return list;
}

int ob_authorizer_new(const ob_policy_set *ps, const ob_entities *es, ob_authorizer **ret)
{
	assert_return(ps && ret, -EINVAL);
	ob_authorizer *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ps = ps;
	a->es = es ? es : &a->empty;
	a->link.base = a->es->uids.n;
	a->lit_uid = calloc(ps->lits.n + 1, sizeof(uint32_t));
	a->reasons = calloc(ps->n + 1, sizeof(uint32_t));
	a->errors = calloc(ps->n + 1, sizeof(uint32_t));
	a->msgs = calloc(ps->n + 1, sizeof(char *));
	int r = a->lit_uid && a->reasons && a->errors && a->msgs ? 0 : -ENOMEM;
	for (uint32_t i = 0; r >= 0 && i < ps->lits.n; i++) {
		const Uid *u = &ps->lits.uids[i];
		uint32_t id =
		    uid_find(&a->es->uids, u->type, u->type_len, u->id, u->id_len, u->hash);
		if (id == UINT32_MAX)
			id =
			    uid_intern(&a->link, &a->arena, u->type, u->type_len, u->id, u->id_len);
		a->lit_uid[i] = id;
		r = id == UINT32_MAX ? -ENOMEM : 0;
	}
	a->n_known = a->es->uids.n + a->link.n;
	a->runs = r >= 0 ? calloc(ps->n + 1, sizeof(PolicyRun)) : NULL;
	for (uint32_t i = 0; a->runs && i < ps->n; i++) {
		const Policy *p = &ps->policies[i];
		a->runs[i] = (PolicyRun){.forbid = p->forbid, .n = (uint8_t)MIN(p->n_conds, 2u)};
		if (p->n_conds == 1)
			a->runs[i] = (PolicyRun){.root = p->conds[0],
			                         .forbid = p->forbid,
			                         .unless = p->unless[0],
			                         .n = 1};
	}
	if (r >= 0 && !a->runs)
		r = -ENOMEM;
	if (r >= 0)
		r = entity_slots(a);
	a->cand = r >= 0 ? calloc(a->n_known + 1, sizeof(uint32_t *)) : NULL;
	a->cand_all = a->cand ? candidates(a, 0, false) : NULL;
	if (!a->cand_all) {
		(void)ob_authorizer_free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

/* ---------------------------------------------------------------- requests */

ob_authz_request *ob_authz_request_free(ob_authz_request *r)
{
	if (!r)
		return NULL;
	Arena arena = r->arena; /* holds R itself */
	uid_table_free(&r->uids);
	arena_free(&arena);
	return NULL;
}

static uint32_t request_uid(ob_authorizer *a, ob_authz_request *r, const char *type, size_t tl,
                            const char *id, size_t il)
{
	uint64_t h = uid_hash(type, tl, id, il);
	uint32_t u = uid_find(&a->es->uids, type, tl, id, il, h);
	if (u == UINT32_MAX)
		u = uid_find(&a->link, type, tl, id, il, h);
	if (u == UINT32_MAX)
		u = uid_intern(&r->uids, &r->arena, type, tl, id, il);
	return u;
}

/* Of the action's candidates, those whose principal scope matches R's principal, into A
 * (the authorizer's arena when the list is cached, else the request's). */
static uint32_t *filter_principal(ob_authorizer *a, const ob_authz_request *r, const uint32_t *from,
                                  Arena *arena)
{
	size_t n = 0;

	while (from[n] != UINT32_MAX)
		n++;
	uint32_t *list = arena_alloc(arena, (n + 1) * sizeof(uint32_t)), k = 0;
	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (scope_matches(a, r, &a->ps->policies[from[i]].scope[0], r->var[0]))
			list[k++] = from[i];
	list[k] = UINT32_MAX;
	return list;
}

static int pairs_grow(ob_authorizer *a)
{
	size_t cap = a->cap_pairs ? a->cap_pairs * 2 : 1024;
	struct PairList *t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < a->cap_pairs; i++) {
		if (!a->pairs[i].key)
			continue;
		size_t j = (size_t)(a->pairs[i].key * 0x9E3779B97F4A7C15ULL) & (cap - 1);
		while (t[j].key)
			j = (j + 1) & (cap - 1);
		t[j] = a->pairs[i];
	}
	free(a->pairs);
	a->pairs = t;
	a->cap_pairs = cap;
	return 0;
}

/* The candidates of R's principal and action: cached in A when both are known. */
static const uint32_t *principal_candidates(ob_authorizer *a, ob_authz_request *r)
{
	uint32_t act = r->var[1], who = r->var[0];

	if (act < a->n_known && !a->cand[act])
		a->cand[act] = candidates(a, act, true);
	const uint32_t *from = act < a->n_known ? a->cand[act] : a->cand_all;
	if (!from)
		return NULL;
	if (who >= a->n_known || act >= a->n_known) /* request-local: not worth a cache entry */
		return filter_principal(a, r, from, &r->arena);
	if ((a->n_pairs + 1) * 2 > a->cap_pairs && pairs_grow(a) < 0)
		return NULL;
	uint64_t key = ((uint64_t)who + 1) << 32 | act;
	size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (a->cap_pairs - 1);
	while (a->pairs[j].key && a->pairs[j].key != key)
		j = (j + 1) & (a->cap_pairs - 1);
	if (!a->pairs[j].key) {
		uint32_t *list = filter_principal(a, r, from, &a->arena);
		if (!list)
			return NULL;
		a->pairs[j] = (struct PairList){.key = key, .list = list};
		a->n_pairs++;
	}
	return a->pairs[j].list;
}

/* R's candidates: of its (principal, action) candidates, those whose resource scope matches
 * too, copied into R (next to the rest of what a decision reads). */
static int request_candidates(ob_authorizer *a, ob_authz_request *r)
{
	const uint32_t *from = principal_candidates(a, r);
	size_t n = 0;

	if (!from)
		return -ENOMEM;
	while (from[n] != UINT32_MAX)
		n++;
	uint32_t *list =
	    n <= REQUEST_LOCAL_CAND ? r->local_cand : arena_alloc(&r->arena, n * sizeof(uint32_t));
	uint32_t k = 0;
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (scope_matches(a, r, &a->ps->policies[from[i]].scope[2], r->var[2]))
			list[k++] = from[i];
	r->cand = list;
	r->n_cand = k;
	return 0;
}

static int req_fail(const ValueParser *vp, const char *path, const char *fmt, ...) _printf_(3, 4);
static int req_fail(const ValueParser *vp, const char *path, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ob_error_set(vp->err, -EINVAL, "context: %s: %s", path, what);
}

static int request_context(ob_authorizer *a, ob_authz_request *r, const char *json,
                           ob_error *reterr)
{
	const UidTable *lookup[] = {&a->es->uids, &a->link, NULL};
	ValueParser vp = {.arena = &r->arena,
	                  .uids = &r->uids,
	                  .lookup = lookup,
	                  .err = reterr,
	                  .fail = req_fail};
	_cleanup_(json_decrefp) json_t *root = NULL;

	r->context = (CVal){.type = V_RECORD};
	if (!json)
		return 0;
	JsonDoc doc = {.data = json, .len = strlen(json), .name = "context", .err = reterr};
	int k = cedar_json_parse(&doc, &root);
	if (k < 0)
		return k;
	if (!json_is_object(root) || json_object_get(root, "__entity") ||
	    json_object_get(root, "__extn"))
		return ob_error_set(reterr, -EINVAL, "context: expected a JSON object (a record)");
	return value_from_json(&vp, root, "$", 0, &r->context);
}

/* The attributes of R's variables and their slots (the context's computed here). */
static int request_attrs(const ob_authorizer *a, ob_authz_request *r)
{
	for (int i = 0; i < 3; i++) {
		uint32_t u = r->var[i];
		if (u >= a->es->uids.n || !a->es->data[u].defined)
			continue; /* attrs NULL: not in the store */
		r->attrs[i] = &a->es->data[u].attrs;
		r->slots[i] = a->slots ? a->slots + (size_t)u * a->n_slots : NULL;
	}
	r->attrs[3] = &r->context;
	if (!a->n_slots)
		return 0;
	uint8_t *row = arena_alloc(&r->arena, a->n_slots);
	if (!row)
		return -ENOMEM;
	record_slots(a, &r->context, row);
	r->slots[3] = row;
	return 0;
}

/* The first chunk of a request's arena: room for the struct, a few candidates, the context's
 * slots and the context (a parsed value takes a few times its JSON text), so that one small
 * chunk usually holds it all. */
static size_t request_room(const ob_authorizer *a, const char *context_json)
{
	size_t room = sizeof(ob_authz_request) + 64 + a->n_slots;
	if (context_json)
		room += 4 * strnlen(context_json, 4096);
	return room;
}

int ob_authz_request_new(ob_authorizer *a, const char *principal, const char *action,
                         const char *resource, const char *context_json, ob_authz_request **ret,
                         ob_error *reterr)
{
	const char *refs[3] = {principal, action, resource};
	static const char *const names[3] = {"principal", "action", "resource"};

	assert_return(a && ret && principal && action && resource, -EINVAL);
	Arena arena = {.first = request_room(a, context_json)};
	ob_authz_request *r = arena_alloc(&arena, sizeof(*r));
	if (!r)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	*r = (ob_authz_request){.arena = arena};
	r->uids.base = a->n_known;
	int rc = 0;
	for (int i = 0; i < 3 && rc >= 0; i++) {
		const char *type;
		size_t tl, il, size = strlen(refs[i]) + 1;
		char *buf = arena_alloc(&r->arena, size); /* freed with the request */
		if (!buf || uid_parse_ref(refs[i], &type, &tl, buf, size, &il) < 0) {
			rc = ob_error_set(reterr, -EINVAL,
			                  "%s: '%.100s' is not an entity reference (expected "
			                  "Type::\"id\")",
			                  names[i], refs[i]);
			break;
		}
		r->var[i] = request_uid(a, r, type, tl, buf, il);
		if (r->var[i] == UINT32_MAX)
			rc = ob_error_set(reterr, -ENOMEM, "out of memory");
	}
	if (rc >= 0 && request_candidates(a, r) < 0)
		rc = ob_error_set(reterr, -ENOMEM, "out of memory");
	if (rc >= 0)
		rc = request_context(a, r, context_json, reterr);
	if (rc >= 0 && request_attrs(a, r) < 0)
		rc = ob_error_set(reterr, -ENOMEM, "out of memory");
	if (rc < 0) {
		(void)ob_authz_request_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}
