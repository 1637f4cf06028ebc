/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cedar authorization over a parsed policy set and entity store, with Cedar's semantics:
 * default deny; any satisfied forbid wins; a policy whose condition errors (a type error, a
 * missing attribute, an overflow) is not satisfied and is reported; `==` across types is
 * false, never an error; `&&`/`||` short-circuit; no coercion anywhere.
 *
 * An authorizer links a policy set to an entity store once: policy entity literals become
 * uids of the store (or of the authorizer's own table when the store lacks them), and the
 * policies that can apply to each action are listed on first use.  ob_authorize() then only
 * reads, writing intermediate sets and records into a scratch arena that is reset per
 * request and stops allocating once warm.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "policy/cedar.h"

struct ob_authorizer {
	const ob_policy_set *ps;
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
	Arena scratch;
	uint32_t *reasons, *errors;
	const char **msgs;
};

/* A request lives in its own small arena, the struct first: what a decision reads of it
 * (variables, candidates, the context record) sits in a few adjacent cache lines. */
struct ob_authz_request {
	Arena arena;
	UidTable uids; /* entities neither the store nor the policies know */
	uint32_t var[3];
	uint32_t n_cand;
	const uint32_t *cand; /* the policies whose three scopes match, in policy order */
	CVal context;
};

typedef struct Eval {
	const ob_authorizer *a;
	const ob_authz_request *r;
	const char *err;
} Eval;

static const Uid *uid_get(const Eval *e, uint32_t u)
{
	uint32_t n_store = e->a->es->uids.n;
	if (u < n_store)
		return &e->a->es->uids.uids[u];
	if (u < e->a->n_known)
		return &e->a->link.uids[u - n_store];
	return &e->r->uids.uids[u - e->a->n_known];
}

static const EntityData *entity(const ob_authorizer *a, uint32_t u)
{
	return u < a->es->uids.n && a->es->data[u].defined ? &a->es->data[u] : NULL;
}

/* A in B: the same entity, or B among A's ancestors. */
static bool entity_in(const ob_authorizer *a, uint32_t x, uint32_t y)
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

static bool like(const char *s, size_t n, const char *p, size_t m)
{
	size_t i = 0, j = 0, star = SIZE_MAX, mark = 0;

	while (i < n) {
		if (j < m && (uint8_t)p[j] == 0xFF) {
			star = j++;
			mark = i;
		} else if (j < m && p[j] == s[i]) {
			i++;
			j++;
		} else if (star != SIZE_MAX) {
			j = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (j < m && (uint8_t)p[j] == 0xFF)
		j++;
	return j == m;
}

static int fail(Eval *e, const char *msg)
{
	e->err = msg;
	return -1;
}

static int type_error(Eval *e, const char *want)
{
	return fail(e, want);
}

static int ev(Eval *e, uint32_t i, CVal *out);

static int ev_type(Eval *e, uint32_t i, uint8_t type, CVal *out, const char *msg)
{
	int r = ev(e, i, out);
	if (r < 0)
		return r;
	return out->type == type ? 0 : type_error(e, msg);
}

/* X in Y, Y an entity or a set of entities. */
static int ev_in(Eval *e, const CVal *x, const CVal *y, bool *ret)
{
	if (y->type == V_ENTITY) {
		*ret = entity_in(e->a, x->uid, y->uid);
		return 0;
	}
	if (y->type != V_SET)
		return type_error(e, "type error: `in` expects an entity or a set of entities");
	*ret = false;
	for (uint32_t k = 0; k < y->n; k++) {
		if (y->items[k].type != V_ENTITY)
			return type_error(e, "type error: `in` expects a set of entities");
		if (!*ret && entity_in(e->a, x->uid, y->items[k].uid))
			*ret = true;
	}
	return 0;
}

static int ev_arith(Eval *e, const Node *n, CVal *out)
{
	CVal x, y;
	int r = ev_type(e, n->a, V_LONG, &x, "type error: arithmetic expects longs");
	if (r >= 0)
		r = ev_type(e, n->b, V_LONG, &y, "type error: arithmetic expects longs");
	if (r < 0)
		return r;
	bool ovf = n->op == OP_ADD   ? __builtin_add_overflow(x.l, y.l, &out->l)
	           : n->op == OP_SUB ? __builtin_sub_overflow(x.l, y.l, &out->l)
	                             : __builtin_mul_overflow(x.l, y.l, &out->l);
	out->type = V_LONG;
	return ovf ? fail(e, "integer overflow") : 0;
}

static int ev_compare(Eval *e, const Node *n, CVal *out)
{
	CVal x, y;
	int r = ev_type(e, n->a, V_LONG, &x, "type error: comparison expects longs");
	if (r >= 0)
		r = ev_type(e, n->b, V_LONG, &y, "type error: comparison expects longs");
	if (r < 0)
		return r;
	*out = (CVal){.type = V_BOOL};
	out->b = n->op == OP_LT   ? x.l < y.l
	         : n->op == OP_LE ? x.l <= y.l
	         : n->op == OP_GT ? x.l > y.l
	                          : x.l >= y.l;
	return 0;
}

static int ev_logic(Eval *e, const Node *n, CVal *out)
{
	int r = ev_type(e, n->a, V_BOOL, out, "type error: && and || expect booleans");
	if (r < 0)
		return r;
	if (out->b == (n->op == OP_OR))
		return 0; /* decided by the left side: the right one is not evaluated */
	return ev_type(e, n->b, V_BOOL, out, "type error: && and || expect booleans");
}

static int ev_contains(Eval *e, const Node *n, CVal *out)
{
	CVal s, x;
	int r = ev_type(e, n->a, V_SET, &s, "type error: contains expects a set");
	if (r >= 0)
		r = ev(e, n->b, &x);
	if (r >= 0 && n->op != OP_CONTAINS && x.type != V_SET)
		r = type_error(e, "type error: containsAll/containsAny expect a set argument");
	if (r < 0)
		return r;
	*out = (CVal){.type = V_BOOL};
	if (n->op == OP_CONTAINS) {
		for (uint32_t k = 0; k < s.n && !out->b; k++)
			out->b = cval_equal(&s.items[k], &x);
		return 0;
	}
	bool all = n->op == OP_CONTAINS_ALL; /* all of x in s; or any of x in s */
	out->b = all;
	for (uint32_t k = 0; k < x.n && out->b == all; k++) {
		bool has = false;
		for (uint32_t m = 0; m < s.n && !has; m++)
			has = cval_equal(&s.items[m], &x.items[k]);
		if (has != all)
			out->b = !all;
	}
	return 0;
}

static int ev_attr(Eval *e, const Node *n, CVal *out)
{
	CVal x;
	int r = ev(e, n->a, &x);
	if (r < 0)
		return r;
	const CVal *rec = &x;
	if (x.type == V_ENTITY) {
		const EntityData *d = entity(e->a, x.uid);
		if (!d) {
			if (n->op == OP_HAS) {
				*out = (CVal){.type = V_BOOL, .b = false};
				return 0;
			}
			return fail(e, "entity does not exist");
		}
		rec = &d->attrs;
	} else if (x.type != V_RECORD) {
		return type_error(e, "type error: attribute access expects an entity or a record");
	}
	const CVal *v = record_get(rec, n->v.s, n->v.n, n->c);
	if (n->op == OP_HAS) {
		*out = (CVal){.type = V_BOOL, .b = v != NULL};
		return 0;
	}
	if (!v)
		return fail(e, "attribute not found");
	*out = *v;
	return 0;
}

static int ev_is(Eval *e, const Node *n, CVal *out)
{
	CVal x, y;
	int r = ev_type(e, n->a, V_ENTITY, &x, "type error: `is` expects an entity");
	if (r < 0)
		return r;
	const Uid *u = uid_get(e, x.uid);
	*out = (CVal){.type = V_BOOL,
	              .b = u->type_len == n->v.n && memcmp(u->type, n->v.s, n->v.n) == 0};
	if (!out->b || !n->c)
		return 0;
	r = ev(e, n->b, &y);
	return r < 0 ? r : ev_in(e, &x, &y, &out->b);
}

static int ev_build(Eval *e, const Node *n, CVal *out)
{
	Arena *scratch = (Arena *)&e->a->scratch;
	const uint32_t *kids = n->b ? e->a->ps->kids + n->a : NULL; /* none yet: NULL */

	if (n->op == OP_SET) {
		CVal *items = arena_alloc(scratch, (n->b ? n->b : 1) * sizeof(CVal));
		if (!items)
			return fail(e, "out of memory");
		for (uint32_t k = 0; k < n->b; k++)
			if (ev(e, kids[k], &items[k]) < 0)
				return -1;
		*out = (CVal){.type = V_SET, .n = n->b, .items = items};
		return 0;
	}
	CField *f = arena_alloc(scratch, (n->b ? n->b : 1) * sizeof(CField));
	if (!f)
		return fail(e, "out of memory");
	for (uint32_t k = 0; k < n->b; k++) {
		f[k] = n->v.fields[k];
		if (ev(e, kids[k], &f[k].v) < 0)
			return -1;
	}
	*out = (CVal){.type = V_RECORD, .n = n->b, .fields = f};
	return 0;
}

static int ev(Eval *e, uint32_t i, CVal *out)
{
	const Node *n = &e->a->ps->nodes[i];
	CVal x, y;

	switch (n->op) {
	case OP_LIT:
		*out = n->v;
		if (n->v.type == V_ENTITY)
			out->uid = e->a->lit_uid[n->v.uid];
		return 0;
	case OP_VAR:
		if (n->a == 3)
			*out = e->r->context;
		else
			*out = (CVal){.type = V_ENTITY, .uid = e->r->var[n->a]};
		return 0;
	case OP_NOT:
		if (ev_type(e, n->a, V_BOOL, out, "type error: ! expects a boolean") < 0)
			return -1;
		out->b = !out->b;
		return 0;
	case OP_NEG:
		if (ev_type(e, n->a, V_LONG, out, "type error: negation expects a long") < 0)
			return -1;
		if (out->l == INT64_MIN)
			return fail(e, "integer overflow");
		out->l = -out->l;
		return 0;
	case OP_EQ:
	case OP_NE:
		if (ev(e, n->a, &x) < 0 || ev(e, n->b, &y) < 0)
			return -1;
		*out = (CVal){.type = V_BOOL, .b = cval_equal(&x, &y) == (n->op == OP_EQ)};
		return 0;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		return ev_compare(e, n, out);
	case OP_ADD:
	case OP_SUB:
	case OP_MUL:
		return ev_arith(e, n, out);
	case OP_AND:
	case OP_OR:
		return ev_logic(e, n, out);
	case OP_IN:
		if (ev_type(e, n->a, V_ENTITY, &x,
		            "type error: `in` expects an entity on the left") < 0 ||
		    ev(e, n->b, &y) < 0)
			return -1;
		*out = (CVal){.type = V_BOOL};
		return ev_in(e, &x, &y, &out->b);
	case OP_CONTAINS:
	case OP_CONTAINS_ALL:
	case OP_CONTAINS_ANY:
		return ev_contains(e, n, out);
	case OP_IS_EMPTY:
		if (ev_type(e, n->a, V_SET, &x, "type error: isEmpty expects a set") < 0)
			return -1;
		*out = (CVal){.type = V_BOOL, .b = x.n == 0};
		return 0;
	case OP_ATTR:
	case OP_HAS:
		return ev_attr(e, n, out);
	case OP_LIKE:
		if (ev_type(e, n->a, V_STRING, &x, "type error: like expects a string") < 0)
			return -1;
		*out = (CVal){.type = V_BOOL, .b = like(x.s, x.n, n->v.s, n->v.n)};
		return 0;
	case OP_IF:
		if (ev_type(e, n->a, V_BOOL, &x, "type error: if expects a boolean condition") < 0)
			return -1;
		return ev(e, x.b ? n->b : n->c, out);
	case OP_IS:
		return ev_is(e, n, out);
	default:
		return ev_build(e, n, out);
	}
}

static bool scope_matches(const ob_authorizer *a, const Eval *e, const Scope *s, uint32_t u)
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
		const Uid *id = uid_get(e, u);
		if (id->type_len != s->type_len || memcmp(id->type, s->type, s->type_len) != 0)
			return false;
		return s->op == SCOPE_IS || entity_in(a, u, a->lit_uid[s->ents[0]]);
	}
	}
}

