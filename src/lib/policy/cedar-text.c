/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A parsed policy written back as Cedar's policy text, one line: what `caps review` and
 * --dry-run show as "the conditions involved".  Every binary operation is parenthesised, so
 * the text reads unambiguously whatever the original layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "policy/cedar.h"

static void quoted(FILE *f, const char *s, uint32_t n, bool pattern)
{
	(void)fputc('"', f);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (pattern && c == 0xFF)
			(void)fputc('*', f);
		else if (c == '"' || c == '\\' || (pattern && c == '*'))
			(void)fprintf(f, "\\%c", c);
		else if (c == '\n')
			(void)fputs("\\n", f);
		else if (c < 0x20)
			(void)fprintf(f, "\\u{%x}", c);
		else
			(void)fputc(c, f);
	}
	(void)fputc('"', f);
}

static void entity_text(FILE *f, const ob_policy_set *ps, uint32_t lit)
{
	const Uid *u = &ps->lits.uids[lit];
	(void)fprintf(f, "%s::", u->type);
	quoted(f, u->id, u->id_len, false);
}

/* A name that can follow `.` or `has` bare: an identifier, not one of Cedar's reserved words
 * (`x.is` does not parse; `x["is"]` does). */
static bool is_ident(const char *s, uint32_t n)
{
	static const char *const reserved[] = {"true", "false", "if",   "then", "else",
	                                       "in",   "is",    "like", "has",  "__cedar"};
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
		if (n == strlen(reserved[i]) && memcmp(s, reserved[i], n) == 0)
			return false;
	for (uint32_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static const char *const infix[] = {
    [OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<",  [OP_LE] = "<=",  [OP_GT] = ">",  [OP_GE] = ">=",
    [OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_AND] = "&&", [OP_OR] = "||", [OP_IN] = "in",
};
static const char *const method[] = {
    [OP_CONTAINS] = "contains",
    [OP_CONTAINS_ALL] = "containsAll",
    [OP_CONTAINS_ANY] = "containsAny",
};

static void node_text(FILE *f, const ob_policy_set *ps, uint32_t i);

static void operand_text(FILE *f, const ob_policy_set *ps, uint32_t i);

/* `a.attr`, `a["at tr"]`, `(a has attr)`: `has` sits at the level of `<`, so parenthesised. */
static void attr_text(FILE *f, const ob_policy_set *ps, const Node *n)
{
	(void)fputs(n->op == OP_HAS ? "(" : "", f);
	operand_text(f, ps, n->a);
	if (n->op == OP_HAS)
		(void)fputs(" has ", f);
	if (is_ident(n->v.s, n->v.n))
		(void)fprintf(f, "%s%.*s", n->op == OP_ATTR ? "." : "", (int)n->v.n, n->v.s);
	else if (n->op == OP_HAS)
		quoted(f, n->v.s, n->v.n, false);
	else {
		(void)fputc('[', f);
		quoted(f, n->v.s, n->v.n, false);
		(void)fputc(']', f);
	}
	(void)fputs(n->op == OP_HAS ? ")" : "", f);
}

/* `[a, b]` and `{"k": v}`. */
static void literal_text(FILE *f, const ob_policy_set *ps, const Node *n)
{
	(void)fputc(n->op == OP_SET ? '[' : '{', f);
	for (uint32_t k = 0; k < n->b; k++) {
		if (k)
			(void)fputs(", ", f);
		if (n->op == OP_RECORD) {
			quoted(f, n->v.fields[k].key, n->v.fields[k].len, false);
			(void)fputs(": ", f);
		}
		node_text(f, ps, ps->kids[n->a + k]);
	}
	(void)fputc(n->op == OP_SET ? ']' : '}', f);
}

/* The left side of `.attr`, `.contains(…)`, `has`, `like`, `is`: a prefix operator or a
 * negative literal there would otherwise take the whole access as its operand. */
static void operand_text(FILE *f, const ob_policy_set *ps, uint32_t i)
{
	const Node *n = &ps->nodes[i];
	bool wrap = n->op == OP_NOT || n->op == OP_NEG ||
	            (n->op == OP_LIT && n->v.type == V_LONG && n->v.l < 0);
	if (wrap)
		(void)fputc('(', f);
	node_text(f, ps, i);
	if (wrap)
		(void)fputc(')', f);
}

static void node_text(FILE *f, const ob_policy_set *ps, uint32_t i)
{
	const Node *n = &ps->nodes[i];
	static const char *const vars[] = {"principal", "action", "resource", "context"};

	switch (n->op) {
	case OP_LIT:
		if (n->v.type == V_BOOL)
			(void)fputs(n->v.b ? "true" : "false", f);
		else if (n->v.type == V_LONG)
			(void)fprintf(f, "%lld", (long long)n->v.l);
		else if (n->v.type == V_STRING)
			quoted(f, n->v.s, n->v.n, false);
		else
			entity_text(f, ps, n->v.uid);
		return;
	case OP_VAR:
		(void)fputs(vars[n->a & 3], f);
		return;
	case OP_NOT:
	case OP_NEG:
		(void)fputs(n->op == OP_NOT ? "!(" : "-(", f);
		node_text(f, ps, n->a);
		(void)fputc(')', f);
		return;
	case OP_CONTAINS:
	case OP_CONTAINS_ALL:
	case OP_CONTAINS_ANY:
		operand_text(f, ps, n->a);
		(void)fprintf(f, ".%s(", method[n->op]);
		node_text(f, ps, n->b);
		(void)fputc(')', f);
		return;
	case OP_IS_EMPTY:
		operand_text(f, ps, n->a);
		(void)fputs(".isEmpty()", f);
		return;
	case OP_ATTR:
	case OP_HAS:
		attr_text(f, ps, n);
		return;
	case OP_LIKE:
		(void)fputc('(', f);
		operand_text(f, ps, n->a);
		(void)fputs(" like ", f);
		quoted(f, n->v.s, n->v.n, true);
		(void)fputc(')', f);
		return;
	case OP_IF:
		(void)fputs("(if ", f);
		node_text(f, ps, n->a);
		(void)fputs(" then ", f);
		node_text(f, ps, n->b);
		(void)fputs(" else ", f);
		node_text(f, ps, n->c);
		(void)fputc(')', f);
		return;
	case OP_IS:
		(void)fputc('(', f);
		operand_text(f, ps, n->a);
		(void)fprintf(f, " is %.*s", (int)n->v.n, n->v.s);
		if (n->c) {
			(void)fputs(" in ", f);
			node_text(f, ps, n->b);
		}
		(void)fputc(')', f);
		return;
	case OP_SET:
	case OP_RECORD:
		literal_text(f, ps, n);
		return;
	default:
		(void)fputc('(', f);
		node_text(f, ps, n->a);
		(void)fprintf(f, " %s ", infix[n->op]);
		node_text(f, ps, n->b);
		(void)fputc(')', f);
	}
}

static void scope_text(FILE *f, const ob_policy_set *ps, const Scope *s, const char *var)
{
	(void)fputs(var, f);
	switch (s->op) {
	case SCOPE_EQ:
	case SCOPE_IN:
		(void)fputs(s->op == SCOPE_EQ ? " == " : " in ", f);
		if (s->n_ents == 1) { /* an action list of one is written as the entity */
			entity_text(f, ps, s->ents[0]);
			return;
		}
		(void)fputc('[', f);
		for (uint32_t k = 0; k < s->n_ents; k++) {
			(void)fputs(k ? ", " : "", f);
			entity_text(f, ps, s->ents[k]);
		}
		(void)fputc(']', f);
		return;
	case SCOPE_IS:
	case SCOPE_IS_IN:
		(void)fprintf(f, " is %.*s", (int)s->type_len, s->type);
		if (s->op == SCOPE_IS_IN) {
			(void)fputs(" in ", f);
			entity_text(f, ps, s->ents[0]);
		}
		return;
	default:
		return;
	}
}

int ob_policy_set_text(const ob_policy_set *ps, size_t i, char **ret)
{
	char *buf = NULL;
	size_t len = 0;

	assert_return(ps && i < ps->n && ret, -EINVAL);
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	const Policy *p = &ps->policies[i];
	(void)fprintf(f, "%s (", p->forbid ? "forbid" : "permit");
	scope_text(f, ps, &p->scope[0], "principal");
	(void)fputs(", ", f);
	scope_text(f, ps, &p->scope[1], "action");
	(void)fputs(", ", f);
	scope_text(f, ps, &p->scope[2], "resource");
	(void)fputc(')', f);
	for (uint32_t k = 0; k < p->n_conds; k++) {
		(void)fprintf(f, " %s { ", p->unless[k] ? "unless" : "when");
		node_text(f, ps, p->conds[k]);
		(void)fputs(" }", f);
	}
	(void)fputc(';', f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

const char *uid_text(const Uid *u, char *buf, size_t size)
{
	size_t k = 0;
	int n = snprintf(buf, size, "%.64s::\"", u->type);

	k = n > 0 ? MIN((size_t)n, size - 1) : 0;
	/* escaped as Cedar's text does; cut at a character, with room for the closing quote */
	for (uint32_t i = 0; i < u->id_len && k + 12 < size;) {
		unsigned char c = (unsigned char)u->id[i];
		size_t len = c < 0x80 ? 1 : cedar_utf8_len(u->id + i, u->id + u->id_len);
		if (c == '"' || c == '\\')
			k += (size_t)snprintf(buf + k, size - k, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			k += (size_t)snprintf(buf + k, size - k, "\\u{%x}", c);
		else if (len > 0 && k + len + 2 < size)
			memcpy(buf + k, u->id + i, len), k += len;
		else
			break;
		i += len ? (uint32_t)len : 1;
	}
	(void)snprintf(buf + k, size - k, "\"");
	return buf;
}
