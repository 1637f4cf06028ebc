/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tokens of Cedar's policy text: identifiers, integers, strings, punctuation, `//` comments
 * skipped.  Strings are unescaped here (Cedar's escapes: \n \r \t \\ \0 \' \" \xHH up to 7F,
 * \u{1 to 6 hex digits}), and a `like` pattern's with \* as a literal star.
 */
#include "policy/cedar-lex.h"

#include <errno.h>
#include <string.h>

#include "basic/utf8.h"
static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

static void skip_blank(Lexer *l)
{
	while (l->p < l->end) {
		char c = *l->p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			l->p++;
		else if (c == '/' && l->p + 1 < l->end && l->p[1] == '/')
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		else
			break;
	}
}

/* Two-character operators first, then one-character ones. */
static int punct(Lexer *l, Token *t)
{
	static const char *const two[] = {"::", "==", "!=", "<=", ">=", "&&", "||"};
	static const char one[] = "()[]{},;:.@<>!-+*";

	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
		if (l->end - l->p >= 2 && memcmp(l->p, two[i], 2) == 0) {
			t->kind = TOK_PUNCT;
			t->len = 2;
			return 0;
		}
	if (*l->p && strchr(one, *l->p)) {
		t->kind = TOK_PUNCT;
		t->len = 1;
		return 0;
	}
	return lex_fail(
	    l, t->start,
	    "unexpected character (expected a name, a number, a string or an operator)");
}

static int string_token(Lexer *l, Token *t)
{
	const char *q = l->p + 1;

	while (q < l->end && *q != '"') {
		if (*q == '\\' && q + 1 < l->end)
			q++;
		q++;
	}
	if (q >= l->end)
		return lex_fail(l, t->start, "expected a closing '\"' for this string");
	t->kind = TOK_STRING;
	t->len = (size_t)(q + 1 - l->p);
	return 0;
}

int lex_next(Lexer *l, Token *t)
{
	skip_blank(l);
	*t = (Token){.start = l->p};
	if (l->p >= l->end) {
		t->kind = TOK_END;
		return 0;
	}
	char c = *l->p;
	if (ident_start(c)) {
		const char *q = l->p;
		while (q < l->end && ident_char(*q))
			q++;
		t->kind = TOK_IDENT;
		t->len = (size_t)(q - l->p);
	} else if (c >= '0' && c <= '9') {
		const char *q = l->p;
		while (q < l->end && *q >= '0' && *q <= '9')
			q++;
		t->kind = TOK_INT;
		t->len = (size_t)(q - l->p);
	} else if (c == '"') {
		int r = string_token(l, t);
		if (r < 0)
			return r;
	} else if (c == '?') {
		const char *q = l->p + 1;
		while (q < l->end && ident_char(*q))
			q++;
		t->kind = TOK_SLOT;
		t->len = (size_t)(q - l->p);
	} else {
		int r = punct(l, t);
		if (r < 0)
			return r;
	}
	l->p += t->len;
	return 0;
}

int lex_fail(Lexer *l, const char *at, const char *what)
{
	if (!l->what) {
		l->what = what;
		l->at = at;
	}
	return -EINVAL;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* \u{...} at S (after the 'u'); the scalar in *CP, the escape's length past the 'u' in *N. */
static int unicode_brace(const char *s, const char *end, uint32_t *cp, size_t *n)
{
	const char *q = s + 1;
	uint32_t v = 0;
	int digits = 0;

	if (s >= end || *s != '{')
		return -EINVAL;
	while (q < end && *q != '}' && digits <= 6) {
		int d = hex_digit(*q++);
		if (d < 0)
			return -EINVAL;
		v = v * 16 + (uint32_t)d;
		digits++;
	}
	if (q >= end || digits == 0 || digits > 6 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return -EINVAL;
	*cp = v;
	*n = (size_t)(q + 1 - s);
	return 0;
}

/* One escape at S (after the backslash) into OUT; its length past the backslash in *N.
 * In a pattern, \* is a star kept apart from the wildcard: *STAR is set. */
static int unescape_one(const char *s, const char *end, bool pattern, char *out, size_t *k,
                        size_t *n, bool *star)
{
	static const char simple[] = "nrt\\0'\"";
	static const char value[] = "\n\r\t\\\0'\"";
	const char *hit = *s ? strchr(simple, *s) : NULL;
	uint32_t cp;

	*star = false;
	*n = 1;
	if (hit) {
		out[(*k)++] = value[hit - simple];
		return 0;
	}
	if (*s == '*' && pattern) {
		*star = true;
		return 0;
	}
	if (*s == 'x' && end - s >= 3 && hex_digit(s[1]) >= 0 && hex_digit(s[1]) <= 7 &&
	    hex_digit(s[2]) >= 0) {
		out[(*k)++] = (char)(hex_digit(s[1]) * 16 + hex_digit(s[2]));
		*n = 3;
		return 0;
	}
	if (*s == 'u' && unicode_brace(s + 1, end, &cp, n) >= 0) {
		*k += utf8_put(out + *k, cp);
		(*n)++;
		return 0;
	}
	return -EINVAL;
}

int lex_string(Lexer *l, const Token *t, bool pattern, char *out, size_t *len, uint8_t *stars)
{
	const char *s = t->start + 1, *end = t->start + t->len - 1;
	size_t k = 0;

	while (s < end) {
		if (*s != '\\') {
			if (pattern && stars)
				stars[k] = *s == '*';
			out[k++] = *s++;
			continue;
		}
		size_t n, k0 = k;
		bool star;
		if (unescape_one(s + 1, end, pattern, out, &k, &n, &star) < 0)
			return lex_fail(
			    l, s,
			    "expected a valid escape (\\n \\r \\t \\\\ \\0 \\' \\\" \\xHH "
			    "\\u{HEX}, and \\* in a pattern)");
		if (star)
			out[k++] = '*';
		for (size_t i = k0; pattern && stars && i < k; i++)
			stars[i] = 0;
		s += 1 + n;
	}
	*len = k;
	return 0;
}
