/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "Did you mean": the edit distance, the hints of the model's messages, profiles, and the
 * one-request check behind `caps test`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "basic/suggest.h"
#include "model/hints.h"

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("", ""), 0);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("--timout", "--timeout"), 1);  /* a letter left out */
	assert_int_equal(edit_distance("FILE_RAED", "FILE_READ"), 1); /* two letters swapped */
	assert_int_equal(edit_distance("file_read", "FILE_READ"), 0); /* case is not a typo */
	assert_int_equal(edit_distance("kitten", "sitting"), 3);      /* the textbook case */
	assert_int_equal(edit_distance("ca", "abc"), 3);              /* no swap across an edit */
	char longword[SUGGEST_MAX_LEN + 2];
	memset(longword, 'a', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	assert_true(edit_distance(longword, "a") == SIZE_MAX);
	assert_true(edit_distance("a", longword) == SIZE_MAX);
}

static void test_suggest_closest(void **state)
{
	static const char *const opts[] = {"--timeout", "--cap", "--capabilities", "--env",
	                                   "--tmpfs"};
	(void)state;
	assert_string_equal(suggest_closest("--timout", opts, 5), "--timeout");
	assert_string_equal(suggest_closest("--capabilites", opts, 5), "--capabilities");
	assert_string_equal(suggest_closest("--evn", opts, 5), "--env");
	assert_null(suggest_closest("--frobnicate", opts, 5)); /* nothing near: no guess */
	assert_null(suggest_closest("--cap", opts, 5));        /* known: nothing to suggest */
	assert_null(suggest_closest("x", opts, 0));
}

static void test_cap_type_suggest(void **state)
{
	(void)state;
	assert_string_equal(cap_type_suggest("FILE_RAED"), "FILE_READ");
	assert_string_equal(cap_type_suggest("network_conect"), "NETWORK_CONNECT");
	assert_string_equal(cap_type_suggest("fs_reed"), "fs_read");
	assert_null(cap_type_suggest("BANANA"));
}

static void expect_url(const char *url, const char *grant)
{
	char buf[64] = "";
	assert_true(url_to_host_grant(url, strlen(url), buf, sizeof(buf)));
	assert_string_equal(buf, grant);
}

static void test_url_hint(void **state)
{
	char buf[64] = "untouched";
	(void)state;
	expect_url("https://api.example.com/v1", "api.example.com:443");
	expect_url("http://example.com", "example.com:80");
	expect_url("HTTPS://user:pw@example.com:8443/x?y#z", "example.com:8443");
	expect_url("https://[::1]/", "[::1]:443");
	expect_url("gopher://example.com/", "example.com");
	assert_false(url_to_host_grant("api.example.com:443", 19, buf, sizeof(buf)));
	assert_false(url_to_host_grant("://x", 4, buf, sizeof(buf)));
	assert_string_equal(buf, "untouched");

	ob_capability *c = NULL;
	ob_error e = {0};
	assert_int_equal(
	    ob_capability_parse(&c, "NETWORK_CONNECT:https://api.example.com/v1", "/", &e),
	    -EINVAL);
	assert_non_null(strstr(e.msg, "is a URL"));
	assert_non_null(strstr(e.msg, "api.example.com:443"));
	assert_int_equal(ob_capability_parse(&c, "FILE_RAED:/x", "/", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "did you mean FILE_READ?"));
	/* a unix socket grant written with slashes is a path, not a URL */
	assert_int_equal(ob_capability_parse(&c, "NETWORK_CONNECT:unix:///run/x.sock", "/", &e), 0);
	ob_capability_free(c);
}

static void test_capfile_hint(void **state)
{
	static const char doc[] = "{\"version\": 1, \"description\": \"d\", \"capabilities\": "
	                          "[{\"type\": \"FILE_RAED\", \"resource\": \"/x\"}]}";
	static const char bad_desc[] = "{\"version\": 1, \"description\": 3, \"capabilities\": []}";
	ob_error e = {0};
	(void)state;
	assert_int_equal(ob_capfile_parse(doc, strlen(doc), "t.json", "/", NULL, NULL, &e),
	                 -EINVAL);
	assert_non_null(strstr(e.msg, "did you mean FILE_READ?"));
	assert_int_equal(
	    ob_capfile_parse(bad_desc, strlen(bad_desc), "t.json", "/", NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "$.description: expected a string"));
}

