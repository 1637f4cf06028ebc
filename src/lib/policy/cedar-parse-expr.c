/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Expressions of Cedar's policy text into the JSON form, as Cedar's parser writes them:
 * `if` < `||` < `&&` < relations (==, !=, <, <=, >, >=, in, has, like, is; never chained) <
 * `+ -` < `*` < unary `!`/`-` (at most four) < member access (.attr, ["attr"], .method()) <
 * primaries.  Each node's depth is tracked so that too deep a tree is refused here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "policy/cedar-parse.h"

/* ---------------------------------------------------------------- expressions */

/* Refuses a tree deeper than the builder takes; D is the new node's depth. */
static json_t *deep(Parser *p, json_t *j, unsigned d, const char *at)
{
	if (j && d > TEXT_MAX_DEPTH) {
		json_decref(j);
		return text_fail(p, at, "expression nested deeper than 120 levels");
	}
	return j;
}

static json_t *binary(Parser *p, const char *op, json_t *l, json_t *r, unsigned dl, unsigned dr,
                      unsigned *d, const char *at)
{
	*d = 1 + MAX(dl, dr);
	return deep(p, text_node2(p, op, "left", l, "right", r), *d, at);
}

/* Integer literal T, negated when NEG (so -9223372036854775808 is a literal) */
static json_t *integer(Parser *p, const Token *t, bool neg)
{
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (size_t i = 0; i < t->len; i++) {
		unsigned digit = (unsigned)(t->start[i] - '0');
		if (v > (limit - digit) / 10)
			return text_fail(
			    p, t->start,
			    "expected an integer literal within 64 bits (Cedar's long)");
		v = v * 10 + digit;
	}
	json_t *j = json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v);
	return j ? text_wrap(p, "Value", j) : text_oom(p);
}

/* [e, …] or (e, …) up to CLOSE, as a JSON array of expressions; the max depth in *D */
static json_t *expr_list(Parser *p, const char *close, unsigned *d)
{
	json_t *a = json_array();

	*d = 0;
	if (!a)
		return text_oom(p);
	while (!text_is_punct(p, close)) {
		unsigned de = 0;
		json_t *e = text_expr(p, &de);
		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return e ? text_oom(p) : NULL;
		}
		*d = MAX(*d, de);
		if (!text_is_punct(p, ","))
			break;
		text_advance(p);
	}
	if (!text_expect(p, close,
	                 strcmp(close, "]") == 0 ? "expected ',' or ']'" : "expected ',' or ')'")) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *record(Parser *p, unsigned *d)
{
	json_t *fields = json_object();

	*d = 0;
	if (!fields)
		return text_oom(p);
	while (!text_is_punct(p, "}")) {
		Token key = p->tok;
		json_t *k = NULL;
		if (key.kind == TOK_STRING)
			k = text_string_value(p, &key);
		else if (key.kind == TOK_IDENT && !text_reserved(&key))
			k = json_stringn(key.start, key.len);
		else
			(void)text_fail(p, key.start,
			                "expected a record key (an identifier or a string)");
		if (!k)
			break;
		if (json_object_getn(fields, json_string_value(k), json_string_length(k))) {
			json_decref(k);
			(void)text_fail(p, key.start, "duplicate key in the record literal");
			break;
		}
		text_advance(p);
		unsigned de = 0;
		json_t *v = text_expect(p, ":", "expected ':'") ? text_expr(p, &de) : NULL;
		int r = v ? json_object_setn_new_nocheck(fields, json_string_value(k),
		                                         json_string_length(k), v)
		          : -1;
		json_decref(k);
		if (r < 0)
			break;
		*d = MAX(*d, de);
		if (!text_is_punct(p, ","))
			break;
		text_advance(p);
	}
	if (p->lx.what || !text_expect(p, "}", "expected ',' or '}'")) {
		json_decref(fields);
		return NULL;
	}
	return text_wrap(p, "Record", fields);
}

/* A name at the start of a primary: a variable, an entity, or a function call (refused). */
static json_t *name_primary(Parser *p)
{
	static const char *const vars[] = {"principal", "action", "resource", "context"};
	Token t = p->tok;
	Lexer save = p->lx;

	if (text_is_word(p, "true") || text_is_word(p, "false")) {
		text_advance(p);
		json_t *b = json_boolean(t.len == 4);
		return text_wrap(p, "Value", b);
	}
	text_advance(p);
	if (text_is_punct(p, "::")) {
		p->lx = save; /* back to the name: the entity reference reads the path */
		p->tok = t;
		json_t *e = text_entity_ref(p);
		return e ? text_wrap(p, "Value", text_wrap(p, "__entity", e)) : NULL;
	}
	if (text_is_punct(p, "("))
		return text_fail(p, t.start,
		                 "extension functions such as ip() and decimal() are "
		                 "outside the supported Cedar subset");
	for (size_t i = 0; i < ELEMENTSOF(vars); i++)
		if (t.len == strlen(vars[i]) && memcmp(t.start, vars[i], t.len) == 0)
			return text_wrap(p, "Var", json_string(vars[i]));
	return text_fail(p, t.start, "expected a variable: principal, action, resource or context");
}

