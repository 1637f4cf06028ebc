/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cedar policies in the JSON policy format ("EST"), parsed once into a flat node array
 * (cedar.h).  A policy set is {"staticPolicies": {id: policy}} or a list of policies (ids
 * "policy0", "policy1", … as Cedar names unnamed policies).  Anything outside the supported
 * subset (templates, slots, extension functions, `__extn` values) is refused with the JSON
 * path of the construct, never skipped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "policy/cedar.h"

typedef struct PParser {
	ob_policy_set *ps;
	const JsonDoc *doc;
} PParser;

static int pfail(const PParser *p, const char *path, const char *fmt, ...) _printf_(3, 4);
static int pfail(const PParser *p, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = json_doc_failv(p->doc, -EINVAL, path, fmt, ap);
	va_end(ap);
	return r;
}

static int oom(const PParser *p)
{
	return ob_error_set(p->doc->err, -ENOMEM, "out of memory");
}

static int node_add(const PParser *p, const Node *n, uint32_t *ret)
{
	ob_policy_set *ps = p->ps;
	if (ps->n_nodes == ps->alloc_nodes) {
		uint32_t alloc = ps->alloc_nodes ? ps->alloc_nodes * 2 : 256;
		Node *nodes = reallocarray(ps->nodes, alloc, sizeof(Node));
		if (!nodes)
			return oom(p);
		ps->nodes = nodes;
		ps->alloc_nodes = alloc;
	}
	ps->nodes[ps->n_nodes] = *n;
	*ret = ps->n_nodes++;
	return 0;
}

/* Reserves N consecutive kid slots; returns the first. */
static int kids_add(const PParser *p, uint32_t n, uint32_t *ret)
{
	ob_policy_set *ps = p->ps;
	if (ps->n_kids + n > ps->alloc_kids) {
		uint32_t alloc = MAX(ps->alloc_kids * 2, ps->n_kids + n + 64);
		uint32_t *kids = reallocarray(ps->kids, alloc, sizeof(uint32_t));
		if (!kids)
			return oom(p);
		ps->kids = kids;
		ps->alloc_kids = alloc;
	}
	*ret = ps->n_kids;
	ps->n_kids += n;
	return 0;
}

/* An entity literal, {"type", "id"} or {"__entity": ...}, interned among the set's
 * literals: the same parser (and checks) as entity references in entity files. */
static int entity_lit(const PParser *p, const json_t *v, const char *path, uint32_t *ret)
{
	ValueParser vp = {.arena = &p->ps->arena,
	                  .uids = &p->ps->lits,
	                  .err = p->doc->err,
	                  .fail = cedar_value_fail,
	                  .userdata = p->doc};
	return uid_from_json(&vp, v, path, ret);
}

static int expr(const PParser *p, const json_t *j, const char *path, unsigned depth, uint32_t *ret);

typedef int (*ChildFn)(const PParser *p, const json_t *j, const char *path, unsigned depth,
                       uint32_t *ret);

/* A set N of literals without entities (their uids are the authorizer's) and of such sets
 * is a constant: its value, built once, in N->v, and N->c = 1. */
static int set_constant(const PParser *p, Node *n)
{
	const ob_policy_set *ps = p->ps;

	for (uint32_t i = 0; i < n->b; i++) {
		const Node *kid = &ps->nodes[ps->kids[n->a + i]];
		if (!(kid->op == OP_LIT && kid->v.type != V_ENTITY) &&
		    !(kid->op == OP_SET && kid->c))
			return 0;
	}
	CVal *items = arena_alloc(&p->ps->arena, (n->b ? n->b : 1) * sizeof(CVal));
	if (!items)
		return oom(p);
	for (uint32_t i = 0; i < n->b; i++)
		items[i] = ps->nodes[ps->kids[n->a + i]].v;
	n->v = (CVal){.type = V_SET, .n = n->b, .items = items};
	n->c = 1;
	return 0;
}

/* A set literal: each element of the JSON array ARR parsed by CHILD. */
static int set_node(const PParser *p, const json_t *arr, const char *path, unsigned depth,
                    ChildFn child, uint32_t *ret)
{
	uint32_t k = 0, cnt = (uint32_t)json_array_size(arr);
	char sub[256];
	int r = kids_add(p, cnt, &k);

	for (uint32_t i = 0; r >= 0 && i < cnt; i++) {
		uint32_t kid = 0;
		(void)snprintf(sub, sizeof(sub), "%.200s[%u]", path, i);
		r = child(p, json_array_get(arr, i), sub, depth + 1, &kid);
		if (r >= 0)
			p->ps->kids[k + i] = kid; /* re-read: the child may have grown the array */
	}
	Node n = {.op = OP_SET, .a = k, .b = cnt};
	if (r >= 0)
		r = set_constant(p, &n);
	return r < 0 ? r : node_add(p, &n, ret);
}

