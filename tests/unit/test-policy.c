/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Cedar-subset evaluator: each operator's edge cases, scopes, decisions, parse errors. */
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

/* Groups: team -> dept -> org; alice in team; bob in nothing. */
static const char entities[] =
    "[{\"uid\": {\"type\": \"Group\", \"id\": \"org\"}, \"attrs\": {}, \"parents\": []},"
    " {\"uid\": {\"type\": \"Group\", \"id\": \"dept\"}, \"attrs\": {}, \"parents\": "
    "[{\"type\": \"Group\", \"id\": \"org\"}]},"
    " {\"uid\": {\"type\": \"Group\", \"id\": \"team\"}, \"attrs\": {}, \"parents\": "
    "[{\"type\": \"Group\", \"id\": \"dept\"}]},"
    " {\"uid\": {\"type\": \"User\", \"id\": \"alice\"}, \"parents\": "
    "[{\"type\": \"Group\", \"id\": \"team\"}], \"attrs\": {\"age\": 30, \"name\": \"Alice\","
    " \"tags\": [\"a\", \"b\", \"a\"], \"boss\": {\"__entity\": {\"type\": \"User\", \"id\": "
    "\"bob\"}}, \"addr\": {\"city\": \"Oslo\", \"zip\": 150}}},"
    " {\"uid\": {\"__entity\": {\"type\": \"User\", \"id\": \"bob\"}}, \"attrs\": {},"
    " \"parents\": []},"
    " {\"uid\": {\"type\": \"Action\", \"id\": \"read\"}, \"attrs\": {}, \"parents\": "
    "[{\"type\": \"Action\", \"id\": \"all\"}]}]";

/* A permit whose `when` is BODY (a JSON expression) for alice reading doc: ALLOW, DENY, or
 * ERROR when the policy's evaluation failed. */
static int when_as(const char *principal, const char *body, const char *context)
{
	char text[8192];

	(void)snprintf(text, sizeof(text),
	               "{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": "
	               "{\"op\": \"All\"}, \"action\": {\"op\": \"All\"}, \"resource\": {\"op\": "
	               "\"All\"}, \"conditions\": [{\"kind\": \"when\", \"body\": %s}]}}}",
	               body);
	return decide_read(
	    text, "p.json", entities, principal, "Doc::\"d\"",
	    context ? context : "{\"n\": 5, \"s\": \"x\", \"m\": 9223372036854775807}", NULL);
}

static int when(const char *body)
{
	return when_as("User::\"alice\"", body, NULL);
}

#define V(x)         "{\"Value\": " x "}"
#define BIN(o, l, r) "{\"" o "\": {\"left\": " l ", \"right\": " r "}}"
#define UN(o, x)     "{\"" o "\": {\"arg\": " x "}}"
#define ATTR(l, k)   "{\".\": {\"left\": " l ", \"attr\": \"" k "\"}}"
#define HAS(l, k)    "{\"has\": {\"left\": " l ", \"attr\": \"" k "\"}}"
#define P            "{\"Var\": \"principal\"}"
#define CTX          "{\"Var\": \"context\"}"
#define ENT(t, i)    V("{\"__entity\": {\"type\": \"" t "\", \"id\": \"" i "\"}}")
#define T            V("true")
#define F            V("false")
#define BAD          BIN("<", V("1"), V("\"a\"")) /* a type error */

static void test_equality(void **state)
{
	(void)state;
	assert_int_equal(when(BIN("==", V("1"), V("1"))), ALLOW);
	assert_int_equal(when(BIN("==", V("1"), V("\"1\""))), DENY); /* no coercion, no error */
	assert_int_equal(when(BIN("!=", V("1"), V("true"))), ALLOW);
	assert_int_equal(when(BIN("==", V("[1, 2, 2]"), V("[2, 1]"))), ALLOW);
	assert_int_equal(when(BIN("==", V("{\"a\": 1, \"b\": [2]}"), V("{\"b\": [2], \"a\": 1}"))),
	                 ALLOW);
	assert_int_equal(when(BIN("==", V("{\"a\": 1}"), V("{\"a\": 1, \"b\": 2}"))), DENY);
	assert_int_equal(when(BIN("==", P, ENT("User", "alice"))), ALLOW);
	assert_int_equal(when(BIN("==", ATTR(P, "boss"), ENT("User", "bob"))), ALLOW);
	assert_int_equal(when(BIN("==", ATTR(P, "tags"), V("[\"b\", \"a\"]"))), ALLOW);
}