static json_t *primary(Parser *p, unsigned *d)
{
	Token t = p->tok;
	json_t *j;

	*d = 1;
	switch (t.kind) {
	case TOK_INT:
		text_advance(p);
		return integer(p, &t, false);
	case TOK_STRING:
		text_advance(p);
		return text_wrap(p, "Value", text_string_value(p, &t));
	case TOK_IDENT:
		return name_primary(p);
	case TOK_SLOT:
		return text_fail(p, t.start,
		                 "template slots are outside the supported Cedar "
		                 "subset");
	default:
		break;
	}
	if (text_is_punct(p, "(")) {
		text_advance(p);
		j = text_expr(p, d);
		if (j && !text_expect(p, ")", "expected ')'")) {
			json_decref(j);
			return NULL;
		}
		return j;
	}
	if (text_is_punct(p, "[")) {
		text_advance(p);
		j = text_wrap(p, "Set", expr_list(p, "]", d));
		return deep(p, j, ++*d, t.start);
	}
	if (text_is_punct(p, "{")) {
		text_advance(p);
		j = record(p, d);
		return deep(p, j, ++*d, t.start);
	}
	return text_fail(
	    p, t.start,
	    "expected an expression (a literal, a variable, an entity, (…), […] or {…})");
}

/* .name(args): the methods of the subset */
static json_t *method(Parser *p, json_t *left, const Token *name, unsigned dl, unsigned *d)
{
	static const char *const one_arg[] = {"contains", "containsAll", "containsAny"};
	unsigned da;
	const char *op = NULL;

	for (size_t i = 0; i < ELEMENTSOF(one_arg); i++)
		if (name->len == strlen(one_arg[i]) &&
		    memcmp(name->start, one_arg[i], name->len) == 0)
			op = one_arg[i];
	bool empty = name->len == 7 && memcmp(name->start, "isEmpty", 7) == 0;
	if (!op && !empty) {
		json_decref(left);
		return text_fail(
		    p, name->start,
		    "expected a supported method: contains, containsAll, containsAny, isEmpty "
		    "(extension methods and tags are outside the supported Cedar subset)");
	}
	text_advance(p); /* ( */
	json_t *args = expr_list(p, ")", &da);
	if (!args || json_array_size(args) != (empty ? 0u : 1u)) {
		json_decref(left);
		json_decref(args);
		return args ? text_fail(p, name->start,
		                        empty ? "expected isEmpty() without arguments"
		                              : "expected exactly one argument")
		            : NULL;
	}
	*d = 1 + MAX(dl, da);
	json_t *r =
	    empty ? text_wrap(p, "isEmpty", text_wrap(p, "arg", left))
	          : text_node2(p, op, "left", left, "right", json_incref(json_array_get(args, 0)));
	json_decref(args);
	return deep(p, r, *d, name->start);
}

/* primary, then .attr, .method(…), ["attr"] */
static json_t *member(Parser *p, json_t *j, unsigned *d)
{
	while (j && (text_is_punct(p, ".") || text_is_punct(p, "["))) {
		bool dot = text_is_punct(p, ".");
		text_advance(p);
		Token name = p->tok;
		json_t *attr;
		if (dot && (name.kind != TOK_IDENT || text_reserved(&name)))
			attr = text_fail(p, name.start,
			                 "expected an attribute name (an identifier that is "
			                 "not reserved)");
		else if (!dot && name.kind != TOK_STRING)
			attr = text_fail(p, name.start, "expected a quoted attribute name");
		else
			attr =
			    dot ? json_stringn(name.start, name.len) : text_string_value(p, &name);
		if (!attr) {
			json_decref(j);
			return NULL;
		}
		text_advance(p);
		if (dot && text_is_punct(p, "(")) {
			json_decref(attr);
			j = method(p, j, &name, *d, d);
			continue;
		}
		if (!dot && !text_expect(p, "]", "expected ']'")) {
			json_decref(attr);
			json_decref(j);
			return NULL;
		}
		j = deep(p, text_node2(p, ".", "left", j, "attr", attr), ++*d, name.start);
	}
	return j;
}

