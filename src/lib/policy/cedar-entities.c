/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entities in Cedar's JSON entity format: [{"uid": {"type", "id"}, "attrs": {...},
 * "parents": [{"type", "id"}...]}].  Parsed once; each entity's transitive ancestors are
 * computed at load (as Cedar does) into a sorted array, so `in` is a binary search.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "policy/cedar.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The transitive ancestors of entity I; -ELOOP when I is its own ancestor (Cedar refuses a
 * hierarchy with a cycle). */
static int closure(ob_entities *es, uint32_t i, const uint32_t *const *parents,
                   const uint32_t *n_parents, uint32_t *stack, uint32_t *seen, uint32_t n)
{
	uint32_t sp = 0, k = 0, stamp = i + 1; /* seen[x] == stamp: visited in this walk */
	uint32_t *out = stack + n;             /* the second half of the work space */

	seen[i] = stamp;
	stack[sp++] = i;
	while (sp) {
		uint32_t e = stack[--sp];
		for (uint32_t j = 0; j < n_parents[e]; j++) {
			uint32_t p = parents[e][j];
			if (p == i)
				return -ELOOP;
			if (seen[p] == stamp)
				continue;
			seen[p] = stamp;
			out[k++] = p;
			stack[sp++] = p;
		}
	}
	uint32_t *anc = arena_alloc(&es->arena, (k ? k : 1) * sizeof(uint32_t));
	if (!anc)
		return -ENOMEM;
	memcpy(anc, out, k * sizeof(uint32_t));
	qsort(anc, k, sizeof(uint32_t), cmp_u32);
	es->data[i].anc = anc;
	es->data[i].n_anc = k;
	return 0;
}

static int parse_entity(ob_entities *es, const ValueParser *vp, const json_t *e, size_t idx,
                        uint32_t **parents, uint32_t *n_parents, CVal *attrs, uint32_t *uid)
{
	char path[64], sub[96];
	const char *key;
	json_t *v;

	(void)snprintf(path, sizeof(path), "$[%zu]", idx);
	if (!json_is_object(e))
		return cedar_value_fail(
		    vp, path, "expected an entity object {\"uid\", \"attrs\", \"parents\"}");
	json_object_foreach((json_t *)e, key, v)
		if (!streq(key, "uid") && !streq(key, "attrs") && !streq(key, "parents") &&
		    !streq(key, "tags"))
			return cedar_value_fail(
			    vp, path, "unknown key \"%.40s\" (expected uid, attrs, parents)", key);
	(void)snprintf(sub, sizeof(sub), "%s.uid", path);
	if (!json_object_get(e, "uid"))
		return cedar_value_fail(vp, path, "missing \"uid\"");
	int r = uid_from_json(vp, json_object_get(e, "uid"), sub, uid);
	if (r < 0)
		return r;
	const json_t *ps = json_object_get(e, "parents");
	(void)snprintf(sub, sizeof(sub), "%s.parents", path);
	/* Cedar requires both keys, even empty, without a schema */
	if (!ps || !json_object_get(e, "attrs"))
		return cedar_value_fail(vp, path,
		                        "missing \"%s\" (an entity needs uid, attrs, parents)",
		                        ps ? "attrs" : "parents");
	if (!json_is_array(ps))
		return cedar_value_fail(vp, sub, "expected an array of entity references");
	*n_parents = (uint32_t)json_array_size(ps);
	*parents = arena_alloc(&es->arena, (*n_parents ? *n_parents : 1) * sizeof(uint32_t));
	if (!*parents)
		return -ENOMEM;
	for (uint32_t j = 0; j < *n_parents; j++) {
		(void)snprintf(sub, sizeof(sub), "%s.parents[%u]", path, j);
		r = uid_from_json(vp, json_array_get(ps, j), sub, &(*parents)[j]);
		if (r < 0)
			return r;
	}
	const json_t *as = json_object_get(e, "attrs");
	(void)snprintf(sub, sizeof(sub), "%s.attrs", path);
	if (!json_is_object(as))
		return cedar_value_fail(vp, sub, "expected an object of attributes");
	return value_from_json(vp, as, sub, 0, attrs);
}

/* The parents P (N) sorted without repeats; returns how many remain. */
static uint32_t parent_set(uint32_t *p, uint32_t n)
{
	uint32_t k = 0;

	if (n < 2) /* P is NULL without parents: nothing to sort */
		return n;
	qsort(p, n, sizeof(uint32_t), cmp_u32);
	for (uint32_t i = 0; i < n; i++)
		if (k == 0 || p[k - 1] != p[i])
			p[k++] = p[i];
	return k;
}

/* Entries I and J of the entity list name the same entity: Cedar accepts the repeat only
 * when both say the same (attributes, parents as a set, tags). */
static bool same_entity(const json_t *root, uint32_t *const *parents, uint32_t *n_parents,
                        const CVal *attrs, size_t i, size_t j)
{
	const json_t *ti = json_object_get(json_array_get(root, i), "tags");
	const json_t *tj = json_object_get(json_array_get(root, j), "tags");

	if (!cval_equal(&attrs[i], &attrs[j]) || !(ti ? tj && json_equal(ti, tj) : !tj))
		return false;
	uint32_t ni = parent_set(parents[i], n_parents[i]),
	         nj = parent_set(parents[j], n_parents[j]);
	if (ni != nj)
		return false;
	return ni == 0 || (parents[i] && parents[j] &&
	                   memcmp(parents[i], parents[j], ni * sizeof(uint32_t)) == 0);
}

