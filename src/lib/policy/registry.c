/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry's policy store (SPEC §6, §7): a component's *requested* capabilities
 * (components/<uuid>.json) become its *granted* set by asking the component's Cedar policy
 * set (policies/<uuid>.cedar.json, or .cedar in Cedar's text) one question per capability:
 *
 *   principal Component::"<uuid>"   attributes name, kind, version, signed; parents the
 *                                   component's groups (Group::"<name>")
 *   action    Action::"<TYPE>"
 *   resource  Resource::"<RESOURCE>" attributes value = RESOURCE, type = TYPE
 *   context   the --context pairs
 *
 * Only an Allow grants. An optional entities.json at the registry's root (Cedar entity
 * format) adds what the policies may refer to, such as the group hierarchy.
 */
#include "policy/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "model/capability.h"
#include "model/capfile.h"
#include "policy/cedar.h"

#define REGISTRY_MAX_BYTES (4u << 20)

struct ob_review {
	json_t *json;
	ob_capset *granted;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_policy_set *, ob_policy_set_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_entities *, ob_entities_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_authorizer *, ob_authorizer_free)

/* Component ids name files: letters, digits and '-' only, so no path can be smuggled in. */
bool registry_id_is_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
			return false;
	return true;
}

typedef struct Component {
	char path[4096];
	char *data;
	size_t len;
	json_t *meta;
	ob_capset *requested;
} Component;

static void component_done(Component *c)
{
	free(c->data);
	json_decref(c->meta);
	ob_capset_unref(c->requested);
}

static int component_load(const char *dir, const char *uuid, Component *c, ob_error *reterr)
{
	(void)snprintf(c->path, sizeof(c->path), "%s/components/%s.json", dir, uuid);
	int r = json_doc_load(c->path, REGISTRY_MAX_BYTES, &c->data, &c->len, &c->meta, reterr);
	if (r < 0)
		return r;
	if (!json_is_object(c->meta))
		return ob_error_set(reterr, -EINVAL, "%s: expected a JSON object", c->path);
	const json_t *id = json_object_get(c->meta, "uuid");
	if (id && (!json_is_string(id) || !streq(json_string_value(id), uuid)))
		return ob_error_set(reterr, -EINVAL,
		                    "%s: $.uuid: expected \"%s\" (the file's name)", c->path, uuid);
	const json_t *groups = json_object_get(c->meta, "groups");
	for (size_t i = 0; i < json_array_size(groups); i++)
		if (!json_is_string(json_array_get(groups, i)))
			return ob_error_set(reterr, -EINVAL, "%s: $.groups[%zu]: expected a string",
			                    c->path, i);
	if (groups && !json_is_array(groups))
		return ob_error_set(reterr, -EINVAL, "%s: $.groups: expected an array of strings",
		                    c->path);
	r = ob_capset_new(&c->requested);
	if (r < 0)
		return ob_error_set(reterr, r, "out of memory");
	/* Relative resources of a component are relative to its workspace. */
	return capfile_parse_capabilities(c->data, c->len, c->path,
	                                  json_object_get(c->meta, "capabilities"), "/workspace",
	                                  c->requested, reterr);
}

/* Cedar entities: the component, its groups' hierarchy (entities.json), one Resource per
 * requested capability. */
static json_t *entities_json(const char *dir, const char *uuid, const Component *c, bool is_signed,
                             ob_error *reterr)
{
	char path[4096];
	json_t *all = json_array(), *parents = json_array(), *attrs = json_object();
	static const char *const keys[] = {"name", "kind", "version"};

	(void)snprintf(path, sizeof(path), "%s/entities.json", dir);
	if (access(path, F_OK) == 0) {
		/* Cedar's JSON reader: entity ids and attribute keys may hold NUL */
		_cleanup_free_ char *data = NULL;
		JsonDoc doc = {.name = path, .err = reterr};
		json_t *extra = NULL;
		int r = read_file_limited(path, CEDAR_MAX_BYTES, &data, &doc.len, reterr);
		doc.data = data;
		if (r >= 0)
			r = cedar_json_parse(&doc, &extra);
		if (r >= 0 && !json_is_array(extra))
			r = json_doc_fail(&doc, -EINVAL, "$", "expected an array of entities");
		if (r < 0) {
			json_decref(extra);
			json_decref(all);
			json_decref(parents);
			json_decref(attrs);
			return NULL;
		}
		(void)json_array_extend(all, extra);
		json_decref(extra);
	}
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		json_t *v = json_object_get(c->meta, keys[i]);
		if (json_is_string(v) || json_is_integer(v) || json_is_boolean(v))
			(void)json_object_set(attrs, keys[i], v);
	}
	/* signed: the metadata and the policy verify by a trusted key and the entrypoint has its
	 * sha256 (registry-store.c), so a policy can require it. */
	(void)json_object_set_new(attrs, "signed", json_boolean(is_signed));
	const json_t *groups = json_object_get(c->meta, "groups");
	for (size_t i = 0; i < json_array_size(groups); i++)
		(void)json_array_append_new(parents, json_pack("{s:s, s:O}", "type", "Group", "id",
		                                               json_array_get(groups, i)));
	(void)json_array_append_new(all, json_pack("{s:{s:s, s:s}, s:o, s:o}", "uid", "type",
	                                           "Component", "id", uuid, "attrs", attrs,
	                                           "parents", parents));
	for (size_t i = 0; i < ob_capset_size(c->requested); i++) {
		const ob_capability *cap = ob_capset_get(c->requested, i);
		const char *res = ob_capability_resource(cap),
		           *type = ob_cap_type_to_string(ob_capability_type(cap));
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = streq(ob_capability_resource(ob_capset_get(c->requested, k)), res);
		if (!dup)
			(void)json_array_append_new(
			    all, json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:[]}", "uid", "type",
			                   "Resource", "id", res, "attrs", "value", res, "type",
			                   type, "parents"));
	}
	return all;
}

