/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability sets: add, union, intersection, subset, has_capability, and the enforcement
 * helpers ob_check_*().  A set keeps one bucket of grants per type; a write grant is also
 * filed under its read type (FILE_WRITE implies FILE_READ, SPEC §2.1), so one check walks
 * one short array and allocates nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "model/capability.h"

/*
 * The grants of one type.  ALL holds every grant (for subsumption and set operations).
 * Grants whose resource is a literal path or name are also in LIT, an open-addressing hash
 * table keyed by (kind, text): a concrete request costs one hash lookup for them however
 * many there are.  SCAN holds the rest (globs, hosts, URLs), walked in order with cheap
 * prefix rejection.
 */
typedef struct Bucket {
	const ob_capability **all, **scan;
	size_t n_all, n_scan, alloc;
	const ob_capability **lit;
	size_t lit_size, n_lit; /* lit_size is 0 or a power of two */
} Bucket;

struct ob_capset {
	unsigned n_ref;
	ob_capability **caps;
	size_t n_caps, alloc;
	Bucket bucket[OB_CAP_TYPE_MAX];
	char *workdir;
};

static void bucket_free(Bucket *b)
{
	free(b->all);
	free(b->scan);
	free(b->lit);
}

int ob_capset_new(ob_capset **ret)
{
	assert_return(ret, -EINVAL);
	ob_capset *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->n_ref = 1;
	s->workdir = strdup("/");
	if (!s->workdir) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

ob_capset *ob_capset_ref(ob_capset *set)
{
	if (set)
		set->n_ref++;
	return set;
}

ob_capset *ob_capset_unref(ob_capset *set)
{
	if (!set || --set->n_ref > 0)
		return NULL;
	for (size_t i = 0; i < set->n_caps; i++)
		(void)ob_capability_free(set->caps[i]);
	for (size_t t = 0; t < OB_CAP_TYPE_MAX; t++)
		bucket_free(&set->bucket[t]);
	free(set->caps);
	free(set->workdir);
	free(set);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capability *, ob_capability_free)

int ob_capset_set_workdir(ob_capset *set, const char *dir)
{
	char buf[PATTERN_PATH_MAX];

	assert_return(set && dir, -EINVAL);
	int n = path_normalize(dir, strlen(dir), NULL, /* rooted= */ true, /* pattern= */ false,
	                       buf, sizeof(buf), NULL);
	if (n < 0)
		return n;
	char *d = strdup(buf);
	if (!d)
		return -ENOMEM;
	free(set->workdir);
	set->workdir = d;
	return 0;
}

static bool is_hashable(const ob_capability *c)
{
	return c->kind != RES_HOST && c->kind != RES_URL && c->glob.literal;
}

/* FNV-1a over the kind and the text. */
static uint64_t lit_hash(ResourceKind kind, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)kind;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static void lit_insert(const ob_capability **table, size_t size, const ob_capability *c)
{
	size_t i = lit_hash(c->kind, c->glob.lit, c->glob.lit_len) & (size - 1);

	while (table[i])
		i = (i + 1) & (size - 1);
	table[i] = c;
}

static int lit_add(Bucket *b, const ob_capability *c)
{
	if (2 * (b->n_lit + 1) > b->lit_size) {
		size_t size = b->lit_size ? b->lit_size * 2 : 16;
		const ob_capability **t = calloc(size, sizeof(void *)); /* of pointers */
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < b->lit_size; i++)
			if (b->lit[i])
				lit_insert(t, size, b->lit[i]);
		free(b->lit);
		b->lit = t;
		b->lit_size = size;
	}
	lit_insert(b->lit, b->lit_size, c);
	b->n_lit++;
	return 0;
}

static int bucket_add(Bucket *b, const ob_capability *cap)
{
	if (b->n_all == b->alloc) {
		size_t na = b->alloc ? b->alloc * 2 : 8;
		const ob_capability **n1 = reallocarray(b->all, na, sizeof(void *));
		if (!n1)
			return -ENOMEM;
		b->all = n1;
		const ob_capability **n2 = reallocarray(b->scan, na, sizeof(void *));
		if (!n2)
			return -ENOMEM;
		b->scan = n2;
		b->alloc = na;
	}
	if (is_hashable(cap)) {
		int r = lit_add(b, cap);
		if (r < 0)
			return r;
	} else {
		b->scan[b->n_scan++] = cap;
	}
	b->all[b->n_all++] = cap;
	return 0;
}

