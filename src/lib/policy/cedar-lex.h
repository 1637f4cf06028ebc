/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tokens of Cedar's policy text (cedar-lex.c), for the text parser (cedar-parse.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum TokenKind {
	TOK_END,
	TOK_IDENT,
	TOK_INT,
	TOK_STRING, /* with its quotes; lex_string unescapes */
	TOK_SLOT,   /* ?principal, ?resource: a template's */
	TOK_PUNCT,
} TokenKind;

typedef struct Token {
	TokenKind kind;
	const char *start;
	size_t len;
} Token;

typedef struct Lexer {
	const char *p, *end, *start;
	const char *what; /* the first error: what was expected, and where */
	const char *at;
} Lexer;

int lex_next(Lexer *l, Token *t);
/* Records the first error (WHAT at AT); returns -EINVAL. */
int lex_fail(Lexer *l, const char *at, const char *what);
/*
 * The string token T unescaped into OUT (at least T->len bytes).  With PATTERN, \* is a
 * literal star and STARS (if given, T->len bytes) marks each output byte that is an unescaped
 * `*`, the wildcard.
 */
int lex_string(Lexer *l, const Token *t, bool pattern, char *out, size_t *len, uint8_t *stars);
