/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability types and single capabilities (SPEC §2.1–2.3): parsing a TYPE and a RESOURCE
 * into a compiled pattern, matching concrete requests, subsumption, conditions.
 */
#include "model/capability.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/string-table.h"
#include "model/hints.h"

/* ---------------------------------------------------------------- types */

static const char *const cap_type_table[OB_CAP_TYPE_MAX] = {
    [OB_CAP_FILE_READ] = "FILE_READ",
    [OB_CAP_FILE_WRITE] = "FILE_WRITE",
    [OB_CAP_NETWORK_CONNECT] = "NETWORK_CONNECT",
    [OB_CAP_EXTERNAL_COMMAND] = "EXTERNAL_COMMAND",
    [OB_CAP_SECRET_ACCESS] = "SECRET_ACCESS",
    [OB_CAP_DATABASE_READ] = "DATABASE_READ",
    [OB_CAP_DATABASE_WRITE] = "DATABASE_WRITE",
    [OB_CAP_REGISTRY_READ] = "REGISTRY_READ",
    [OB_CAP_REGISTRY_WRITE] = "REGISTRY_WRITE",
    [OB_CAP_ARTIFACT_READ] = "ARTIFACT_READ",
    [OB_CAP_ARTIFACT_WRITE] = "ARTIFACT_WRITE",
};

/* The OmniAgent names (omniagent-sandboxing.md). */
static const struct {
	const char *alias;
	ob_cap_type type;
} cap_alias_table[] = {
    {"fs_read", OB_CAP_FILE_READ},
    {"fs_write", OB_CAP_FILE_WRITE},
    {"net_http", OB_CAP_NETWORK_CONNECT},
    {"exec_run", OB_CAP_EXTERNAL_COMMAND},
};

DEFINE_STRING_TABLE_TO(ob_cap_type, ob_cap_type, cap_type_table, OB_CAP_TYPE_MAX)

ob_cap_type ob_cap_type_from_string(const char *name)
{
	assert_return(name, OB_CAP_TYPE_INVALID);
	int t = string_table_lookup(cap_type_table, OB_CAP_TYPE_MAX, name, strcasecmp);
	if (t >= 0)
		return (ob_cap_type)t;
	for (size_t i = 0; i < ELEMENTSOF(cap_alias_table); i++)
		if (strcasecmp(name, cap_alias_table[i].alias) == 0)
			return cap_alias_table[i].type;
	return OB_CAP_TYPE_INVALID;
}

ob_cap_type cap_type_implied_read(ob_cap_type type)
{
	switch (type) {
	case OB_CAP_FILE_WRITE:
		return OB_CAP_FILE_READ;
	case OB_CAP_DATABASE_WRITE:
		return OB_CAP_DATABASE_READ;
	case OB_CAP_REGISTRY_WRITE:
		return OB_CAP_REGISTRY_READ;
	case OB_CAP_ARTIFACT_WRITE:
		return OB_CAP_ARTIFACT_READ;
	default:
		return type;
	}
}

/* ---------------------------------------------------------------- resource parsing */

static int parse_path_resource(ob_capability *c, const char *res, size_t len, const char *workdir,
                               bool rooted, const char **msg)
{
	char buf[PATTERN_PATH_MAX];
	int n =
	    path_normalize(res, len, workdir, rooted, /* pattern= */ true, buf, sizeof(buf), msg);
	if (n < 0)
		return n;
	if (n == 0) {
		*msg = "names the store root itself; use '**' for the whole store";
		return -EINVAL;
	}
	return glob_compile_path(&c->glob, buf, (size_t)n, msg);
}

static bool is_secret_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == '*' || c == '?';
}

static int parse_secret_name(ob_capability *c, const char *res, size_t len, const char **msg)
{
	if (len > 255) {
		*msg = "secret name longer than 255 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (!is_secret_char(res[i])) {
			*msg = "secret name may hold only letters, digits, '_', '-', '.' and the "
			       "wildcards '*' and '?'";
			return -EINVAL;
		}
	if ((len == 1 && res[0] == '.') || (len == 2 && res[0] == '.' && res[1] == '.')) {
		*msg = "secret name cannot be '.' or '..' (it becomes a file name)";
		return -EINVAL;
	}
	return glob_compile_name(&c->glob, res, len, msg);
}