static void test_arithmetic_and_comparison(void **state)
{
	(void)state;
	assert_int_equal(when(BIN("==", BIN("+", V("2"), V("3")), V("5"))), ALLOW);
	assert_int_equal(when(BIN("==", BIN("-", V("2"), V("3")), V("-1"))), ALLOW);
	assert_int_equal(when(BIN("==", BIN("*", V("-4"), V("3")), V("-12"))), ALLOW);
	assert_int_equal(when(BIN("<", BIN("+", ATTR(CTX, "m"), V("1")), V("0"))), ERROR);
	assert_int_equal(when(BIN("<", BIN("*", ATTR(CTX, "m"), V("2")), V("0"))), ERROR);
	assert_int_equal(when(BIN("<", BIN("-", UN("neg", ATTR(CTX, "m")), V("2")), V("0"))),
	                 ERROR);
	assert_int_equal(when(BIN("==", UN("neg", V("-9223372036854775808")), V("0"))), ERROR);
	assert_int_equal(when(BIN("<", V("1"), V("2"))), ALLOW);
	assert_int_equal(when(BIN("<=", V("2"), V("2"))), ALLOW);
	assert_int_equal(when(BIN(">", V("2"), V("2"))), DENY);
	assert_int_equal(when(BIN(">=", ATTR(P, "age"), V("30"))), ALLOW);
	assert_int_equal(when(BIN("<", V("\"a\""), V("\"b\""))), ERROR); /* longs only */
	assert_int_equal(when(BIN("+", V("1"), V("true"))), ERROR);
}

static void test_logic(void **state)
{
	(void)state;
	assert_int_equal(when(BIN("&&", F, BAD)), DENY); /* short-circuit: no error */
	assert_int_equal(when(BIN("||", T, BAD)), ALLOW);
	assert_int_equal(when(BIN("&&", T, BAD)), ERROR);
	assert_int_equal(when(BIN("||", F, BAD)), ERROR);
	assert_int_equal(when(BIN("&&", V("1"), T)), ERROR); /* no truthiness */
	assert_int_equal(when(BIN("&&", T, V("1"))), ERROR);
	assert_int_equal(when(UN("!", F)), ALLOW);
	assert_int_equal(when(UN("!", V("0"))), ERROR);
	assert_int_equal(
	    when("{\"if-then-else\": {\"if\": " T ", \"then\": " T ", \"else\": " BAD "}}"), ALLOW);
	assert_int_equal(
	    when("{\"if-then-else\": {\"if\": " F ", \"then\": " BAD ", \"else\": " F "}}"), DENY);
	assert_int_equal(
	    when("{\"if-then-else\": {\"if\": " V("1") ", \"then\": " T ", \"else\": " T "}}"),
	    ERROR);
	assert_int_equal(when(V("1")), ERROR); /* a condition must be a boolean */
}

