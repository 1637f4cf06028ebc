/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A run's result for people and programs (runner/result.c): distinct denials kept and bounded,
 * the closing line for each way omnibase ends or constrains a run, and the --json object, the
 * same schema with no run at all.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "runner/result.h"

static ob_result fresh(void)
{
	ob_result r = {.exit_code = 0, .status = 0};
	ob_limits_init(&r.limits);
	return r;
}

static char *summary(const ob_result *r)
{
	char *s = NULL;
	assert_int_equal(ob_result_summary(r, &s), 0);
	return s;
}

static json_t *as_json(const ob_result *r, const char *error)
{
	ob_error e = {0};
	char *s = NULL;
	(void)snprintf(e.msg, sizeof(e.msg), "%s", error ? error : "");
	assert_int_equal(ob_result_json(r, error ? &e : NULL, &s), 0);
	json_t *o = json_loads(s, 0, NULL);
	assert_non_null(o);
	free(s);
	return o;
}

static void test_denials_folded_and_bounded(void **state)
{
	(void)state;
	ob_result r = fresh();
	char res[64], need[80];

	for (int i = 0; i < 3; i++)
		result_add_denial(&r, "FILE_READ", "/etc/passwd", "open", "FILE_READ:/etc/passwd");
	result_add_denial(&r, "FILE_READ", "/etc/passwd", "exec", "FILE_READ:/etc/passwd");
	assert_int_equal(r.n_denials, 2);
	assert_int_equal(r.denials[0].count, 3);
	assert_string_equal(r.denials[0].needed, "FILE_READ:/etc/passwd");
	for (int i = 0; i < 50; i++) {
		(void)snprintf(res, sizeof(res), "/f%d", i);
		(void)snprintf(need, sizeof(need), "FILE_READ:/f%d", i);
		result_add_denial(&r, "FILE_READ", res, "open", need);
	}
	assert_int_equal(r.n_denials, OB_RESULT_MAX_DENIALS);
	assert_int_equal(r.denials_total, 54);
	char *s = summary(&r);
	/* /etc/passwd named once (two operations), its grant suggested once */
	assert_non_null(strstr(s, "54 denials: FILE_READ /etc/passwd, FILE_READ /f0, "
	                          "FILE_READ /f1, … (allow with --cap FILE_READ:/etc/passwd "
	                          "--cap FILE_READ:/f0 --cap FILE_READ:/f1 …)"));
	free(s);
	json_t *o = as_json(&r, NULL);
	assert_int_equal(json_array_size(json_object_get(o, "denials")), OB_RESULT_MAX_DENIALS);
	assert_int_equal(json_integer_value(json_object_get(o, "denials_count")), 54);
	json_decref(o);
	ob_result_done(&r);
	assert_null(r.denials);
	assert_int_equal(r.n_denials, 0);
}