/* A record literal: each value of the JSON object OBJ parsed by CHILD; fields sorted. */
static int record_node(const PParser *p, const json_t *obj, const char *path, unsigned depth,
                       ChildFn child, uint32_t *ret)
{
	uint32_t k = 0, cnt = (uint32_t)json_object_size(obj), i = 0;
	CField *keys = arena_alloc(&p->ps->arena, (cnt ? cnt : 1) * sizeof(CField));
	const char *key;
	size_t key_len;
	json_t *x;
	char sub[256];

	if (!keys || kids_add(p, cnt, &k) < 0)
		return oom(p);
	json_object_keylen_foreach((json_t *)obj, key, key_len, x) {
		uint32_t kid = 0;
		(void)snprintf(sub, sizeof(sub), "%.200s.%.40s", path, key);
		int r = child(p, x, sub, depth + 1, &kid);
		if (r < 0)
			return r;
		keys[i].len = (uint32_t)key_len;
		keys[i].key = arena_strndup(&p->ps->arena, key, keys[i].len);
		keys[i].hash = key_hash(key, keys[i].len);
		keys[i++].v.uid = kid; /* the node travels with its key through the sort */
	}
	(void)record_sort(keys, cnt);
	for (i = 0; i < cnt; i++)
		p->ps->kids[k + i] = keys[i].v.uid;
	Node n = {
	    .op = OP_RECORD, .a = k, .b = cnt, .v = {.type = V_RECORD, .n = cnt, .fields = keys}};
	return node_add(p, &n, ret);
}

/* {"Value": X}: scalars are literals; sets and records become literal-building nodes, so
 * that entity literals inside them are looked up like any other. */
static int value_node(const PParser *p, const json_t *v, const char *path, unsigned depth,
                      uint32_t *ret)
{
	Node n = {.op = OP_LIT};

	if (depth > CEDAR_MAX_DEPTH)
		return pfail(p, path, "nested more than %d levels", CEDAR_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_TRUE:
	case JSON_FALSE:
		n.v = (CVal){.type = V_BOOL, .b = json_is_true(v)};
		return node_add(p, &n, ret);
	case JSON_INTEGER:
		n.v = (CVal){.type = V_LONG, .l = (int64_t)json_integer_value(v)};
		return node_add(p, &n, ret);
	case JSON_STRING: {
		size_t len = json_string_length(v);
		char *s = arena_strndup(&p->ps->arena, json_string_value(v), len);
		if (!s || len > UINT32_MAX / 2)
			return oom(p);
		n.v = (CVal){.type = V_STRING, .n = (uint32_t)len, .s = s};
		return node_add(p, &n, ret);
	}
	case JSON_ARRAY:
		return set_node(p, v, path, depth, value_node, ret);
	case JSON_OBJECT:
		if (json_object_get(v, "__entity")) {
			n.v.type = V_ENTITY;
			int r = entity_lit(p, v, path, &n.v.uid);
			return r < 0 ? r : node_add(p, &n, ret);
		}
		if (json_object_get(v, "__extn"))
			return pfail(p, path, "extension values (__extn) are not supported");
		break;
	case JSON_REAL:
		return pfail(p, path, "expected a long (an integer), got a fraction");
	default:
		return pfail(p, path, "null is not a Cedar value");
	}
	return record_node(p, v, path, depth, value_node, ret); /* a record value */
}

static const struct {
	const char *name;
	Op op;
} binary_ops[] = {
    {"==", OP_EQ},
    {"!=", OP_NE},
    {"<", OP_LT},
    {"<=", OP_LE},
    {">", OP_GT},
    {">=", OP_GE},
    {"+", OP_ADD},
    {"-", OP_SUB},
    {"*", OP_MUL},
    {"&&", OP_AND},
    {"||", OP_OR},
    {"in", OP_IN},
    {"contains", OP_CONTAINS},
    {"containsAll", OP_CONTAINS_ALL},
    {"containsAny", OP_CONTAINS_ANY},
};