/* up to four `!` or four `-`; a `-` right before an integer makes a negative literal */
static json_t *unary(Parser *p, unsigned *d)
{
	const char *at = p->tok.start;
	bool neg = text_is_punct(p, "-");
	unsigned n = 0;
	json_t *j;

	while ((neg && text_is_punct(p, "-")) || (!neg && text_is_punct(p, "!"))) {
		if (++n > 4)
			return text_fail(p, p->tok.start,
			                 "expected at most four `!` or `-` in a row");
		text_advance(p);
	}
	Token t = p->tok;
	if (neg && n > 0 && t.kind == TOK_INT) {
		text_advance(p);
		*d = 1;
		/* the last `-` belongs to the literal, unless an access follows (-1.a is -(1.a)) */
		bool folded = !text_is_punct(p, ".") && !text_is_punct(p, "[");
		j = member(p, integer(p, &t, folded), d);
		n -= folded;
	} else {
		j = primary(p, d);
		j = member(p, j, d);
	}
	while (j && n-- > 0)
		j = deep(p, text_wrap(p, neg ? "neg" : "!", text_wrap(p, "arg", j)), ++*d, at);
	return j;
}

static json_t *mult(Parser *p, unsigned *d)
{
	json_t *l = unary(p, d);
	while (l && text_is_punct(p, "*")) {
		const char *at = p->tok.start;
		unsigned dr = 0;
		text_advance(p);
		json_t *r = unary(p, &dr);
		l = binary(p, "*", l, r, *d, dr, d, at);
	}
	return l;
}

static json_t *add(Parser *p, unsigned *d)
{
	json_t *l = mult(p, d);
	while (l && (text_is_punct(p, "+") || text_is_punct(p, "-"))) {
		const char *op = text_is_punct(p, "+") ? "+" : "-", *at = p->tok.start;
		unsigned dr = 0;
		text_advance(p);
		json_t *r = mult(p, &dr);
		l = binary(p, op, l, r, *d, dr, d, at);
	}
	return l;
}

static const char *relop(const Parser *p)
{
	static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (text_is_punct(p, ops[i]))
			return ops[i];
	return text_is_word(p, "in") ? "in" : NULL;
}

/* `has` a name, a string, or (Cedar 4) a path of names written as ["a", "b"] */
static json_t *has_attr(Parser *p)
{
	if (p->tok.kind == TOK_STRING) {
		json_t *s = text_string_value(p, &p->tok);
		text_advance(p);
		return s;
	}
	json_t *path = json_array();
	if (!path)
		return text_oom(p);
	for (;;) {
		if (p->tok.kind != TOK_IDENT || text_reserved(&p->tok)) {
			json_decref(path);
			return text_fail(p, p->tok.start,
			                 "expected an attribute name (an identifier that "
			                 "is not reserved) or a string");
		}
		if (json_array_append_new(path, json_stringn(p->tok.start, p->tok.len)) < 0) {
			json_decref(path);
			return text_oom(p);
		}
		text_advance(p);
		if (!text_is_punct(p, "."))
			break;
		text_advance(p);
	}
	if (json_array_size(path) > 1)
		return path;
	json_t *one = json_incref(json_array_get(path, 0));
	json_decref(path);
	return one;
}

/* a `like` pattern as Cedar's JSON writes it: one element per character */
static json_t *like_pattern(Parser *p)
{
	Token t = p->tok;
	_cleanup_free_ char *buf = malloc(t.len + 1);
	_cleanup_free_ uint8_t *stars = calloc(t.len + 1, 1);
	json_t *pat = json_array();
	size_t n;

	if (t.kind != TOK_STRING) {
		json_decref(pat);
		return text_fail(p, t.start, "expected a quoted pattern after `like`");
	}
	if (!buf || !stars || !pat || lex_string(&p->lx, &t, true, buf, &n, stars) < 0) {
		json_decref(pat);
		return p->lx.what ? NULL : text_oom(p);
	}
	for (size_t i = 0; i < n;) {
		size_t len = stars[i] ? 1 : cedar_utf8_len(buf + i, buf + n);
		json_t *e = stars[i] ? json_string("Wildcard")
		                     : text_wrap(p, "Literal",
		                                 json_stringn_nocheck(buf + i, len ? len : 1));
		if (!e || json_array_append_new(pat, e) < 0) {
			json_decref(pat);
			return text_oom(p);
		}
		i += len ? len : 1;
	}
	text_advance(p);
	return pat;
}

