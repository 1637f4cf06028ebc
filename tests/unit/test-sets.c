/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capability sets: add and dedupe, union, intersection, subset, has_capability, contexts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

static ob_capability *cap(const char *spec, const char *when_key, const char *when_value)
{
	ob_capability *c;
	ob_error e;

	if (ob_capability_parse(&c, spec, "/work", &e) < 0)
		fail_msg("%s: %s", spec, e.msg);
	if (when_key)
		assert_int_equal(ob_capability_add_condition(c, when_key, when_value, NULL), 0);
	return c;
}

static void add(ob_capset *s, const char *spec, const char *k, const char *v)
{
	ob_capability *c = cap(spec, k, v);
	assert_int_equal(ob_capset_add(s, c), 0);
	ob_capability_free(c);
}

static ob_capset *empty(void)
{
	ob_capset *s;
	assert_int_equal(ob_capset_new(&s), 0);
	return s;
}

static bool has(const ob_capset *s, const char *spec, const ob_context *ctx)
{
	ob_capability *c = cap(spec, NULL, NULL);
	bool r = ob_capset_has_capability(s, c, ctx);
	ob_capability_free(c);
	return r;
}

static void test_types(void **state)
{
	(void)state;
	static const char *const names[] = {
	    "FILE_READ",      "FILE_WRITE",    "NETWORK_CONNECT", "EXTERNAL_COMMAND",
	    "SECRET_ACCESS",  "DATABASE_READ", "DATABASE_WRITE",  "REGISTRY_READ",
	    "REGISTRY_WRITE", "ARTIFACT_READ", "ARTIFACT_WRITE",
	};
	assert_int_equal(OB_CAP_TYPE_MAX, 11);
	for (int t = 0; t < OB_CAP_TYPE_MAX; t++) {
		assert_string_equal(ob_cap_type_to_string((ob_cap_type)t), names[t]);
		assert_int_equal(ob_cap_type_from_string(names[t]), t);
	}
	assert_int_equal(ob_cap_type_from_string("file_read"), OB_CAP_FILE_READ);
	assert_int_equal(ob_cap_type_from_string("Fs_Read"), OB_CAP_FILE_READ);
	assert_int_equal(ob_cap_type_from_string("fs_write"), OB_CAP_FILE_WRITE);
	assert_int_equal(ob_cap_type_from_string("NET_HTTP"), OB_CAP_NETWORK_CONNECT);
	assert_int_equal(ob_cap_type_from_string("exec_run"), OB_CAP_EXTERNAL_COMMAND);
	assert_int_equal(ob_cap_type_from_string("FILE_READS"), -EINVAL);
	assert_int_equal(ob_cap_type_from_string(""), -EINVAL);
	assert_int_equal(ob_cap_type_from_string(NULL), -EINVAL);
	assert_null(ob_cap_type_to_string(OB_CAP_TYPE_MAX));
	assert_null(ob_cap_type_to_string(OB_CAP_TYPE_INVALID));

	ob_capability *c;
	ob_error e;
	assert_int_equal(ob_capability_parse(&c, "nonsense", "/", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "TYPE:RESOURCE"));
	assert_int_equal(ob_capability_parse(&c, "FILE_RAED:/x", "/", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "FILE_RAED"));
	assert_int_equal(ob_capability_parse(&c, "FILE_READ:", "/", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "empty resource"));
	assert_int_equal(ob_capability_new(&c, OB_CAP_TYPE_MAX, "/x", 2, "/", &e), -EINVAL);
	assert_int_equal(ob_capability_parse(&c, "FILE_READ:rel", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "working directory"));
}