static bool known_op(const char *op)
{
	static const char *const others[] = {"!",   "neg",  "isEmpty",      ".",
	                                     "has", "like", "if-then-else", "is"};
	for (size_t i = 0; i < ELEMENTSOF(binary_ops); i++)
		if (streq(op, binary_ops[i].name))
			return true;
	for (size_t i = 0; i < ELEMENTSOF(others); i++)
		if (streq(op, others[i]))
			return true;
	return false;
}

/* Child KEY of the operator object ARGS (at PATH.OP), parsed into *ret. */
static int operand(const PParser *p, const json_t *args, const char *path, const char *key,
                   unsigned depth, uint32_t *ret)
{
	char sub[256];
	const json_t *v = json_object_get(args, key);

	(void)snprintf(sub, sizeof(sub), "%.200s.%s", path, key);
	if (!v)
		return pfail(p, path, "missing \"%s\"", key);
	return expr(p, v, sub, depth + 1, ret);
}

/* The slot of the attribute name N->v (a new one while there are fewer than CEDAR_SLOTS,
 * else none) into N->b, its hash into N->c. */
static int attr_slot(const PParser *p, Node *n)
{
	ob_policy_set *ps = p->ps;

	n->c = key_hash(n->v.s, n->v.n);
	for (uint32_t i = 0; i < ps->n_keys; i++)
		if (ps->keys[i].hash == n->c && ps->keys[i].len == n->v.n &&
		    memcmp(ps->keys[i].key, n->v.s, n->v.n) == 0) {
			n->b = i;
			return 0;
		}
	n->b = UINT32_MAX;
	if (ps->n_keys == CEDAR_SLOTS)
		return 0;
	if (!ps->keys && !(ps->keys = arena_alloc(&ps->arena, CEDAR_SLOTS * sizeof(CField))))
		return oom(p);
	ps->keys[ps->n_keys] = (CField){.key = n->v.s, .len = n->v.n, .hash = n->c};
	n->b = ps->n_keys++;
	return 0;
}

/* The attribute name A (a JSON string) into N->v, its slot and hash into N. */
static int attr_string(const PParser *p, const json_t *a, Node *n)
{
	n->v.n = (uint32_t)json_string_length(a);
	n->v.s = arena_strndup(&p->ps->arena, json_string_value(a), n->v.n);
	return n->v.s ? attr_slot(p, n) : oom(p);
}

static int attr_name(const PParser *p, const json_t *args, const char *path, Node *n)
{
	const json_t *a = json_object_get(args, "attr");
	if (!json_is_string(a))
		return pfail(p, path, "expected \"attr\": a string");
	return attr_string(p, a, n);
}

/* `e has a.b.c`, which Cedar 4 writes with "attr": ["a", "b", "c"]: Cedar's meaning,
 * `e has a && e.a has b && e.a.b has c`, built from the node LEFT into *N. */
static int has_path(const PParser *p, const json_t *attrs, const char *path, uint32_t left, Node *n)
{
	size_t k = json_array_size(attrs);
	uint32_t cur = left, acc = UINT32_MAX, hn = 0;
	int r = 0;

	if (k == 0)
		return pfail(p, path,
		             "expected \"attr\": a string or a non-empty array of strings");
	for (size_t i = 0; i < k && r >= 0; i++) {
		const json_t *a = json_array_get(attrs, i);
		Node h = {.op = OP_HAS, .a = cur};
		if (!json_is_string(a))
			return pfail(p, path, "expected \"attr\": an array of strings");
		r = attr_string(p, a, &h);
		if (r < 0)
			return r;
		if (i + 1 < k) { /* the next test is on e.a */
			Node get = {.op = OP_ATTR, .a = cur, .b = h.b, .c = h.c, .v = h.v};
			r = node_add(p, &get, &cur);
		}
		if (i + 1 == k && acc == UINT32_MAX) {
			*n = h;
			return 0;
		}
		if (r >= 0)
			r = node_add(p, &h, &hn);
		Node and = {.op = OP_AND, .a = acc, .b = hn};
		if (r >= 0 && i + 1 == k) {
			*n = and;
			return 0;
		}
		if (r >= 0)
			r = acc == UINT32_MAX ? (acc = hn, 0) : node_add(p, &and, &acc);
	}
	return r;
}

/* A `like` pattern: [{"Literal": "c"} | "Wildcard" ...] (Cedar's JSON has no string form).
 * Stored as bytes with 0xFF (never in UTF-8) as the wildcard. */