/* 1 satisfied, 0 not, -1 error (e->err says which). */
static int policy_eval(Eval *e, const Policy *p)
{
	/* The candidate list already matched the scopes. */
	for (uint32_t k = 0; k < p->n_conds; k++) {
		CVal v;
		if (ev(e, p->conds[k], &v) < 0)
			return -1;
		if (v.type != V_BOOL)
			return fail(e, "type error: a condition must be a boolean");
		if (v.b == p->unless[k])
			return 0;
	}
	return 1;
}

int ob_authorize(ob_authorizer *a, const ob_authz_request *r, ob_decision *ret)
{
	size_t n_permit = 0, n_forbid = 0, n_err = 0;

	assert_return(a && r && ret, -EINVAL);
	uint32_t n = a->ps->n;
	arena_reset(&a->scratch);
	/* reasons: satisfied forbids from the front, satisfied permits from the back */
	for (const uint32_t *c = r->cand, *end = c + r->n_cand; c < end; c++) {
		const Policy *p = &a->ps->policies[*c];
		Eval e = {.a = a, .r = r};
		int s = policy_eval(&e, p);
		if (s < 0) {
			a->errors[n_err] = *c;
			a->msgs[n_err++] = e.err;
		} else if (s > 0 && p->forbid) {
			a->reasons[n_forbid++] = *c;
		} else if (s > 0) {
			a->reasons[n - 1 - n_permit++] = *c;
		}
	}
	*ret = (ob_decision){.allow = n_forbid == 0 && n_permit > 0,
	                     .errors = a->errors,
	                     .error_messages = a->msgs,
	                     .n_errors = n_err};
	if (n_forbid) {
		ret->reasons = a->reasons;
		ret->n_reasons = n_forbid;
	} else {
		ret->reasons = a->reasons + n - n_permit;
		ret->n_reasons = n_permit;
	}
	return 0;
}

