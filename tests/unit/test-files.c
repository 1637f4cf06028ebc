/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capability files, limits, and the JSON position finder behind their error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "basic/json-locate.h"
#include "basic/utf8.h"

static int parse(const char *text, ob_capset *set, ob_limits *limits, ob_error *e)
{
	return ob_capfile_parse(text, strlen(text), "t.json", "/work", set, limits, e);
}

static void expect_error(const char *text, int code, const char *needle)
{
	ob_error e = {0};
	ob_capset *s;

	assert_int_equal(ob_capset_new(&s), 0);
	int r = parse(text, s, NULL, &e);
	if (r != code || !strstr(e.msg, needle) || strncmp(e.msg, "t.json:", 7) != 0)
		fail_msg("%s\n -> %d %s (wanted %d, '%s')", text, r, e.msg, code, needle);
	assert_int_equal(e.code, code);
	assert_int_equal(ob_capset_size(s), 0); /* all or nothing */
	ob_capset_unref(s);
}

static void test_good_file(void **state)
{
	(void)state;
	const char *text =
	    "{\"version\": 1, \"capabilities\": ["
	    "{\"type\": \"FILE_READ\", \"resource\": \"/data/allowed.txt\"},"
	    "{\"type\": \"fs_write\", \"resource\": \"./out/**\"},"
	    "{\"type\": \"SECRET_ACCESS\", \"resource\": \"db\", \"when\": {\"env\": \"prod\"}}],"
	    "\"limits\": {\"memory\": \"128M\", \"cpus\": 0.5, \"pids\": 10, \"timeout\": 1.5,"
	    " \"output\": 1048576, \"tmpfs\": \"8MiB\", \"files\": 64, \"connections\": 8,"
	    " \"egress\": \"1G\", \"events\": 500, \"disk\": \"2G\"}}";
	ob_capset *s;
	ob_limits l;
	ob_error e;
	char *json;

	ob_limits_init(&l);
	assert_int_equal(ob_capset_new(&s), 0);
	if (parse(text, s, &l, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(ob_capset_size(s), 3);
	assert_string_equal(ob_capability_resource(ob_capset_get(s, 1)), "/work/out/**");
	assert_int_equal(l.value[OB_LIMIT_MEMORY], 128ULL << 20);
	assert_int_equal(l.value[OB_LIMIT_CPUS], 500);
	assert_int_equal(l.value[OB_LIMIT_PIDS], 10);
	assert_int_equal(l.value[OB_LIMIT_TIMEOUT], 1500);
	assert_int_equal(l.value[OB_LIMIT_OUTPUT], 1048576);
	assert_int_equal(l.value[OB_LIMIT_TMPFS], 8ULL << 20);
	assert_int_equal(l.value[OB_LIMIT_FILES], 64);
	assert_int_equal(l.value[OB_LIMIT_CONNECTIONS], 8);
	assert_int_equal(l.value[OB_LIMIT_EGRESS], 1ULL << 30);
	assert_int_equal(l.value[OB_LIMIT_EVENTS], 500);
	assert_int_equal(l.value[OB_LIMIT_DISK], 2ULL << 30);
	assert_int_equal(l.explicit_mask, (1u << OB_LIMIT_MAX) - 1);
	assert_int_equal(ob_capset_to_json(s, &l, &json), 0);
	assert_non_null(strstr(json, "\"when\":{\"env\":\"prod\"}"));
	assert_non_null(strstr(json, "\"cpus\":0.5"));
	free(json);
	assert_int_equal(ob_capset_to_json(s, NULL, &json), 0);
	assert_null(strstr(json, "limits"));
	free(json);
	/* validation only */
	assert_int_equal(parse(text, NULL, NULL, NULL), 0);
	ob_capset_unref(s);
}

static void test_bad_files(void **state)
{
	(void)state;
	expect_error("", -EINVAL, "t.json:1:");
	expect_error("{", -EINVAL, "t.json:1:");
	expect_error("[]", -EINVAL, "$: expected an object");
	expect_error("{\"version\": 1}", -EINVAL, "missing key \"capabilities\"");
	expect_error("{\"capabilities\": []}", -EINVAL, "missing key \"version\"");
	expect_error("{\"version\": 2, \"capabilities\": []}", -EINVAL, "$.version");
	expect_error("{\"version\": 1, \"version\": 1, \"capabilities\": []}", -EINVAL,
	             "duplicate");
	expect_error("{\"version\": 1, \"capabilities\": [], \"x\": 0}", -EINVAL,
	             "unknown key \"x\"");
	expect_error("{\"version\": 1, \"capabilities\": 1}", -EINVAL, "expected an array");
	expect_error("{\"version\": 1, \"capabilities\": [null]}", -EINVAL, "[0]: expected an");
	expect_error("{\"version\": 1, \"capabilities\": [{\"resource\": \"/x\"}]}", -EINVAL,
	             "\"type\" (missing)");
	expect_error("{\"version\": 1, \"capabilities\": [{\"type\": true, \"resource\": \"/x\"}]}",
	             -EINVAL, "[0].type: expected a string \"type\" (a boolean)");
	expect_error("{\"version\": 1, \"capabilities\": [{\"type\": \"FILE_READ\"}]}", -EINVAL,
	             "\"resource\" (missing)");
	expect_error("{\"version\": 1, \"capabilities\": [{\"type\": \"FILE_READ\", \"resource\": "
	             "[]}]}",
	             -EINVAL, "(an array)");
	expect_error("{\"version\": 1, \"capabilities\": [{\"type\": \"FILE_READ\", \"resource\": "
	             "\"\"}]}",
	             -EINVAL, "empty resource");
	expect_error("{\"version\": 1, \"capabilities\": [{\"type\": \"FILE_READ\", \"resource\": "
	             "\"/x\", \"when\": []}]}",
	             -EINVAL, "[0].when: expected an object");
	expect_error("{\"version\": 1, \"capabilities\": [{\"type\": \"FILE_READ\", \"resource\": "
	             "\"/x\", \"when\": {\"bad key\": \"v\"}}]}",
	             -EINVAL, "condition key");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"memory\": \"0\"}}",
	             -EINVAL, "$.limits.memory: must be between");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"memory\": 1.5}}",
	             -EINVAL, "expected a size");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"pids\": 1.5}}", -EINVAL,
	             "whole number");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"cpus\": -1}}", -EINVAL,
	             "positive");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"timeout\": null}}",
	             -EINVAL, "got null");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"files\": \"1K2\"}}",
	             -EINVAL, "whole number");
	expect_error("{\"version\": 1, \"capabilities\": [], \"limits\": {\"tmpfs\": {}}}", -EINVAL,
	             "got an object");

	/* too many conditions, too many capabilities, too many bytes */
	char *big = malloc(2 << 20);
	size_t n = (size_t)sprintf(big, "{\"version\": 1, \"capabilities\": [{\"type\": "
	                                "\"SECRET_ACCESS\", \"resource\": \"x\", \"when\": {");
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(big + n, "%s\"k%d\": \"v\"", i ? ", " : "", i);
	strcpy(big + n, "}}]}");
	expect_error(big, -EFBIG, "conditions");
	n = (size_t)sprintf(big, "{\"version\": 1, \"capabilities\": [");
	for (int i = 0; i < 4100; i++)
		n += (size_t)sprintf(big + n, "%s{\"type\": \"FILE_READ\", \"resource\": \"/%d\"}",
		                     i ? "," : "", i);
	strcpy(big + n, "]}");
	expect_error(big, -EFBIG, "the limit is 4096");
	memset(big, ' ', (2 << 20) - 1);
	big[(2 << 20) - 1] = '\0';
	expect_error(big, -EFBIG, "the limit is");
	free(big);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	size_t n = 200000;
	char *deep = malloc(n + 1);
	memset(deep, '[', n);
	deep[n] = '\0';
	expect_error(deep, -EINVAL, "depth");
	free(deep);
}