static int like_pattern(const PParser *p, const json_t *pat, const char *path, CVal *v)
{
	size_t cap = 16, k = 0;
	char sub[256];

	for (size_t i = 0; json_is_array(pat) && i < json_array_size(pat); i++) {
		const json_t *lit = json_object_get(json_array_get(pat, i), "Literal");
		cap += lit ? json_string_length(lit) : 1;
	}
	char *buf = arena_alloc(&p->ps->arena, cap);
	if (!buf)
		return oom(p);
	if (json_is_array(pat)) {
		for (size_t i = 0; i < json_array_size(pat); i++) {
			const json_t *e = json_array_get(pat, i);
			const json_t *lit = json_object_get(e, "Literal");
			(void)snprintf(sub, sizeof(sub), "%.200s.pattern[%zu]", path, i);
			if (json_is_string(e) && streq(json_string_value(e), "Wildcard")) {
				buf[k++] = (char)0xFF;
			} else if (json_is_string(lit) && json_object_size(e) == 1) {
				memcpy(buf + k, json_string_value(lit), json_string_length(lit));
				k += json_string_length(lit);
			} else {
				return pfail(p, sub,
				             "expected \"Wildcard\" or {\"Literal\": \"...\"}");
			}
		}
	} else {
		return pfail(
		    p, path,
		    "expected \"pattern\": an array of \"Wildcard\" and {\"Literal\": ...}");
	}
	*v = (CVal){.type = V_STRING, .n = (uint32_t)k, .s = buf};
	return 0;
}

static int expr_op(const PParser *p, const char *op, const json_t *args, const char *path,
                   unsigned depth, Node *n)
{
	for (size_t i = 0; i < ELEMENTSOF(binary_ops); i++)
		if (streq(op, binary_ops[i].name)) {
			n->op = binary_ops[i].op;
			int r = operand(p, args, path, "left", depth, &n->a);
			return r < 0 ? r : operand(p, args, path, "right", depth, &n->b);
		}
	if (streq(op, "!") || streq(op, "neg") || streq(op, "isEmpty")) {
		n->op = streq(op, "!") ? OP_NOT : streq(op, "neg") ? OP_NEG : OP_IS_EMPTY;
		return operand(p, args, path, "arg", depth, &n->a);
	}
	if (streq(op, ".") || streq(op, "has")) {
		n->op = streq(op, ".") ? OP_ATTR : OP_HAS;
		int r = operand(p, args, path, "left", depth, &n->a);
		const json_t *attrs = json_object_get(args, "attr");
		if (r >= 0 && n->op == OP_HAS && json_is_array(attrs)) {
			/* k names make a chain of k tests: deeper than it looks */
			if (depth + json_array_size(attrs) > CEDAR_MAX_DEPTH - 8)
				return pfail(p, path, "nested more than %d levels",
				             CEDAR_MAX_DEPTH - 8);
			return has_path(p, attrs, path, n->a, n);
		}
		return r < 0 ? r : attr_name(p, args, path, n);
	}
	if (streq(op, "like")) {
		n->op = OP_LIKE;
		int r = operand(p, args, path, "left", depth, &n->a);
		if (r >= 0)
			r = like_pattern(p, json_object_get(args, "pattern"), path, &n->v);
		for (uint32_t i = 0; r >= 0 && i < n->v.n; i++) /* wildcards, literal prefix */
			if ((uint8_t)n->v.s[i] == 0xFF && n->b++ == 0)
				n->c = i;
		if (n->b == 0)
			n->c = n->v.n;
		return r;
	}
	if (streq(op, "if-then-else")) {
		n->op = OP_IF;
		int r = operand(p, args, path, "if", depth, &n->a);
		if (r >= 0)
			r = operand(p, args, path, "then", depth, &n->b);
		return r < 0 ? r : operand(p, args, path, "else", depth, &n->c);
	}
	if (streq(op, "is")) {
		const json_t *t = json_object_get(args, "entity_type");
		n->op = OP_IS;
		if (!json_is_string(t))
			return pfail(p, path, "expected \"entity_type\": a string");
		n->v.n = (uint32_t)json_string_length(t);
		n->v.s = arena_strndup(&p->ps->arena, json_string_value(t), n->v.n);
		int r = n->v.s ? operand(p, args, path, "left", depth, &n->a) : oom(p);
		n->c = json_object_get(args, "in") != NULL;
		return r < 0 || !n->c ? r : operand(p, args, path, "in", depth, &n->b);
	}
	return pfail(p, path,
	             "unsupported operator \"%.40s\" (extension functions, slots and "
	             "unknowns are outside the supported Cedar subset)",
	             op);
}