static bool capset_contains(const ob_capset *set, const ob_capability *cap)
{
	const Bucket *b = &set->bucket[cap->type];

	for (size_t i = 0; i < b->n_all; i++)
		if (capability_equal(b->all[i], cap))
			return true;
	return false;
}

/* Files CAP (ownership taken) into the set. */
static int capset_take(ob_capset *set, ob_capability *cap)
{
	_cleanup_(ob_capability_freep) ob_capability *c = cap;
	ob_cap_type read = cap_type_implied_read(c->type);

	if (capset_contains(set, c))
		return 0;
	if (set->n_caps == set->alloc) {
		size_t na = set->alloc ? set->alloc * 2 : 16;
		ob_capability **n = reallocarray(set->caps, na, sizeof(void *));
		if (!n)
			return -ENOMEM;
		set->caps = n;
		set->alloc = na;
	}
	if (bucket_add(&set->bucket[c->type], c) < 0)
		return -ENOMEM;
	/* On failure here the grant stays filed under its own type only: the set then grants
	 * less than asked (never more), and the caller sees -ENOMEM.  The set keeps (and later
	 * frees) the grant either way: its own type's bucket points at it now. */
	int r = read != c->type && bucket_add(&set->bucket[read], c) < 0 ? -ENOMEM : 0;
	set->caps[set->n_caps++] = TAKE_PTR(c);
	return r;
}

int ob_capset_add(ob_capset *set, const ob_capability *cap)
{
	ob_capability *c;

	assert_return(set && cap, -EINVAL);
	int r = ob_capability_dup(cap, &c);
	if (r < 0)
		return r;
	return capset_take(set, c);
}

size_t ob_capset_size(const ob_capset *set)
{
	assert_return(set, 0);
	return set->n_caps;
}

const ob_capability *ob_capset_get(const ob_capset *set, size_t i)
{
	assert_return(set, NULL);
	return i < set->n_caps ? set->caps[i] : NULL;
}

