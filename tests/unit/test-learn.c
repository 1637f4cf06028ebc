/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Learning mode's summary (model/learn-summary.c): observations → the tightest capability set
 * that repeats the run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "model/learn-summary.h"

static const char *const homes[] = {"/home/alice", "/root", NULL};
static const char *const given_paths[] = {"/usr", "/lib", "/lib64", "/opt/tool/bin/tool", NULL};
static const LearnLayout layout = {.given = given_paths, .homes = homes};

static LearnSet *new_set(void)
{
	LearnSet *s;
	assert_int_equal(learn_set_new(LEARN_MAX_OBSERVATIONS, &s), 0);
	return s;
}

static ob_capset *summarize(LearnSet *s, const ob_capset *given)
{
	ob_capset *out;
	assert_int_equal(learn_summarize(s, &layout, given, &out), 0);
	return out;
}

/* Does OUT hold exactly TYPE:RESOURCE (as written)? */
static bool holds(const ob_capset *out, ob_cap_type type, const char *resource)
{
	for (size_t i = 0; i < ob_capset_size(out); i++) {
		const ob_capability *c = ob_capset_get(out, i);
		if (ob_capability_type(c) == type &&
		    strcmp(ob_capability_resource(c), resource) == 0)
			return true;
	}
	return false;
}

static void add(LearnSet *s, ob_cap_type type, const char *res, unsigned flags)
{
	assert_int_equal(learn_set_add(s, type, res, flags), 0);
}

static void test_set_dedupes_and_is_bounded(void **state)
{
	LearnSet *s;
	(void)state;
	assert_int_equal(learn_set_new(2, &s), 0);
	add(s, OB_CAP_FILE_READ, "/data/a", 0);
	add(s, OB_CAP_FILE_READ, "/data/a", 0);
	assert_int_equal(learn_set_size(s), 1);
	add(s, OB_CAP_FILE_WRITE, "/data/a", 0); /* another type: another need */
	assert_int_equal(learn_set_size(s), 2);
	assert_int_equal(learn_set_add(s, OB_CAP_FILE_READ, "/data/b", 0), -E2BIG);
	assert_int_equal(learn_set_add(s, OB_CAP_FILE_READ, "/data/c", 0), -E2BIG);
	assert_int_equal(learn_set_dropped(s), 2);
	assert_int_equal(learn_set_add(s, OB_CAP_FILE_READ, "relative", 0), -EINVAL);
	assert_int_equal(learn_set_add(s, OB_CAP_EXTERNAL_COMMAND, "", 0), -EINVAL);
	assert_int_equal(learn_set_add(s, OB_CAP_EXTERNAL_COMMAND, NULL, 0), -EINVAL);
	assert_null(learn_set_free(s));
	assert_null(learn_set_free(NULL));
}

static void test_files_stay_single(void **state)
{
	LearnSet *s = new_set();
	(void)state;
	add(s, OB_CAP_FILE_READ, "/data/in.txt", 0);
	add(s, OB_CAP_FILE_READ, "/data/out.txt", 0);
	add(s, OB_CAP_FILE_WRITE, "/data/out.txt", 0);
	ob_capset *out = summarize(s, NULL);
	assert_int_equal(ob_capset_size(out), 2);
	assert_true(holds(out, OB_CAP_FILE_READ, "/data/in.txt"));
	/* a write covers the reads of the same file */
	assert_true(holds(out, OB_CAP_FILE_WRITE, "/data/out.txt"));
	ob_capset_unref(out);
	learn_set_free(s);
}

static void add_files(LearnSet *s, ob_cap_type type, const char *dir, int n)
{
	char p[256];
	for (int i = 0; i < n; i++) {
		(void)snprintf(p, sizeof(p), "%s/f%d.txt", dir, i);
		add(s, type, p, 0);
	}
}