static int expr(const PParser *p, const json_t *j, const char *path, unsigned depth, uint32_t *ret)
{
	char sub[256];
	Node n = {0};

	if (depth > CEDAR_MAX_DEPTH)
		return pfail(p, path, "nested more than %d levels", CEDAR_MAX_DEPTH);
	if (!json_is_object(j) || json_object_size(j) != 1)
		return pfail(p, path, "expected an expression: an object with one operator key");
	const char *op = json_object_iter_key(json_object_iter((json_t *)j));
	const json_t *args = json_object_iter_value(json_object_iter((json_t *)j));
	(void)snprintf(sub, sizeof(sub), "%.200s.%.40s", path, op);
	if (streq(op, "Value"))
		return value_node(p, args, sub, depth + 1, ret);
	if (streq(op, "Var")) {
		static const char *const vars[] = {"principal", "action", "resource", "context"};
		for (uint32_t i = 0; json_is_string(args) && i < 4; i++)
			if (streq(json_string_value(args), vars[i])) {
				n = (Node){.op = OP_VAR, .a = i};
				return node_add(p, &n, ret);
			}
		return pfail(p, sub, "expected principal, action, resource or context");
	}
	if (streq(op, "Set"))
		return json_is_array(args) ? set_node(p, args, sub, depth, expr, ret)
		                           : pfail(p, sub, "expected an array of expressions");
	if (streq(op, "Record"))
		return json_is_object(args) ? record_node(p, args, sub, depth, expr, ret)
		                            : pfail(p, sub, "expected an object of expressions");
	if (!json_is_object(args))
		return pfail(p, sub,
		             known_op(op) ? "expected the operator's arguments as an object"
		                          : "unknown operator (expected Value, Var, Set, "
		                            "Record or an operator such as ==, &&, in, .)");
	int r = expr_op(p, op, args, sub, depth, &n);
	return r < 0 ? r : node_add(p, &n, ret);
}

/* An action scope names actions: entities of type Action or NS::Action, as Cedar requires. */
static int action_lit(const PParser *p, const json_t *v, const char *path, uint32_t *ret)
{
	int r = entity_lit(p, v, path, ret);
	if (r < 0)
		return r;
	const Uid *u = &p->ps->lits.uids[*ret];
	size_t n = u->type_len;
	if ((n == 6 || (n > 8 && memcmp(u->type + n - 8, "::", 2) == 0)) &&
	    memcmp(u->type + n - 6, "Action", 6) == 0)
		return 0;
	char t[160];
	return pfail(p, path, "expected an entity of type Action (or NS::Action), got %s",
	             uid_text(u, t, sizeof(t)));
}

