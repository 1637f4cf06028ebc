/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finds where a JSON path ("$.capabilities[2].type") points in a document's text, so that
 * structure errors carry a line and column as well as the path.  jansson keeps no positions
 * for values; this walks the text again.  It runs only on text jansson has already accepted
 * (valid JSON, nesting below jansson's depth limit), so it need not validate, and it never
 * recurses: containers it skips are skipped with a depth counter.
 *
 * JsonDoc ties the text to its name, so that syntax errors (from jansson) and structure
 * errors (located here) read the same in every parser: capability files, Cedar policies and
 * entities, the registry's component files, seccomp profiles.
 */
#include "basic/json-locate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/utf8.h"

typedef struct Cursor {
	const char *p, *end;
} Cursor;

static void skip_ws(Cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* At '"': moves past the closing quote. */
static void skip_string(Cursor *c)
{
	for (c->p++; c->p < c->end && *c->p != '"'; c->p++)
		if (*c->p == '\\')
			c->p++;
	if (c->p < c->end)
		c->p++;
}

static void skip_scalar(Cursor *c)
{
	while (c->p < c->end && !strchr(",]}: \t\r\n", *c->p))
		c->p++;
}

static void skip_value(Cursor *c)
{
	unsigned depth = 0;

	skip_ws(c);
	while (c->p < c->end) {
		char ch = *c->p;
		if (ch == '"') {
			skip_string(c);
		} else if (ch == '[' || ch == '{') {
			depth++;
			c->p++;
		} else if (ch == ']' || ch == '}') {
			depth--;
			c->p++;
		} else if (depth == 0) {
			skip_scalar(c);
		} else {
			c->p++;
		}
		if (depth == 0)
			return;
	}
}

static int hex4(const char *p, const char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char h = p[i];
		int d = h >= '0' && h <= '9'   ? h - '0'
		        : h >= 'a' && h <= 'f' ? h - 'a' + 10
		        : h >= 'A' && h <= 'F' ? h - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* One escape after the backslash at c->p; appends its bytes to OUT. */
static size_t decode_escape(Cursor *c, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char e = c->p[1];
	const char *k = strchr(from, e);

	if (e && k) {
		c->p += 2;
		out[0] = to[k - from];
		return 1;
	}
	int cp = hex4(c->p + 2, c->end);
	c->p += 6;
	if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->p >= 6 && c->p[0] == '\\') {
		int lo = hex4(c->p + 2, c->end);
		if (lo >= 0xdc00 && lo < 0xe000) {
			c->p += 6;
			return utf8_put(out, 0x10000 + (((uint32_t)cp - 0xd800) << 10) +
			                         ((uint32_t)lo - 0xdc00));
		}
	}
	return utf8_put(out, cp < 0 ? 0xfffd : (uint32_t)cp);
}

/* At '"': decodes the string into KEY (truncated to SIZE-1 bytes). */
static size_t read_key(Cursor *c, char *key, size_t size)
{
	size_t n = 0;
	char tmp[4];

	c->p++;
	while (c->p < c->end && *c->p != '"') {
		size_t k = 1;
		if (*c->p == '\\')
			k = decode_escape(c, tmp);
		else
			tmp[0] = *c->p++;
		for (size_t i = 0; i < k && n + 1 < size; i++)
			key[n++] = tmp[i];
	}
	c->p++;
	key[n] = '\0';
	return n;
}

/* Does the path element at PATH (after '.') name KEY: KEY followed by an end of element? */
static bool key_matches(const char *path, const char *key, size_t klen)
{
	/* KEY may hold NUL (Cedar's JSON reader keeps it): never read PATH past its end */
	return strnlen(path, klen) == klen && memcmp(path, key, klen) == 0 &&
	       (path[klen] == '\0' || path[klen] == '.' || path[klen] == '[');
}

static bool enter_member(Cursor *c, const char **path)
{
	char key[256];

	if (*c->p != '{')
		return false;
	c->p++;
	for (;;) {
		skip_ws(c);
		if (c->p >= c->end || *c->p != '"')
			return false;
		size_t klen = read_key(c, key, sizeof(key));
		skip_ws(c);
		c->p++; /* ':' */
		if (key_matches(*path, key, klen)) {
			*path += klen;
			return true;
		}
		skip_value(c);
		skip_ws(c);
		if (c->p >= c->end || *c->p != ',')
			return false;
		c->p++;
	}
}

static bool enter_element(Cursor *c, const char **path)
{
	unsigned long idx = 0;
	const char *p = *path;

	if (*c->p != '[')
		return false;
	while (*p >= '0' && *p <= '9' && idx < 100000000)
		idx = idx * 10 + (unsigned long)(*p++ - '0');
	if (*p != ']')
		return false;
	*path = p + 1;
	c->p++;
	for (unsigned long i = 0; i < idx; i++) {
		skip_value(c);
		skip_ws(c);
		if (c->p >= c->end || *c->p != ',')
			return false;
		c->p++;
	}
	return true;
}

int json_locate(const char *data, size_t len, const char *path, unsigned *ret_line,
                unsigned *ret_col)
{
	Cursor c = {.p = data, .end = data + len};

	if (!path || path[0] != '$')
		return -EINVAL;
	path++;
	for (;;) {
		skip_ws(&c);
		if (c.p >= c.end)
			return -ENOENT;
		char step = *path++;
		if (step == '\0')
			break;
		bool ok =
		    step == '.' ? enter_member(&c, &path) : step == '[' && enter_element(&c, &path);
		if (!ok)
			return -ENOENT;
	}
	unsigned line = 1, col = 1;
	for (const char *q = data; q < c.p; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)*q & 0xc0) != 0x80) {
			col++; /* count characters, not UTF-8 continuation bytes */
		}
	}
	*ret_line = line;
	*ret_col = col;
	return 0;
}

/* ---------------------------------------------------------------- documents */

int json_doc_parse(const JsonDoc *d, json_t **ret)
{
	json_error_t jerr;

	*ret = json_loadb(d->data ? d->data : "", d->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*ret)
		return ob_error_set(d->err, -EINVAL, "%s:%d:%d: %s", d->name, jerr.line,
		                    jerr.column, jerr.text);
	return 0;
}

int json_doc_load(const char *path, size_t max, char **ret_data, size_t *ret_len, json_t **ret,
                  ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	JsonDoc doc = {.name = path, .err = reterr};

	int r = read_file_limited(path, max, &data, &doc.len, reterr);
	if (r < 0)
		return r;
	doc.data = data;
	r = json_doc_parse(&doc, ret);
	if (r < 0)
		return r;
	*ret_data = TAKE_PTR(data);
	*ret_len = doc.len;
	return 0;
}

int json_doc_failv(const JsonDoc *d, int code, const char *path, const char *fmt, va_list ap)
{
	char what[400];
	unsigned line, col;

	(void)vsnprintf(what, sizeof(what), fmt, ap);
	if (d->data && json_locate(d->data, d->len, path, &line, &col) >= 0)
		return ob_error_set(d->err, code, "%s:%u:%u: %s: %s", d->name, line, col, path,
		                    what);
	return ob_error_set(d->err, code, "%s: %s: %s", d->name, path, what);
}

int json_doc_fail(const JsonDoc *d, int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = json_doc_failv(d, code, path, fmt, ap);
	va_end(ap);
	return r;
}
