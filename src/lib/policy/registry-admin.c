/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `registry add|list|show` (SPEC §7). Add lints first and refuses what lint refuses, then
 * stores the entrypoint, the policy, the signatures and the metadata last, each under a
 * temporary name, fsync'ed and renamed: the metadata file is what makes a component exist,
 * so an interrupted add leaves no half-written entry.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "policy/registry.h"

#define META_MAX_BYTES  (4u << 20)
#define ENTRY_MAX_BYTES (64u << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_policy_set *, ob_policy_set_free)

/* mkdir -p of the directory part of PATH (below an existing ROOT). */
static int mkdir_parents(const char *path, ob_error *reterr)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return ob_error_set(reterr, -errno, "%s: %s", p, strerror(errno));
		*s = '/';
	}
	return 0;
}

/* Stores DATA at PATH, and its signature at PATH.minisig with SECKEY (else removes a stale
 * one: it would not match). */
static int store(const char *path, const char *data, size_t len, const char *seckey,
                 const char *pwfile, ob_error *reterr)
{
	char sp[4200];

	(void)snprintf(sp, sizeof(sp), "%s.minisig", path);
	int r = mkdir_parents(path, reterr);
	if (r >= 0 && seckey)
		r = registry_sign_data(seckey, pwfile, data, len, path, sp, reterr);
	else if (r >= 0 && unlink(sp) < 0 && errno != ENOENT)
		r = ob_error_set(reterr, -errno, "%s: %s", sp, strerror(errno));
	if (r >= 0)
		r = registry_write_atomic(path, data, len, reterr);
	return r;
}

/* The entrypoint next to the metadata file: its sha256 must be the metadata's. */
static int copy_entrypoint(const char *dir, const char *metadata, const json_t *m, ob_error *reterr)
{
	const char *uuid = json_string_value(json_object_get(m, "uuid")),
	           *ep = json_string_value(json_object_get(m, "entrypoint")),
	           *want = json_string_value(json_object_get(m, "sha256"));
	_cleanup_free_ char *mc = strdup(metadata), *data = NULL;
	char src[8400], dst[8400], hex[65];
	uint8_t h[32];
	size_t len;

	if (!mc)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	(void)snprintf(src, sizeof(src), "%s/%s", dirname(mc), ep);
	int r = read_file_limited(src, ENTRY_MAX_BYTES, &data, &len, reterr);
	if (r < 0)
		return r;
	(void)crypto_hash_sha256(h, (const uint8_t *)data, len);
	(void)sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (!streq(hex, want))
		return ob_error_set(reterr, -EINVAL, "%s: sha256 %s, where %s says %s", src, hex,
		                    metadata, want);
	(void)snprintf(dst, sizeof(dst), "%s/components/%s/%s", dir, uuid, ep);
	r = mkdir_parents(dst, reterr);
	return r < 0 ? r : registry_write_atomic(dst, data, len, reterr);
}

static int add_policy(const char *dir, const char *uuid, const char *policy, const char *seckey,
                      const char *pwfile, ob_error *reterr)
{
	_cleanup_(ob_policy_set_freep) ob_policy_set *ps = NULL;
	_cleanup_free_ char *data = NULL;
	char dst[4200];
	size_t len;

	int r = ob_policy_set_load(policy, &ps, reterr);
	if (r >= 0)
		r = read_file_limited(policy, META_MAX_BYTES, &data, &len, reterr);
	(void)snprintf(dst, sizeof(dst), "%s/policies/%s.cedar.json", dir, uuid);
	return r < 0 ? r : store(dst, data, len, seckey, pwfile, reterr);
}

