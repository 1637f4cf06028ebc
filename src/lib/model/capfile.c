/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability files (SPEC §2.4).  JSON through jansson: it reports line and column for syntax
 * errors, refuses duplicate keys (JSON_REJECT_DUPLICATES), refuses \u0000 and invalid UTF-8,
 * and stops nesting at 2048 levels instead of recursing into a 200,000-deep file.
 * Structure errors name the JSON path ($.capabilities[2].type) and what was expected.
 * Nothing reaches the caller's set unless the whole file is valid.
 */
#include "model/capfile.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "model/capability.h"
#include "model/hints.h"
#include "model/limit.h"

#define CAPFILE_MAX_BYTES (1u << 20)
#define CAPFILE_MAX_CAPS  4096
#define CAPFILE_MAX_CONDS 32

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capability *, ob_capability_free)

typedef struct Parser {
	JsonDoc doc;
	const char *workdir;
} Parser;

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

#define fail(p, code, path, ...) json_doc_fail(&(p)->doc, code, path, __VA_ARGS__)

/* Refuses keys outside ALLOWED (a NULL-terminated list), naming the first unknown one. */
static int check_keys(const Parser *p, const json_t *obj, const char *path,
                      const char *const *allowed, const char *expected)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = streq(key, *a);
		if (!ok)
			return fail(p, -EINVAL, path, "unknown key \"%.64s\" (expected %s)", key,
			            expected);
	}
	return 0;
}

static int parse_when(const Parser *p, const json_t *when, const char *path, ob_capability *cap)
{
	char wpath[96];
	const char *key;
	json_t *v;

	if (!json_is_object(when))
		return fail(p, -EINVAL, path,
		            "expected an object of context key to value pattern, "
		            "got %s",
		            json_type_name(when));
	if (json_object_size(when) > CAPFILE_MAX_CONDS)
		return fail(p, -EFBIG, path, "more than %d conditions", CAPFILE_MAX_CONDS);
	json_object_foreach((json_t *)when, key, v) {
		ob_error e;
		(void)snprintf(wpath, sizeof(wpath), "%s.%.40s", path, key);
		if (!json_is_string(v))
			return fail(p, -EINVAL, wpath, "expected a string value pattern, got %s",
			            json_type_name(v));
		int r = ob_capability_add_condition(cap, key, json_string_value(v), &e);
		if (r < 0)
			return fail(p, r, wpath, "%s", e.msg);
	}
	return 0;
}

static int parse_capability(const Parser *p, const json_t *item, size_t idx, ob_capset *set)
{
	static const char *const keys[] = {"type", "resource", "when", NULL};
	char path[64], fpath[80];
	_cleanup_(ob_capability_freep) ob_capability *cap = NULL;
	ob_error e;
	int r;

	(void)snprintf(path, sizeof(path), "$.capabilities[%zu]", idx);
	if (!json_is_object(item))
		return fail(p, -EINVAL, path,
		            "expected an object {\"type\": ..., \"resource\": ...}, got %s",
		            json_type_name(item));
	r = check_keys(p, item, path, keys, "type, resource, when");
	if (r < 0)
		return r;
	const json_t *type = json_object_get(item, "type");
	const json_t *res = json_object_get(item, "resource");
	(void)snprintf(fpath, sizeof(fpath), "%s.type", path);
	if (!json_is_string(type))
		return fail(p, -EINVAL, type ? fpath : path, "expected a string \"type\" (%s)",
		            type ? json_type_name(type) : "missing");
	ob_cap_type t = ob_cap_type_from_string(json_string_value(type));
	const char *hint = t < 0 ? cap_type_suggest(json_string_value(type)) : NULL;
	if (t < 0)
		return fail(
		    p, -EINVAL, fpath,
		    "unknown capability type \"%.64s\"%s%s%s (expected FILE_READ, FILE_WRITE, "
		    "NETWORK_CONNECT, EXTERNAL_COMMAND, SECRET_ACCESS, DATABASE_READ, "
		    "DATABASE_WRITE, REGISTRY_READ, REGISTRY_WRITE, ARTIFACT_READ, "
		    "ARTIFACT_WRITE or an alias fs_read, fs_write, net_http, exec_run)",
		    json_string_value(type), hint ? "; did you mean " : "", hint ? hint : "",
		    hint ? "?" : "");
	(void)snprintf(fpath, sizeof(fpath), "%s.resource", path);
	if (!json_is_string(res))
		return fail(p, -EINVAL, res ? fpath : path, "expected a string \"resource\" (%s)",
		            res ? json_type_name(res) : "missing");
	r = ob_capability_new(&cap, t, json_string_value(res), json_string_length(res), p->workdir,
	                      &e);
	if (r < 0)
		return fail(p, r, fpath, "%s", e.msg);
	const json_t *when = json_object_get(item, "when");
	if (when) {
		(void)snprintf(fpath, sizeof(fpath), "%s.when", path);
		r = parse_when(p, when, fpath, cap);
		if (r < 0)
			return r;
	}
	r = ob_capset_add(set, cap);
	return r < 0 ? fail(p, r, path, "out of memory") : 0;
}