static void test_accessors_and_dup(void **state)
{
	(void)state;
	ob_capability *c = cap("fs_write:./out/../res/**", "env", "prod"), *d;
	const char *k, *v;

	assert_int_equal(ob_capability_type(c), OB_CAP_FILE_WRITE);
	assert_string_equal(ob_capability_resource(c), "/work/res/**");
	assert_int_equal(ob_capability_n_conditions(c), 1);
	assert_int_equal(ob_capability_condition(c, 0, &k, &v), 0);
	assert_string_equal(k, "env");
	assert_string_equal(v, "prod");
	assert_int_equal(ob_capability_condition(c, 1, &k, &v), -ERANGE);
	assert_int_equal(ob_capability_dup(c, &d), 0);
	assert_string_equal(ob_capability_resource(d), "/work/res/**");
	assert_int_equal(ob_capability_n_conditions(d), 1);
	assert_true(ob_capability_covers(c, d) && ob_capability_covers(d, c));
	assert_int_equal(ob_capability_add_condition(c, "bad key", "x", NULL), -EINVAL);
	assert_int_equal(ob_capability_add_condition(c, "k", "x\\", NULL), -EINVAL);
	char *huge = malloc(5000);
	memset(huge, 'a', 4999);
	huge[4999] = '\0';
	assert_int_equal(ob_capability_add_condition(c, "k", huge, NULL), -EINVAL);
	free(huge);
	ob_capability_free(d);
	ob_capability_free(c);
	assert_null(ob_capability_free(NULL));
}

static void test_add_dedupe_and_get(void **state)
{
	(void)state;
	ob_capset *s = empty();

	add(s, "FILE_READ:/a", NULL, NULL);
	add(s, "FILE_READ:/a/", NULL, NULL); /* same after normalisation */
	add(s, "fs_read:/a", NULL, NULL);
	add(s, "FILE_READ:/a", "env", "prod"); /* differs by its condition */
	add(s, "FILE_WRITE:/a", NULL, NULL);
	assert_int_equal(ob_capset_size(s), 3);
	assert_string_equal(ob_capability_resource(ob_capset_get(s, 0)), "/a");
	assert_null(ob_capset_get(s, 3));
	assert_ptr_equal(ob_capset_ref(s), s);
	assert_null(ob_capset_unref(s));
	assert_int_equal(ob_capset_size(s), 3); /* still one reference */
	assert_int_equal(ob_capset_set_workdir(s, "relative"), -EINVAL);
	assert_null(ob_capset_unref(s));
	assert_null(ob_capset_unref(NULL));
	assert_null(ob_capset_ref(NULL));
}

static void test_union(void **state)
{
	(void)state;
	ob_capset *a = empty(), *b = empty(), *u;

	add(a, "FILE_READ:/a/**", NULL, NULL);
	add(a, "NETWORK_CONNECT:x.com:443", NULL, NULL);
	add(b, "FILE_READ:/a/**", NULL, NULL);
	add(b, "SECRET_ACCESS:k", NULL, NULL);
	assert_int_equal(ob_capset_union(a, b, &u), 0);
	assert_int_equal(ob_capset_size(u), 3);
	assert_true(ob_capset_is_subset(a, u));
	assert_true(ob_capset_is_subset(b, u));
	assert_false(ob_capset_is_subset(u, a));
	ob_capset_unref(u);
	ob_capset_unref(a);
	ob_capset_unref(b);
}

