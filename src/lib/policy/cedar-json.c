/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cedar's JSON reader.  Cedar reads JSON with serde_json, which takes any Unicode scalar in
 * strings and object keys, NUL included; jansson's decoder refuses NUL in keys (and in strings
 * unless asked), so policies, entities and contexts are read here into jansson values built
 * with the length-taking constructors.  Integers must fit in 64 bits (Cedar's longs); other
 * numbers become reals, which the builders refuse by path.  Duplicate keys are refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/utf8.h"
#include "policy/cedar.h"

typedef struct Reader {
	const char *p, *end, *start;
	/* the string being decoded: one buffer for all, on the stack unless a string is long,
	 * so that reading leaves no trail of freed blocks in the heap (the requests and sets
	 * built next would be laid out around them, measurably slower to evaluate) */
	char *buf;
	size_t cap;
	char small[512];
	const char *what; /* set on failure: what was expected or found */
	const char *at;   /* where */
} Reader;

static int fail(Reader *r, const char *at, const char *what)
{
	r->at = at;
	r->what = what;
	return -EINVAL;
}

static void skip_space(Reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(Reader *r, uint32_t *ret)
{
	uint32_t v = 0;

	if (r->end - r->p < 4)
		return fail(r, r->p, "expected four hex digits after \\u");
	for (int i = 0; i < 4; i++) {
		char c = *r->p++;
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return fail(r, r->p - 1, "expected four hex digits after \\u");
		v = v * 16 + (uint32_t)d;
	}
	*ret = v;
	return 0;
}

/* \uXXXX, with a surrogate pair as one scalar; a lone surrogate is no Unicode scalar */
static int unicode_escape(Reader *r, uint32_t *ret)
{
	const char *at = r->p - 2;
	uint32_t hi, lo;

	if (hex4(r, &hi) < 0)
		return -EINVAL;
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return fail(r, at, "a lone low surrogate (not a Unicode scalar value)");
	if (hi < 0xD800 || hi > 0xDBFF) {
		*ret = hi;
		return 0;
	}
	if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
		return fail(r, at, "a lone high surrogate (not a Unicode scalar value)");
	r->p += 2;
	if (hex4(r, &lo) < 0)
		return -EINVAL;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return fail(r, at, "a lone high surrogate (not a Unicode scalar value)");
	*ret = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
	return 0;
}

/* The length of the well-formed UTF-8 sequence at P (before END), or 0. */
size_t cedar_utf8_len(const char *p, const char *end)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t avail = (size_t)(end - p), n;
	uint32_t c, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0)
		n = 2, c = s[0] & 0x1F, min = 0x80;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3, c = s[0] & 0x0F, min = 0x800;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return n;
}

static int escape(Reader *r, char *buf, size_t *k)
{
	char c = *r->p++;
	uint32_t u;

	switch (c) {
	case '"':
	case '\\':
	case '/':
		buf[(*k)++] = c;
		return 0;
	case 'b':
		buf[(*k)++] = '\b';
		return 0;
	case 'f':
		buf[(*k)++] = '\f';
		return 0;
	case 'n':
		buf[(*k)++] = '\n';
		return 0;
	case 'r':
		buf[(*k)++] = '\r';
		return 0;
	case 't':
		buf[(*k)++] = '\t';
		return 0;
	case 'u':
		if (unicode_escape(r, &u) < 0)
			return -EINVAL;
		*k += utf8_put(buf + *k, u);
		return 0;
	default:
		return fail(r, r->p - 2,
		            "expected an escape \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX");
	}
}

/* A string at r->p (the opening quote), decoded into r->buf (valid until the next string). */
static int string(Reader *r, const char **ret, size_t *ret_len)
{
	const char *open = r->p++, *q = r->p;
	size_t k = 0;

	/* the raw text up to the closing quote bounds the value: an escape never grows it */
	while (q < r->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	size_t need = (size_t)(MIN(q, r->end) - r->p) + 1;
	if (need > r->cap) { /* scratch: nothing to keep from the old buffer */
		char *b = malloc(MAX(need, 2 * r->cap));
		if (!b)
			return -ENOMEM;
		if (r->buf != r->small)
			free(r->buf);
		r->buf = b;
		r->cap = MAX(need, 2 * r->cap);
	}
	char *buf = r->buf;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20)
			return fail(r, r->p, "control character inside a string (escape it)");
		if (c == '\\') {
			if (++r->p >= r->end)
				break;
			if (escape(r, buf, &k) < 0)
				return -EINVAL;
			continue;
		}
		size_t n = cedar_utf8_len(r->p, r->end);
		if (n == 0)
			return fail(r, r->p, "expected valid UTF-8");
		memcpy(buf + k, r->p, n);
		k += n;
		r->p += n;
	}
	if (r->p >= r->end)
		return fail(r, open, "expected a closing '\"' for this string");
	r->p++;
	buf[k] = 0;
	*ret_len = k;
	*ret = buf;
	return 0;
}

static int value(Reader *r, unsigned depth, json_t **ret);

