/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cedar's human-readable policy syntax, parsed into the JSON policy form ("EST") exactly as
 * Cedar's own parser writes it (tests/oracle compares the two), so that both forms go through
 * one builder (cedar-policy.c) and mean the same.  Policies are named policy0, policy1, … in
 * the order of the text, as Cedar names them.  What the builder would refuse (templates,
 * extension functions) is refused here, at its line and column.
 */
#include "policy/cedar-parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/utf8.h"

void text_advance(Parser *p)
{
	if (!p->lx.what)
		(void)lex_next(&p->lx, &p->tok);
	if (p->lx.what)
		p->tok = (Token){.kind = TOK_END, .start = p->lx.at};
}

bool text_is_punct(const Parser *p, const char *s)
{
	return p->tok.kind == TOK_PUNCT && p->tok.len == strlen(s) &&
	       memcmp(p->tok.start, s, p->tok.len) == 0;
}

bool text_is_word(const Parser *p, const char *s)
{
	return p->tok.kind == TOK_IDENT && p->tok.len == strlen(s) &&
	       memcmp(p->tok.start, s, p->tok.len) == 0;
}

json_t *text_fail(Parser *p, const char *at, const char *what)
{
	(void)lex_fail(&p->lx, at, what);
	return NULL;
}

json_t *text_oom(Parser *p)
{
	p->oom = true;
	return text_fail(p, p->tok.start, "out of memory");
}

bool text_expect(Parser *p, const char *s, const char *what)
{
	if (!text_is_punct(p, s)) {
		(void)text_fail(p, p->tok.start, what);
		return false;
	}
	text_advance(p);
	return true;
}