static void test_intersection(void **state)
{
	(void)state;
	ob_capset *a = empty(), *b = empty(), *i;

	add(a, "FILE_READ:/data/**", NULL, NULL);
	add(a, "NETWORK_CONNECT:*.example.com", NULL, NULL);
	add(a, "SECRET_ACCESS:db_*", "env", "prod");
	add(a, "FILE_WRITE:/tmp/x", NULL, NULL);
	add(b, "FILE_READ:/data/reports/*.csv", NULL, NULL);
	add(b, "FILE_READ:/etc/passwd", NULL, NULL);
	add(b, "NETWORK_CONNECT:api.example.com:443", NULL, NULL);
	add(b, "SECRET_ACCESS:db_password", NULL, NULL);
	add(b, "FILE_READ:/tmp/x", NULL, NULL);
	assert_int_equal(ob_capset_intersection(a, b, &i), 0);

	/* Sound: everything the intersection grants, both grant. */
	assert_true(ob_capset_is_subset(i, a));
	assert_true(ob_capset_is_subset(i, b));
	assert_true(has(i, "FILE_READ:/data/reports/q1.csv", NULL));
	assert_false(has(i, "FILE_READ:/data/other", NULL));
	assert_false(has(i, "FILE_READ:/etc/passwd", NULL));
	assert_true(has(i, "NETWORK_CONNECT:api.example.com:443", NULL));
	assert_false(has(i, "NETWORK_CONNECT:api.example.com:80", NULL));
	assert_true(has(i, "FILE_READ:/tmp/x", NULL)); /* read ∩ write = read */
	assert_false(has(i, "FILE_WRITE:/tmp/x", NULL));
	/* the secret keeps a's condition */
	assert_false(has(i, "SECRET_ACCESS:db_password", NULL));
	ob_context *ctx;
	assert_int_equal(ob_context_new(&ctx), 0);
	assert_int_equal(ob_context_set(ctx, "env", "prod"), 0);
	assert_true(has(i, "SECRET_ACCESS:db_password", ctx));
	ob_context_free(ctx);
	ob_capset_unref(i);
	ob_capset_unref(a);
	ob_capset_unref(b);
}

static void test_subset_conditions(void **state)
{
	(void)state;
	ob_capset *a = empty(), *b = empty();

	add(a, "SECRET_ACCESS:k", "env", "prod");
	add(b, "SECRET_ACCESS:k", "env", "prod*");
	assert_true(ob_capset_is_subset(a, b)); /* prod implies prod* */
	assert_false(ob_capset_is_subset(b, a));
	ob_capset *c = empty();
	add(c, "SECRET_ACCESS:k", NULL, NULL);
	assert_true(ob_capset_is_subset(a, c)); /* unconditional covers conditional */
	assert_false(ob_capset_is_subset(c, a));
	ob_capset *none = empty();
	assert_true(ob_capset_is_subset(none, c));
	assert_false(ob_capset_is_subset(c, none));
	ob_capset_unref(none);
	ob_capset_unref(a);
	ob_capset_unref(b);
	ob_capset_unref(c);
}

static void test_has_capability_patterns(void **state)
{
	(void)state;
	ob_capset *s = empty();

	add(s, "FILE_READ:/src/**", NULL, NULL);
	add(s, "NETWORK_CONNECT:*.example.com", NULL, NULL);
	add(s, "NETWORK_CONNECT:10.0.0.0/8:5432", NULL, NULL);
	add(s, "DATABASE_WRITE:postgres://*.db:5432", NULL, NULL);
	add(s, "SECRET_ACCESS:app_*", NULL, NULL);
	add(s, "REGISTRY_WRITE:validators/**", NULL, NULL);

	/* requests that are themselves patterns (the seed's has_capability) */
	assert_true(has(s, "FILE_READ:/src/schema/*.py", NULL));
	assert_true(has(s, "FILE_READ:/src/**/x", NULL));
	assert_false(has(s, "FILE_READ:/*/schema", NULL));
	assert_false(has(s, "FILE_WRITE:/src/a", NULL));
	assert_true(has(s, "NETWORK_CONNECT:*.api.example.com:443", NULL));
	assert_true(has(s, "NETWORK_CONNECT:a.example.com", NULL));
	assert_false(has(s, "NETWORK_CONNECT:*", NULL));
	assert_false(has(s, "NETWORK_CONNECT:example.com", NULL));
	assert_true(has(s, "NETWORK_CONNECT:10.1.0.0/16:5432", NULL));
	assert_false(has(s, "NETWORK_CONNECT:10.0.0.0/7:5432", NULL));
	assert_false(has(s, "NETWORK_CONNECT:10.1.0.0/16", NULL)); /* any port ⊄ 5432 */
	assert_true(has(s, "DATABASE_READ:postgres://a.db:5432/x", NULL));
	assert_true(has(s, "DATABASE_WRITE:postgres://a.db:5432/*", NULL));
	assert_false(has(s, "DATABASE_WRITE:mysql://a.db:5432", NULL));
	assert_true(has(s, "SECRET_ACCESS:app_?", NULL));
	assert_false(has(s, "SECRET_ACCESS:*", NULL));
	assert_true(has(s, "REGISTRY_READ:validators/a/*", NULL));
	assert_true(has(s, "REGISTRY_WRITE:validators", NULL));
	assert_false(has(s, "REGISTRY_WRITE:other/**", NULL));
	ob_capset_unref(s);
}