static void test_load(void **state)
{
	(void)state;
	char path[] = "/tmp/ob-test-capfile-XXXXXX";
	int fd = mkstemp(path);
	ob_capset *s;
	ob_error e;
	const char *text = "{\"version\": 1, \"capabilities\": [{\"type\": \"FILE_READ\", "
	                   "\"resource\": \"/x\"}]}";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	(void)close(fd);
	assert_int_equal(ob_capset_new(&s), 0);
	assert_int_equal(ob_capfile_load(path, "/", s, NULL, &e), 0);
	assert_int_equal(ob_capset_size(s), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ob_capfile_load(path, "/", s, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "cannot open"));
	assert_int_equal(ob_capfile_load("/tmp", "/", s, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	ob_capset_unref(s);
}

static void test_sizes_and_limits(void **state)
{
	(void)state;
	uint64_t v;
	ob_limits l;
	ob_error e;
	char buf[32];

	assert_int_equal(ob_size_parse("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ob_size_parse("512K", &v), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(ob_size_parse("256MiB", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(ob_size_parse("2gB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(ob_size_parse("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(ob_size_parse("100B", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(ob_size_parse("", &v), -EINVAL);
	assert_int_equal(ob_size_parse("-1", &v), -EINVAL);
	assert_int_equal(ob_size_parse("1.5G", &v), -EINVAL);
	assert_int_equal(ob_size_parse("12Q", &v), -EINVAL);
	assert_int_equal(ob_size_parse("1Mi", &v), -EINVAL);
	assert_int_equal(ob_size_parse("99999999999999999999", &v), -ERANGE);
	assert_int_equal(ob_size_parse("9999999T", &v), -ERANGE);

	ob_limits_init(&l);
	assert_int_equal(l.value[OB_LIMIT_MEMORY], 256ULL << 20);
	assert_int_equal(l.value[OB_LIMIT_CPUS], 1000);
	assert_int_equal(l.value[OB_LIMIT_PIDS], 64);
	assert_int_equal(l.value[OB_LIMIT_TIMEOUT], 30000);
	assert_int_equal(l.value[OB_LIMIT_OUTPUT], 16ULL << 20);
	assert_int_equal(l.value[OB_LIMIT_TMPFS], 64ULL << 20);
	assert_int_equal(l.value[OB_LIMIT_FILES], 256);
	assert_int_equal(l.value[OB_LIMIT_CONNECTIONS], 256);
	assert_int_equal(l.value[OB_LIMIT_EGRESS], 4ULL << 30);
	assert_int_equal(l.value[OB_LIMIT_EVENTS], 10000);
	assert_int_equal(l.explicit_mask, 0);
	ob_limits_init(NULL);

	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_MEMORY, "50M", &e), 0);
	assert_int_equal(l.value[OB_LIMIT_MEMORY], 50ULL << 20);
	assert_int_equal(l.explicit_mask, 1u << OB_LIMIT_MEMORY);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_CPUS, "0.25", &e), 0);
	assert_int_equal(l.value[OB_LIMIT_CPUS], 250);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_TIMEOUT, "2", &e), 0);
	assert_int_equal(l.value[OB_LIMIT_TIMEOUT], 2000);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_PIDS, "12", &e), 0);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_PIDS, "12K", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_PIDS, "0", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "pids '0'"));
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_PIDS, "2", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "between 3"));
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_PIDS, "3", &e), 0);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_CPUS, "abc", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_CPUS, "2000", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_TIMEOUT, "1e99", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_TIMEOUT, "nan", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_FILES, "2", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_CONNECTIONS, "70000", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "between 1 and 65536"));
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_EGRESS, "100M", &e), 0);
	assert_int_equal(l.value[OB_LIMIT_EGRESS], 100ULL << 20);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_EVENTS, "50", &e), 0);
	assert_int_equal(l.value[OB_LIMIT_EVENTS], 50);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_EVENTS, "0", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "between 1 and 100000000"));
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_TMPFS, "1K", &e), -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_OUTPUT, "99999999999999999999", &e),
	                 -EINVAL);
	assert_int_equal(ob_limits_set_text(&l, OB_LIMIT_MAX, "1", &e), -EINVAL);

	for (int i = 0; i < OB_LIMIT_MAX; i++)
		assert_int_equal(ob_limit_from_string(ob_limit_to_string((ob_limit)i)), i);
	assert_int_equal(ob_limit_from_string("swap"), -EINVAL);
	assert_null(ob_limit_to_string(OB_LIMIT_MAX));

	ob_limit_format(OB_LIMIT_MEMORY, 256ULL << 20, buf, sizeof(buf));
	assert_string_equal(buf, "256M");
	ob_limit_format(OB_LIMIT_MEMORY, 1536ULL << 20, buf, sizeof(buf));
	assert_string_equal(buf, "1536M");
	ob_limit_format(OB_LIMIT_TMPFS, 3ULL << 40, buf, sizeof(buf));
	assert_string_equal(buf, "3T");
	ob_limit_format(OB_LIMIT_OUTPUT, 1000, buf, sizeof(buf));
	assert_string_equal(buf, "1000");
	ob_limit_format(OB_LIMIT_CPUS, 1500, buf, sizeof(buf));
	assert_string_equal(buf, "1.500");
	ob_limit_format(OB_LIMIT_TIMEOUT, 30000, buf, sizeof(buf));
	assert_string_equal(buf, "30");
	ob_limit_format(OB_LIMIT_PIDS, 64, buf, sizeof(buf));
	assert_string_equal(buf, "64");
}