static void test_many_files_collapse(void **state)
{
	LearnSet *s = new_set();
	(void)state;
	add_files(s, OB_CAP_FILE_READ, "/srv/app/templates", LEARN_COLLAPSE_FILES);
	add_files(s, OB_CAP_FILE_READ, "/srv/app/static", LEARN_COLLAPSE_FILES - 1);
	add_files(s, OB_CAP_FILE_WRITE, "/srv/app/cache", LEARN_COLLAPSE_FILES);
	add(s, OB_CAP_FILE_READ, "/srv/app/cache/f1.txt", 0); /* covered by the write */
	ob_capset *out = summarize(s, NULL);
	assert_true(holds(out, OB_CAP_FILE_READ, "/srv/app/templates/**"));
	assert_true(holds(out, OB_CAP_FILE_WRITE, "/srv/app/cache/**"));
	assert_true(holds(out, OB_CAP_FILE_READ, "/srv/app/static/f0.txt"));
	assert_false(holds(out, OB_CAP_FILE_READ, "/srv/app/static/**"));
	assert_int_equal(ob_capset_size(out), 2 + LEARN_COLLAPSE_FILES - 1);
	ob_capset_unref(out);
	learn_set_free(s);
}

static void test_homes_and_top_levels_never_whole(void **state)
{
	LearnSet *s = new_set();
	(void)state;
	add_files(s, OB_CAP_FILE_READ, "/home/alice", 12);
	add_files(s, OB_CAP_FILE_READ, "/etc", 9);
	add_files(s, OB_CAP_FILE_READ, "/home/alice/.config/tool", 9);
	add(s, OB_CAP_FILE_READ, "/home/alice", LEARN_LISTED);
	add(s, OB_CAP_FILE_READ, "/home", LEARN_LISTED);
	add(s, OB_CAP_FILE_READ, "/", LEARN_LISTED);
	add(s, OB_CAP_FILE_WRITE, "/root", LEARN_CREATES);
	ob_capset *out = summarize(s, NULL);
	for (size_t i = 0; i < ob_capset_size(out); i++) {
		const char *r = ob_capability_resource(ob_capset_get(out, i));
		assert_string_not_equal(r, "/home/alice/**");
		assert_string_not_equal(r, "/home/alice");
		assert_string_not_equal(r, "/etc/**");
		assert_string_not_equal(r, "/home");
		assert_string_not_equal(r, "/root");
		assert_string_not_equal(r, "/");
		assert_string_not_equal(r, "/**");
	}
	assert_true(holds(out, OB_CAP_FILE_READ, "/home/alice/f11.txt"));
	assert_true(holds(out, OB_CAP_FILE_READ, "/etc/f8.txt"));
	/* beneath a home is fine */
	assert_true(holds(out, OB_CAP_FILE_READ, "/home/alice/.config/tool/**"));
	assert_int_equal(ob_capset_size(out), 12 + 9 + 1);
	ob_capset_unref(out);
	learn_set_free(s);
}

static void test_too_wide(void **state)
{
	(void)state;
	assert_true(learn_dir_is_too_wide("/", homes));
	assert_true(learn_dir_is_too_wide("/etc", homes));
	assert_true(learn_dir_is_too_wide("/etc/", homes));
	assert_true(learn_dir_is_too_wide("/home", homes));
	assert_true(learn_dir_is_too_wide("/home/alice", homes));
	assert_false(learn_dir_is_too_wide("/home/alice/src", homes));
	assert_false(learn_dir_is_too_wide("/home/bob", homes));
	assert_true(learn_dir_is_too_wide("/home/bob", NULL) == false);
	assert_false(learn_dir_is_too_wide("/srv/data", homes));
}