/* --context pairs as a Cedar record: integers and true/false as such, the rest strings. */
static char *context_json(const ob_context *ctx)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	for (size_t i = 0; o && i < context_size(ctx); i++) {
		const char *k, *v;
		char *end;
		context_entry(ctx, i, &k, &v);
		errno = 0;
		long long n = strtoll(v, &end, 10);
		json_t *val = streq(v, "true")    ? json_true()
		              : streq(v, "false") ? json_false()
		              : (*v && !*end && errno == 0 && (v[0] != '0' || !v[1]) &&
		                 !(v[0] == '-' && v[1] == '0'))
		                  ? json_integer(n)
		                  : json_string(v);
		(void)json_object_set_new(o, k, val);
	}
	return o ? json_dumps(o, JSON_COMPACT) : NULL;
}

static json_t *decision_json(const ob_policy_set *ps, const ob_decision *d)
{
	json_t *pols = json_array(), *errs = json_array();

	for (size_t i = 0; i < d->n_reasons; i++) {
		_cleanup_free_ char *text = NULL;
		(void)ob_policy_set_text(ps, d->reasons[i], &text);
		(void)json_array_append_new(pols, json_pack("{s:s, s:s}", "id",
		                                            ob_policy_set_id(ps, d->reasons[i]),
		                                            "text", text ? text : ""));
	}
	for (size_t i = 0; i < d->n_errors; i++)
		(void)json_array_append_new(errs, json_pack("{s:s, s:s}", "policy",
		                                            ob_policy_set_id(ps, d->errors[i]),
		                                            "message", d->error_messages[i]));
	return json_pack("{s:s, s:o, s:o}", "decision", d->allow ? "allow" : "deny", "policies",
	                 pols, "errors", errs);
}

static int decide_all(ob_review *rv, const Component *c, const char *uuid, ob_authorizer *az,
                      const ob_policy_set *ps, const char *ctx, ob_error *reterr)
{
	char principal[128], action[64];
	json_t *entries = json_array();

	(void)json_object_set_new(rv->json, "requested", entries);
	(void)snprintf(principal, sizeof(principal), "Component::\"%s\"", uuid);
	for (size_t i = 0; i < ob_capset_size(c->requested); i++) {
		const ob_capability *cap = ob_capset_get(c->requested, i);
		const char *type = ob_cap_type_to_string(ob_capability_type(cap));
		_cleanup_(json_decrefp) json_t *rid = json_string(ob_capability_resource(cap));
		_cleanup_free_ char *rq = rid ? json_dumps(rid, JSON_ENCODE_ANY) : NULL;
		_cleanup_free_ char *resource = NULL;
		ob_authz_request *req;
		ob_decision d;
		char what[4200];

		(void)snprintf(action, sizeof(action), "Action::\"%s\"", type);
		if (!rq || asprintf(&resource, "Resource::%s", rq) < 0)
			return -ENOMEM;
		int r = ob_authz_request_new(az, principal, action, resource, ctx, &req, reterr);
		if (r < 0)
			return r;
		(void)ob_authorize(az, req, &d);
		json_t *e = decision_json(ps, &d);
		capability_format(cap, true, what, sizeof(what));
		(void)json_object_set_new(e, "capability", json_string(what));
		(void)json_object_set_new(e, "principal", json_string(principal));
		(void)json_object_set_new(e, "action", json_string(action));
		(void)json_object_set_new(e, "resource", json_string(resource));
		(void)json_array_append_new(entries, e);
		if (d.allow)
			r = ob_capset_add(rv->granted, cap);
		(void)ob_authz_request_free(req);
		if (r < 0)
			return ob_error_set(reterr, r, "out of memory");
	}
	return 0;
}

ob_review *ob_review_free(ob_review *rv)
{
	if (!rv)
		return NULL;
	json_decref(rv->json);
	(void)ob_capset_unref(rv->granted);
	free(rv);
	return NULL;
}