static int number(Reader *r, json_t **ret)
{
	const char *s = r->p;
	bool integer = true;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return fail(r, s, "expected a JSON value");
	if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
		return fail(r, s, "expected a number without leading zeros");
	while (r->p < r->end &&
	       ((*r->p >= '0' && *r->p <= '9') || (*r->p && strchr(".eE+-", *r->p)))) {
		integer &= *r->p >= '0' && *r->p <= '9';
		r->p++;
	}
	char text[64];
	if ((size_t)(r->p - s) >= sizeof(text))
		return fail(r, s, "expected a number of at most 63 characters");
	memcpy(text, s, (size_t)(r->p - s));
	text[r->p - s] = 0;
	char *e;
	errno = 0;
	if (integer) {
		long long v = strtoll(text, &e, 10);
		if (errno == ERANGE)
			return fail(r, s, "expected an integer within 64 bits (Cedar's long)");
		*ret = json_integer(v);
	} else {
		double d = strtod(text, &e);
		if (*e)
			return fail(r, s, "expected a well-formed number");
		*ret = json_real(d);
	}
	return *ret ? 0 : -ENOMEM;
}

static int literal(Reader *r, const char *word, json_t *v, json_t **ret)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, r->p, "expected a JSON value");
	r->p += n;
	*ret = v;
	return 0;
}

static int array(Reader *r, unsigned depth, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	if (!a)
		return -ENOMEM;
	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		*ret = TAKE_PTR(a);
		return 0;
	}
	for (;;) {
		json_t *v;
		int k = value(r, depth + 1, &v);
		if (k < 0)
			return k;
		if (json_array_append_new(a, v) < 0)
			return -ENOMEM;
		skip_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']')
			break;
		return fail(r, r->p, "expected ',' or ']'");
	}
	r->p++;
	*ret = TAKE_PTR(a);
	return 0;
}

static int member(Reader *r, unsigned depth, json_t *o)
{
	const char *key;
	size_t len;
	json_t *v;

	skip_space(r);
	const char *at = r->p;
	if (r->p >= r->end || *r->p != '"')
		return fail(r, r->p, "expected a string (an object key)");
	int k = string(r, &key, &len);
	if (k < 0)
		return k;
	skip_space(r);
	if (r->p >= r->end || *r->p != ':')
		return fail(r, r->p, "expected ':'");
	r->p++;
	if (json_object_getn(o, key, len))
		return fail(r, at, "duplicate key (keys must be unique)");
	/* the value reuses the string buffer: the key is kept apart (on the stack when short) */
	char small[128];
	_cleanup_free_ char *big = len < sizeof(small) ? NULL : malloc(len);
	char *copy = big ? big : small;
	if (len >= sizeof(small) && !big)
		return -ENOMEM;
	memcpy(copy, key, len);
	k = value(r, depth + 1, &v);
	if (k < 0)
		return k;
	return json_object_setn_new_nocheck(o, copy, len, v) < 0 ? -ENOMEM : 0;
}

static int object(Reader *r, unsigned depth, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	if (!o)
		return -ENOMEM;
	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		*ret = TAKE_PTR(o);
		return 0;
	}
	for (;;) {
		int k = member(r, depth, o);
		if (k < 0)
			return k;
		skip_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}')
			break;
		return fail(r, r->p, "expected ',' or '}'");
	}
	r->p++;
	*ret = TAKE_PTR(o);
	return 0;
}

static int value(Reader *r, unsigned depth, json_t **ret)
{
	const char *s;
	size_t len;

	skip_space(r);
	/* the builders stop at CEDAR_MAX_DEPTH expressions, each a few JSON levels */
	if (depth > 8 * CEDAR_MAX_DEPTH)
		return fail(r, r->p, "JSON nested more than 1024 levels");
	if (r->p >= r->end)
		return fail(r, r->p, "expected a JSON value");
	switch (*r->p) {
	case '{':
		return object(r, depth, ret);
	case '[':
		return array(r, depth, ret);
	case '"':
		if (string(r, &s, &len) < 0)
			return -EINVAL;
		*ret = json_stringn_nocheck(s, len);
		return *ret ? 0 : -ENOMEM;
	case 't':
		return literal(r, "true", json_true(), ret);
	case 'f':
		return literal(r, "false", json_false(), ret);
	case 'n':
		return literal(r, "null", json_null(), ret);
	default:
		return number(r, ret);
	}
}

int cedar_json_parse(const JsonDoc *d, json_t **ret)
{
	const char *data = d->data ? d->data : "";
	Reader r = {.p = data, .end = data + d->len, .start = data};
	json_t *v = NULL;
	unsigned line, col;

	r.buf = r.small;
	r.cap = sizeof(r.small);
	int k = value(&r, 0, &v);
	if (r.buf != r.small)
		free(r.buf);
	if (k >= 0) {
		skip_space(&r);
		if (r.p < r.end) {
			json_decref(v);
			k = fail(&r, r.p, "expected the end of the text after the JSON value");
		}
	}
	if (k == -ENOMEM)
		return ob_error_set(d->err, k, "%s: out of memory", d->name);
	if (k < 0) {
		utf8_position(data, r.at, &line, &col);
		return ob_error_set(d->err, k, "%s:%u:%u: %s", d->name, line, col, r.what);
	}
	*ret = v;
	return 0;
}
