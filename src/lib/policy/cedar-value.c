/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cedar values, entity uids and the arena they live in; conversion from Cedar's JSON value
 * format (entity attributes, request context): strings, longs, booleans, arrays (sets),
 * objects (records), {"__entity": {"type", "id"}}.  `__extn` (decimal, ip …) is outside the
 * supported subset and refused with a clear error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "policy/cedar.h"

/* ---------------------------------------------------------------- arena */

struct ArenaChunk {
	ArenaChunk *next;
	size_t cap;
	max_align_t data[];
};

/* SIZE bytes aligned to ALIGN (a power of two, at most 16), from the current chunk or a new
 * one: twice the last, at least SIZE, at most 1 GiB. */
static void *arena_take(Arena *a, size_t size, size_t align)
{
	size_t at = (a->used + align - 1) & ~(align - 1);

	if (size > (size_t)1 << 30)
		return NULL;
	if (!a->head || at + size > a->cap) {
		size_t cap = a->head ? a->head->cap * 2 : a->first ? a->first : 16384;
		cap = MIN(MAX(cap, size), (size_t)1 << 30);
		ArenaChunk *c = malloc(sizeof(ArenaChunk) + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->cap = cap;
		a->head = c;
		a->cap = cap;
		at = 0;
	}
	a->used = at + size;
	return (char *)a->head->data + at;
}

/* Aligned for any value the engine stores (pointers, 64-bit integers): packed, so that a
 * request's data spans few cache lines. */
void *arena_alloc(Arena *a, size_t size)
{
	return arena_take(a, size, 8);
}

char *arena_strndup(Arena *a, const char *s, size_t len)
{
	char *p = arena_take(a, len + 1, 1); /* bytes: no alignment */
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

void arena_reset(Arena *a)
{
	ArenaChunk *c = a->head;
	if (!c)
		return;
	/* Keep the largest chunk (the newest): a warm scratch arena then never allocates. */
	ArenaChunk *rest = c->next;
	while (rest) {
		ArenaChunk *n = rest->next;
		free(rest);
		rest = n;
	}
	c->next = NULL;
	a->used = 0;
	a->cap = c->cap;
}

void arena_free(Arena *a)
{
	for (ArenaChunk *c = a->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	*a = (Arena){0};
}

/* ---------------------------------------------------------------- values */

const char *vtype_name(uint8_t type)
{
	static const char *const names[] = {"bool", "long", "string", "entity", "set", "record"};
	return type < ELEMENTSOF(names) ? names[type] : "?";
}

static int key_cmp(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

uint32_t key_hash(const char *key, uint32_t len)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	return h;
}

uint32_t record_find(const CVal *r, const char *key, uint32_t len, uint32_t hash)
{
	const CField *f = r->fields;
	uint32_t lo = 0, hi = r->n;

	if (r->n <= 16) { /* the usual record: a scan comparing hashes beats a binary search */
		for (uint32_t i = 0; i < r->n; i++)
			if (f[i].hash == hash && f[i].len == len && bytes_equal(f[i].key, key, len))
				return i;
		return UINT32_MAX;
	}
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = key_cmp(f[mid].key, f[mid].len, key, len);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT32_MAX;
}

static int field_cmp(const void *x, const void *y)
{
	const CField *a = x, *b = y;
	return key_cmp(a->key, a->len, b->key, b->len);
}

int record_sort(CField *fields, uint32_t n)
{
	qsort(fields, n, sizeof(CField), field_cmp);
	for (uint32_t i = 1; i < n; i++)
		if (field_cmp(&fields[i - 1], &fields[i]) == 0)
			return -EEXIST;
	return 0;
}

static bool set_has(const CVal *set, const CVal *v)
{
	for (uint32_t i = 0; i < set->n; i++)
		if (cval_equal(&set->items[i], v))
			return true;
	return false;
}

/* Sets compare as sets: duplicates (a runtime set literal may hold some) do not count. */
bool cval_equal_compound(const CVal *a, const CVal *b)
{
	switch (a->type) {
	case V_SET:
		for (uint32_t i = 0; i < a->n; i++)
			if (!set_has(b, &a->items[i]))
				return false;
		for (uint32_t i = 0; i < b->n; i++)
			if (!set_has(a, &b->items[i]))
				return false;
		return true;
	case V_RECORD:
		if (a->n != b->n)
			return false;
		for (uint32_t i = 0; i < a->n; i++)
			if (key_cmp(a->fields[i].key, a->fields[i].len, b->fields[i].key,
			            b->fields[i].len) != 0 ||
			    !cval_equal(&a->fields[i].v, &b->fields[i].v))
				return false;
		return true;
	default:
		return false;
	}
}

/* ---------------------------------------------------------------- uids */

uint64_t uid_hash(const char *type, size_t type_len, const char *id, size_t id_len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over type, a separator, id */
	for (size_t i = 0; i < type_len; i++)
		h = (h ^ (uint8_t)type[i]) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;
	for (size_t i = 0; i < id_len; i++)
		h = (h ^ (uint8_t)id[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

uint32_t uid_find(const UidTable *t, const char *type, size_t type_len, const char *id,
                  size_t id_len, uint64_t hash)
{
	if (!t->n_slots)
		return UINT32_MAX;
	for (uint32_t i = (uint32_t)hash & (t->n_slots - 1);; i = (i + 1) & (t->n_slots - 1)) {
		uint32_t s = t->slots[i];
		if (!s)
			return UINT32_MAX;
		const Uid *u = &t->uids[s - 1];
		if (u->hash == hash && u->type_len == type_len && u->id_len == id_len &&
		    memcmp(u->type, type, type_len) == 0 && memcmp(u->id, id, id_len) == 0)
			return t->base + s - 1;
	}
}

static int uid_grow(UidTable *t)
{
	uint32_t n_slots = t->n_slots ? t->n_slots * 2 : 64;
	uint32_t *slots = calloc(n_slots, sizeof(uint32_t));
	if (!slots)
		return -ENOMEM;
	for (uint32_t k = 0; k < t->n; k++) {
		uint32_t i = (uint32_t)t->uids[k].hash & (n_slots - 1);
		while (slots[i])
			i = (i + 1) & (n_slots - 1);
		slots[i] = k + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
	return 0;
}

uint32_t uid_intern(UidTable *t, Arena *a, const char *type, size_t type_len, const char *id,
                    size_t id_len)
{
	uint64_t h = uid_hash(type, type_len, id, id_len);
	uint32_t found = uid_find(t, type, type_len, id, id_len, h);

	if (found != UINT32_MAX)
		return found;
	if (type_len > UINT32_MAX / 2 || id_len > UINT32_MAX / 2 || t->n >= (1u << 28))
		return UINT32_MAX;
	if ((t->n + 1) * 2 > t->n_slots && uid_grow(t) < 0)
		return UINT32_MAX;
	if (t->n == t->alloc) {
		uint32_t alloc = t->alloc ? t->alloc * 2 : 64;
		Uid *u = reallocarray(t->uids, alloc, sizeof(Uid));
		if (!u)
			return UINT32_MAX;
		t->uids = u;
		t->alloc = alloc;
	}
	Uid *u = &t->uids[t->n];
	*u = (Uid){.type = arena_strndup(a, type, type_len),
	           .id = arena_strndup(a, id, id_len),
	           .type_len = (uint32_t)type_len,
	           .id_len = (uint32_t)id_len,
	           .hash = h};
	if (!u->type || !u->id)
		return UINT32_MAX;
	uint32_t i = (uint32_t)h & (t->n_slots - 1);
	while (t->slots[i])
		i = (i + 1) & (t->n_slots - 1);
	t->slots[i] = ++t->n;
	return t->base + t->n - 1;
}

void uid_table_free(UidTable *t)
{
	free(t->uids);
	free(t->slots);
	*t = (UidTable){0};
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Cedar's escapes in the quoted id: \" \\ \n \r \t \0 \' and \u{hex}. */
static int unescape(const char *s, size_t len, char *buf, size_t size, size_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\') {
			if (++i >= len)
				return -EINVAL;
			switch (s[i]) {
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case '0':
				c = '\0';
				break;
			case '\\':
			case '"':
			case '\'':
				c = s[i];
				break;
			case 'u': {
				char *end;
				if (i + 1 >= len || s[i + 1] != '{')
					return -EINVAL;
				unsigned long cp = strtoul(s + i + 2, &end, 16);
				if (end == s + i + 2 || end >= s + len || *end != '}' ||
				    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
					return -EINVAL;
				i = (size_t)(end - s);
				char enc[4];
				size_t m = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
				if (m == 1)
					enc[0] = (char)cp;
				else {
					for (size_t j = m - 1; j > 0; j--, cp >>= 6)
						enc[j] = (char)(0x80 | (cp & 0x3F));
					enc[0] = (char)((m == 2   ? 0xC0
					                 : m == 3 ? 0xE0
					                          : 0xF0) |
					                cp);
				}
				if (k + m > size)
					return -ENAMETOOLONG;
				memcpy(buf + k, enc, m);
				k += m;
				continue;
			}
			default:
				return -EINVAL;
			}
		} else if (c == '"') {
			return -EINVAL;
		}
		if (k >= size)
			return -ENAMETOOLONG;
		buf[k++] = c;
	}
	*out = k;
	return 0;
}

int uid_parse_ref(const char *text, const char **type, size_t *type_len, char *buf, size_t size,
                  size_t *id_len)
{
	const char *p = text;

	/* Type: identifiers joined by "::", then ::"id" */
	for (;;) {
		if (!is_ident_start(*p))
			return -EINVAL;
		while (is_ident(*p))
			p++;
		if (p[0] != ':' || p[1] != ':')
			return -EINVAL;
		if (p[2] == '"')
			break;
		p += 2;
	}
	*type = text;
	*type_len = (size_t)(p - text);
	const char *q = p + 3;
	size_t len = strlen(q);
	if (len == 0 || q[len - 1] != '"')
		return -EINVAL;
	/* the closing quote must not be escaped */
	size_t bs = 0;
	for (size_t i = len - 1; i > 0 && q[i - 1] == '\\'; i--)
		bs++;
	if (bs % 2)
		return -EINVAL;
	return unescape(q, len - 1, buf, size, id_len);
}

/* ---------------------------------------------------------------- JSON values */

static uint32_t uid_lookup_or_add(const ValueParser *vp, const char *type, size_t tl,
                                  const char *id, size_t il)
{
	uint64_t h = uid_hash(type, tl, id, il);
	for (const UidTable *const *t = vp->lookup; t && *t; t++) {
		uint32_t u = uid_find(*t, type, tl, id, il, h);
		if (u != UINT32_MAX)
			return u;
	}
	return uid_intern(vp->uids, vp->arena, type, tl, id, il);
}

int uid_from_json(const ValueParser *vp, const json_t *v, const char *path, uint32_t *ret)
{
	const json_t *e = json_object_get(v, "__entity");
	if (e)
		v = e;
	const json_t *type = json_object_get(v, "type"), *id = json_object_get(v, "id");
	if (!json_is_object(v) || !json_is_string(type) || !json_is_string(id) ||
	    json_object_size(v) != 2)
		return vp->fail(vp, path,
		                "expected an entity reference {\"type\": ..., \"id\": ...}");
	const char *ts = json_string_value(type);
	size_t tl = json_string_length(type);
	for (size_t i = 0; i < tl; i++)
		if (!(is_ident(ts[i]) || ts[i] == ':') || (i == 0 && !is_ident_start(ts[i])))
			return vp->fail(vp, path, "entity type \"%.64s\" is not a Cedar name", ts);
	uint32_t u = uid_lookup_or_add(vp, ts, tl, json_string_value(id), json_string_length(id));
	if (u == UINT32_MAX)
		return vp->fail(vp, path, "out of memory");
	*ret = u;
	return 0;
}

static int set_from_json(const ValueParser *vp, const json_t *v, const char *path, unsigned depth,
                         CVal *out)
{
	size_t n = json_array_size(v);
	CVal *items = arena_alloc(vp->arena, (n ? n : 1) * sizeof(CVal));
	uint32_t k = 0;
	char sub[256];

	if (!items)
		return vp->fail(vp, path, "out of memory");
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(sub, sizeof(sub), "%.200s[%zu]", path, i);
		int r = value_from_json(vp, json_array_get(v, i), sub, depth + 1, &items[k]);
		if (r < 0)
			return r;
		bool dup = false;
		for (uint32_t j = 0; j < k && !dup; j++)
			dup = cval_equal(&items[j], &items[k]);
		k += !dup;
	}
	*out = (CVal){.type = V_SET, .n = k, .items = items};
	return 0;
}

static int record_from_json(const ValueParser *vp, const json_t *v, const char *path,
                            unsigned depth, CVal *out)
{
	size_t n = json_object_size(v);
	CField *f = arena_alloc(vp->arena, (n ? n : 1) * sizeof(CField));
	const char *key;
	size_t key_len;
	json_t *x;
	uint32_t k = 0;
	char sub[256];

	if (!f)
		return vp->fail(vp, path, "out of memory");
	json_object_keylen_foreach((json_t *)v, key, key_len, x) {
		(void)snprintf(sub, sizeof(sub), "%.200s.%.40s", path, key);
		f[k].len = (uint32_t)key_len;
		f[k].key = arena_strndup(vp->arena, key, f[k].len);
		f[k].hash = key_hash(key, f[k].len);
		if (!f[k].key)
			return vp->fail(vp, path, "out of memory");
		int r = value_from_json(vp, x, sub, depth + 1, &f[k].v);
		if (r < 0)
			return r;
		k++;
	}
	(void)record_sort(f, k); /* JSON objects have unique keys (duplicates are refused) */
	*out = (CVal){.type = V_RECORD, .n = k, .fields = f};
	return 0;
}

int value_from_json(const ValueParser *vp, const json_t *v, const char *path, unsigned depth,
                    CVal *out)
{
	if (depth > CEDAR_MAX_DEPTH)
		return vp->fail(vp, path, "nested more than %d levels", CEDAR_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_TRUE:
	case JSON_FALSE:
		*out = (CVal){.type = V_BOOL, .b = json_is_true(v)};
		return 0;
	case JSON_INTEGER:
		*out = (CVal){.type = V_LONG, .l = (int64_t)json_integer_value(v)};
		return 0;
	case JSON_STRING: {
		size_t len = json_string_length(v);
		if (len > UINT32_MAX / 2)
			return vp->fail(vp, path, "string too long");
		char *s = arena_strndup(vp->arena, json_string_value(v), len);
		if (!s)
			return vp->fail(vp, path, "out of memory");
		*out = (CVal){.type = V_STRING, .n = (uint32_t)len, .s = s};
		return 0;
	}
	case JSON_ARRAY:
		return set_from_json(vp, v, path, depth, out);
	case JSON_OBJECT:
		if (json_object_get(v, "__entity")) {
			*out = (CVal){.type = V_ENTITY};
			return uid_from_json(vp, v, path, &out->uid);
		}
		if (json_object_get(v, "__extn"))
			return vp->fail(vp, path,
			                "extension values (__extn) are not supported: use a string "
			                "or a long");
		return record_from_json(vp, v, path, depth, out);
	case JSON_REAL:
		return vp->fail(vp, path, "expected a long (an integer), got a fraction");
	default:
		return vp->fail(vp, path, "null is not a Cedar value");
	}
}

/* ---------------------------------------------------------------- documents */

int cedar_value_fail(const ValueParser *vp, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = json_doc_failv(vp->userdata, -EINVAL, path, fmt, ap);
	va_end(ap);
	return r;
}

int cedar_doc_parse(const char *data, size_t len, const char *name, CedarBuildFn build, void *ret,
                    ob_error *reterr)
{
	JsonDoc doc = {.data = data, .len = len, .name = name, .err = reterr};
	_cleanup_(json_decrefp) json_t *root = NULL;

	assert_return(ret && (data || len == 0), -EINVAL);
	if (len > CEDAR_MAX_BYTES)
		return ob_error_set(reterr, -EFBIG, "%s: %zu bytes; the limit is %u", name, len,
		                    CEDAR_MAX_BYTES);
	/* Nesting is bounded by the reader (1024 levels) and again by CEDAR_MAX_DEPTH below. */
	int r = cedar_json_parse(&doc, &root);
	return r < 0 ? r : build(root, &doc, ret);
}

int cedar_doc_load(const char *path, CedarBuildFn build, void *ret, ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	assert_return(path && ret, -EINVAL);
	int r = read_file_limited(path, CEDAR_MAX_BYTES, &data, &len, reterr);
	return r < 0 ? r : cedar_doc_parse(data, len, path, build, ret, reterr);
}