static void test_summary_of_each_ending(void **state)
{
	(void)state;
	ob_result r = fresh();

	assert_null(summary(&r)); /* ended by itself, nothing refused */
	r = fresh();
	r.timed_out = true;
	r.status = -1;
	r.signal = 9;
	r.limits.value[OB_LIMIT_TIMEOUT] = 30000;
	char *s = summary(&r);
	assert_string_equal(s, "killed after 30 s (--timeout)");
	free(s);
	assert_string_equal(result_reason(&r), "timeout");

	r = fresh();
	r.oom = true;
	r.status = -1;
	r.signal = 9;
	r.limits_hit = 1u << OB_LIMIT_MEMORY;
	s = summary(&r);
	assert_string_equal(s, "killed: out of memory (--memory 256M)");
	free(s);
	assert_string_equal(result_reason(&r), "memory");

	r = fresh();
	r.status = 1;
	r.limits_hit = 1u << OB_LIMIT_MEMORY | 1u << OB_LIMIT_PIDS | 1u << OB_LIMIT_TMPFS;
	r.output_exceeded = true;
	result_add_denial(&r, "NETWORK_CONNECT", "10.0.0.1:80", "connect",
	                  "NETWORK_CONNECT:10.0.0.1:80");
	s = summary(&r);
	assert_string_equal(s, "memory limit 256M reached (--memory); output cut at 16M bytes "
	                       "(--limit output=16M); process limit 64 reached (--pids); /tmp full "
	                       "at 64M (--limit tmpfs=64M); 1 denial: NETWORK_CONNECT 10.0.0.1:80 "
	                       "(allow with --cap NETWORK_CONNECT:10.0.0.1:80)");
	free(s);
	assert_string_equal(result_reason(&r), "exited");
	ob_result_done(&r);

	r = fresh(); /* what no grant allows: no hint */
	result_add_denial(&r, "NETWORK_CONNECT", "127.0.0.1:5", "bind", "");
	s = summary(&r);
	assert_string_equal(s, "1 denial: NETWORK_CONNECT 127.0.0.1:5");
	free(s);
	json_t *o = as_json(&r, NULL);
	assert_true(json_is_null(
	    json_object_get(json_array_get(json_object_get(o, "denials"), 0), "needed")));
	json_decref(o);
	ob_result_done(&r);

	r = fresh();
	r.denials_total = 2; /* counted, none kept (no memory): still said */
	s = summary(&r);
	assert_string_equal(s, "2 denials");
	free(s);
}

static void test_reasons(void **state)
{
	(void)state;
	ob_result r = {.status = -1, .signal = 15};
	assert_string_equal(result_reason(&r), "signaled");
	r = (ob_result){.status = -1, .exit_code = OB_EXIT_NOTFOUND};
	assert_string_equal(result_reason(&r), "not-found");
	r = (ob_result){.status = -1, .exit_code = OB_EXIT_NOEXEC};
	assert_string_equal(result_reason(&r), "not-executable");
	r = (ob_result){.status = -1, .exit_code = OB_EXIT_SETUP};
	assert_string_equal(result_reason(&r), "error");
	assert_int_equal(ob_result_summary(NULL, NULL), -EINVAL);
	assert_int_equal(ob_result_json(NULL, NULL, NULL), -EINVAL);
}

static void test_json_schema_without_a_run(void **state)
{
	(void)state;
	json_t *o = as_json(NULL, "--cap FILE_RAED:/x: unknown capability type");

	assert_true(json_is_null(json_object_get(o, "execution_id")));
	assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 125);
	assert_int_equal(json_integer_value(json_object_get(o, "status")), -1);
	assert_int_equal(json_integer_value(json_object_get(o, "signal")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "error");
	assert_int_equal(json_array_size(json_object_get(o, "denials")), 0);
	assert_int_equal(json_array_size(json_object_get(o, "limits_hit")), 0);
	json_t *out = json_object_get(o, "output");
	assert_string_equal(json_string_value(json_object_get(out, "stdout")), "");
	assert_true(json_is_false(json_object_get(out, "exceeded")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "error")), "FILE_RAED"));
	json_decref(o);

	/* a run: captured output that is not UTF-8 is null; limits by name */
	ob_result r = fresh();
	r.stdout_data = strdup("\xff\xfe");
	r.stdout_len = 2;
	r.limits_hit = 1u << OB_LIMIT_OUTPUT | 1u << OB_LIMIT_TIMEOUT;
	o = as_json(&r, NULL);
	assert_true(json_is_null(json_object_get(json_object_get(o, "output"), "stdout")));
	assert_true(json_is_null(json_object_get(o, "stdout")));
	json_t *hit = json_object_get(o, "limits_hit");
	assert_string_equal(json_string_value(json_array_get(hit, 0)), "timeout");
	assert_string_equal(json_string_value(json_array_get(hit, 1)), "output");
	assert_null(json_object_get(o, "error"));
	json_decref(o);
	ob_result_done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_denials_folded_and_bounded),
	    cmocka_unit_test(test_summary_of_each_ending),
	    cmocka_unit_test(test_reasons),
	    cmocka_unit_test(test_json_schema_without_a_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