static int parse_command(ob_capability *c, const char *res, size_t len, const char *workdir,
                         const char **msg)
{
	if (memchr(res, '/', len)) {
		c->kind = RES_PATH;
		return parse_path_resource(c, res, len, workdir, /* rooted= */ true, msg);
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)res[i] < 0x20 || res[i] == 0x7f) {
			*msg = "command name contains a control character";
			return -EINVAL;
		}
	c->kind = RES_NAME;
	return glob_compile_name(&c->glob, res, len, msg);
}

static int parse_scheme(char scheme[32], const char *s, size_t len, const char **msg)
{
	if (len == 0 || len >= 32 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z')) {
		*msg = "URL scheme must start with a letter and be at most 31 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
		      ch == '-' || ch == '.')) {
			*msg = "URL scheme may hold only letters, digits, '+', '-' and '.'";
			return -EINVAL;
		}
		scheme[i] = ch;
	}
	scheme[len] = '\0';
	return 0;
}

/* "scheme://host[:port][/db]": credentials are refused in a grant, they belong in secrets. */
static int parse_url(ob_capability *c, const char *res, size_t len, const char **msg)
{
	const char *sep = memmem(res, len, "://", 3);
	int r;

	c->kind = RES_URL;
	r = parse_scheme(c->scheme, res, (size_t)(sep - res), msg);
	if (r < 0)
		return r;
	const char *auth = sep + 3, *end = res + len;
	const char *slash = memchr(auth, '/', (size_t)(end - auth));
	const char *auth_end = slash ? slash : end;
	if (memchr(auth, '@', (size_t)(auth_end - auth))) {
		*msg = "database URL must not carry credentials (use SECRET_ACCESS)";
		return -EINVAL;
	}
	r = host_pattern_compile(&c->host, auth, (size_t)(auth_end - auth), msg);
	if (r < 0)
		return r;
	c->any_db = !slash || slash + 1 == end;
	if (c->any_db)
		return 0;
	if (memchr(slash + 1, '/', (size_t)(end - slash - 1)) ||
	    memchr(slash, '?', (size_t)(end - slash))) {
		*msg = "database name must be one path segment without a query";
		return -EINVAL;
	}
	return glob_compile_name(&c->glob, slash + 1, (size_t)(end - slash - 1), msg);
}

static int parse_database(ob_capability *c, const char *res, size_t len, const char *workdir,
                          const char **msg)
{
	if (len >= 7 && strncasecmp(res, "sqlite:", 7) == 0) {
		c->kind = RES_SQLITE;
		return parse_path_resource(c, res + 7, len - 7, workdir, /* rooted= */ true, msg);
	}
	if (memmem(res, len, "://", 3))
		return parse_url(c, res, len, msg);
	*msg = "expected 'sqlite:PATH' or 'SCHEME://HOST[:PORT][/DATABASE]'";
	return -EINVAL;
}

bool resource_is_unix(const char *res, size_t len)
{
	if (len <= 5 || strncasecmp(res, "unix:", 5) != 0)
		return false;
	if (len == 6 && res[5] == '*')
		return false;
	for (size_t i = 5; i < len; i++)
		if (res[i] < '0' || res[i] > '9')
			return true;
	return false;
}

static int parse_resource(ob_capability *c, const char *res, size_t len, const char *workdir,
                          const char **msg)
{
	switch (c->type) {
	case OB_CAP_FILE_READ:
	case OB_CAP_FILE_WRITE:
		c->kind = RES_PATH;
		return parse_path_resource(c, res, len, workdir, /* rooted= */ true, msg);
	case OB_CAP_NETWORK_CONNECT:
		if (resource_is_unix(res, len)) {
			c->kind = RES_UNIX;
			return parse_path_resource(c, res + 5, len - 5, workdir, /* rooted= */ true,
			                           msg);
		}
		c->kind = RES_HOST;
		return host_pattern_compile(&c->host, res, len, msg);
	case OB_CAP_EXTERNAL_COMMAND:
		return parse_command(c, res, len, workdir, msg);
	case OB_CAP_SECRET_ACCESS:
		c->kind = RES_NAME;
		return parse_secret_name(c, res, len, msg);
	case OB_CAP_DATABASE_READ:
	case OB_CAP_DATABASE_WRITE:
		return parse_database(c, res, len, workdir, msg);
	default:
		c->kind = RES_STORE;
		return parse_path_resource(c, res, len, NULL, /* rooted= */ false, msg);
	}
}