/* principal/resource: All, ==, in, is, is … in; action: All, ==, in (one or a list). */
static int scope(const PParser *p, const json_t *j, const char *path, int which, Scope *s)
{
	char sub[256];
	const json_t *op = json_object_get(j, "op");
	const char *o = json_string_value(op);

	*s = (Scope){0};
	if (!json_is_object(j) || !o)
		return pfail(p, path,
		             "expected a scope {\"op\": \"All\" | \"==\" | \"in\" | \"is\"}");
	if (streq(o, "All") || streq(o, "all"))
		return 0;
	if (json_object_get(j, "slot"))
		return pfail(p, path, "template slots are not supported");
	const json_t *ent = json_object_get(j, "entity"), *ents = json_object_get(j, "entities");
	uint32_t *one =
	    arena_alloc(&p->ps->arena, sizeof(uint32_t) * MAX(json_array_size(ents), 1));
	if (!one)
		return oom(p);
	s->ents = one;
	if (streq(o, "==") || (streq(o, "in") && ent)) {
		s->op = streq(o, "==") ? SCOPE_EQ : SCOPE_IN;
		s->n_ents = 1;
		(void)snprintf(sub, sizeof(sub), "%s.entity", path);
		if (!ent)
			return pfail(p, path, "missing \"entity\"");
		return which == 1 ? action_lit(p, ent, sub, one) : entity_lit(p, ent, sub, one);
	}
	if (streq(o, "in") && which == 1 && json_is_array(ents)) {
		s->op = SCOPE_IN;
		s->n_ents = (uint32_t)json_array_size(ents);
		for (uint32_t i = 0; i < s->n_ents; i++) {
			(void)snprintf(sub, sizeof(sub), "%s.entities[%u]", path, i);
			int r = action_lit(p, json_array_get(ents, i), sub, &one[i]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (streq(o, "is") && which != 1) {
		const json_t *t = json_object_get(j, "entity_type"), *in = json_object_get(j, "in");
		if (!json_is_string(t))
			return pfail(p, path, "expected \"entity_type\": a string");
		s->op = in ? SCOPE_IS_IN : SCOPE_IS;
		s->type_len = (uint32_t)json_string_length(t);
		s->type = arena_strndup(&p->ps->arena, json_string_value(t), s->type_len);
		if (!s->type)
			return oom(p);
		if (!in)
			return 0;
		s->n_ents = 1;
		(void)snprintf(sub, sizeof(sub), "%s.in.entity", path);
		return entity_lit(p, json_object_get(in, "entity"), sub, one);
	}
	return pfail(p, path, "unsupported scope operator \"%.20s\" here", o);
}

static int policy(const PParser *p, const json_t *j, const char *id, const char *path, Policy *pol)
{
	static const char *const scopes[] = {"principal", "action", "resource"};
	char sub[256];
	const char *key;
	json_t *v;

	if (!json_is_object(j))
		return pfail(p, path, "expected a policy object");
	json_object_foreach((json_t *)j, key, v)
		if (!streq(key, "effect") && !streq(key, "principal") && !streq(key, "action") &&
		    !streq(key, "resource") && !streq(key, "conditions") &&
		    !streq(key, "annotations"))
			return pfail(p, path,
			             "unknown key \"%.40s\" (expected effect, principal, action, "
			             "resource, conditions, annotations)",
			             key);
	pol->id = arena_strndup(&p->ps->arena, id, strlen(id));
	const char *effect = json_string_value(json_object_get(j, "effect"));
	(void)snprintf(sub, sizeof(sub), "%s.effect", path);
	if (!effect || (!streq(effect, "permit") && !streq(effect, "forbid")))
		return pfail(p, json_object_get(j, "effect") ? sub : path,
		             "expected \"effect\": \"permit\" or \"forbid\"");
	pol->forbid = streq(effect, "forbid");
	for (int i = 0; i < 3; i++) {
		(void)snprintf(sub, sizeof(sub), "%s.%s", path, scopes[i]);
		if (!json_object_get(j, scopes[i]))
			return pfail(p, path, "missing \"%s\"", scopes[i]);
		int r = scope(p, json_object_get(j, scopes[i]), sub, i, &pol->scope[i]);
		if (r < 0)
			return r;
	}
	const json_t *conds = json_object_get(j, "conditions");
	(void)snprintf(sub, sizeof(sub), "%s.conditions", path);
	if (!conds)
		return pfail(p, path, "missing \"conditions\" (Cedar requires it; [] for none)");
	if (!json_is_array(conds))
		return pfail(p, sub, "expected an array of {\"kind\", \"body\"}");
	pol->n_conds = (uint32_t)json_array_size(conds);
	uint32_t *roots = arena_alloc(&p->ps->arena, (pol->n_conds + 1) * sizeof(uint32_t));
	bool *unless = arena_alloc(&p->ps->arena, pol->n_conds + 1);
	if (!roots || !unless || !pol->id)
		return oom(p);
	for (uint32_t i = 0; i < pol->n_conds; i++) {
		const json_t *c = json_array_get(conds, i);
		const char *kind = json_string_value(json_object_get(c, "kind"));
		(void)snprintf(sub, sizeof(sub), "%s.conditions[%u]", path, i);
		if (!kind || (!streq(kind, "when") && !streq(kind, "unless")) ||
		    !json_object_get(c, "body") || json_object_size(c) != 2)
			return pfail(p, sub,
			             "expected {\"kind\": \"when\" | \"unless\", \"body\": ...}");
		unless[i] = streq(kind, "unless");
		(void)snprintf(sub, sizeof(sub), "%s.conditions[%u].body", path, i);
		int r = expr(p, json_object_get(c, "body"), sub, 0, &roots[i]);
		if (r < 0)
			return r;
	}
	pol->conds = roots;
	pol->unless = unless;
	return 0;
}

static int policy_set_build(ob_policy_set *ps, const json_t *root, const JsonDoc *doc)
{
	PParser p = {.ps = ps, .doc = doc};
	const json_t *list = root;
	char path[256], id[64];

	if (json_is_object(root)) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)root, key, v) {
			(void)snprintf(path, sizeof(path), "$.%.40s", key);
			if (streq(key, "staticPolicies"))
				continue;
			if ((streq(key, "templates") && json_is_object(v) &&
			     json_object_size(v) == 0) ||
			    (streq(key, "templateLinks") && json_is_array(v) &&
			     json_array_size(v) == 0))
				continue;
			return pfail(&p, path,
			             streq(key, "templates") || streq(key, "templateLinks")
			                 ? "templates are not supported"
			                 : "unknown key (expected staticPolicies)");
		}
		list = json_object_get(root, "staticPolicies");
		if (!json_is_object(list))
			return pfail(&p, "$",
			             "expected \"staticPolicies\": an object of id to policy");
	} else if (!json_is_array(root)) {
		return pfail(&p, "$",
		             "expected a policy set: {\"staticPolicies\": {...}} or a list");
	}
	size_t n = json_is_array(list) ? json_array_size(list) : json_object_size(list);
	ps->policies = arena_alloc(&ps->arena, (n ? n : 1) * sizeof(Policy));
	if (!ps->policies)
		return oom(&p);
	if (json_is_array(list)) {
		for (size_t i = 0; i < n; i++) {
			(void)snprintf(path, sizeof(path), "$[%zu]", i);
			(void)snprintf(id, sizeof(id), "policy%zu", i);
			int r =
			    policy(&p, json_array_get(list, i), id, path, &ps->policies[ps->n++]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)list, key, v) {
		(void)snprintf(path, sizeof(path), "$.staticPolicies.%.200s", key);
		int r = policy(&p, v, key, path, &ps->policies[ps->n++]);
		if (r < 0)
			return r;
	}
	return 0;
}

ob_policy_set *ob_policy_set_free(ob_policy_set *ps)
{
	if (!ps)
		return NULL;
	free(ps->nodes);
	free(ps->kids);
	uid_table_free(&ps->lits);
	arena_free(&ps->arena);
	free(ps);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_policy_set *, ob_policy_set_free)

/* A CedarBuildFn: RET is an ob_policy_set **. */
static int policy_set_from_json(const json_t *root, const JsonDoc *doc, void *ret)
{
	_cleanup_(ob_policy_set_freep) ob_policy_set *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return ob_error_set(doc->err, -ENOMEM, "out of memory");
	int r = policy_set_build(ps, root, doc);
	if (r < 0)
		return r;
	*(ob_policy_set **)ret = TAKE_PTR(ps);
	return 0;
}

/* Cedar's policy text, parsed into the JSON form and built from it: errors of the text carry
 * its line:column; the builder's own (rarer) name the JSON path only. */
static int policy_set_from_text(const char *data, size_t len, const char *name, ob_policy_set **ret,
                                ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	JsonDoc doc = {.name = name, .err = reterr};

	if (len > CEDAR_MAX_BYTES)
		return ob_error_set(reterr, -EFBIG, "%s: %zu bytes; the limit is %u", name, len,
		                    CEDAR_MAX_BYTES);
	int r = cedar_text_parse(data, len, name, &root, reterr);
	return r < 0 ? r : policy_set_from_json(root, &doc, ret);
}

int ob_policy_set_parse(const char *data, size_t len, const char *name, ob_policy_set **ret,
                        ob_error *reterr)
{
	name = name ? name : "<policies>";
	assert_return(ret && (data || len == 0), -EINVAL);
	if (data && cedar_is_text(data, len))
		return policy_set_from_text(data, len, name, ret, reterr);
	return cedar_doc_parse(data, len, name, policy_set_from_json, ret, reterr);
}

int ob_policy_set_load(const char *path, ob_policy_set **ret, ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	assert_return(path && ret, -EINVAL);
	int r = read_file_limited(path, CEDAR_MAX_BYTES, &data, &len, reterr);
	return r < 0 ? r : ob_policy_set_parse(data, len, path, ret, reterr);
}

size_t ob_policy_set_size(const ob_policy_set *ps)
{
	return ps ? ps->n : 0;
}

const char *ob_policy_set_id(const ob_policy_set *ps, size_t i)
{
	return ps && i < ps->n ? ps->policies[i].id : NULL;
}