static void test_in_and_is(void **state)
{
	(void)state;
	assert_int_equal(when(BIN("in", P, ENT("Group", "org"))), ALLOW);  /* transitive */
	assert_int_equal(when(BIN("in", P, ENT("User", "alice"))), ALLOW); /* itself */
	assert_int_equal(when(BIN("in", P, ENT("Group", "other"))), DENY);
	assert_int_equal(
	    when(BIN("in", P, "{\"Set\": [" ENT("Group", "x") ", " ENT("Group", "dept") "]}")),
	    ALLOW);
	assert_int_equal(when(BIN("in", P, V("[1]"))), ERROR);
	assert_int_equal(when(BIN("in", V("1"), ENT("Group", "org"))), ERROR);
	assert_int_equal(when(BIN("in", ENT("User", "ghost"), ENT("User", "ghost"))), ALLOW);
	assert_int_equal(when(BIN("in", ENT("User", "ghost"), ENT("Group", "org"))), DENY);
	assert_int_equal(when("{\"is\": {\"left\": " P ", \"entity_type\": \"User\"}}"), ALLOW);
	assert_int_equal(when("{\"is\": {\"left\": " P ", \"entity_type\": \"Group\"}}"), DENY);
	assert_int_equal(when("{\"is\": {\"left\": " P
	                      ", \"entity_type\": \"User\", \"in\": " ENT("Group", "team") "}}"),
	                 ALLOW);
	assert_int_equal(when("{\"is\": {\"left\": " V("1") ", \"entity_type\": \"User\"}}"),
	                 ERROR);
}

static void test_attributes(void **state)
{
	(void)state;
	assert_int_equal(when(HAS(P, "age")), ALLOW);
	assert_int_equal(when(HAS(P, "nope")), DENY);
	assert_int_equal(when(BIN("==", ATTR(P, "nope"), V("1"))), ERROR);
	assert_int_equal(when(HAS(ENT("User", "ghost"), "age")), DENY); /* not in the store */
	assert_int_equal(when(BIN("==", ATTR(ENT("User", "ghost"), "age"), V("1"))), ERROR);
	assert_int_equal(when(BIN("==", ATTR(ATTR(P, "addr"), "city"), V("\"Oslo\""))), ALLOW);
	assert_int_equal(when(HAS(ATTR(P, "addr"), "street")), DENY);
	assert_int_equal(when(HAS(V("1"), "x")), ERROR);
	assert_int_equal(when(BIN("==", ATTR(CTX, "s"), V("\"x\""))), ALLOW);
	assert_int_equal(when(BIN("==", ATTR("{\"Record\": {\"k\": " P "}}", "k"), P)), ALLOW);
	assert_int_equal(when(BIN("==", ATTR(CTX, "absent"), V("1"))), ERROR);
	/* `principal has addr.city` (Cedar 4's JSON: an attribute path): has addr && addr has
	 * city; a step that is no record is an error, as in Cedar */
#define HASPATH(l, path) "{\"has\": {\"left\": " l ", \"attr\": " path "}}"
	assert_int_equal(when(HASPATH(P, "[\"addr\", \"city\"]")), ALLOW);
	assert_int_equal(when(HASPATH(P, "[\"addr\", \"street\"]")), DENY);
	assert_int_equal(when(HASPATH(P, "[\"nope\", \"city\"]")), DENY);
	assert_int_equal(when(HASPATH(P, "[\"addr\", \"city\", \"x\"]")), ERROR);
	assert_int_equal(when(HASPATH(P, "[\"age\"]")), ALLOW);
	assert_int_equal(when(HASPATH(CTX, "[\"s\", \"t\"]")), ERROR);
#undef HASPATH
}

static void test_like(void **state)
{
	(void)state;
	char b[512];
#define LIKE(s, p)                                                                                 \
	(snprintf(b, sizeof(b), "{\"like\": {\"left\": %s, \"pattern\": %s}}", V(s), p), when(b))
	assert_int_equal(LIKE("\"/data/x/y\"", "[{\"Literal\": \"/data/\"}, \"Wildcard\"]"), ALLOW);
	assert_int_equal(LIKE("\"/dat\"", "[{\"Literal\": \"/data/\"}, \"Wildcard\"]"), DENY);
	assert_int_equal(LIKE("\"abcabd\"", "[\"Wildcard\", {\"Literal\": \"abd\"}]"), ALLOW);
	assert_int_equal(LIKE("\"\"", "[\"Wildcard\"]"), ALLOW);
	assert_int_equal(LIKE("\"a*c\"", "[{\"Literal\": \"a*c\"}]"), ALLOW); /* escaped star */
	assert_int_equal(LIKE("\"abc\"", "[{\"Literal\": \"a*c\"}]"), DENY);
	assert_int_equal(LIKE("1", "[\"Wildcard\"]"), ERROR);
#undef LIKE
}