bool text_reserved(const Token *t)
{
	static const char *const words[] = {"true", "false", "if",   "then", "else",
	                                    "in",   "is",    "like", "has",  "__cedar"};
	for (size_t i = 0; i < ELEMENTSOF(words); i++)
		if (t->len == strlen(words[i]) && memcmp(t->start, words[i], t->len) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- JSON building */

/* {KEY: V} (V's reference taken); NULL when V is NULL */
json_t *text_wrap(Parser *p, const char *key, json_t *v)
{
	if (!v)
		return NULL;
	json_t *o = json_object();
	if (!o || json_object_set_new(o, key, v) < 0) {
		json_decref(o);
		return text_oom(p);
	}
	return o;
}

/* {OP: {K1: A, K2: B}} (references taken); NULL when either is NULL */
json_t *text_node2(Parser *p, const char *op, const char *k1, json_t *a, const char *k2, json_t *b)
{
	if (!a || !b) {
		json_decref(a);
		json_decref(b);
		return NULL;
	}
	json_t *args = json_object();
	if (!args || json_object_set_new(args, k1, a) < 0 || json_object_set_new(args, k2, b) < 0) {
		json_decref(args);
		return text_oom(p);
	}
	return text_wrap(p, op, args);
}

json_t *text_string_value(Parser *p, const Token *t)
{
	_cleanup_free_ char *buf = malloc(t->len + 1);
	size_t n;

	if (!buf)
		return text_oom(p);
	if (lex_string(&p->lx, t, false, buf, &n, NULL) < 0)
		return NULL;
	json_t *s = json_stringn_nocheck(buf, n);
	return s ? s : text_oom(p);
}

/* ---------------------------------------------------------------- names and entities */

/* A path A::B::C at the current identifier, into BUF; stops before `::"` (an entity id). */
bool text_path(Parser *p, char *buf, size_t size)
{
	size_t k = 0;

	for (;;) {
		if (p->tok.kind != TOK_IDENT || text_reserved(&p->tok)) {
			(void)text_fail(p, p->tok.start, "expected a name (an identifier)");
			return false;
		}
		if (k + p->tok.len + 3 >= size) {
			(void)text_fail(p, p->tok.start, "name longer than 255 bytes");
			return false;
		}
		memcpy(buf + k, p->tok.start, p->tok.len);
		k += p->tok.len;
		buf[k] = 0;
		text_advance(p);
		if (!text_is_punct(p, "::"))
			return true;
		const char *after = p->tok.start + 2;
		while (after < p->lx.end &&
		       (*after == ' ' || *after == '\t' || *after == '\n' || *after == '\r'))
			after++;
		if (after < p->lx.end && *after == '"')
			return true; /* the caller takes `::"id"` */
		text_advance(p);
		memcpy(buf + k, "::", 3);
		k += 2;
	}
}

/* Type::"id" as {"type", "id"} */
json_t *text_entity_ref(Parser *p)
{
	char type[256];

	if (p->tok.kind == TOK_SLOT)
		return text_fail(p, p->tok.start,
		                 "template slots are outside the supported Cedar subset");
	if (!text_path(p, type, sizeof(type)))
		return NULL;
	if (!text_expect(p, "::", "expected '::' and a quoted id (an entity: Type::\"id\")"))
		return NULL;
	if (p->tok.kind != TOK_STRING)
		return text_fail(p, p->tok.start, "expected a quoted entity id");
	json_t *id = text_string_value(p, &p->tok);
	if (!id)
		return NULL;
	text_advance(p);
	json_t *o = json_pack("{s:s, s:o}", "type", type, "id", id);
	return o ? o : text_oom(p);
}

/* ---------------------------------------------------------------- scopes and policies */

static bool is_action_type(const char *type)
{
	size_t n = strlen(type);
	return streq(type, "Action") || (n > 8 && streq(type + n - 8, "::Action"));
}

static json_t *action_ref(Parser *p)
{
	const char *at = p->tok.start;
	json_t *e = text_entity_ref(p);

	if (e && !is_action_type(json_string_value(json_object_get(e, "type")))) {
		json_decref(e);
		return text_fail(p, at, "expected an entity of type Action (or NS::Action)");
	}
	return e;
}

/* action in [Action::"a", …] */
static json_t *action_list(Parser *p)
{
	json_t *list = json_array();

	if (!list)
		return text_oom(p);
	text_advance(p);
	while (!text_is_punct(p, "]")) {
		json_t *e = action_ref(p);
		if (!e || json_array_append_new(list, e) < 0) {
			json_decref(list);
			return e ? text_oom(p) : NULL;
		}
		if (!text_is_punct(p, ","))
			break;
		text_advance(p);
	}
	if (!text_expect(p, "]", "expected ',' or ']'")) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static json_t *scope_op(Parser *p, const char *op, const char *key, json_t *v)
{
	if (!v)
		return NULL;
	json_t *s = json_pack("{s:s, s:o}", "op", op, key, v);
	return s ? s : text_oom(p);
}

/* principal/resource: [== E | in E | is T [in E]]; action: [== A | in A | in [A, …]] */
static json_t *scope(Parser *p, const char *var)
{
	bool action = streq(var, "action");

	if (!text_is_word(p, var))
		return text_fail(
		    p, p->tok.start,
		    action        ? "expected `action` (the scope is principal, action, resource)"
		    : *var == 'p' ? "expected `principal` (the scope is principal, action, "
		                    "resource)"
		                  : "expected `resource` (the scope is principal, action, "
		                    "resource)");
	text_advance(p);
	if (text_is_punct(p, "==")) {
		text_advance(p);
		return scope_op(p, "==", "entity", action ? action_ref(p) : text_entity_ref(p));
	}
	if (text_is_word(p, "in")) {
		text_advance(p);
		if (action && text_is_punct(p, "[")) {
			/* Cedar writes a list of one as that one entity */
			json_t *list = action_list(p);
			if (json_array_size(list) == 1) {
				json_t *one = json_incref(json_array_get(list, 0));
				json_decref(list);
				return scope_op(p, "in", "entity", one);
			}
			return scope_op(p, "in", "entities", list);
		}
		if (text_is_punct(p, "["))
			return text_fail(
			    p, p->tok.start,
			    "expected a single entity (only the action scope takes a list)");
		return scope_op(p, "in", "entity", action ? action_ref(p) : text_entity_ref(p));
	}
	if (text_is_word(p, "is")) {
		char type[256];
		if (action)
			return text_fail(p, p->tok.start, "`is` cannot appear in the action scope");
		text_advance(p);
		if (!text_path(p, type, sizeof(type)))
			return NULL;
		json_t *s = json_pack("{s:s, s:s}", "op", "is", "entity_type", type);
		if (s && text_is_word(p, "in")) {
			text_advance(p);
			json_t *e = text_entity_ref(p);
			if (!e ||
			    json_object_set_new(s, "in", json_pack("{s:o}", "entity", e)) < 0) {
				json_decref(s);
				return NULL;
			}
		}
		return s ? s : text_oom(p);
	}
	return json_pack("{s:s}", "op", "All");
}

/* @key("value") or @key (a null value) …, keys used once */
static json_t *annotations(Parser *p)
{
	json_t *a = json_object();

	while (a && text_is_punct(p, "@")) {
		text_advance(p);
		Token key = p->tok;
		json_t *v = json_null();
		if (key.kind != TOK_IDENT) {
			json_decref(a);
			return text_fail(p, key.start, "expected an annotation name after '@'");
		}
		text_advance(p);
		if (text_is_punct(p, "(")) {
			text_advance(p);
			v = p->tok.kind == TOK_STRING
			        ? text_string_value(p, &p->tok)
			        : text_fail(p, p->tok.start, "expected a string");
			if (v)
				text_advance(p);
			if (!v || !text_expect(p, ")", "expected ')'")) {
				json_decref(v);
				json_decref(a);
				return NULL;
			}
		}
		_cleanup_free_ char *k = strndup(key.start, key.len);
		if (!k || json_object_get(a, k)) {
			json_decref(v);
			json_decref(a);
			return k ? text_fail(p, key.start, "duplicate annotation") : text_oom(p);
		}
		(void)json_object_set_new(a, k, v);
	}
	return a ? a : text_oom(p);
}

/* when { e } / unless { e } … */
static json_t *conditions(Parser *p)
{
	json_t *list = json_array();

	while (list && (text_is_word(p, "when") || text_is_word(p, "unless"))) {
		const char *kind = text_is_word(p, "when") ? "when" : "unless";
		unsigned d;
		text_advance(p);
		json_t *body = NULL;
		if (text_expect(p, "{", "expected '{'"))
			body = text_is_punct(p, "}")
			           ? text_fail(p, p->tok.start,
			                       "expected a condition (an empty one is "
			                       "refused, as in Cedar)")
			           : text_expr(p, &d);
		if (!body || !text_expect(p, "}", "expected '}' (the end of the condition)")) {
			json_decref(body);
			json_decref(list);
			return NULL;
		}
		json_t *c = json_pack("{s:s, s:o}", "kind", kind, "body", body);
		if (!c || json_array_append_new(list, c) < 0) {
			json_decref(list);
			return text_oom(p);
		}
	}
	return list ? list : text_oom(p);
}

static json_t *policy(Parser *p)
{
	static const char *const vars[] = {"principal", "action", "resource"};
	json_t *pol = NULL, *ann = annotations(p);

	if (ann && !text_is_word(p, "permit") && !text_is_word(p, "forbid"))
		(void)text_fail(p, p->tok.start, "expected `permit` or `forbid`");
	else if (ann)
		pol = json_pack("{s:s}", "effect", text_is_word(p, "permit") ? "permit" : "forbid");
	if (pol)
		text_advance(p);
	if (pol && !text_expect(p, "(", "expected '('"))
		pol = (json_decref(pol), NULL);
	for (int i = 0; pol && i < 3; i++) {
		json_t *s = scope(p, vars[i]);
		if (!s || json_object_set_new(pol, vars[i], s) < 0 ||
		    (i < 2 && !text_expect(p, ",", "expected ','")))
			pol = (json_decref(pol), NULL);
	}
	if (pol && text_is_punct(p, ","))
		text_advance(p);
	if (pol && !text_expect(p, ")", "expected ')' (the end of the scope)"))
		pol = (json_decref(pol), NULL);
	json_t *conds = pol ? conditions(p) : NULL;
	if (!conds || json_object_set_new(pol, "conditions", conds) < 0 ||
	    !text_expect(p, ";",
	                 p->tok.kind == TOK_IDENT
	                     ? "expected `when`, `unless` or ';' (the end of the policy)"
	                     : "expected ';' (the end of the policy)")) {
		json_decref(pol);
		json_decref(ann);
		return NULL;
	}
	if (json_object_size(ann) > 0)
		(void)json_object_set_new(pol, "annotations", ann);
	else
		json_decref(ann);
	return pol;
}

bool cedar_is_text(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		else if (end - p >= 2 && p[0] == '/' && p[1] == '/')
			while (p < end && *p != '\n')
				p++;
		else
			return *p != '{' && *p != '[';
	}
	return true; /* blanks and comments: an empty policy text, as Cedar reads it */
}

int cedar_text_parse(const char *data, size_t len, const char *name, json_t **ret, ob_error *reterr)
{
	Parser p = {.lx = {.p = data, .end = data + len, .start = data}};
	_cleanup_(json_decrefp) json_t *set = json_object();
	unsigned line, col;

	for (size_t i = 0; i < len;) { /* Cedar's text is UTF-8 */
		size_t n = cedar_utf8_len(data + i, data + len);
		if (n == 0) {
			(void)lex_fail(&p.lx, data + i, "expected valid UTF-8");
			break;
		}
		i += n;
	}
	text_advance(&p);
	for (size_t i = 0; set && !p.lx.what && p.tok.kind != TOK_END; i++) {
		char id[32];
		json_t *pol = policy(&p);
		(void)snprintf(id, sizeof(id), "policy%zu", i);
		if (pol && json_object_set_new(set, id, pol) < 0)
			return ob_error_set(reterr, -ENOMEM, "%s: out of memory", name);
	}
	if (!set || p.oom)
		return ob_error_set(reterr, -ENOMEM, "%s: out of memory", name);
	if (p.lx.what) {
		utf8_position(data, p.lx.at, &line, &col);
		return ob_error_set(reterr, -EINVAL, "%s:%u:%u: %s", name, line, col, p.lx.what);
	}
	*ret = json_pack("{s:O}", "staticPolicies", set);
	return *ret ? 0 : ob_error_set(reterr, -ENOMEM, "%s: out of memory", name);
}
