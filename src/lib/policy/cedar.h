/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Cedar-subset engine's internal form (policy sets, entities, values).  Everything a
 * policy set or an entity store holds lives in its own arena; evaluation reads these
 * structures and writes only into the authorizer's scratch arena, reset per request.
 */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "omnibase/omnibase.h"

#include "basic/json-locate.h"
#include "basic/macro.h"

/* ---------------------------------------------------------------- arena */

typedef struct ArenaChunk ArenaChunk;
typedef struct Arena {
	ArenaChunk *head;
	size_t used, cap;
	size_t first; /* the first chunk's size; 0: 16 KiB */
} Arena;

void *arena_alloc(Arena *a, size_t size);
char *arena_strndup(Arena *a, const char *s, size_t len);
/* Keeps the first chunk (so a scratch arena stops allocating once warm), frees the rest. */
void arena_reset(Arena *a);
void arena_free(Arena *a);

/* ---------------------------------------------------------------- values */

typedef enum VType {
	V_BOOL,
	V_LONG,
	V_STRING,
	V_ENTITY,
	V_SET,
	V_RECORD,
} VType;

typedef struct CField CField;
typedef struct CVal {
	uint8_t type;
	uint32_t n; /* string length, set or record size */
	union {
		bool b;
		int64_t l;
		const char *s;
		uint32_t uid; /* V_ENTITY: an index in a uid table (see UidTable) */
		const struct CVal *items;
		const CField *fields; /* sorted by key (length, then bytes) */
	};
} CVal;

struct CField {
	const char *key;
	uint32_t len;
	uint32_t hash; /* key_hash(key, len): lookups compare it before the bytes */
	CVal v;
};

/* Equality of sets (as sets) and records; cval_equal's slow half. */
bool cval_equal_compound(const CVal *a, const CVal *b);
/* N bytes at A and B equal (short strings: a loop beats a call to memcmp). */
static inline bool bytes_equal(const char *a, const char *b, uint32_t n)
{
	if (n > 16)
		return memcmp(a, b, n) == 0;
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}
/* Cedar's ==: false across types, never an error. */
static inline bool cval_equal(const CVal *a, const CVal *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case V_BOOL:
		return a->b == b->b;
	case V_LONG:
		return a->l == b->l;
	case V_STRING:
		return a->n == b->n && bytes_equal(a->s, b->s, a->n);
	case V_ENTITY:
		return a->uid == b->uid;
	default:
		return cval_equal_compound(a, b);
	}
}
/* The index of the field KEY in record R, or UINT32_MAX. */
uint32_t record_find(const CVal *r, const char *key, uint32_t len, uint32_t hash);
/* The field KEY of record R, or NULL. */
static inline const CVal *record_get(const CVal *r, const char *key, uint32_t len, uint32_t hash)
{
	uint32_t i = record_find(r, key, len, hash);
	return i == UINT32_MAX ? NULL : &r->fields[i].v;
}
uint32_t key_hash(const char *key, uint32_t len);
/* Sorts a record's fields; -EEXIST when a key repeats. */
int record_sort(CField *fields, uint32_t n);
const char *vtype_name(uint8_t type);

/* ---------------------------------------------------------------- entity uids */

/* Interned entity uids: TYPE::"ID" → a dense index. */
typedef struct Uid {
	const char *type, *id;
	uint32_t type_len, id_len;
	uint64_t hash;
} Uid;

typedef struct UidTable {
	Uid *uids;
	uint32_t n, alloc;
	uint32_t *slots; /* open addressing: uid index + 1, 0 = empty */
	uint32_t n_slots;
	uint32_t base; /* the first index of this table (tables stack: store, links, request) */
} UidTable;

uint64_t uid_hash(const char *type, size_t type_len, const char *id, size_t id_len);
/* The index of TYPE::"ID" in T, or UINT32_MAX. */
uint32_t uid_find(const UidTable *t, const char *type, size_t type_len, const char *id,
                  size_t id_len, uint64_t hash);
/* Finds or adds (copying the strings into A). Returns the index or UINT32_MAX (no memory). */
uint32_t uid_intern(UidTable *t, Arena *a, const char *type, size_t type_len, const char *id,
                    size_t id_len);
void uid_table_free(UidTable *t);

/* U as Cedar text, Type::"id" with the id escaped (NUL as \u{0}), cut to fit SIZE bytes
 * (at least 32) at a character boundary; returns BUF. */
const char *uid_text(const Uid *u, char *buf, size_t size);

/* Parses TEXT as an entity reference `Type::"id"` (Type may be a path A::B); points into
 * TEXT, ID unescaped into BUF (SIZE bytes). */
int uid_parse_ref(const char *text, const char **type, size_t *type_len, char *buf, size_t size,
                  size_t *id_len);

/* ---------------------------------------------------------------- entities */

typedef struct EntityData {
	bool defined;        /* listed in the entity file (not only named as a parent) */
	CVal attrs;          /* a record */
	const uint32_t *anc; /* the transitive ancestors, sorted */
	uint32_t n_anc;
} EntityData;

struct ob_entities {
	Arena arena;
	UidTable uids;
	EntityData *data; /* one per uid */
};

/* Converts a JSON value of Cedar's entity/context format into a CVal, uids interned into T.
 * PATH names V for error messages. Sets are deduplicated. */