static void test_profiles(void **state)
{
	char *dir = NULL, *list = NULL, *path = NULL;
	ob_capset *set = NULL;
	ob_error e = {0};
	(void)state;
	/* A test program runs from the build tree: the source tree's profiles. */
	assert_int_equal(ob_profile_dir(&dir), 0);
	assert_non_null(strstr(dir, "/profiles"));
	assert_int_equal(ob_profiles_json(&list, &e), 0);
	for (const char *const *n = (const char *const[]){"\"build\"", "\"git\"", "\"node\"",
	                                                  "\"python\"", "\"shell\"", NULL};
	     *n; n++)
		assert_non_null(strstr(list, *n));
	assert_int_equal(ob_profile_path("shell", &path, &e), 0);
	assert_non_null(strstr(path, "/shell.json"));
	assert_int_equal(ob_profile_path("shel", &path, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "did you mean shell?"));
	assert_int_equal(ob_profile_path("zzzzzzzz", &path, &e), -ENOENT);
	assert_null(strstr(e.msg, "did you mean"));
	assert_int_equal(ob_profile_path("../etc/x", &path, &e), -EINVAL);
	assert_int_equal(ob_profile_path("", &path, &e), -EINVAL);
	assert_int_equal(ob_capset_new(&set), 0);
	assert_int_equal(ob_profile_load("shell", "/", set, NULL, &e), 0);
	assert_int_equal(ob_profile_load("nope", "/", set, NULL, &e), -ENOENT);
	assert_int_equal(ob_capset_allows(set, OB_CAP_EXTERNAL_COMMAND, "grep", NULL), 1);
	ob_capset_unref(set);
	free(dir);
	free(list);
	free(path);
}

static void test_check_request(void **state)
{
	ob_capset *set = NULL;
	ob_capability *c = NULL;
	const ob_capability *by = NULL;
	ob_cap_error ce;
	(void)state;
	assert_int_equal(ob_capset_new(&set), 0);
	assert_int_equal(ob_capability_parse(&c, "FILE_WRITE:/data/**", "/", NULL), 0);
	assert_int_equal(ob_capset_add(set, c), 0);
	ob_capability_free(c);
	/* write implies read: the grant that allows it is the write grant */
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_FILE_READ, "/data/a/b.csv", &by, &ce),
	                 0);
	assert_string_equal(ob_capability_resource(by), "/data/**");
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_FILE_READ, "/etc/passwd", &by, &ce),
	                 -EACCES);
	assert_string_equal(ce.needed, "FILE_READ:/etc/passwd");
	assert_int_equal(
	    ob_check_request(set, NULL, OB_CAP_NETWORK_CONNECT, "example.com:443", NULL, &ce),
	    -EACCES);
	assert_string_equal(ce.operation, "connect");
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_EXTERNAL_COMMAND, "git", NULL, &ce),
	                 -EACCES);
	assert_string_equal(ce.operation, "exec");
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_SECRET_ACCESS, "k", NULL, &ce),
	                 -EACCES);
	assert_string_equal(ce.operation, "access");
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_ARTIFACT_WRITE, "a", NULL, &ce),
	                 -EACCES);
	assert_string_equal(ce.operation, "write");
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_NETWORK_CONNECT, "", NULL, &ce),
	                 -EINVAL);
	assert_int_equal(ob_check_request(set, NULL, OB_CAP_TYPE_MAX, "x", NULL, &ce), -EINVAL);
	ob_capset_unref(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edit_distance),    cmocka_unit_test(test_suggest_closest),
	    cmocka_unit_test(test_cap_type_suggest), cmocka_unit_test(test_url_hint),
	    cmocka_unit_test(test_capfile_hint),     cmocka_unit_test(test_profiles),
	    cmocka_unit_test(test_check_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