static void test_sets(void **state)
{
	(void)state;
	assert_int_equal(
	    when("{\"contains\": {\"left\": " ATTR(P, "tags") ", \"right\": " V("\"b\"") "}}"),
	    ALLOW);
	assert_int_equal(
	    when("{\"contains\": {\"left\": " V("\"ab\"") ", \"right\": " V("\"b\"") "}}"), ERROR);
	assert_int_equal(when("{\"containsAll\": {\"left\": " ATTR(P, "tags") ", \"right\": " V(
	                     "[\"a\", \"b\"]") "}}"),
	                 ALLOW);
	assert_int_equal(when("{\"containsAll\": {\"left\": " ATTR(P, "tags") ", \"right\": " V(
	                     "[\"a\", \"c\"]") "}}"),
	                 DENY);
	assert_int_equal(
	    when("{\"containsAll\": {\"left\": " ATTR(P, "tags") ", \"right\": " V("[]") "}}"),
	    ALLOW);
	assert_int_equal(when("{\"containsAny\": {\"left\": " ATTR(P, "tags") ", \"right\": " V(
	                     "[\"z\", \"b\"]") "}}"),
	                 ALLOW);
	assert_int_equal(
	    when("{\"containsAny\": {\"left\": " ATTR(P, "tags") ", \"right\": " V("[]") "}}"),
	    DENY);
	assert_int_equal(
	    when("{\"containsAny\": {\"left\": " ATTR(P, "tags") ", \"right\": " V("\"a\"") "}}"),
	    ERROR);
	assert_int_equal(when(UN("isEmpty", V("[]"))), ALLOW);
	assert_int_equal(when(UN("isEmpty", ATTR(P, "tags"))), DENY);
	assert_int_equal(when(UN("isEmpty", V("\"\""))), ERROR);
	assert_int_equal(when("{\"contains\": {\"left\": {\"Set\": [" P
	                      ", " V("1") "]}, \"right\": " ENT("User", "alice") "}}"),
	                 ALLOW);
}