/* ---------------------------------------------------------------- linking */

ob_authorizer *ob_authorizer_free(ob_authorizer *a)
{
	if (!a)
		return NULL;
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
	Eval e = {.a = a, .r = r};
	size_t n = 0;

	while (from[n] != UINT32_MAX)
		n++;
	uint32_t *list = arena_alloc(arena, (n + 1) * sizeof(uint32_t)), k = 0;
	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (scope_matches(a, &e, &a->ps->policies[from[i]].scope[0], r->var[0]))
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
	Eval e = {.a = a, .r = r};
	size_t n = 0;

	if (!from)
		return -ENOMEM;
	while (from[n] != UINT32_MAX)
		n++;
	uint32_t *list = arena_alloc(&r->arena, (n ? n : 1) * sizeof(uint32_t)), k = 0;
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (scope_matches(a, &e, &a->ps->policies[from[i]].scope[2], r->var[2]))
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

int ob_authz_request_new(ob_authorizer *a, const char *principal, const char *action,
                         const char *resource, const char *context_json, ob_authz_request **ret,
                         ob_error *reterr)
{
	const char *refs[3] = {principal, action, resource};
	static const char *const names[3] = {"principal", "action", "resource"};

	assert_return(a && ret && principal && action && resource, -EINVAL);
	Arena arena = {.first = 512};
	ob_authz_request *r = arena_alloc(&arena, sizeof(*r));
	if (!r)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	*r = (ob_authz_request){.arena = arena};
	r->uids.base = a->n_known;
	int rc = 0;
	for (int i = 0; i < 3 && rc >= 0; i++) {
		const char *type;
		size_t tl, il, size = strlen(refs[i]) + 1;
		_cleanup_free_ char *buf = malloc(size);
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
	if (rc >= 0)
		rc = request_context(a, r, context_json, reterr);
	if (rc >= 0 && request_candidates(a, r) < 0)
		rc = ob_error_set(reterr, -ENOMEM, "out of memory");
	if (rc < 0) {
		(void)ob_authz_request_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}
