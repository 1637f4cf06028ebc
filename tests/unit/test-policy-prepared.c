/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the Cedar evaluator resolves before a decision (cedar-authz.c) must answer exactly as a
 * lookup by name would: attribute slots (a field beyond the 254 a slot byte can point to, an
 * attribute name beyond the policy set's first 64, attributes of an entity reached through
 * another's, of an entity the store lacks, of a missing context), candidates filtered by
 * the resource scope and kept inline or not, constant set literals, `like` patterns split at
 * their literal prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "policy-decide.h"

/* A growable string for generated documents. */
typedef struct Buf {
	char *s;
	size_t n, cap;
} Buf;

static void add(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(Buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		assert_true(k >= 0);
		if (b->s && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		b->cap = (b->cap + (size_t)k + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
}

/* "a0": 0, "a1": 1, … N attributes (their values their numbers). */
static void wide_record(Buf *b, int n)
{
	for (int i = 0; i < n; i++)
		add(b, "%s\"a%d\": %d", i ? ", " : "", i, i);
}

/* The entities: User::"w" with 300 attributes and a `peer` (User::"v", 3 attributes),
 * User::"x" whose `peer` is not in the store, and the group Group::"g" w belongs to. */
static char *entities(void)
{
	Buf b = {0};
	add(&b, "[{\"uid\": {\"type\": \"User\", \"id\": \"w\"}, \"parents\": [{\"type\": "
	        "\"Group\", \"id\": \"g\"}], \"attrs\": {");
	wide_record(&b, 300);
	add(&b,
	    ", \"peer\": {\"__entity\": {\"type\": \"User\", \"id\": \"v\"}}}},"
	    " {\"uid\": {\"type\": \"User\", \"id\": \"v\"}, \"parents\": [], \"attrs\": {\"a0\": "
	    "7,"
	    " \"a299\": 8, \"name\": \"v\"}},"
	    " {\"uid\": {\"type\": \"User\", \"id\": \"x\"}, \"parents\": [], \"attrs\": {\"peer\":"
	    " {\"__entity\": {\"type\": \"User\", \"id\": \"nobody\"}}}},"
	    " {\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, \"parents\": [], \"attrs\": {}}]");
	return b.s;
}

/* Decides one request on the policies TEXT (Cedar text): ALLOW, DENY or ERROR (some policy
 * failed and none allowed); *reasons gets how many policies determined it. */
static int decide(const char *text, const char *principal, const char *resource,
                  const char *context, size_t *reasons)
{
	char *ents = entities();
	int res = decide_read(text, "p.cedar", ents, principal, resource, context, reasons);
	free(ents);
	return res;
}

/* `permit … when { COND };` for User::"w" with a 300-field context. */
static int when(const char *cond)
{
	Buf text = {0}, ctx = {0};
	add(&text, "permit (principal, action, resource) when { %s };", cond);
	add(&ctx, "{");
	wide_record(&ctx, 300);
	add(&ctx, "}");
	int r = decide(text.s, "User::\"w\"", "Doc::\"d\"", ctx.s, NULL);
	free(text.s);
	free(ctx.s);
	return r;
}

static void test_wide_records(void **state)
{
	(void)state;
	/* fields 0..253 have a slot byte, the rest are found by name */
	assert_int_equal(when("principal.a0 == 0 && principal.a253 == 253"), ALLOW);
	assert_int_equal(when("principal.a254 == 254 && principal.a299 == 299"), ALLOW);
	assert_int_equal(when("principal has a299 && !(principal has a300)"), ALLOW);
	assert_int_equal(when("principal.a300 == 0"), ERROR);
	assert_int_equal(when("context.a0 == 0 && context.a299 == 299 && context has a298"), ALLOW);
	assert_int_equal(when("context has a300"), DENY);
	assert_int_equal(when("context.a300 == 1"), ERROR);
	/* through another entity: its own slots */
	assert_int_equal(when("principal.peer.a0 == 7 && principal.peer.a299 == 8"), ALLOW);
	assert_int_equal(when("principal.peer has name && !(principal.peer has a1)"), ALLOW);
	assert_int_equal(when("principal.peer.a1 == 1"), ERROR);
	/* a record value: looked up by name */
	assert_int_equal(when("{a0: 1, a299: 2}.a299 == 2 && {a0: 1} has a0"), ALLOW);
}

static void test_many_names(void **state)
{
	Buf cond = {0};
	(void)state;
	/* 70 names: those past the 64th have no slot */
	for (int i = 0; i < 70; i++)
		add(&cond, "%sprincipal.a%d == %d", i ? " && " : "", i * 4, i * 4);
	assert_int_equal(when(cond.s), ALLOW);
	add(&cond, " && context.a%d == %d && !(context has b)", 69 * 4, 69 * 4);
	assert_int_equal(when(cond.s), ALLOW);
	add(&cond, " && principal.a301 == 0");
	assert_int_equal(when(cond.s), ERROR);
	free(cond.s);
}

static void test_missing_entities_and_context(void **state)
{
	(void)state;
	const char *has = "permit (principal, action, resource) when { !(principal has a0) };";
	const char *get = "permit (principal, action, resource) when { principal.a0 == 0 };";
	const char *peer = "permit (principal, action, resource) when { principal.peer has a0 };";
	const char *peer_get =
	    "permit (principal, action, resource) when { principal.peer.a0 == 0 };";
	const char *ctx = "permit (principal, action, resource) when { !(context has a0) };";
	const char *ctx_get = "permit (principal, action, resource) when { context.a0 == 0 };";
	/* the principal is not in the store: `has` false, `.` an error */
	assert_int_equal(decide(has, "User::\"ghost\"", "Doc::\"d\"", "{}", NULL), ALLOW);
	assert_int_equal(decide(get, "User::\"ghost\"", "Doc::\"d\"", "{}", NULL), ERROR);
	/* an entity reached through an attribute, not in the store */
	assert_int_equal(decide(peer, "User::\"x\"", "Doc::\"d\"", "{}", NULL), DENY);
	assert_int_equal(decide(peer_get, "User::\"x\"", "Doc::\"d\"", "{}", NULL), ERROR);
	/* no context at all, and an empty one */
	assert_int_equal(decide(ctx, "User::\"w\"", "Doc::\"d\"", NULL, NULL), ALLOW);
	assert_int_equal(decide(ctx_get, "User::\"w\"", "Doc::\"d\"", NULL, NULL), ERROR);
	assert_int_equal(decide(ctx_get, "User::\"w\"", "Doc::\"d\"", "{}", NULL), ERROR);
	assert_int_equal(decide(ctx_get, "User::\"w\"", "Doc::\"d\"", "{\"a0\": 0}", NULL), ALLOW);
}

static void test_candidates(void **state)
{
	Buf text = {0};
	size_t n = 0;
	(void)state;
	/* 10 permits for w on any resource, 5 on Doc::"d" only, 5 in the group g on Doc::"e" */
	for (int i = 0; i < 10; i++)
		add(&text, "permit (principal == User::\"w\", action, resource);\n");
	for (int i = 0; i < 5; i++)
		add(&text, "permit (principal, action, resource == Doc::\"d\");\n");
	for (int i = 0; i < 5; i++)
		add(&text, "permit (principal in Group::\"g\", action, resource == Doc::\"e\");\n");
	assert_int_equal(decide(text.s, "User::\"w\"", "Doc::\"d\"", "{}", &n), ALLOW);
	assert_int_equal(n, 15);
	assert_int_equal(decide(text.s, "User::\"w\"", "Doc::\"e\"", "{}", &n), ALLOW);
	assert_int_equal(n, 15);
	assert_int_equal(decide(text.s, "User::\"w\"", "Doc::\"f\"", "{}", &n), ALLOW);
	assert_int_equal(n, 10);
	assert_int_equal(decide(text.s, "User::\"v\"", "Doc::\"d\"", "{}", &n), ALLOW);
	assert_int_equal(n, 5);
	assert_int_equal(decide(text.s, "User::\"v\"", "Doc::\"e\"", "{}", &n), DENY);
	assert_int_equal(decide(text.s, "User::\"ghost\"", "Doc::\"d\"", "{}", &n), ALLOW);
	assert_int_equal(n, 5);
	/* a forbid among them: the forbids are the reasons */
	add(&text, "forbid (principal, action, resource == Doc::\"d\") when { principal has a0 };");
	assert_int_equal(decide(text.s, "User::\"w\"", "Doc::\"d\"", "{}", &n), DENY);
	assert_int_equal(n, 1);
	free(text.s);
}

static void test_constant_sets(void **state)
{
	(void)state;
	assert_int_equal(when("[1, \"a\", [2, 3], true].contains([3, 2])"), ALLOW);
	assert_int_equal(when("[1, 1, 2] == [2, 1] && [[1], [1, 1]] == [[1]]"), ALLOW);
	assert_int_equal(when("[1, 2].containsAny([3, principal.a2])"), ALLOW);
	assert_int_equal(when("[1, 2].containsAll([2, 1, 1]) && ![].containsAny([1])"), ALLOW);
	assert_int_equal(when("[User::\"w\", 1].contains(principal)"), ALLOW); /* not constant */
	assert_int_equal(when("principal in [Group::\"g\"] && [1, principal].contains(1)"), ALLOW);
	assert_int_equal(when("[1, 2].contains(principal.a300)"), ERROR);
	assert_int_equal(when("[1, 2].isEmpty()"), DENY);
	assert_int_equal(when("[1, 2] < 3"), ERROR);
}

static void test_like_prefix(void **state)
{
	static const struct {
		const char *s, *pattern;
		int want;
	} cases[] = {
	    {"abc", "abc*", ALLOW},
	    {"abcd", "abc*", ALLOW},
	    {"ab", "abc*", DENY},
	    {"xabc", "abc*", DENY},
	    {"abc", "abc", ALLOW},
	    {"abcd", "abc", DENY},
	    {"", "", ALLOW},
	    {"", "*", ALLOW},
	    {"a", "", DENY},
	    {"abc", "a*c", ALLOW},
	    {"ac", "a*c", ALLOW},
	    {"abd", "a*c", DENY},
	    {"aXbYc", "a*b*c", ALLOW},
	    {"aXcYb", "a*b*c", DENY},
	    {"abab", "ab*ab", ALLOW},
	    {"aba", "ab*ab", DENY},
	    {"a*b", "a\\*b", ALLOW},
	    {"aXb", "a\\*b", DENY},
	    {"/data/x/y", "/data/*", ALLOW},
	    {"/dat", "/data/*", DENY},
	    {"x/data/", "*/data/*", ALLOW},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cond[256];
		(void)snprintf(cond, sizeof(cond), "\"%s\" like \"%s\"", cases[i].s,
		               cases[i].pattern);
		if (when(cond) != cases[i].want)
			fail_msg("%s: expected %d", cond, cases[i].want);
	}
	assert_int_equal(when("principal.a3 like \"3*\""), ERROR); /* a long */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wide_records),
	    cmocka_unit_test(test_many_names),
	    cmocka_unit_test(test_missing_entities_and_context),
	    cmocka_unit_test(test_candidates),
	    cmocka_unit_test(test_constant_sets),
	    cmocka_unit_test(test_like_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