static void test_layout_and_given_dropped(void **state)
{
	LearnSet *s = new_set();
	ob_capset *given;
	ob_capability *c;
	(void)state;
	assert_int_equal(ob_capset_new(&given), 0);
	assert_int_equal(ob_capability_parse(&c, "FILE_READ:/data/**", "/", NULL), 0);
	assert_int_equal(ob_capset_add(given, c), 0);
	ob_capability_free(c);
	assert_int_equal(ob_capability_parse(&c, "EXTERNAL_COMMAND:git", "/", NULL), 0);
	assert_int_equal(ob_capset_add(given, c), 0);
	ob_capability_free(c);

	add(s, OB_CAP_FILE_READ, "/usr/lib/python3/os.py", 0);
	add(s, OB_CAP_FILE_READ, "/lib64/ld-linux-x86-64.so.2", 0);
	add(s, OB_CAP_FILE_READ, "/opt/tool/bin/tool", 0);
	add(s, OB_CAP_FILE_READ, "/usrx/file", 0); /* not beneath /usr */
	add(s, OB_CAP_FILE_READ, "/data/a.txt", 0);
	add(s, OB_CAP_EXTERNAL_COMMAND, "git", 0);
	add(s, OB_CAP_EXTERNAL_COMMAND, "make", 0);
	add(s, OB_CAP_NETWORK_CONNECT, "127.0.0.1:8080", 0);
	add(s, OB_CAP_NETWORK_CONNECT, "api.example.com:443", 0);
	add(s, OB_CAP_SECRET_ACCESS, "db_password", 0);
	ob_capset *out = summarize(s, given);
	assert_true(holds(out, OB_CAP_FILE_READ, "/data/**")); /* merged */
	assert_true(holds(out, OB_CAP_EXTERNAL_COMMAND, "git"));
	assert_true(holds(out, OB_CAP_FILE_READ, "/usrx/file"));
	assert_true(holds(out, OB_CAP_EXTERNAL_COMMAND, "make"));
	assert_true(holds(out, OB_CAP_NETWORK_CONNECT, "127.0.0.1:8080"));
	assert_true(holds(out, OB_CAP_NETWORK_CONNECT, "api.example.com:443"));
	assert_true(holds(out, OB_CAP_SECRET_ACCESS, "db_password"));
	assert_int_equal(ob_capset_size(out), 7);
	ob_capset_unref(out);
	ob_capset_unref(given);
	learn_set_free(s);
}

static void test_dirs(void **state)
{
	LearnSet *s = new_set();
	(void)state;
	add(s, OB_CAP_FILE_READ, "/srv/data", LEARN_LISTED);
	add(s, OB_CAP_FILE_WRITE, "/srv/out", LEARN_CREATES);
	add(s, OB_CAP_FILE_WRITE, "/srv/out/existing.txt", 0); /* covered by its directory */
	add(s, OB_CAP_FILE_READ, "/srv/out/other.txt", 0);
	/* listed, but shown anyway as the skeleton of what is bound beneath: not granted whole */
	add(s, OB_CAP_FILE_READ, "/srv/app", LEARN_LISTED);
	add(s, OB_CAP_FILE_READ, "/srv/app/conf.txt", 0);
	add(s, OB_CAP_FILE_READ, "/opt/tool", LEARN_LISTED); /* holds the program (layout) */
	add(s, OB_CAP_FILE_READ, "/opt", LEARN_LISTED);      /* top level: never */
	ob_capset *out = summarize(s, NULL);
	assert_true(holds(out, OB_CAP_FILE_READ, "/srv/data"));
	assert_true(holds(out, OB_CAP_FILE_WRITE, "/srv/out"));
	assert_true(holds(out, OB_CAP_FILE_READ, "/srv/app/conf.txt"));
	assert_int_equal(ob_capset_size(out), 3);
	ob_capset_unref(out);
	learn_set_free(s);
}