/* Several policies: forbid wins, errors are skipped and reported, default deny. */
static void test_decisions(void **state)
{
	(void)state;
	const char *text =
	    "{\"staticPolicies\": {"
	    "\"permit-team\": {\"effect\": \"permit\", \"principal\": {\"op\": \"in\", \"entity\": "
	    "{\"type\": \"Group\", \"id\": \"team\"}}, \"action\": {\"op\": \"in\", \"entities\": "
	    "[{\"type\": \"Action\", \"id\": \"all\"}]}, \"resource\": {\"op\": \"All\"}, "
	    "\"conditions\": []},"
	    "\"permit-err\": {\"effect\": \"permit\", \"principal\": {\"op\": \"All\"}, "
	    "\"action\": {\"op\": \"All\"}, \"resource\": {\"op\": \"All\"}, \"conditions\": "
	    "[{\"kind\": \"when\", \"body\": " BAD "}]},"
	    "\"forbid-doc\": {\"effect\": \"forbid\", \"principal\": {\"op\": \"is\", "
	    "\"entity_type\": \"User\"}, \"action\": {\"op\": \"==\", \"entity\": {\"type\": "
	    "\"Action\", \"id\": \"read\"}}, \"resource\": {\"op\": \"==\", \"entity\": {\"type\": "
	    "\"Doc\", \"id\": \"secret\"}}, \"conditions\": [{\"kind\": \"unless\", \"body\": "
	    "{\"==\": {\"left\": {\".\": {\"left\": {\"Var\": \"context\"}, \"attr\": \"role\"}}, "
	    "\"right\": {\"Value\": \"admin\"}}}}]}}}";
	ob_policy_set *ps;
	ob_entities *es;
	ob_authorizer *a;
	ob_error e;
	ob_decision d;
	struct {
		const char *p, *res, *ctx;
		bool allow;
		const char *reason;
	} cases[] = {
	    {"User::\"alice\"", "Doc::\"d\"", "{\"role\": \"x\"}", true, "permit-team"},
	    {"User::\"alice\"", "Doc::\"secret\"", "{\"role\": \"x\"}", false, "forbid-doc"},
	    {"User::\"alice\"", "Doc::\"secret\"", "{\"role\": \"admin\"}", true, "permit-team"},
	    {"User::\"bob\"", "Doc::\"d\"", "{}", false, NULL},
	    {"User::\"nobody\"", "Doc::\"secret\"", "{}", false, NULL}, /* forbid errors: skipped */
	};

	assert_int_equal(ob_policy_set_parse(text, strlen(text), "p.json", &ps, &e), 0);
	assert_int_equal(ob_policy_set_size(ps), 3);
	assert_int_equal(ob_entities_parse(entities, strlen(entities), "e.json", &es, &e), 0);
	assert_int_equal(ob_entities_size(es), 6);
	assert_int_equal(ob_authorizer_new(ps, es, &a), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ob_authz_request *r;
		assert_int_equal(ob_authz_request_new(a, cases[i].p, "Action::\"read\"",
		                                      cases[i].res, cases[i].ctx, &r, &e),
		                 0);
		assert_int_equal(ob_authorize(a, r, &d), 0);
		assert_int_equal(d.allow, cases[i].allow);
		if (cases[i].reason) {
			assert_int_equal(d.n_reasons, 1);
			assert_string_equal(ob_policy_set_id(ps, d.reasons[0]), cases[i].reason);
		} else {
			assert_int_equal(d.n_reasons, 0);
		}
		/* permit-err errors on every request; forbid-doc only without context.role */
		assert_int_equal(d.n_errors, i == 4 ? 2 : 1);
		ob_authz_request_free(r);
	}
	/* an action outside every scope: only the All-scoped policy applies */
	ob_authz_request *r;
	assert_int_equal(ob_authz_request_new(a, "User::\"alice\"", "Action::\"write\"",
	                                      "Doc::\"d\"", NULL, &r, &e),
	                 0);
	assert_int_equal(ob_authorize(a, r, &d), 0);
	assert_false(d.allow);
	assert_int_equal(d.n_errors, 1);
	ob_authz_request_free(r);
	ob_authorizer_free(a);
	ob_entities_free(es);
	ob_policy_set_free(ps);
}

static void expect_bad(const char *text, const char *needle)
{
	ob_policy_set *ps = NULL;
	ob_error e = {0};

	if (ob_policy_set_parse(text, strlen(text), "p.json", &ps, &e) >= 0 ||
	    !strstr(e.msg, needle) || strncmp(e.msg, "p.json:", 7) != 0)
		fail_msg("%s\n -> %s (wanted '%s')", text, e.msg, needle);
	assert_null(ps);
}

#define POL(rest)                                                                                  \
	"{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": "           \
	"\"All\"}, \"action\": {\"op\": \"All\"}, \"resource\": {\"op\": \"All\"}" rest "}}}"