static void locate(const char *text, const char *path, unsigned line, unsigned col)
{
	unsigned l = 0, c = 0;
	int r = json_locate(text, strlen(text), path, &l, &c);
	if (r < 0 || l != line || c != col)
		fail_msg("%s in %s: %d %u:%u, wanted %u:%u", path, text, r, l, c, line, col);
}

static void test_json_locate(void **state)
{
	(void)state;
	const char *t = "{\"a\": [1, {\"x\": \"]}\\\"\"}, [[]], true, -1.5e3, \"s\"],\n"
	                " \"b\\u00e9\": {\"c\\/d\": null, \"\\ud83d\\ude00\": 7, \"e\\n\": {}},\n"
	                " \"w.x\": 1}";
	unsigned l, c;

	locate(t, "$", 1, 1);
	locate(t, "$.a", 1, 7);
	locate(t, "$.a[0]", 1, 8);
	locate(t, "$.a[1].x", 1, 17);
	locate(t, "$.a[2]", 1, 26);
	locate(t, "$.a[3]", 1, 32);
	locate(t, "$.a[4]", 1, 38);
	locate(t, "$.a[5]", 1, 46);
	locate(t, "$.b\xc3\xa9.c/d", 2, 22);
	locate(t, "$.b\xc3\xa9.\xf0\x9f\x98\x80", 2, 44);
	locate(t, "$.b\xc3\xa9.e\n", 2, 54);
	locate(t, "$.w.x", 3, 9);
	assert_int_equal(json_locate(t, strlen(t), "$.zz", &l, &c), -ENOENT);
	assert_int_equal(json_locate(t, strlen(t), "$.a[9]", &l, &c), -ENOENT);
	assert_int_equal(json_locate(t, strlen(t), "$.a[x]", &l, &c), -ENOENT);
	assert_int_equal(json_locate(t, strlen(t), "$.a.b", &l, &c), -ENOENT);
	assert_int_equal(json_locate(t, strlen(t), "$[0]", &l, &c), -ENOENT);
	assert_int_equal(json_locate(t, strlen(t), "a", &l, &c), -EINVAL);
	assert_int_equal(json_locate("", 0, "$", &l, &c), -ENOENT);
	assert_int_equal(json_locate("{}", 2, "$.a", &l, &c), -ENOENT);
	assert_int_equal(json_locate("[]", 2, "$[1]", &l, &c), -ENOENT);
	/* a bad \u escape decodes to U+FFFD rather than failing */
	locate("{\"\\uZZZZ\": 1}", "$.\xef\xbf\xbd", 1, 12);
}