static void test_escaping(void **state)
{
	char buf[32];
	LearnSet *s = new_set();
	(void)state;
	assert_true(learn_escape_path("/a*b?c\\d", buf, sizeof(buf)));
	assert_string_equal(buf, "/a\\*b\\?c\\\\d");
	assert_false(learn_escape_path("/abc", buf, 4));
	assert_false(learn_escape_path("/a*", buf, 4));
	assert_true(learn_escape_path("/ab", buf, 4));
	add(s, OB_CAP_FILE_READ, "/data/star*.txt", 0);
	ob_capset *out = summarize(s, NULL);
	assert_true(holds(out, OB_CAP_FILE_READ, "/data/star\\*.txt"));
	/* the grant is the literal file, not a pattern over its neighbours */
	assert_int_equal(ob_capset_allows(out, OB_CAP_FILE_READ, "/data/star*.txt", NULL), 1);
	assert_int_equal(ob_capset_allows(out, OB_CAP_FILE_READ, "/data/starX.txt", NULL), 0);
	ob_capset_unref(out);
	learn_set_free(s);
}

static void test_unrepresentable_left_out(void **state)
{
	LearnSet *s = new_set();
	ob_capset *out = NULL;
	char *p = malloc(5000);
	(void)state;
	p[0] = '/';
	memset(p + 1, 'a', 4998);
	p[4999] = '\0';
	add(s, OB_CAP_FILE_READ, p, 0);
	add(s, OB_CAP_NETWORK_CONNECT, "bad host:port", 0);
	add(s, OB_CAP_FILE_READ, "/data/ok.txt", 0);
	assert_int_equal(learn_summarize(s, &layout, NULL, &out), 0);
	assert_int_equal(ob_capset_size(out), 1);
	assert_true(holds(out, OB_CAP_FILE_READ, "/data/ok.txt"));
	assert_int_equal(learn_set_dropped(s), 2);
	ob_capset_unref(out);
	free(p);
	learn_set_free(s);
}

/* The builder's side: what learning changes in a sandbox (mode rx, every connection for
 * --learn-network) is undone when learning is switched off, and nothing is written before a
 * learning run. */
static void test_sandbox_learning_is_undone(void **state)
{
	ob_sandbox *sb;
	ob_error e = {0};
	char *plan = NULL;
	char *argv[] = {"/bin/true", NULL};
	(void)state;
	assert_int_equal(ob_sandbox_new(&sb), 0);
	assert_int_equal(ob_sandbox_learn_write(sb, "/nonexistent/x.json", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a learning run"));
	assert_int_equal(ob_sandbox_set_command(sb, argv, &e), 0);
	assert_int_equal(ob_sandbox_set_allow_degraded(sb, true), 0);
	assert_int_equal(ob_sandbox_set_learn(sb, true, /* network= */ true), 0);
	assert_int_equal(ob_sandbox_learn_write(sb, "/nonexistent/x.json", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no learning run"));

	int r = ob_sandbox_plan_json(sb, &plan, &e);
	if (r < 0)
		fail_msg("%d %s", r, e.msg);
	assert_non_null(strstr(plan, "\"NETWORK_CONNECT:0.0.0.0/0\""));
	assert_non_null(strstr(plan, "\"mode\": \"rx\""));
	free(plan);
	assert_int_equal(ob_sandbox_set_learn(sb, false, false), 0);
	if (ob_sandbox_plan_json(sb, &plan, &e) < 0)
		fail_msg("%s", e.msg);
	assert_null(strstr(plan, "0.0.0.0/0"));
	assert_non_null(strstr(plan, "\"mode\": \"sandbox\""));
	free(plan);

	assert_int_equal(ob_sandbox_set_backend(sb, OB_BACKEND_RUNC), 0);
	assert_int_equal(ob_sandbox_set_learn(sb, true, false), 0);
	assert_int_equal(ob_sandbox_plan_json(sb, &plan, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "native backend"));
	ob_sandbox_free(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_dedupes_and_is_bounded),
	    cmocka_unit_test(test_files_stay_single),
	    cmocka_unit_test(test_many_files_collapse),
	    cmocka_unit_test(test_homes_and_top_levels_never_whole),
	    cmocka_unit_test(test_too_wide),
	    cmocka_unit_test(test_layout_and_given_dropped),
	    cmocka_unit_test(test_dirs),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_unrepresentable_left_out),
	    cmocka_unit_test(test_sandbox_learning_is_undone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