static void test_parse_errors(void **state)
{
	(void)state;
	expect_bad("{", "p.json:1:");
	expect_bad("[1]", "$[0]: expected a policy object");
	expect_bad("{\"staticPolicies\": 3}", "expected \"staticPolicies\"");
	expect_bad("{\"templates\": {\"t\": {}}}", "templates are not supported");
	expect_bad("{\"staticPolicies\": {\"p\": {\"effect\": \"allow\"}}}", "\"permit\" or");
	expect_bad("{\"staticPolicies\": {\"p\": {\"effect\": \"permit\"}}}",
	           "missing \"principal\"");
	expect_bad(POL(", \"extra\": 1"), "unknown key \"extra\"");
	/* what Cedar refuses in the JSON form: no conditions, a string pattern, an action scope
	 * naming something else than an action, an empty attribute path */
	expect_bad(POL(""), "p.json:1:26: $.staticPolicies.p: missing \"conditions\"");
	expect_bad(
	    POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"like\": {\"left\": "
	        "{\"Value\": \"a\"}, \"pattern\": \"a*\"}}}]"),
	    "body.like: expected \"pattern\": an array of \"Wildcard\" and {\"Literal\": ...}");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"has\": {\"left\": "
	               "{\"Var\": \"context\"}, \"attr\": []}}}]"),
	           "non-empty array of strings");
	expect_bad(
	    "[{\"effect\": \"permit\", \"principal\": {\"op\": \"All\"}, \"action\": {\"op\": "
	    "\"in\", \"entities\": [{\"type\": \"Action\", \"id\": \"a\"}, {\"type\": "
	    "\"User\", \"id\": \"a\"}]}, \"resource\": {\"op\": \"All\"}, \"conditions\": []}]",
	    "$[0].action.entities[1]: expected an entity of type Action (or NS::Action), got "
	    "User::\"a\"");
	expect_bad(
	    "[{\"effect\": \"permit\", \"principal\": {\"op\": \"All\"}, \"action\": {\"op\": "
	    "\"==\", \"entity\": {\"type\": \"Actions\", \"id\": \"a\"}}, \"resource\": "
	    "{\"op\": \"All\"}, \"conditions\": []}]",
	    "$[0].action.entity: expected an entity of type Action");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"if\", \"body\": {}}]"), "\"when\" | ");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"Valu\": 1}}]"),
	           "$.staticPolicies.p.conditions[0].body.Valu: unknown operator");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"decimal\": "
	               "{\"x\": 1}}}]"),
	           "unsupported operator \"decimal\"");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"Value\": 1.5}}]"),
	           "fraction");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"Value\": {\"__extn\":"
	               " {\"fn\": \"ip\", \"arg\": \"1.2.3.4\"}}}}]"),
	           "__extn");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"==\": {\"left\": "
	               "{\"Var\": \"x\"}, \"right\": {\"Value\": 1}}}}]"),
	           "expected principal, action, resource or context");
	expect_bad(POL(", \"conditions\": [{\"kind\": \"when\", \"body\": {\"==\": {\"left\": "
	               "{\"Value\": 1}}}}]"),
	           "missing \"right\"");
	expect_bad("{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": "
	           "\"==\", \"slot\": \"?principal\"}, \"action\": {\"op\": \"All\"}, "
	           "\"resource\": {\"op\": \"All\"}}}}",
	           "template slots");
	/* entity literals are checked like entity references in entity files */
	expect_bad(
	    "{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": "
	    "\"==\", \"entity\": {\"type\": \"9User\", \"id\": \"a\"}}, \"action\": {\"op\": "
	    "\"All\"}, \"resource\": {\"op\": \"All\"}}}}",
	    "$.staticPolicies.p.principal.entity: entity type \"9User\" is not a Cedar name");
	/* deep nesting is an error, not a stack overflow */
	static char deep[20000];
	size_t k = 0;
	k += (size_t)sprintf(deep + k, "%s",
	                     "{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", "
	                     "\"principal\": {\"op\": \"All\"}, \"action\": "
	                     "{\"op\": \"All\"}, \"resource\": {\"op\": \"All\"}, "
	                     "\"conditions\": [{\"kind\": \"when\", \"body\": ");
	for (int i = 0; i < 400; i++)
		k += (size_t)sprintf(deep + k, "{\"!\": {\"arg\": ");
	k += (size_t)sprintf(deep + k, "{\"Value\": true}");
	for (int i = 0; i < 400; i++)
		k += (size_t)sprintf(deep + k, "}}");
	(void)sprintf(deep + k, "}]}}}");
	expect_bad(deep, "nested more than");
}

#define ENTITY(type, id, attrs, parents)                                                           \
	"{\"uid\": {\"type\": \"" type "\", \"id\": \"" id "\"}, \"attrs\": " attrs                \
	", \"parents\": [" parents "]}"