int ob_registry_add(const char *dir, const char *metadata, const char *policy, const char *seckey,
                    const char *password_file, char **ret_uuid, ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *m = NULL;
	_cleanup_free_ char *findings = NULL, *data = NULL;
	char dst[4200];
	size_t len;

	assert_return(dir && metadata, -EINVAL);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ob_error_set(reterr, -errno, "%s: %s", dir, strerror(errno));
	_cleanup_free_ char *real = realpath(dir, NULL);
	if (!real)
		return ob_error_set(reterr, -errno, "%s: %s", dir, strerror(errno));
	int n = registry_lint(metadata, real, &findings, reterr);
	if (n < 0)
		return n;
	if (n > 0)
		return ob_error_set(reterr, -EINVAL, "%s: refused, %d lint finding%s:\n%.400s",
		                    metadata, n, n == 1 ? "" : "s", findings);
	int r = json_doc_load(metadata, META_MAX_BYTES, &data, &len, &m, reterr);
	if (r < 0)
		return r;
	const char *uuid = json_string_value(json_object_get(m, "uuid"));
	r = copy_entrypoint(dir, metadata, m, reterr);
	if (r >= 0 && policy)
		r = add_policy(dir, uuid, policy, seckey, password_file, reterr);
	(void)snprintf(dst, sizeof(dst), "%s/components/%s.json", dir, uuid);
	if (r >= 0)
		r = store(dst, data, len, seckey, password_file, reterr);
	if (r >= 0 && ret_uuid && !(*ret_uuid = strdup(uuid)))
		r = ob_error_set(reterr, -ENOMEM, "out of memory");
	return r;
}

/* {"state": "verified"|"unverified", "key"?, "reason"?} for component UUID. */
json_t *registry_signature_json(const char *dir, const char *uuid)
{
	char id[17] = "";
	ob_error e = {0};

	int r = registry_verify(dir, uuid, id, &e);
	if (r >= 0)
		return json_pack("{s:s, s:s}", "state", "verified", "key", id);
	return json_pack("{s:s, s:s}", "state", "unverified", "reason", e.msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ob_registry_list(const char *dir, char **ret_json, ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *out = json_array();
	char path[4200];
	struct dirent **names = NULL;

	assert_return(dir && ret_json, -EINVAL);
	(void)snprintf(path, sizeof(path), "%s/components", dir);
	int n = scandir(path, &names, NULL, NULL);
	if (n < 0)
		return ob_error_set(reterr, -errno, "%s: %s", path, strerror(errno));
	char **ids = calloc((size_t)n + 1, sizeof(char *));
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);
		if (ids && l > 5 && streq(names[i]->d_name + l - 5, ".json") &&
		    names[i]->d_name[0] != '.')
			ids[k++] = strndup(names[i]->d_name, l - 5);
		free(names[i]);
	}
	free(names);
	if (ids)
		qsort(ids, k, sizeof(char *), cmp_str);
	for (size_t i = 0; ids && i < k; i++) {
		json_t *meta;
		if (!ids[i])
			continue;
		(void)snprintf(path, sizeof(path), "%s/components/%s.json", dir, ids[i]);
		meta = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
		(void)json_array_append_new(
		    out, json_pack("{s:s, s:O?, s:O?, s:O?, s:o}", "uuid", ids[i], "name",
		                   json_object_get(meta, "name"), "version",
		                   json_object_get(meta, "version"), "kind",
		                   json_object_get(meta, "kind"), "signature",
		                   registry_signature_json(dir, ids[i])));
		json_decref(meta);
		free(ids[i]);
	}
	free(ids);
	*ret_json = out && ids ? json_dumps(out, JSON_COMPACT) : NULL;
	return *ret_json ? 0 : ob_error_set(reterr, -ENOMEM, "out of memory");
}

int ob_registry_show(const char *dir, const char *uuid, char **ret_json, ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *meta = NULL;
	_cleanup_free_ char *data = NULL;
	char path[4200];
	size_t len;

	assert_return(dir && uuid && ret_json, -EINVAL);
	if (!registry_id_is_valid(uuid))
		return ob_error_set(reterr, -EINVAL,
		                    "'%.80s': expected a component id (letters, digits and '-')",
		                    uuid);
	(void)snprintf(path, sizeof(path), "%s/components/%s.json", dir, uuid);
	int r = json_doc_load(path, META_MAX_BYTES, &data, &len, &meta, reterr);
	if (r < 0)
		return r;
	(void)snprintf(path, sizeof(path), "%s/policies/%s.cedar.json", dir, uuid);
	_cleanup_(json_decrefp) json_t *out = json_pack(
	    "{s:O, s:s?, s:o}", "metadata", meta, "policy", access(path, F_OK) == 0 ? path : NULL,
	    "signature", registry_signature_json(dir, uuid));
	*ret_json = out ? json_dumps(out, JSON_COMPACT) : NULL;
	return *ret_json ? 0 : ob_error_set(reterr, -ENOMEM, "out of memory");
}