typedef struct ValueParser {
	Arena *arena;
	UidTable *uids;                /* where new entity uids go */
	const UidTable *const *lookup; /* tables searched first, NULL-terminated */
	ob_error *err;
	int (*fail)(const struct ValueParser *vp, const char *path, const char *fmt, ...)
	    _printf_(3, 4);
	const void *userdata;
} ValueParser;
int value_from_json(const ValueParser *vp, const json_t *v, const char *path, unsigned depth,
                    CVal *out);
/* A uid given as {"type","id"} or {"__entity": {...}}; the indices as for value_from_json. */
int uid_from_json(const ValueParser *vp, const json_t *v, const char *path, uint32_t *ret);

/* ---------------------------------------------------------------- policies */

typedef enum Op {
	OP_LIT, /* v */
	OP_VAR, /* a: 0 principal, 1 action, 2 resource, 3 context */
	OP_NOT, /* a */
	OP_NEG, /* a */
	OP_EQ,  /* a, b */
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_AND,
	OP_OR,
	OP_IN,
	OP_CONTAINS,
	OP_CONTAINS_ALL,
	OP_CONTAINS_ANY,
	OP_IS_EMPTY, /* a */
	OP_ATTR,     /* a . key (key in v.s, v.n; its key_hash in c; its slot in b) */
	OP_HAS,      /* a has key (the same) */
	OP_LIKE,     /* a like pattern (v.s: bytes, 0xFF = wildcard: never in UTF-8); b: how
	              * many wildcards, c: the bytes before the first */
	OP_IF,       /* if a then b else c */
	OP_IS,       /* a is type (v.s, v.n), and in b when c = 1 */
	OP_SET,      /* kids[a .. a+b); c = 1: all literals, the set built once in v */
	OP_RECORD,   /* kids[a .. a+b), their keys in v.fields (values unused), v.n = b */
} Op;

typedef struct Node {
	uint8_t op;
	uint32_t a, b, c;
	CVal v; /* OP_LIT: a scalar (an entity holds its policy-literal index); sets and
	         * records are OP_SET/OP_RECORD nodes */
} Node;

typedef enum ScopeOp {
	SCOPE_ALL,
	SCOPE_EQ,
	SCOPE_IN,
	SCOPE_IS,
	SCOPE_IS_IN,
} ScopeOp;

typedef struct Scope {
	uint8_t op;
	const uint32_t *ents; /* policy-literal indices: one, or the action's set */
	uint32_t n_ents;
	const char *type; /* is */
	uint32_t type_len;
} Scope;

typedef struct Policy {
	const char *id;
	bool forbid;
	Scope scope[3];        /* principal, action, resource */
	const uint32_t *conds; /* root nodes */
	const bool *unless;
	uint32_t n_conds;
} Policy;

struct ob_policy_set {
	Arena arena;
	Policy *policies;
	uint32_t n;
	Node *nodes;
	uint32_t n_nodes, alloc_nodes;
	uint32_t *kids;
	uint32_t n_kids, alloc_kids;
	UidTable lits; /* entity literals of all policies; OP_LIT entities index it */
	/* The attribute names `.` and `has` read, numbered in order of appearance: a node's
	 * slot (b).  An authorizer indexes entity attributes and contexts by these numbers
	 * (cedar-authz.c); names beyond the first CEDAR_SLOTS have none (UINT32_MAX). */
	CField *keys; /* key, len and hash used */
	uint32_t n_keys;
};

#define CEDAR_SLOTS 64

#define CEDAR_MAX_DEPTH 128
#define CEDAR_MAX_BYTES (64u << 20)

/*
 * Builds a Cedar object from ROOT, the parsed text of DOC, into RET (an `ob_x **`), which is
 * set only on success.  Structure errors go through json_doc_fail(DOC, ...).
 */
typedef int (*CedarBuildFn)(const json_t *root, const JsonDoc *doc, void *ret);
/*
 * The shape shared by ob_policy_set_parse and ob_entities_parse: DATA (at most
 * CEDAR_MAX_BYTES) parsed as JSON, errors named NAME, handed to BUILD.  -EINVAL without a
 * message when RET is NULL or DATA is NULL with a length.
 */
int cedar_doc_parse(const char *data, size_t len, const char *name, CedarBuildFn build, void *ret,
                    ob_error *reterr);
/* cedar_doc_parse on the file PATH, read as read_file_limited does and named PATH. */
int cedar_doc_load(const char *path, CedarBuildFn build, void *ret, ob_error *reterr);
/* A ValueParser's `fail` for documents: USERDATA is the JsonDoc being parsed. */
int cedar_value_fail(const ValueParser *vp, const char *path, const char *fmt, ...) _printf_(3, 4);

/* Cedar's JSON reader (cedar-json.c): D's text into *RET, Unicode scalars (NUL included) in
 * strings and keys, 64-bit integers, duplicate keys refused; errors NAME:LINE:COL: what. */
int cedar_json_parse(const JsonDoc *d, json_t **ret);
/* The length of the well-formed UTF-8 sequence at P (before END), or 0. */
size_t cedar_utf8_len(const char *p, const char *end);

/* Cedar's policy text (cedar-parse.c): DATA is text rather than JSON (it does not start with
 * '{' or '[' after blanks and `//` comments). */
bool cedar_is_text(const char *data, size_t len);
/* DATA as {"staticPolicies": {"policy0": EST, …}}, the JSON form Cedar's parser writes;
 * errors NAME:LINE:COL: what was expected. */
int cedar_text_parse(const char *data, size_t len, const char *name, json_t **ret,
                     ob_error *reterr);
