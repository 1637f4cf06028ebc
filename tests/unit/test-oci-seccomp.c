/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI seccomp object (backends/oci-seccomp.c): with a listener the calls the native filter
 * observes — the sends and the calls that write by path among them — are notified whatever
 * their arguments and never allowed; without one the sends keep their Fast Open check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "backends/oci.h"
#include "basic/macro.h"

/* How NAME appears among RULES' rules with ACTION: 0 not at all, 1 unconditionally (by name),
 * 2 only with arguments. */
static int rule_of(const json_t *rules, const char *name, const char *action)
{
	size_t i, k;
	json_t *r, *n;
	int found = 0;

	json_array_foreach(rules, i, r) {
		if (!streq(json_string_value(json_object_get(r, "action")), action))
			continue;
		json_array_foreach(json_object_get(r, "names"), k, n) {
			if (!streq(json_string_value(n), name))
				continue;
			int kind = json_array_size(json_object_get(r, "args")) > 0 ? 2 : 1;
			found = found == 0 ? kind : found == kind ? kind : 3;
		}
	}
	return found;
}

/* The one rule of NAME with ACTION and arguments: its first argument. */
static json_t *first_arg(const json_t *rules, const char *name, const char *action)
{
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r) {
		json_t *names = json_object_get(r, "names");
		if (streq(json_string_value(json_object_get(r, "action")), action) &&
		    json_array_size(names) == 1 &&
		    streq(json_string_value(json_array_get(names, 0)), name))
			return json_array_get(json_object_get(r, "args"), 0);
	}
	return NULL;
}

static void test_with_listener(void **state)
{
	FilterProfile none = {0};
	(void)state;

	json_t *o = oci_seccomp_json(&none, "/run/x.sock");
	json_t *rules = json_object_get(o, "syscalls");
	assert_non_null(rules);
	static const char *const observed[] = {
	    "sendmsg",   "sendmmsg", "mkdir",        "mkdirat",     "unlink",    "unlinkat",
	    "renameat2", "fchmodat", "chmod",        "truncate",    "utimensat", "removexattr",
	    "fchmod",    "fchown",   "lremovexattr", "fremovexattr"};
	for (size_t i = 0; i < ELEMENTSOF(observed); i++) {
		assert_int_equal(rule_of(rules, observed[i], "SCMP_ACT_ALLOW"), 0);
		assert_int_equal(rule_of(rules, observed[i], "SCMP_ACT_NOTIFY"), 1);
	}
	/* unchanged: allowed by name, or by the conditional rules with their refusals notified */
	assert_int_equal(rule_of(rules, "read", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(rule_of(rules, "read", "SCMP_ACT_NOTIFY"), 0);
	assert_int_equal(rule_of(rules, "sendto", "SCMP_ACT_ALLOW"), 2);
	assert_int_equal(rule_of(rules, "sendto", "SCMP_ACT_NOTIFY"), 2);
	json_decref(o);
}

static void test_without_listener(void **state)
{
	FilterProfile none = {0};
	(void)state;

	json_t *o = oci_seccomp_json(&none, NULL);
	json_t *rules = json_object_get(o, "syscalls");
	assert_null(json_object_get(o, "listenerPath"));
	/* nobody observes: the sends allowed without MSG_FASTOPEN only, the writes by name */
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "sendmmsg" : "sendmsg";
		assert_int_equal(rule_of(rules, name, "SCMP_ACT_ALLOW"), 2);
		json_t *a = first_arg(rules, name, "SCMP_ACT_ALLOW");
		assert_int_equal(json_integer_value(json_object_get(a, "index")), i ? 3 : 2);
		assert_int_equal(json_integer_value(json_object_get(a, "value")), MSG_FASTOPEN);
		assert_int_equal(json_integer_value(json_object_get(a, "valueTwo")), 0);
		assert_string_equal(json_string_value(json_object_get(a, "op")),
		                    "SCMP_CMP_MASKED_EQ");
	}
	assert_int_equal(rule_of(rules, "mkdir", "SCMP_ACT_ALLOW"), 2); /* its mode rule */
	assert_int_equal(rule_of(rules, "fchmod", "SCMP_ACT_ALLOW"), 2);
	assert_int_equal(rule_of(rules, "fchown", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(rule_of(rules, "unlink", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(rule_of(rules, "unlink", "SCMP_ACT_NOTIFY"), 0);
	/* gVisor: clone3 to its kernel, which answers ENOSYS (runsc applies no errnoRet) */
	assert_int_equal(rule_of(rules, "clone3", "SCMP_ACT_ALLOW"), 1);
	assert_int_equal(rule_of(rules, "clone3", "SCMP_ACT_ERRNO"), 0);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_with_listener),
	    cmocka_unit_test(test_without_listener),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