/* The component's policy set: policies/UUID.cedar (Cedar's text) or policies/UUID.cedar.json
 * (its JSON form); both at once is refused, as it is unclear which one was meant. */
static int policy_path(const char *dir, const char *uuid, char *path, size_t size, ob_error *reterr)
{
	char text[4096];

	(void)snprintf(text, sizeof(text), "%s/policies/%s.cedar", dir, uuid);
	(void)snprintf(path, size, "%s/policies/%s.cedar.json", dir, uuid);
	bool has_text = access(text, F_OK) == 0;
	if (has_text && access(path, F_OK) == 0)
		return ob_error_set(reterr, -EINVAL, "%s and %s both exist: keep one policy set",
		                    text, path);
	if (has_text)
		(void)snprintf(path, size, "%s", text);
	return 0;
}

static int review_build(ob_review *rv, const char *dir, const char *uuid, const ob_context *ctx,
                        ob_error *reterr)
{
	_cleanup_(ob_policy_set_freep) ob_policy_set *ps = NULL;
	_cleanup_(ob_entities_freep) ob_entities *es = NULL;
	_cleanup_(ob_authorizer_freep) ob_authorizer *az = NULL;
	Component c = {0};
	char path[4096];

	int r = component_load(dir, uuid, &c, reterr);
	if (r >= 0)
		r = policy_path(dir, uuid, path, sizeof(path), reterr);
	if (r >= 0)
		r = ob_policy_set_load(path, &ps, reterr);
	json_t *sig = registry_signature_json(dir, uuid);
	bool is_signed = streq_ptr(json_string_value(json_object_get(sig, "state")), "verified");
	json_t *ents = r >= 0 ? entities_json(dir, uuid, &c, is_signed, reterr) : NULL;
	_cleanup_free_ char *etext = ents ? json_dumps(ents, JSON_COMPACT) : NULL;
	json_decref(ents);
	if (r >= 0 && !etext)
		r = reterr && reterr->msg[0] ? -EINVAL : -ENOMEM;
	(void)snprintf(path, sizeof(path), "%s/entities.json (with the component)", dir);
	if (r >= 0)
		r = ob_entities_parse(etext, strlen(etext), path, &es, reterr);
	if (r >= 0)
		r = ob_authorizer_new(ps, es, &az);
	_cleanup_free_ char *ctext = r >= 0 ? context_json(ctx) : NULL;
	if (r >= 0 && !ctext)
		r = -ENOMEM;
	if (r >= 0) {
		rv->json = json_pack("{s:s, s:O?, s:O?, s:O?, s:O}", "component", uuid, "name",
		                     json_object_get(c.meta, "name"), "kind",
		                     json_object_get(c.meta, "kind"), "version",
		                     json_object_get(c.meta, "version"), "signature", sig);
		r = rv->json ? decide_all(rv, &c, uuid, az, ps, ctext, reterr) : -ENOMEM;
	}
	json_decref(sig);
	component_done(&c);
	return r;
}

int ob_registry_review(const char *dir, const char *uuid, const ob_context *ctx, ob_review **ret,
                       ob_error *reterr)
{
	assert_return(dir && uuid && ret, -EINVAL);
	if (!registry_id_is_valid(uuid))
		return ob_error_set(reterr, -EINVAL,
		                    "--component '%.80s': expected a component id (letters, digits "
		                    "and '-')",
		                    uuid);
	ob_review *rv = calloc(1, sizeof(*rv));
	if (!rv || ob_capset_new(&rv->granted) < 0) {
		(void)ob_review_free(rv);
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	}
	int r = review_build(rv, dir, uuid, ctx, reterr);
	if (r < 0) {
		if (r == -ENOMEM && (!reterr || !reterr->msg[0]))
			(void)ob_error_set(reterr, r, "out of memory");
		(void)ob_review_free(rv);
		return r;
	}
	json_t *granted = json_array();
	for (size_t i = 0; i < ob_capset_size(rv->granted); i++) {
		char what[4200];
		capability_format(ob_capset_get(rv->granted, i), true, what, sizeof(what));
		(void)json_array_append_new(granted, json_string(what));
	}
	(void)json_object_set_new(rv->json, "granted", granted);
	*ret = rv;
	return 0;
}

const ob_capset *ob_review_granted(const ob_review *rv)
{
	return rv ? rv->granted : NULL;
}

int ob_review_to_json(const ob_review *rv, char **ret)
{
	assert_return(rv && ret, -EINVAL);
	*ret = json_dumps(rv->json, JSON_COMPACT);
	return *ret ? 0 : -ENOMEM;
}

const char *review_untrusted_reason(const ob_review *rv)
{
	const json_t *sig = json_object_get(rv->json, "signature");
	if (streq_ptr(json_string_value(json_object_get(sig, "state")), "verified"))
		return NULL;
	return json_string_value(json_object_get(sig, "reason")) ?: "not verified";
}

const json_t *review_json(const ob_review *rv)
{
	return rv->json;
}