static void test_context(void **state)
{
	(void)state;
	ob_context *ctx;

	assert_int_equal(ob_context_new(&ctx), 0);
	assert_null(ob_context_get(ctx, "env"));
	assert_int_equal(ob_context_set(ctx, "env", "dev"), 0);
	assert_int_equal(ob_context_set(ctx, "env", "prod"), 0);
	assert_string_equal(ob_context_get(ctx, "env"), "prod");
	assert_int_equal(ob_context_set(ctx, "", "x"), -EINVAL);
	assert_int_equal(ob_context_set(ctx, "a=b", "x"), -EINVAL);
	assert_int_equal(ob_context_set_assignment(ctx, "noequals"), -EINVAL);
	assert_int_equal(ob_context_set_assignment(ctx, "=x"), -EINVAL);
	assert_int_equal(ob_context_set_assignment(ctx, "team=a=b"), 0);
	assert_string_equal(ob_context_get(ctx, "team"), "a=b");
	ob_capability *c = cap("SECRET_ACCESS:k", "env", "p*");
	assert_int_equal(ob_capability_add_condition(c, "team", "a=?", NULL), 0);
	assert_true(ob_capability_is_active(c, ctx));
	assert_false(ob_capability_is_active(c, NULL));
	assert_int_equal(ob_context_set(ctx, "team", "a=bc"), 0);
	assert_false(ob_capability_is_active(c, ctx));
	ob_capability_free(c);
	assert_null(ob_context_free(ctx));
	assert_null(ob_context_free(NULL));
}

static void test_allows_api(void **state)
{
	(void)state;
	ob_capset *s = empty();

	add(s, "FILE_READ:/x", NULL, NULL);
	assert_int_equal(ob_capset_allows(s, OB_CAP_FILE_READ, "/x", NULL), 1);
	assert_int_equal(ob_capset_allows(s, OB_CAP_FILE_READ, "/y", NULL), 0);
	assert_int_equal(ob_capset_allows(s, OB_CAP_TYPE_MAX, "/x", NULL), -EINVAL);
	assert_int_equal(ob_capset_allows(s, OB_CAP_FILE_READ, NULL, NULL), -EINVAL);
	assert_int_equal(ob_capset_allows(NULL, OB_CAP_FILE_READ, "/x", NULL), -EINVAL);
	assert_int_equal(ob_check_file_read(s, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(ob_check_registry(s, NULL, "x", NULL, NULL), -EINVAL);
	/* many literal grants: the hash table grows and still finds each */
	char buf[64];
	for (int i = 0; i < 300; i++) {
		(void)snprintf(buf, sizeof(buf), "FILE_READ:/lit/%d", i);
		add(s, buf, NULL, NULL);
	}
	for (int i = 0; i < 300; i += 7) {
		(void)snprintf(buf, sizeof(buf), "/lit/%d", i);
		assert_int_equal(ob_capset_allows(s, OB_CAP_FILE_READ, buf, NULL), 1);
	}
	assert_int_equal(ob_capset_allows(s, OB_CAP_FILE_READ, "/lit/300", NULL), 0);
	ob_capset_unref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_accessors_and_dup),
	    cmocka_unit_test(test_add_dedupe_and_get),
	    cmocka_unit_test(test_union),
	    cmocka_unit_test(test_intersection),
	    cmocka_unit_test(test_subset_conditions),
	    cmocka_unit_test(test_has_capability_patterns),
	    cmocka_unit_test(test_context),
	    cmocka_unit_test(test_allows_api),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