static void test_entity_and_request_errors(void **state)
{
	(void)state;
	ob_entities *es = NULL;
	ob_error e = {0};
	const char *bad[][2] = {
	    {"{}", "expected an array of entities"},
	    {"[{\"uid\": {\"type\": \"A\"}}]", "$[0].uid: expected an entity reference"},
	    {"[{\"uid\": {\"type\": \"A\", \"id\": \"x\"}, \"attrs\": {}, \"parents\": 1}]",
	     "$[0].parents"},
	    /* Cedar requires attrs and parents, even empty */
	    {"[{\"uid\": {\"type\": \"A\", \"id\": \"x\"}, \"attrs\": {}}]",
	     "e.json:1:2: $[0]: missing \"parents\""},
	    {"[{\"uid\": {\"type\": \"A\", \"id\": \"x\"}, \"parents\": []}]",
	     "$[0]: missing \"attrs\""},
	    {"[" ENTITY("A", "x", "{}", "") ", " ENTITY("A", "x", "{\"v\": 1}", "") "]",
	     "$[1].uid: duplicate entity entry A::\"x\" (also $[0], with different content)"},
	    {"[" ENTITY("A", "x", "{}", "") ", " ENTITY("A", "x", "{}",
	                                                "{\"type\": \"A\", \"id\": \"y\"}") "]",
	     "duplicate entity entry"},
	    {"[{\"uid\": {\"type\": \"A\", \"id\": \"x\"}, \"attrs\": {\"v\": null}, "
	     "\"parents\": []}]",
	     "$[0].attrs.v: null"},
	    {"[{\"uid\": {\"type\": \"1A\", \"id\": \"x\"}}]", "not a Cedar name"},
	    /* Cedar refuses a hierarchy with a cycle, a self-loop included */
	    {"[" ENTITY("G", "a", "{}", "{\"type\": \"G\", \"id\": \"b\"}") ", " ENTITY(
	         "G", "b", "{}", "{\"type\": \"G\", \"id\": \"a\"}") "]",
	     "$[0].parents: the entity hierarchy has a cycle containing G::\"a\""},
	    {"[" ENTITY("G", "a", "{}", "{\"type\": \"G\", \"id\": \"a\"}") "]",
	     "e.json:1:60: $[0].parents: the entity hierarchy has a cycle containing G::\"a\""},
	    /* ids in messages are written as Cedar text: NUL, quotes and controls escaped */
	    {"[" ENTITY("G", "a\\u0000\\\"\\n\u00e9", "{}",
	                "{\"type\": \"G\", \"id\": \"a\\u0000\\\"\\n\u00e9\"}") "]",
	     "cycle containing G::\"a\\u{0}\\\"\\u{a}\u00e9\""},
	    /* NUL and other scalars are fine in strings and keys; lone surrogates are not */
	    {"[" ENTITY("A", "x", "{\"\\ud800\": 1}", "") "]",
	     "e.json:1:47: a lone high surrogate"},
	    {"[" ENTITY("A", "x", "{\"v\": 9223372036854775808}", "") "]",
	     "e.json:1:51: expected an integer within 64 bits"},
	    {"[" ENTITY("A", "x", "{\"v\": 1, \"v\": 2}", "") "]", "e.json:1:54: duplicate key"},
	    {"[" ENTITY("A", "x", "{\"v\": \"\xff\"}", "") "]",
	     "e.json:1:52: expected valid UTF-8"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		if (ob_entities_parse(bad[i][0], strlen(bad[i][0]), "e.json", &es, &e) >= 0 ||
		    !strstr(e.msg, bad[i][1]))
			fail_msg("%s -> %s (wanted %s)", bad[i][0], e.msg, bad[i][1]);
	}
	/* the same entity twice with the same content (parents as a set, records in any key
	 * order) is accepted, as Cedar does; NUL in keys and ids is kept */
	const char *dup =
	    "[" ENTITY("G", "a\\u0000", "{\"k\\u0000\": 1, \"j\": [1, 2]}",
	               "{\"type\": \"G\", \"id\": \"b\"}, {\"type\": \"G\", \"id\": "
	               "\"c\"}") ", " ENTITY("G", "a\\u0000", "{\"j\": [2, 1], \"k\\u0000\": 1}",
	                                     "{\"type\": \"G\", \"id\": \"c\"}, {\"type\": "
	                                     "\"G\", \"id\": \"b\"}") "]";
	assert_int_equal(ob_entities_parse(dup, strlen(dup), "d.json", &es, &e), 0);
	assert_int_equal(ob_entities_size(es), 1);
	es = ob_entities_free(es);
	assert_null(es);

	const char *pol = POL(", \"conditions\": []");
	ob_policy_set *ps;
	ob_authorizer *a;
	ob_authz_request *r = NULL;
	assert_int_equal(ob_policy_set_parse(pol, strlen(pol), "p.json", &ps, &e), 0);
	assert_int_equal(ob_authorizer_new(ps, NULL, &a), 0);
	assert_true(ob_authz_request_new(a, "alice", "Action::\"a\"", "R::\"r\"", NULL, &r, &e) <
	            0);
	assert_non_null(strstr(e.msg, "principal: 'alice' is not an entity reference"));
	assert_true(
	    ob_authz_request_new(a, "U::\"a\"", "Action::\"a\"", "R::\"r\"", "[1]", &r, &e) < 0);
	assert_non_null(strstr(e.msg, "context: expected a JSON object"));
	assert_true(ob_authz_request_new(a, "U::\"a\"", "Action::\"a\"", "R::\"r\"", "{\"x\": 1.5}",
	                                 &r, &e) < 0);
	assert_non_null(strstr(e.msg, "context: $.x"));
	/* malformed references */
	static const char *const bad_refs[] = {
	    "U::\"a",
	    "U::a",
	    "::\"a\"",
	    "U::\"a\\\"",
	    "U::\"\\q\"",
	    "U::\"\\u{zz}\"",
	    "U::\"\\u{110000}\"",
	    "U::\"\\u{d800}\"",
	    "1U::\"a\"",
	    "U::\"a\"b\"",
	};
	for (size_t i = 0; i < sizeof(bad_refs) / sizeof(bad_refs[0]); i++) {
		r = NULL;
		if (ob_authz_request_new(a, bad_refs[i], "Action::\"a\"", "R::\"r\"", NULL, &r,
		                         &e) >= 0)
			fail_msg("accepted %s", bad_refs[i]);
	}
	/* every escape Cedar has, and code points of each UTF-8 length */
	assert_int_equal(
	    ob_authz_request_new(a, "U::\"\\n\\r\\t\\0\\'\\\\\\u{41}\\u{3b1}\\u{20ac}\\u{1f600}\"",
	                         "Action::\"a\"", "R::\"r\"", "{}", &r, &e),
	    0);
	ob_authz_request_free(r);
	/* escapes in ids and namespaced types */
	assert_int_equal(ob_authz_request_new(a, "NS::User::\"a\\\"b\\u{e9}\"", "Action::\"a\"",
	                                      "R::\"r\"", "{}", &r, &e),
	                 0);
	ob_decision d;
	assert_int_equal(ob_authorize(a, r, &d), 0);
	assert_true(d.allow);
	/* destructors accept NULL and return NULL, so `p = ob_x_free(p)` works */
	assert_null(ob_authz_request_free(r));
	assert_null(ob_authorizer_free(a));
	assert_null(ob_policy_set_free(ps));
	assert_null(ob_authz_request_free(NULL));
	assert_null(ob_authorizer_free(NULL));
	assert_null(ob_entities_free(NULL));
	assert_null(ob_policy_set_free(NULL));
	assert_null(ob_review_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equality),     cmocka_unit_test(test_arithmetic_and_comparison),
	    cmocka_unit_test(test_logic),        cmocka_unit_test(test_in_and_is),
	    cmocka_unit_test(test_attributes),   cmocka_unit_test(test_like),
	    cmocka_unit_test(test_sets),         cmocka_unit_test(test_decisions),
	    cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_entity_and_request_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