static int capability_format_resource(ob_capability *c)
{
	int n;

	switch (c->kind) {
	case RES_HOST:
		c->resource = strdup(c->host.text);
		break;
	case RES_SQLITE:
	case RES_UNIX:
		n = asprintf(&c->resource, "%s:%s", c->kind == RES_UNIX ? "unix" : "sqlite",
		             c->glob.text);
		if (n < 0)
			c->resource = NULL;
		break;
	case RES_URL:
		n = asprintf(&c->resource, "%s://%s%s%s", c->scheme, c->host.text,
		             c->any_db ? "" : "/", c->any_db ? "" : c->glob.text);
		if (n < 0)
			c->resource = NULL;
		break;
	default:
		c->resource = strdup(c->glob.text);
		break;
	}
	return c->resource ? 0 : -ENOMEM;
}

int ob_capability_new(ob_capability **ret, ob_cap_type type, const char *resource, size_t len,
                      const char *workdir, ob_error *reterr)
{
	const char *msg = "invalid resource";
	int r;

	assert_return(ret, -EINVAL);
	assert_return(resource || len == 0, -EINVAL);
	if (!ob_cap_type_to_string(type))
		return ob_error_set(reterr, -EINVAL, "unknown capability type %d", (int)type);
	if (len == 0)
		return ob_error_set(reterr, -EINVAL, "%s: empty resource",
		                    ob_cap_type_to_string(type));
	ob_capability *c = calloc(1, sizeof(*c));
	if (!c)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	c->type = type;
	char hostport[256];
	if (type == OB_CAP_NETWORK_CONNECT && !resource_is_unix(resource, len) &&
	    url_to_host_grant(resource, len, hostport, sizeof(hostport))) {
		(void)ob_capability_free(c);
		return ob_error_set(reterr, -EINVAL,
		                    "NETWORK_CONNECT resource: '%.*s' is a URL; a network grant "
		                    "is a host and port: write %s",
		                    (int)(len < 200 ? len : 200), resource, hostport);
	}
	r = parse_resource(c, resource, len, workdir, &msg);
	if (r == -ENOMEM)
		msg = "out of memory";
	if (r >= 0)
		r = capability_format_resource(c);
	if (r < 0) {
		(void)ob_capability_free(c);
		return ob_error_set(reterr, r, "%s resource: %s", ob_cap_type_to_string(type), msg);
	}
	*ret = c;
	return 0;
}

int ob_capability_parse(ob_capability **ret, const char *spec, const char *workdir,
                        ob_error *reterr)
{
	char name[32];

	assert_return(ret && spec, -EINVAL);
	const char *colon = strchr(spec, ':');
	if (!colon || (size_t)(colon - spec) >= sizeof(name))
		return ob_error_set(reterr, -EINVAL, "'%.64s': expected TYPE:RESOURCE", spec);
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	ob_cap_type type = ob_cap_type_from_string(name);
	const char *hint = type < 0 ? cap_type_suggest(name) : NULL;
	if (type < 0)
		return ob_error_set(
		    reterr, -EINVAL,
		    "unknown capability type '%s'%s%s%s (expected FILE_READ, FILE_WRITE, "
		    "NETWORK_CONNECT, EXTERNAL_COMMAND, SECRET_ACCESS, "
		    "DATABASE_READ/WRITE, REGISTRY_READ/WRITE, ARTIFACT_READ/WRITE or "
		    "an alias fs_read, fs_write, net_http, exec_run)",
		    name, hint ? "; did you mean " : "", hint ? hint : "", hint ? "?" : "");
	return ob_capability_new(ret, type, colon + 1, strlen(colon + 1), workdir, reterr);
}

ob_capability *ob_capability_free(ob_capability *cap)
{
	if (!cap)
		return NULL;
	glob_done(&cap->glob);
	host_pattern_done(&cap->host);
	for (size_t i = 0; i < cap->n_conds; i++) {
		free(cap->conds[i].key);
		glob_done(&cap->conds[i].value);
	}
	free(cap->conds);
	free(cap->resource);
	free(cap);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capability *, ob_capability_free)