/* A path of the program's bytes is written escaped when it is not UTF-8, never dropped. */
static void test_utf8_escape(void **state)
{
	char buf[32];
	(void)state;

	assert_true(utf8_is_valid("/tmp/caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	const char *ok = "/a\\b";
	assert_ptr_equal(utf8_escape(ok, buf, sizeof(buf)), ok);
	/* a lone byte, an overlong '/', a surrogate, past U+10FFFF, a cut sequence */
	const char *bad[] = {"/tmp/\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	                     "\xe2\x82"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(utf8_is_valid(bad[i]));
	assert_string_equal(utf8_escape("/tmp/\xff\\x\xc3\xa9", buf, sizeof(buf)),
	                    "/tmp/\\xff\\x5cx\xc3\xa9");
	assert_string_equal(utf8_escape("\xed\xa0\x80", buf, sizeof(buf)), "\\xed\\xa0\\x80");
	/* cut short to fit, never in the middle of an escape */
	assert_string_equal(utf8_escape("\xff\xff\xff", buf, 9), "\\xff\\xff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),        cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_deep_nesting),     cmocka_unit_test(test_load),
	    cmocka_unit_test(test_sizes_and_limits), cmocka_unit_test(test_json_locate),
	    cmocka_unit_test(test_utf8_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