static int parse_capabilities(const Parser *p, const json_t *caps, ob_capset *set)
{
	size_t i;
	json_t *item;

	if (!caps)
		return fail(p, -EINVAL, "$", "missing key \"capabilities\" (expected an array)");
	if (!json_is_array(caps))
		return fail(p, -EINVAL, "$.capabilities", "expected an array, got %s",
		            json_type_name(caps));
	if (json_array_size(caps) > CAPFILE_MAX_CAPS)
		return fail(p, -EFBIG, "$.capabilities", "%zu capabilities; the limit is %d",
		            json_array_size(caps), CAPFILE_MAX_CAPS);
	json_array_foreach(caps, i, item) {
		int r = parse_capability(p, item, i, set);
		if (r < 0)
			return r;
	}
	return 0;
}

int capfile_parse_capabilities(const char *data, size_t len, const char *name, const json_t *caps,
                               const char *workdir, ob_capset *set, ob_error *reterr)
{
	Parser p = {.doc = {.data = data, .len = len, .name = name, .err = reterr},
	            .workdir = workdir};
	return parse_capabilities(&p, caps, set);
}

/* A limit given as a JSON number: bytes for sizes, seconds/CPUs (fractions allowed), or a
 * whole count. */
static int limit_from_number(ob_limit l, const json_t *v, uint64_t *ret, const char **msg)
{
	double d = json_number_value(v);

	if (l == OB_LIMIT_CPUS || l == OB_LIMIT_TIMEOUT) {
		if (!(d >= 0 && d <= 1e12)) {
			*msg = "must be a positive number";
			return -ERANGE;
		}
		*ret = (uint64_t)(d * 1000.0 + 0.5); /* d in [0, 1e12]: no libm needed */
		return limit_check_range(l, *ret, msg);
	}
	if (!json_is_integer(v)) {
		*msg = limit_is_size(l) ? "expected a size: bytes as a whole number, or a string "
		                          "such as \"256M\""
		                        : "expected a whole number";
		return -EINVAL;
	}
	json_int_t n = json_integer_value(v);
	*ret = n < 0 ? UINT64_MAX : (uint64_t)n;
	return limit_check_range(l, *ret, msg);
}

static int parse_limit(const Parser *p, const char *key, const json_t *v, ob_limits *out)
{
	char path[96];
	const char *msg = "invalid";
	uint64_t val;
	int r;

	(void)snprintf(path, sizeof(path), "$.limits.%.64s", key);
	ob_limit l = ob_limit_from_string(key);
	if (l < 0)
		return fail(p, -EINVAL, path,
		            "unknown limit (expected memory, cpus, pids, timeout, output, tmpfs, "
		            "files, connections, egress, events, disk)");
	if (json_is_number(v))
		r = limit_from_number(l, v, &val, &msg);
	else if (json_is_string(v))
		r = limit_parse_text(l, json_string_value(v), &val, &msg);
	else
		return fail(p, -EINVAL, path, "expected a number or a string, got %s",
		            json_type_name(v));
	if (r < 0)
		return fail(p, -EINVAL, path, "%s", msg);
	out->value[l] = val;
	out->explicit_mask |= 1u << l;
	return 0;
}

