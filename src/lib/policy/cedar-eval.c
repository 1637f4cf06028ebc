/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cedar authorization over a prepared request (cedar-authz.c), with Cedar's semantics:
 * default deny; any satisfied forbid wins; a policy whose condition errors (a type error, a
 * missing attribute, an overflow) is not satisfied and is reported; `==` across types is
 * false, never an error; `&&`/`||` short-circuit; no coercion anywhere.
 *
 * The request's candidates already matched all three scopes, so a decision evaluates their
 * conditions only: a walk over the policy set's node array that only reads, writing the
 * sets and records a policy builds into a scratch arena reset per decision (it stops
 * allocating once warm).  Leaves (literals, variables, attributes of a variable) are read
 * in place rather than through the general walk; attributes are found by their slot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "policy/cedar-authz.h"
#include "policy/cedar.h"

/* The operators' handlers: each its own frame, so that the dispatch (ev) needs none. */
#define _noinline_ __attribute__((noinline))

typedef struct Eval {
	const ob_authorizer *a;
	const ob_authz_request *r;
	const Node *nodes;
	const uint32_t *lit_uid;
	const char *err;
} Eval;

static const EntityData *entity(const ob_authorizer *a, uint32_t u)
{
	return u < a->es->uids.n && a->es->data[u].defined ? &a->es->data[u] : NULL;
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

/* S (N bytes) like the pattern of N: its literal prefix first, then what follows. */
static bool like_node(const Node *n, const char *s, uint32_t len)
{
	uint32_t pre = n->c, m = n->v.n;

	if (len < pre || !bytes_equal(s, n->v.s, pre))
		return false;
	if (n->b == 0)
		return len == pre;
	if (n->b == 1 && pre + 1 == m) /* "prefix*" */
		return true;
	return like(s + pre, len - pre, n->v.s + pre, m - pre);
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
static int ev_attr(Eval *e, const Node *n, CVal *out);

/* Node I: literals and variables read in place, attributes without the general walk. */
static inline int operand(Eval *e, uint32_t i, CVal *out)
{
	const Node *n = &e->nodes[i];

	switch (n->op) {
	case OP_LIT:
		*out = n->v;
		if (n->v.type == V_ENTITY)
			out->uid = e->lit_uid[n->v.uid];
		return 0;
	case OP_VAR:
		if (n->a == 3)
			*out = e->r->context;
		else
			*out = (CVal){.type = V_ENTITY, .uid = e->r->var[n->a]};
		return 0;
	case OP_ATTR:
	case OP_HAS:
		return ev_attr(e, n, out);
	case OP_SET:
		if (!n->c)
			return ev(e, i, out);
		*out = n->v; /* a constant */
		return 0;
	default:
		return ev(e, i, out);
	}
}

static int ev_type(Eval *e, uint32_t i, uint8_t type, CVal *out, const char *msg)
{
	int r = operand(e, i, out);
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

static _noinline_ int ev_arith(Eval *e, const Node *n, CVal *out)
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

static _noinline_ int ev_compare(Eval *e, const Node *n, CVal *out)
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

static _noinline_ int ev_logic(Eval *e, const Node *n, CVal *out)
{
	int r = ev_type(e, n->a, V_BOOL, out, "type error: && and || expect booleans");
	if (r < 0)
		return r;
	if (out->b == (n->op == OP_OR))
		return 0; /* decided by the left side: the right one is not evaluated */
	return ev_type(e, n->b, V_BOOL, out, "type error: && and || expect booleans");
}

static _noinline_ int ev_contains(Eval *e, const Node *n, CVal *out)
{
	CVal s, x;
	int r = ev_type(e, n->a, V_SET, &s, "type error: contains expects a set");
	if (r >= 0)
		r = operand(e, n->b, &x);
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

/* The field N names in the record REC, whose slots are ROW (or NULL), or NULL. */
static const CVal *field(const Eval *e, const Node *n, const CVal *rec, const uint8_t *row)
{
	if (row && n->b < e->a->n_slots) {
		uint8_t s = row[n->b];
		if (s != SLOT_FAR)
			return s ? &rec->fields[s - 1].v : NULL;
	}
	return record_get(rec, n->v.s, n->v.n, n->c);
}

static int ev_attr(Eval *e, const Node *n, CVal *out)
{
	const Node *l = &e->nodes[n->a];
	const uint8_t *row = NULL;
	const CVal *rec;
	CVal x;

	if (l->op == OP_VAR) { /* prepared with the request */
		rec = e->r->attrs[l->a];
		row = e->r->slots[l->a];
	} else {
		if (ev(e, n->a, &x) < 0)
			return -1;
		rec = &x;
		if (x.type == V_ENTITY) {
			const EntityData *d = entity(e->a, x.uid);
			rec = d ? &d->attrs : NULL;
			if (d && e->a->slots)
				row = e->a->slots + (size_t)x.uid * e->a->n_slots;
		} else if (x.type != V_RECORD) {
			return type_error(
			    e, "type error: attribute access expects an entity or a record");
		}
	}
	if (!rec) { /* an entity the store lacks */
		if (n->op == OP_HAS) {
			*out = (CVal){.type = V_BOOL, .b = false};
			return 0;
		}
		return fail(e, "entity does not exist");
	}
	const CVal *v = field(e, n, rec, row);
	if (n->op == OP_HAS) {
		*out = (CVal){.type = V_BOOL, .b = v != NULL};
		return 0;
	}
	if (!v)
		return fail(e, "attribute not found");
	*out = *v;
	return 0;
}

static _noinline_ int ev_is(Eval *e, const Node *n, CVal *out)
{
	CVal x, y;
	int r = ev_type(e, n->a, V_ENTITY, &x, "type error: `is` expects an entity");
	if (r < 0)
		return r;
	const Uid *u = authz_uid(e->a, e->r, x.uid);
	*out = (CVal){.type = V_BOOL,
	              .b = u->type_len == n->v.n && memcmp(u->type, n->v.s, n->v.n) == 0};
	if (!out->b || !n->c)
		return 0;
	r = operand(e, n->b, &y);
	return r < 0 ? r : ev_in(e, &x, &y, &out->b);
}

static _noinline_ int ev_build(Eval *e, const Node *n, CVal *out)
{
	Arena *scratch = (Arena *)&e->a->scratch;
	const uint32_t *kids = n->b ? e->a->ps->kids + n->a : NULL; /* none yet: NULL */

	if (n->op == OP_SET) {
		CVal *items = arena_alloc(scratch, (n->b ? n->b : 1) * sizeof(CVal));
		if (!items)
			return fail(e, "out of memory");
		for (uint32_t k = 0; k < n->b; k++)
			if (operand(e, kids[k], &items[k]) < 0)
				return -1;
		*out = (CVal){.type = V_SET, .n = n->b, .items = items};
		return 0;
	}
	CField *f = arena_alloc(scratch, (n->b ? n->b : 1) * sizeof(CField));
	if (!f)
		return fail(e, "out of memory");
	for (uint32_t k = 0; k < n->b; k++) {
		f[k] = n->v.fields[k];
		if (operand(e, kids[k], &f[k].v) < 0)
			return -1;
	}
	*out = (CVal){.type = V_RECORD, .n = n->b, .fields = f};
	return 0;
}

static _noinline_ int ev_not(Eval *e, const Node *n, CVal *out)
{
	if (ev_type(e, n->a, V_BOOL, out, "type error: ! expects a boolean") < 0)
		return -1;
	out->b = !out->b;
	return 0;
}

static _noinline_ int ev_neg(Eval *e, const Node *n, CVal *out)
{
	if (ev_type(e, n->a, V_LONG, out, "type error: negation expects a long") < 0)
		return -1;
	if (out->l == INT64_MIN)
		return fail(e, "integer overflow");
	out->l = -out->l;
	return 0;
}

static _noinline_ int ev_equal(Eval *e, const Node *n, CVal *out)
{
	CVal x, y;
	if (operand(e, n->a, &x) < 0 || operand(e, n->b, &y) < 0)
		return -1;
	*out = (CVal){.type = V_BOOL, .b = cval_equal(&x, &y) == (n->op == OP_EQ)};
	return 0;
}

static _noinline_ int ev_in_op(Eval *e, const Node *n, CVal *out)
{
	CVal x, y;
	if (ev_type(e, n->a, V_ENTITY, &x, "type error: `in` expects an entity on the left") < 0 ||
	    operand(e, n->b, &y) < 0)
		return -1;
	*out = (CVal){.type = V_BOOL};
	return ev_in(e, &x, &y, &out->b);
}

static _noinline_ int ev_is_empty(Eval *e, const Node *n, CVal *out)
{
	CVal x;
	if (ev_type(e, n->a, V_SET, &x, "type error: isEmpty expects a set") < 0)
		return -1;
	*out = (CVal){.type = V_BOOL, .b = x.n == 0};
	return 0;
}

static _noinline_ int ev_like(Eval *e, const Node *n, CVal *out)
{
	CVal x;
	if (ev_type(e, n->a, V_STRING, &x, "type error: like expects a string") < 0)
		return -1;
	*out = (CVal){.type = V_BOOL, .b = like_node(n, x.s, x.n)};
	return 0;
}

static _noinline_ int ev_if(Eval *e, const Node *n, CVal *out)
{
	CVal x;
	if (ev_type(e, n->a, V_BOOL, &x, "type error: if expects a boolean condition") < 0)
		return -1;
	return operand(e, x.b ? n->b : n->c, out);
}

/* Node I, any operator: a dispatch only (each case a tail call), so that it costs no frame. */
static int ev(Eval *e, uint32_t i, CVal *out)
{
	const Node *n = &e->nodes[i];

	switch (n->op) {
	case OP_LIT:
	case OP_VAR:
		return operand(e, i, out);
	case OP_ATTR:
	case OP_HAS:
		return ev_attr(e, n, out);
	case OP_NOT:
		return ev_not(e, n, out);
	case OP_NEG:
		return ev_neg(e, n, out);
	case OP_EQ:
	case OP_NE:
		return ev_equal(e, n, out);
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
		return ev_in_op(e, n, out);
	case OP_CONTAINS:
	case OP_CONTAINS_ALL:
	case OP_CONTAINS_ANY:
		return ev_contains(e, n, out);
	case OP_IS_EMPTY:
		return ev_is_empty(e, n, out);
	case OP_LIKE:
		return ev_like(e, n, out);
	case OP_IF:
		return ev_if(e, n, out);
	case OP_IS:
		return ev_is(e, n, out);
	default:
		if (n->op == OP_SET && n->c) {
			*out = n->v; /* a constant */
			return 0;
		}
		return ev_build(e, n, out);
	}
}

/* The condition ROOT, a `when` or an `unless`: 1 satisfied, 0 not, -1 error (e->err says
 * which). */
static int cond_eval(Eval *e, uint32_t root, bool unless)
{
	CVal v;
	if (operand(e, root, &v) < 0)
		return -1;
	if (v.type != V_BOOL)
		return fail(e, "type error: a condition must be a boolean");
	return v.b != unless;
}

/* Policy P's conditions in order (the candidate list already matched its scopes). */
static int policy_eval(Eval *e, const Policy *p)
{
	for (uint32_t k = 0; k < p->n_conds; k++) {
		int s = cond_eval(e, p->conds[k], p->unless[k]);
		if (s <= 0)
			return s;
	}
	return 1;
}

int ob_authorize(ob_authorizer *a, const ob_authz_request *r, ob_decision *ret)
{
	size_t n_permit = 0, n_forbid = 0, n_err = 0;

	assert_return(a && r && ret, -EINVAL);
	uint32_t n = a->ps->n;
	/* What the conditions will most likely read, fetched while the first ones run: the
	 * principal's and the context's attributes and slot rows. */
	for (int i = 0; i < 4; i += 3)
		if (r->attrs[i]) {
			__builtin_prefetch(r->attrs[i]->fields);
			__builtin_prefetch(r->slots[i]);
		}
	arena_reset(&a->scratch);
	/* reasons: satisfied forbids from the front, satisfied permits from the back */
	for (const uint32_t *c = r->cand, *end = c + r->n_cand; c < end; c++) {
		const PolicyRun *run = &a->runs[*c];
		Eval e = {.a = a, .r = r, .nodes = a->ps->nodes, .lit_uid = a->lit_uid};
		int s = run->n == 1   ? cond_eval(&e, run->root, run->unless)
		        : run->n == 0 ? 1
		                      : policy_eval(&e, &a->ps->policies[*c]);
		if (s < 0) {
			a->errors[n_err] = *c;
			a->msgs[n_err++] = e.err;
		} else if (s > 0 && run->forbid) {
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