int ob_capability_dup(const ob_capability *cap, ob_capability **ret)
{
	assert_return(cap && ret, -EINVAL);
	_cleanup_(ob_capability_freep) ob_capability *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->type = cap->type;
	c->kind = cap->kind;
	c->any_db = cap->any_db;
	memcpy(c->scheme, cap->scheme, sizeof(c->scheme));
	c->resource = strdup(cap->resource);
	if (!c->resource)
		return -ENOMEM;
	if (cap->glob.text && glob_copy(&c->glob, &cap->glob) < 0)
		return -ENOMEM;
	if (cap->host.text && host_pattern_copy(&c->host, &cap->host) < 0)
		return -ENOMEM;
	if (capability_add_conditions_of(c, cap) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---------------------------------------------------------------- conditions */

static int conditions_grow(ob_capability *cap)
{
	Condition *n = realloc(cap->conds, (cap->n_conds + 1) * sizeof(Condition));
	if (!n)
		return -ENOMEM;
	cap->conds = n;
	return 0;
}

int ob_capability_add_condition(ob_capability *cap, const char *key, const char *value_pattern,
                                ob_error *reterr)
{
	const char *msg = "invalid";
	Glob g;
	int r;

	assert_return(cap && key && value_pattern, -EINVAL);
	if (!context_key_is_valid(key))
		return ob_error_set(reterr, -EINVAL,
		                    "condition key '%.64s' must be 1 to 128 characters of "
		                    "[A-Za-z0-9_.-]",
		                    key);
	if (strlen(value_pattern) > 4096)
		return ob_error_set(reterr, -EINVAL, "condition '%s' value longer than 4096 bytes",
		                    key);
	r = glob_compile_name(&g, value_pattern, strlen(value_pattern), &msg);
	if (r < 0)
		return ob_error_set(reterr, r, "condition '%s' value %s", key, msg);
	_cleanup_free_ char *k = strdup(key);
	if (!k || conditions_grow(cap) < 0) {
		glob_done(&g);
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	}
	cap->conds[cap->n_conds++] = (Condition){.key = TAKE_PTR(k), .value = g};
	return 0;
}

int capability_add_conditions_of(ob_capability *dst, const ob_capability *src)
{
	for (size_t i = 0; i < src->n_conds; i++) {
		int r = ob_capability_add_condition(dst, src->conds[i].key,
		                                    src->conds[i].value.text, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

bool conditions_implied(const ob_capability *a, const ob_capability *b)
{
	for (size_t i = 0; i < a->n_conds; i++) {
		bool found = false;
		for (size_t j = 0; j < b->n_conds && !found; j++)
			found = streq(a->conds[i].key, b->conds[j].key) &&
			        glob_covers(&a->conds[i].value, &b->conds[j].value);
		if (!found)
			return false;
	}
	return true;
}

ob_cap_type ob_capability_type(const ob_capability *cap)
{
	assert_return(cap, OB_CAP_TYPE_INVALID);
	return cap->type;
}

const char *ob_capability_resource(const ob_capability *cap)
{
	assert_return(cap, NULL);
	return cap->resource;
}

size_t ob_capability_n_conditions(const ob_capability *cap)
{
	assert_return(cap, 0);
	return cap->n_conds;
}

int ob_capability_condition(const ob_capability *cap, size_t i, const char **ret_key,
                            const char **ret_value)
{
	assert_return(cap, -EINVAL);
	if (i >= cap->n_conds)
		return -ERANGE;
	if (ret_key)
		*ret_key = cap->conds[i].key;
	if (ret_value)
		*ret_value = cap->conds[i].value.text;
	return 0;
}

bool ob_capability_is_active(const ob_capability *cap, const ob_context *ctx)
{
	assert_return(cap, false);
	for (size_t i = 0; i < cap->n_conds; i++) {
		const char *v = ctx ? ob_context_get(ctx, cap->conds[i].key) : NULL;
		if (!v || !glob_match(&cap->conds[i].value, v, strlen(v)))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- matching */

bool capability_matches(const ob_capability *cap, const Request *rq)
{
	if (cap->kind != rq->kind)
		return false;
	switch (cap->kind) {
	case RES_HOST:
		return host_pattern_match(&cap->host, &rq->host);
	case RES_URL:
		if (strcmp(cap->scheme, rq->scheme) != 0 ||
		    !host_pattern_match(&cap->host, &rq->host))
			return false;
		return cap->any_db || (rq->len > 0 && glob_match(&cap->glob, rq->s, rq->len));
	default:
		return glob_match(&cap->glob, rq->s, rq->len);
	}
}

bool ob_capability_covers(const ob_capability *a, const ob_capability *b)
{
	assert_return(a && b, false);
	if (a->type != b->type && cap_type_implied_read(a->type) != b->type)
		return false;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case RES_HOST:
		return host_pattern_covers(&a->host, &b->host);
	case RES_URL:
		if (!streq(a->scheme, b->scheme) || !host_pattern_covers(&a->host, &b->host))
			return false;
		return a->any_db || (!b->any_db && glob_covers(&a->glob, &b->glob));
	default:
		return glob_covers(&a->glob, &b->glob);
	}
}

bool capability_equal(const ob_capability *a, const ob_capability *b)
{
	if (a->type != b->type || a->n_conds != b->n_conds || !streq(a->resource, b->resource))
		return false;
	for (size_t i = 0; i < a->n_conds; i++)
		if (!streq(a->conds[i].key, b->conds[i].key) ||
		    !streq(a->conds[i].value.text, b->conds[i].value.text))
			return false;
	return true;
}

void capability_format(const ob_capability *cap, bool with_when, char *buf, size_t size)
{
	size_t n =
	    (size_t)snprintf(buf, size, "%s:%s", ob_cap_type_to_string(cap->type), cap->resource);
	for (size_t i = 0; with_when && i < cap->n_conds && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", i == 0 ? " when " : ",",
		                      cap->conds[i].key, cap->conds[i].value.text);
}

/* ---------------------------------------------------------------- requests */

static int request_parse_url(Request *rq, const char *res, size_t len, const char **msg)
{
	const char *sep = memmem(res, len, "://", 3);
	const char *end = res + len;
	int r;

	if (!sep) {
		*msg = "expected 'sqlite:PATH' or 'SCHEME://HOST:PORT[/DATABASE]'";
		return -EINVAL;
	}
	rq->kind = RES_URL;
	r = parse_scheme(rq->scheme, res, (size_t)(sep - res), msg);
	if (r < 0)
		return r;
	const char *auth = sep + 3;
	const char *q = auth;
	while (q < end && *q != '/' && *q != '?' && *q != '#')
		q++;
	const char *at = NULL;
	for (const char *p = auth; p < q; p++)
		if (*p == '@')
			at = p; /* credentials are not part of what is checked */
	if (at)
		auth = at + 1;
	r = host_request_parse_hostport(&rq->host, auth, (size_t)(q - auth), msg);
	if (r < 0)
		return r;
	rq->s = "";
	rq->len = 0;
	if (q < end && *q == '/') {
		const char *db = q + 1, *db_end = db;
		while (db_end < end && *db_end != '?' && *db_end != '#')
			db_end++;
		rq->s = db;
		rq->len = (size_t)(db_end - db);
	}
	return 0;
}

static int request_parse_path(Request *rq, ResourceKind kind, const char *res, size_t len,
                              const char *workdir, bool rooted, const char **msg)
{
	rq->kind = kind;
	if (rooted && path_is_normalized(res, len) && len < sizeof(rq->buf)) {
		rq->s = res; /* already canonical: no copy on the hot path */
		rq->len = len;
		return 0;
	}
	int n = path_normalize(res, len, workdir, rooted, /* pattern= */ false, rq->buf,
	                       sizeof(rq->buf), msg);
	if (n < 0)
		return n;
	rq->s = rq->buf;
	rq->len = (size_t)n;
	return 0;
}

int request_parse(Request *rq, ob_cap_type type, const char *res, size_t len, const char *workdir,
                  const char **msg)
{
	rq->type = type;
	if (len == 0) {
		*msg = "empty resource";
		return -EINVAL;
	}
	switch (type) {
	case OB_CAP_FILE_READ:
	case OB_CAP_FILE_WRITE:
		return request_parse_path(rq, RES_PATH, res, len, workdir, true, msg);
	case OB_CAP_NETWORK_CONNECT:
		if (resource_is_unix(res, len))
			return request_parse_path(rq, RES_UNIX, res + 5, len - 5, workdir, true,
			                          msg);
		rq->kind = RES_HOST;
		return host_request_parse_hostport(&rq->host, res, len, msg);
	case OB_CAP_EXTERNAL_COMMAND:
		if (memchr(res, '/', len))
			return request_parse_path(rq, RES_PATH, res, len, workdir, true, msg);
		rq->kind = RES_NAME;
		rq->s = res;
		rq->len = len;
		return memchr(res, '\0', len) ? (*msg = "contains a NUL byte", -EINVAL) : 0;
	case OB_CAP_SECRET_ACCESS:
		rq->kind = RES_NAME;
		rq->s = res;
		rq->len = len;
		return memchr(res, '\0', len) ? (*msg = "contains a NUL byte", -EINVAL) : 0;
	case OB_CAP_DATABASE_READ:
	case OB_CAP_DATABASE_WRITE:
		if (len >= 7 && strncasecmp(res, "sqlite:", 7) == 0)
			return request_parse_path(rq, RES_SQLITE, res + 7, len - 7, workdir, true,
			                          msg);
		return request_parse_url(rq, res, len, msg);
	default:
		return request_parse_path(rq, RES_STORE, res, len, NULL, false, msg);
	}
}