/* add [relop add | has … | like … | is Type [in add]], never two in a row */
static json_t *relation(Parser *p, unsigned *d)
{
	json_t *l = add(p, d);
	const char *op = l ? relop(p) : NULL, *at = p->tok.start;
	unsigned dr = 0;

	if (!l)
		return NULL;
	if (op) {
		text_advance(p);
		json_t *r = add(p, &dr);
		l = binary(p, op, l, r, *d, dr, d, at);
	} else if (text_is_word(p, "has")) {
		text_advance(p);
		json_t *attr = has_attr(p);
		/* a path of k > 1 names stands for k tests on a chain of k - 1 accesses, joined
		 * by `&&`: that tree is k + 1 deeper than the left side */
		size_t k = json_is_array(attr) ? json_array_size(attr) : 1;
		*d += (unsigned)(k > 1 ? k + 1 : 1);
		l = deep(p, text_node2(p, "has", "left", l, "attr", attr), *d, at);
	} else if (text_is_word(p, "like")) {
		text_advance(p);
		l = deep(p, text_node2(p, "like", "left", l, "pattern", like_pattern(p)), ++*d, at);
	} else if (text_is_word(p, "is")) {
		char type[256];
		text_advance(p);
		json_t *t = text_path(p, type, sizeof(type)) ? json_string(type) : NULL;
		l = text_node2(p, "is", "left", l, "entity_type", t);
		if (l && text_is_word(p, "in")) {
			text_advance(p);
			json_t *in = add(p, &dr);
			json_t *args = json_object_get(l, "is");
			if (!in || json_object_set_new(args, "in", in) < 0) {
				json_decref(l);
				return in ? text_oom(p) : NULL;
			}
		}
		l = deep(p, l, *d = 1 + MAX(*d, dr), at);
	} else {
		return l;
	}
	if (l && (relop(p) || text_is_word(p, "has") || text_is_word(p, "like") ||
	          text_is_word(p, "is"))) {
		json_decref(l);
		return text_fail(p, p->tok.start,
		                 "expected parentheses around a comparison before another "
		                 "one (relational operators do not chain)");
	}
	return l;
}

static json_t *and_expr(Parser *p, unsigned *d)
{
	json_t *l = relation(p, d);
	while (l && text_is_punct(p, "&&")) {
		const char *at = p->tok.start;
		unsigned dr = 0;
		text_advance(p);
		json_t *r = relation(p, &dr);
		l = binary(p, "&&", l, r, *d, dr, d, at);
	}
	return l;
}

static json_t *or_expr(Parser *p, unsigned *d)
{
	json_t *l = and_expr(p, d);
	while (l && text_is_punct(p, "||")) {
		const char *at = p->tok.start;
		unsigned dr = 0;
		text_advance(p);
		json_t *r = and_expr(p, &dr);
		l = binary(p, "||", l, r, *d, dr, d, at);
	}
	return l;
}

static json_t *if_expr(Parser *p, unsigned *d);

json_t *text_expr(Parser *p, unsigned *d)
{
	/* bounded before descending (the depth check of a built node comes too late for
	 * the stack: [[[[… recurses while nothing is built yet) */
	/* the stack's bound; the tree's (120) is checked as nodes are built.  Text written
	 * back holds up to two of these per node: `(if … then (…) …)` */
	if (p->nest > 4 * TEXT_MAX_DEPTH)
		return text_fail(p, p->tok.start, "expression nested deeper than 480 levels");
	p->nest++;
	json_t *j = if_expr(p, d);
	p->nest--;
	return j;
}

static json_t *if_expr(Parser *p, unsigned *d)
{
	static const char *const parts[] = {"if", "then", "else"};
	const char *at = p->tok.start;
	json_t *args;
	unsigned dk = 0;

	if (!text_is_word(p, "if"))
		return or_expr(p, d);
	if (!(args = json_object()))
		return text_oom(p);
	*d = 0;
	for (size_t i = 0; i < 3; i++) {
		json_t *e = NULL;
		if (i > 0 && !text_is_word(p, parts[i]))
			(void)text_fail(p, p->tok.start,
			                i == 1 ? "expected `then`" : "expected `else`");
		else
			text_advance(p);
		if (!p->lx.what)
			e = text_expr(p, &dk);
		if (!e || json_object_set_new(args, parts[i], e) < 0) {
			json_decref(args);
			return e ? text_oom(p) : NULL;
		}
		*d = MAX(*d, dk);
	}
	return deep(p, text_wrap(p, "if-then-else", args), ++*d, at);
}