static int parse_limits(const Parser *p, const json_t *limits, ob_limits *out)
{
	const char *key;
	json_t *v;

	if (!json_is_object(limits))
		return fail(p, -EINVAL, "$.limits", "expected an object, got %s",
		            json_type_name(limits));
	json_object_foreach((json_t *)limits, key, v) {
		int r = parse_limit(p, key, v, out);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_version(const Parser *p, const json_t *version)
{
	if (!version)
		return fail(p, -EINVAL, "$", "missing key \"version\" (expected 1)");
	if (!json_is_integer(version) || json_integer_value(version) != 1)
		return fail(p, -EINVAL, "$.version", "unsupported version (expected the number 1)");
	return 0;
}

static int parse_document(const Parser *p, const json_t *root, ob_capset *set, ob_limits *limits)
{
	static const char *const keys[] = {"version", "description", "capabilities", "limits",
	                                   NULL};
	int r;

	if (!json_is_object(root))
		return fail(p, -EINVAL, "$",
		            "expected an object {\"version\": 1, \"capabilities\": [...]}, got %s",
		            json_type_name(root));
	r = check_keys(p, root, "$", keys, "version, description, capabilities, limits");
	if (r >= 0)
		r = parse_version(p, json_object_get(root, "version"));
	/* A line for people (profiles show it in `omnibase caps profiles`); grants nothing. */
	const json_t *desc = json_object_get(root, "description");
	if (r >= 0 && desc && !json_is_string(desc))
		r = fail(p, -EINVAL, "$.description", "expected a string, got %s",
		         json_type_name(desc));
	if (r >= 0)
		r = parse_capabilities(p, json_object_get(root, "capabilities"), set);
	if (r >= 0 && json_object_get(root, "limits"))
		r = parse_limits(p, json_object_get(root, "limits"), limits);
	return r;
}

static int merge_limits(ob_limits *dst, const ob_limits *src)
{
	for (int l = 0; l < OB_LIMIT_MAX; l++)
		if (src->explicit_mask & (1u << l)) {
			dst->value[l] = src->value[l];
			dst->explicit_mask |= 1u << l;
		}
	return 0;
}

int ob_capfile_parse(const char *data, size_t len, const char *name, const char *workdir,
                     ob_capset *set, ob_limits *limits, ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	_cleanup_(ob_capset_unrefp) ob_capset *tmp = NULL;
	Parser p = {.doc = {.data = data ? data : "",
	                    .len = len,
	                    .name = name ? name : "<capabilities>",
	                    .err = reterr},
	            .workdir = workdir};
	ob_limits parsed = {0};
	int r;

	assert_return(data || len == 0, -EINVAL);
	if (len > CAPFILE_MAX_BYTES)
		return ob_error_set(reterr, -EFBIG, "%s: file is %zu bytes; the limit is %u",
		                    p.doc.name, len, CAPFILE_MAX_BYTES);
	r = json_doc_parse(&p.doc, &root);
	if (r < 0)
		return r;
	r = ob_capset_new(&tmp);
	if (r < 0)
		return ob_error_set(reterr, r, "out of memory");
	r = parse_document(&p, root, tmp, &parsed);
	if (r < 0)
		return r;
	for (size_t i = 0; set && i < ob_capset_size(tmp); i++) {
		r = ob_capset_add(set, ob_capset_get(tmp, i));
		if (r < 0)
			return ob_error_set(reterr, r, "%s: out of memory", p.doc.name);
	}
	if (limits)
		(void)merge_limits(limits, &parsed);
	return 0;
}

int ob_capfile_load(const char *path, const char *workdir, ob_capset *set, ob_limits *limits,
                    ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;

	assert_return(path, -EINVAL);
	int r = read_file_limited(path, CAPFILE_MAX_BYTES, &data, &len, reterr);
	if (r < 0)
		return r;
	return ob_capfile_parse(data, len, path, workdir, set, limits, reterr);
}

/* ---------------------------------------------------------------- JSON output */

static json_t *capability_to_json(const ob_capability *cap)
{
	json_t *o = json_pack("{s:s, s:s}", "type", ob_cap_type_to_string(cap->type), "resource",
	                      cap->resource);
	if (!o || cap->n_conds == 0)
		return o;
	json_t *when = json_object();
	for (size_t i = 0; when && i < cap->n_conds; i++)
		(void)json_object_set_new(when, cap->conds[i].key,
		                          json_string(cap->conds[i].value.text));
	if (!when || json_object_set_new(o, "when", when) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *limits_to_json(const ob_limits *limits)
{
	json_t *o = json_object();

	for (int l = 0; o && l < OB_LIMIT_MAX; l++) {
		uint64_t v = limits->value[l];
		json_t *j = (l == OB_LIMIT_CPUS || l == OB_LIMIT_TIMEOUT)
		                ? json_real((double)v / 1000.0)
		                : json_integer((json_int_t)v);
		if (json_object_set_new(o, ob_limit_to_string((ob_limit)l), j) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int ob_capset_to_json(const ob_capset *set, const ob_limits *limits, char **ret)
{
	_cleanup_(json_decrefp) json_t *root = json_object();
	json_t *arr = json_array();

	assert_return(set && ret, -EINVAL);
	if (!root || !arr || json_object_set_new(root, "capabilities", arr) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ob_capset_size(set); i++)
		if (json_array_append_new(arr, capability_to_json(ob_capset_get(set, i))) < 0)
			return -ENOMEM;
	if (limits && json_object_set_new(root, "limits", limits_to_json(limits)) < 0)
		return -ENOMEM;
	char *s = json_dumps(root, JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}