static int entities_build(ob_entities *es, const json_t *root, const JsonDoc *doc)
{
	ValueParser vp = {.arena = &es->arena,
	                  .uids = &es->uids,
	                  .err = doc->err,
	                  .fail = cedar_value_fail,
	                  .userdata = doc};
	size_t n = json_array_size(root);
	_cleanup_free_ uint32_t **parents = calloc(n ? n : 1, sizeof(uint32_t *));
	_cleanup_free_ uint32_t *n_parents = calloc(n ? n : 1, sizeof(uint32_t));
	_cleanup_free_ uint32_t *uid = calloc(n ? n : 1, sizeof(uint32_t));
	_cleanup_free_ CVal *attrs = calloc(n ? n : 1, sizeof(CVal));

	if (!json_is_array(root))
		return cedar_value_fail(&vp, "$", "expected an array of entities");
	if (!parents || !n_parents || !uid || !attrs)
		return ob_error_set(doc->err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = parse_entity(es, &vp, json_array_get(root, i), i, &parents[i],
		                     &n_parents[i], &attrs[i], &uid[i]);
		if (r < 0)
			return r;
	}
	uint32_t m = es->uids.n; /* every uid named anywhere, defined or not */
	es->data = calloc(m ? m : 1, sizeof(EntityData));
	_cleanup_free_ const uint32_t **pl = calloc(m ? m : 1, sizeof(uint32_t *));
	_cleanup_free_ uint32_t *pn = calloc(m ? m : 1, sizeof(uint32_t));
	_cleanup_free_ uint32_t *stack = calloc(2 * (size_t)(m ? m : 1), sizeof(uint32_t));
	_cleanup_free_ uint32_t *seen = calloc(m ? m : 1, sizeof(uint32_t));
	if (!es->data || !pl || !pn || !stack || !seen)
		return ob_error_set(doc->err, -ENOMEM, "out of memory");
	_cleanup_free_ size_t *first = calloc(m ? m : 1, sizeof(size_t)); /* entry defining uid */
	if (!first)
		return ob_error_set(doc->err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char path[64];
		const Uid *u = &es->uids.uids[uid[i]];
		if (es->data[uid[i]].defined) {
			if (same_entity(root, parents, n_parents, attrs, first[uid[i]], i))
				continue;
			(void)snprintf(path, sizeof(path), "$[%zu].uid", i);
			return cedar_value_fail(
			    &vp, path,
			    "duplicate entity entry %.64s::\"%.64s\" (also $[%zu], "
			    "with different content)",
			    u->type, u->id, first[uid[i]]);
		}
		first[uid[i]] = i;
		es->data[uid[i]] = (EntityData){.defined = true, .attrs = attrs[i]};
		pl[uid[i]] = parents[i];
		pn[uid[i]] = n_parents[i];
	}
	for (uint32_t i = 0; i < m; i++) {
		if (!es->data[i].defined)
			es->data[i].attrs = (CVal){.type = V_RECORD};
		int r = closure(es, i, pl, pn, stack, seen, m);
		if (r == -ELOOP) {
			char path[64], t[160];
			(void)snprintf(path, sizeof(path), "$[%zu].parents", first[i]);
			return cedar_value_fail(&vp, path,
			                        "the entity hierarchy has a cycle containing %s",
			                        uid_text(&es->uids.uids[i], t, sizeof(t)));
		}
		if (r < 0)
			return ob_error_set(doc->err, -ENOMEM, "out of memory");
	}
	return 0;
}

ob_entities *ob_entities_free(ob_entities *es)
{
	if (!es)
		return NULL;
	free(es->data);
	uid_table_free(&es->uids);
	arena_free(&es->arena);
	free(es);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_entities *, ob_entities_free)

/* A CedarBuildFn: RET is an ob_entities **. */
static int entities_from_json(const json_t *root, const JsonDoc *doc, void *ret)
{
	_cleanup_(ob_entities_freep) ob_entities *es = calloc(1, sizeof(*es));

	if (!es)
		return ob_error_set(doc->err, -ENOMEM, "out of memory");
	int r = entities_build(es, root, doc);
	if (r < 0)
		return r;
	*(ob_entities **)ret = TAKE_PTR(es);
	return 0;
}

int ob_entities_parse(const char *data, size_t len, const char *name, ob_entities **ret,
                      ob_error *reterr)
{
	return cedar_doc_parse(data, len, name ? name : "<entities>", entities_from_json, ret,
	                       reterr);
}

int ob_entities_load(const char *path, ob_entities **ret, ob_error *reterr)
{
	return cedar_doc_load(path, entities_from_json, ret, reterr);
}

size_t ob_entities_size(const ob_entities *es)
{
	size_t n = 0;
	for (uint32_t i = 0; es && i < es->uids.n; i++)
		n += es->data[i].defined;
	return n;
}
