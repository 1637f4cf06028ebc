/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The text parser's state and helpers, shared by cedar-parse.c (policies, scopes, names) and
 * cedar-parse-expr.c (expressions). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "policy/cedar-lex.h"
#include "policy/cedar.h"

/* Stricter than the builder's CEDAR_MAX_DEPTH, so that the builder never refuses what the
 * text parser let through without a position. */
#define TEXT_MAX_DEPTH (CEDAR_MAX_DEPTH - 8)

typedef struct Parser {
	Lexer lx;
	Token tok;
	unsigned nest; /* expressions being parsed inside each other: the recursion's depth */
	bool oom;
} Parser;

void text_advance(Parser *p);
bool text_is_punct(const Parser *p, const char *s);
bool text_is_word(const Parser *p, const char *s);
/* Records the first error, WHAT at AT; returns NULL. */
json_t *text_fail(Parser *p, const char *at, const char *what);
json_t *text_oom(Parser *p);
/* Takes the punctuation S, or fails with WHAT. */
bool text_expect(Parser *p, const char *s, const char *what);
bool text_reserved(const Token *t);
/* {KEY: V}, V's reference taken; NULL when V is NULL */
json_t *text_wrap(Parser *p, const char *key, json_t *v);
/* {OP: {K1: A, K2: B}}, references taken; NULL when either is NULL */
json_t *text_node2(Parser *p, const char *op, const char *k1, json_t *a, const char *k2, json_t *b);
/* The string token T unescaped, as a JSON string */
json_t *text_string_value(Parser *p, const Token *t);
/* A name A::B::C into BUF, stopping before `::"` */
bool text_path(Parser *p, char *buf, size_t size);
/* Type::"id" as {"type", "id"} */
json_t *text_entity_ref(Parser *p);
/* An expression; its tree depth in *D */
json_t *text_expr(Parser *p, unsigned *d);