static int capset_new_like(const ob_capset *a, ob_capset **ret)
{
	_cleanup_(ob_capset_unrefp) ob_capset *s = NULL;
	int r = ob_capset_new(&s);
	if (r < 0)
		return r;
	r = ob_capset_set_workdir(s, a->workdir);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int ob_capset_union(const ob_capset *a, const ob_capset *b, ob_capset **ret)
{
	_cleanup_(ob_capset_unrefp) ob_capset *s = NULL;
	int r;

	assert_return(a && b && ret, -EINVAL);
	r = capset_new_like(a, &s);
	for (size_t i = 0; r >= 0 && i < a->n_caps; i++)
		r = ob_capset_add(s, a->caps[i]);
	for (size_t i = 0; r >= 0 && i < b->n_caps; i++)
		r = ob_capset_add(s, b->caps[i]);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* Adds to S each capability of X covered by one of Y, with the conditions of both. */
static int intersect_into(ob_capset *s, const ob_capset *x, const ob_capset *y)
{
	for (size_t i = 0; i < x->n_caps; i++) {
		const ob_capability *cx = x->caps[i];
		for (size_t j = 0; j < y->n_caps; j++) {
			const ob_capability *cy = y->caps[j];
			ob_capability *c;
			if (!ob_capability_covers(cy, cx))
				continue;
			int r = ob_capability_dup(cx, &c);
			if (r >= 0)
				r = capability_add_conditions_of(c, cy);
			if (r >= 0)
				r = capset_take(s, c);
			else
				(void)ob_capability_free(c);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ob_capset_intersection(const ob_capset *a, const ob_capset *b, ob_capset **ret)
{
	_cleanup_(ob_capset_unrefp) ob_capset *s = NULL;

	assert_return(a && b && ret, -EINVAL);
	int r = capset_new_like(a, &s);
	if (r >= 0)
		r = intersect_into(s, a, b);
	if (r >= 0)
		r = intersect_into(s, b, a);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

bool ob_capset_is_subset(const ob_capset *a, const ob_capset *b)
{
	assert_return(a && b, false);
	for (size_t i = 0; i < a->n_caps; i++) {
		const ob_capability *ca = a->caps[i];
		const Bucket *bk = &b->bucket[ca->type];
		bool covered = false;
		for (size_t j = 0; j < bk->n_all && !covered; j++)
			covered = ob_capability_covers(bk->all[j], ca) &&
			          conditions_implied(bk->all[j], ca);
		if (!covered)
			return false;
	}
	return true;
}

static bool grant_is_active(const ob_capability *c, const ob_context *ctx,
                            const ob_capability **inactive)
{
	if (c->n_conds == 0 || ob_capability_is_active(c, ctx))
		return true;
	if (inactive && !*inactive)
		*inactive = c;
	return false;
}

/* Finds an active grant of bucket B for the literal text S of KIND: the hash table for
 * literal grants, then the pattern grants. */
static const ob_capability *bucket_find_text(const Bucket *b, ResourceKind kind, const char *s,
                                             size_t len, const ob_context *ctx,
                                             const ob_capability **inactive)
{
	if (b->n_lit > 0) {
		size_t mask = b->lit_size - 1;
		for (size_t i = lit_hash(kind, s, len) & mask; b->lit[i]; i = (i + 1) & mask) {
			const ob_capability *c = b->lit[i];
			if (c->kind == kind && c->glob.lit_len == len &&
			    memcmp(c->glob.lit, s, len) == 0 && grant_is_active(c, ctx, inactive))
				return c;
		}
	}
	for (size_t i = 0; i < b->n_scan; i++) {
		const ob_capability *c = b->scan[i];
		if (c->kind == kind && glob_match(&c->glob, s, len) &&
		    grant_is_active(c, ctx, inactive))
			return c;
	}
	return NULL;
}

bool ob_capset_has_capability(const ob_capset *set, const ob_capability *cap, const ob_context *ctx)
{
	assert_return(set && cap, false);
	const Bucket *b = &set->bucket[cap->type];
	if (is_hashable(cap))
		return bucket_find_text(b, cap->kind, cap->glob.lit, cap->glob.lit_len, ctx, NULL);
	for (size_t i = 0; i < b->n_all; i++)
		if (ob_capability_covers(b->all[i], cap) && ob_capability_is_active(b->all[i], ctx))
			return true;
	return false;
}

/* Returns the active grant that allows RQ, or NULL; *inactive gets a grant that matched but
 * whose conditions did not hold (for the message). */
static const ob_capability *capset_find(const ob_capset *set, const Request *rq,
                                        const ob_context *ctx, const ob_capability **inactive)
{
	const Bucket *b = &set->bucket[rq->type];

	if (rq->kind != RES_HOST && rq->kind != RES_URL)
		return bucket_find_text(b, rq->kind, rq->s, rq->len, ctx, inactive);
	for (size_t i = 0; i < b->n_scan; i++) {
		const ob_capability *c = b->scan[i];
		if (capability_matches(c, rq) && grant_is_active(c, ctx, inactive))
			return c;
	}
	return NULL;
}

int ob_capset_allows(const ob_capset *set, ob_cap_type type, const char *resource,
                     const ob_context *ctx)
{
	Request rq;
	const char *msg;

	assert_return(set && resource, -EINVAL);
	assert_return(type >= 0 && type < OB_CAP_TYPE_MAX, -EINVAL);
	int r = request_parse(&rq, type, resource, strlen(resource), set->workdir, &msg);
	if (r < 0)
		return r;
	return capset_find(set, &rq, ctx, NULL) != NULL;
}

/* ---------------------------------------------------------------- enforcement helpers */

static void copy_truncated(char *dst, size_t size, const char *src, size_t len)
{
	if (len < size) {
		memcpy(dst, src, len);
		dst[len] = '\0';
		return;
	}
	memcpy(dst, src, size - 4);
	memcpy(dst + size - 4, "...", 4);
}

/* The request as the resource text of a grant that would allow it. */
static void request_format(const Request *rq, char *buf, size_t size)
{
	switch (rq->kind) {
	case RES_HOST:
		host_request_format(&rq->host, buf, size);
		break;
	case RES_URL: {
		char hp[300];
		host_request_format(&rq->host, hp, sizeof(hp));
		(void)snprintf(buf, size, "%s://%s%s%.*s", rq->scheme, hp, rq->len ? "/" : "",
		               (int)(rq->len > 900 ? 900 : rq->len), rq->s);
		break;
	}
	case RES_SQLITE:
	case RES_UNIX: {
		char tmp[1100];
		copy_truncated(tmp, sizeof(tmp) - 8, rq->s, rq->len);
		(void)snprintf(buf, size, "%s:%s", rq->kind == RES_UNIX ? "unix" : "sqlite", tmp);
		break;
	}
	default:
		copy_truncated(buf, size, rq->s, rq->len);
		break;
	}
}

static void fill_denial(ob_cap_error *e, const Request *rq, const ob_capability *inactive)
{
	char when[600] = "";

	request_format(rq, e->resource, sizeof(e->resource));
	(void)snprintf(e->needed, sizeof(e->needed), "%s:%s", ob_cap_type_to_string(rq->type),
	               e->resource);
	if (inactive) {
		char cap[1400];
		capability_format(inactive, /* with_when= */ true, cap, sizeof(cap));
		(void)snprintf(when, sizeof(when), "; %.500s does not hold in this context", cap);
	}
	(void)snprintf(e->msg, sizeof(e->msg),
	               "%s denied: %s '%.1023s' is not granted (a capability %.1099s would allow "
	               "it%.599s)",
	               ob_cap_type_to_string(rq->type), e->operation, e->resource, e->needed, when);
}

static int check(const ob_capset *set, const ob_context *ctx, ob_cap_type type, const char *op,
                 const char *resource, size_t len, ob_cap_error *e)
{
	Request rq;
	const char *msg = "malformed request";
	const ob_capability *inactive = NULL;

	assert_return(set && resource, -EINVAL);
	if (e) {
		e->type = type;
		(void)snprintf(e->operation, sizeof(e->operation), "%s", op);
		e->resource[0] = e->needed[0] = e->msg[0] = '\0';
	}
	int r = request_parse(&rq, type, resource, len, set->workdir, &msg);
	if (r < 0) {
		if (e) {
			e->code = r;
			copy_truncated(e->resource, sizeof(e->resource), resource,
			               strnlen(resource, len));
			(void)snprintf(e->msg, sizeof(e->msg), "%s %s '%.200s': %s",
			               ob_cap_type_to_string(type), op, e->resource, msg);
		}
		return r;
	}
	if (capset_find(set, &rq, ctx, e ? &inactive : NULL)) {
		if (e)
			e->code = 0;
		return 0;
	}
	if (e) {
		e->code = -EACCES;
		fill_denial(e, &rq, inactive);
	}
	return -EACCES;
}

int ob_check_file_read(const ob_capset *set, const ob_context *ctx, const char *path,
                       ob_cap_error *reterr)
{
	assert_return(path, -EINVAL);
	return check(set, ctx, OB_CAP_FILE_READ, "read", path, strlen(path), reterr);
}

int ob_check_file_write(const ob_capset *set, const ob_context *ctx, const char *path,
                        ob_cap_error *reterr)
{
	assert_return(path, -EINVAL);
	return check(set, ctx, OB_CAP_FILE_WRITE, "write", path, strlen(path), reterr);
}

int ob_check_network(const ob_capset *set, const ob_context *ctx, const char *host, unsigned port,
                     ob_cap_error *reterr)
{
	char hp[300];

	assert_return(host, -EINVAL);
	/* Brackets keep an IPv6 address apart from the port. */
	bool v6 = strchr(host, ':') && host[0] != '[';
	int n = snprintf(hp, sizeof(hp), "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
	if (n < 0 || (size_t)n >= sizeof(hp))
		return check(set, ctx, OB_CAP_NETWORK_CONNECT, "connect", "", 0, reterr);
	return check(set, ctx, OB_CAP_NETWORK_CONNECT, "connect", hp, (size_t)n, reterr);
}

int ob_check_unix_socket(const ob_capset *set, const ob_context *ctx, const char *path,
                         ob_cap_error *reterr)
{
	char res[PATTERN_PATH_MAX + 8];

	assert_return(path, -EINVAL);
	int n = snprintf(res, sizeof(res), "unix:%s", path);
	if (n < 0 || (size_t)n >= sizeof(res) || path[0] == '\0')
		return check(set, ctx, OB_CAP_NETWORK_CONNECT, "connect", "", 0, reterr);
	/* A path alone, whatever it looks like: "unix:80" stays the socket "80" here. */
	if (!resource_is_unix(res, (size_t)n))
		(void)snprintf(res, sizeof(res), "unix:./%s", path);
	return check(set, ctx, OB_CAP_NETWORK_CONNECT, "connect", res, strlen(res), reterr);
}

int ob_check_command(const ob_capset *set, const ob_context *ctx, const char *command,
                     ob_cap_error *reterr)
{
	assert_return(command, -EINVAL);
	return check(set, ctx, OB_CAP_EXTERNAL_COMMAND, "exec", command, strlen(command), reterr);
}

int ob_check_secret(const ob_capset *set, const ob_context *ctx, const char *name,
                    ob_cap_error *reterr)
{
	assert_return(name, -EINVAL);
	return check(set, ctx, OB_CAP_SECRET_ACCESS, "access", name, strlen(name), reterr);
}

static int check_mode(const ob_capset *set, const ob_context *ctx, ob_cap_type read,
                      ob_cap_type write, const char *name, const char *mode, ob_cap_error *e)
{
	assert_return(name && mode, -EINVAL);
	bool w = streq(mode, "write");
	if (!w && !streq(mode, "read")) {
		if (e) {
			*e = (ob_cap_error){.code = -EINVAL, .type = read};
			(void)snprintf(e->msg, sizeof(e->msg),
			               "access mode '%.32s' is neither 'read' nor 'write'", mode);
		}
		return -EINVAL;
	}
	return check(set, ctx, w ? write : read, mode, name, strlen(name), e);
}

int ob_check_registry(const ob_capset *set, const ob_context *ctx, const char *name,
                      const char *mode, ob_cap_error *reterr)
{
	return check_mode(set, ctx, OB_CAP_REGISTRY_READ, OB_CAP_REGISTRY_WRITE, name, mode,
	                  reterr);
}

int ob_check_artifact(const ob_capset *set, const ob_context *ctx, const char *name,
                      const char *mode, ob_cap_error *reterr)
{
	return check_mode(set, ctx, OB_CAP_ARTIFACT_READ, OB_CAP_ARTIFACT_WRITE, name, mode,
	                  reterr);
}

int ob_check_database(const ob_capset *set, const ob_context *ctx, const char *url,
                      const char *mode, ob_cap_error *reterr)
{
	return check_mode(set, ctx, OB_CAP_DATABASE_READ, OB_CAP_DATABASE_WRITE, url, mode, reterr);
}

static const char *request_operation(ob_cap_type type)
{
	switch (type) {
	case OB_CAP_FILE_READ:
	case OB_CAP_DATABASE_READ:
	case OB_CAP_REGISTRY_READ:
	case OB_CAP_ARTIFACT_READ:
		return "read";
	case OB_CAP_FILE_WRITE:
	case OB_CAP_DATABASE_WRITE:
	case OB_CAP_REGISTRY_WRITE:
	case OB_CAP_ARTIFACT_WRITE:
		return "write";
	case OB_CAP_NETWORK_CONNECT:
		return "connect";
	case OB_CAP_EXTERNAL_COMMAND:
		return "exec";
	default:
		return "access";
	}
}

int ob_check_request(const ob_capset *set, const ob_context *ctx, ob_cap_type type,
                     const char *resource, const ob_capability **ret_grant, ob_cap_error *reterr)
{
	Request rq;
	const char *msg;

	assert_return(set && resource, -EINVAL);
	assert_return(type >= 0 && type < OB_CAP_TYPE_MAX, -EINVAL);
	int r = check(set, ctx, type, request_operation(type), resource, strlen(resource), reterr);
	if (r < 0 || !ret_grant)
		return r;
	/* Parsed again rather than threading the grant through check(): this serves people
	 * asking one question, not the enforcement's hot path. */
	r = request_parse(&rq, type, resource, strlen(resource), set->workdir, &msg);
	if (r < 0)
		return r;
	*ret_grant = capset_find(set, &rq, ctx, NULL);
	return 0;
}
