/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Command patterns' Landlock prefixes, their translation to the sandbox's paths, and the
 * toolchain table (driver names and the helpers found in an installation's layout). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "model/pattern.h"
#include "plan/exec-rules.h"
#include "plan/fs-rules.h"
#include "plan/plan.h"
#include "plan/steps.h"
#include "plan/toolchain.h"

static void expect_prefix(const char *pattern, const char *prefix)
{
	char norm[PATH_MAX], buf[PATH_MAX];
	const char *msg = NULL;
	Glob g;

	int n =
	    path_normalize(pattern, strlen(pattern), NULL, true, true, norm, sizeof(norm), &msg);
	assert_true(n > 0);
	assert_int_equal(glob_compile_path(&g, norm, (size_t)n, &msg), 0);
	assert_int_equal(exec_pattern_prefix(&g, buf, sizeof(buf)), 0);
	if (strcmp(buf, prefix) != 0)
		fail_msg("%s: prefix %s, wanted %s", pattern, buf, prefix);
	assert_int_equal(exec_pattern_prefix(&g, buf, 2), strlen(prefix) >= 2 ? -ENAMETOOLONG : 0);
	glob_done(&g);
}

static void test_pattern_prefix(void **state)
{
	(void)state;
	expect_prefix("/workspace/**", "/workspace");
	expect_prefix("/workspace/*.sh", "/workspace");
	expect_prefix("/opt/tools/*/bin/x", "/opt/tools");
	expect_prefix("/opt/tools/v?/bin/**", "/opt/tools");
	expect_prefix("/**", "/");
	expect_prefix("/*", "/");
	expect_prefix("/a/b\\*c/d*", "/a");          /* an escape ends the literal directories */
	expect_prefix("/workspace/h", "/workspace"); /* a literal file: its directory */
	expect_prefix("/workspace/../etc/*", "/etc");
}

static void test_pattern_inside(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(exec_pattern_inside("/home/u/p/build/*", "/home/u/p", buf, sizeof(buf)),
	                 1);
	assert_string_equal(buf, "/workspace/build/*");
	assert_int_equal(exec_pattern_inside("/home/u/p", "/home/u/p", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/workspace");
	assert_int_equal(exec_pattern_inside("/home/u/px/a", "/home/u/p", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/px/a");
	assert_int_equal(exec_pattern_inside("/usr/bin/*", NULL, buf, sizeof(buf)), 0);
	assert_int_equal(exec_pattern_inside("/usr/bin/*", "/", buf, sizeof(buf)), 0);
	assert_int_equal(exec_pattern_inside("/usr/bin/*", NULL, buf, 4), -ENAMETOOLONG);
	assert_int_equal(exec_pattern_inside("/w/abcdef", "/w", buf, 12), -ENAMETOOLONG);
}

static void expect_driver(const char *name, const char *toolchain, const char *triplet,
                          const char *version)
{
	DriverName d;
	int r = toolchain_parse_driver(name, &d);

	if (!toolchain) {
		if (r != -ENOENT)
			fail_msg("%s: taken for the driver of %s", name, d.toolchain);
		assert_null(d.toolchain);
		return;
	}
	if (r < 0)
		fail_msg("%s: not taken for a driver", name);
	assert_string_equal(d.toolchain, toolchain);
	assert_string_equal(d.triplet, triplet);
	assert_string_equal(d.version, version);
}

static void test_driver_names(void **state)
{
	(void)state;
	expect_driver("gcc", "gcc", "", "");
	expect_driver("gcc-12", "gcc", "", "12");
	expect_driver("x86_64-linux-gnu-gcc-12", "gcc", "x86_64-linux-gnu", "12");
	expect_driver("aarch64-linux-gnu-g++", "gcc", "aarch64-linux-gnu", "");
	expect_driver("g++-12.2", "gcc", "", "12.2");
	expect_driver("cc", "gcc", "", "");
	expect_driver("c++", "gcc", "", "");
	expect_driver("clang", "clang", "", "");
	expect_driver("clang++-14", "clang", "", "14");
	expect_driver("make", NULL, NULL, NULL);
	expect_driver("sh", NULL, NULL, NULL);
	expect_driver("python3", NULL, NULL, NULL);
	expect_driver("gcc-", NULL, NULL, NULL);
	expect_driver("-gcc", NULL, NULL, NULL);
	expect_driver("evil-gcc", NULL, NULL, NULL); /* a triplet has two words at least */
	expect_driver("Evil-Linux-gcc", NULL, NULL, NULL);
	expect_driver("gcc-ar-12", NULL, NULL, NULL);
	expect_driver("x86_64-linux-gnu-gcc-nm-12", NULL, NULL, NULL);
}

/* A fake installation under a temporary directory. */
static char root[PATH_MAX];

static void put(const char *rel, mode_t mode)
{
	char path[PATH_MAX], dir[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", root, rel);
	(void)snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		(void)mkdir(dir, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	(void)fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void link_to(const char *target, const char *rel)
{
	char path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

typedef struct Found {
	char list[4096];
	int fail_at; /* return -EIO at this call (1-based), 0 never */
	int calls;
} Found;

static int collect(void *userdata, const char *helper, const char *toolchain)
{
	Found *f = userdata;
	size_t o = strlen(f->list);

	if (++f->calls == f->fail_at)
		return -EIO;
	(void)snprintf(f->list + o, sizeof(f->list) - o, "%s %s:%s\n", toolchain,
	               helper + strlen(root) + 1, "x");
	return 0;
}

static int setup_tree(void **state)
{
	(void)state;
	(void)snprintf(root, sizeof(root), "/tmp/ob-unit-toolchain-XXXXXX");
	assert_non_null(mkdtemp(root));
	put("usr/bin/x86_64-linux-gnu-gcc-12", 0755);
	link_to("x86_64-linux-gnu-gcc-12", "usr/bin/gcc-12");
	link_to("gcc-12", "usr/bin/gcc");
	put("etc/alternatives/.keep", 0644);
	char target[PATH_MAX];
	(void)snprintf(target, sizeof(target), "%s/usr/bin/gcc", root);
	link_to(target, "etc/alternatives/cc");
	(void)snprintf(target, sizeof(target), "%s/etc/alternatives/cc", root);
	link_to(target, "usr/bin/cc");
	put("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 0755);
	put("usr/lib/gcc/x86_64-linux-gnu/12/collect2", 0755);
	put("usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", 0644); /* not executable */
	put("usr/lib/gcc/x86_64-linux-gnu/12/f951", 0755);    /* not a helper we know */
	put("usr/lib/gcc/x86_64-linux-gnu/11/cc1", 0755);     /* another gcc's */
	put("usr/lib/gcc/x86_64-linux-gnu/plugin/cc1", 0755); /* not a version */
	put("usr/bin/x86_64-linux-gnu-as", 0755);
	link_to("x86_64-linux-gnu-as", "usr/bin/as");
	put("usr/bin/ld.bfd", 0755);
	put("usr/bin/python3", 0755);
	put("usr/bin/make", 0755);
	put("opt/llvm/bin/clang", 0755);
	put("opt/llvm/bin/ld.lld", 0755);
	link_to("../../opt/llvm/bin/clang", "usr/bin/clang");
	link_to("/bin/true", "usr/lib/gcc/x86_64-linux-gnu/12/cout"); /* out of the tree */
	link_to("collect2", "usr/lib/gcc/x86_64-linux-gnu/12/clink"); /* within it */
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int helpers_of(const char *rel, Found *f)
{
	char driver[PATH_MAX];

	(void)snprintf(driver, sizeof(driver), "%s/%s", root, rel);
	return toolchain_helpers(driver, collect, f);
}

static void test_gcc_helpers(void **state)
{
	Found f = {0};

	(void)state;
	/* cc → /etc/alternatives/cc → gcc → gcc-12 → x86_64-linux-gnu-gcc-12 */
	const char *want = "gcc usr/lib/gcc/x86_64-linux-gnu/12/cc1:x\n"
	                   "gcc usr/lib/gcc/x86_64-linux-gnu/12/collect2:x\n"
	                   "gcc usr/bin/as:x\n"
	                   "gcc usr/bin/x86_64-linux-gnu-as:x\n"
	                   "gcc usr/bin/ld.bfd:x\n";
	assert_int_equal(helpers_of("usr/bin/cc", &f), 5);
	assert_string_equal(f.list, want);
	f = (Found){0};
	assert_int_equal(helpers_of("usr/bin/x86_64-linux-gnu-gcc-12", &f), 5);
	assert_string_equal(f.list, want);
	f = (Found){.fail_at = 2};
	assert_int_equal(helpers_of("usr/bin/gcc", &f), -EIO);
}

static void test_not_a_driver(void **state)
{
	Found f = {0};

	(void)state;
	assert_int_equal(helpers_of("usr/bin/make", &f), 0);
	assert_int_equal(helpers_of("usr/bin/python3", &f), 0);
	assert_int_equal(helpers_of("usr/bin/missing", &f), 0);
	assert_string_equal(f.list, "");
}

static void test_clang_helpers(void **state)
{
	Found f = {0};

	(void)state;
	/* its own bin directory; the binutils beside the name it was found by */
	assert_int_equal(helpers_of("usr/bin/clang", &f), 5);
	assert_string_equal(f.list, "clang opt/llvm/bin/clang:x\n"
	                            "clang opt/llvm/bin/ld.lld:x\n"
	                            "clang usr/bin/as:x\n"
	                            "clang usr/bin/x86_64-linux-gnu-as:x\n"
	                            "clang usr/bin/ld.bfd:x\n");
}

static void test_patterns_in_a_plan(void **state)
{
	Plan p = {0};
	const char *prefix;

	(void)state;
	assert_int_equal(plan_add(&p, STEP_TMPFS, NULL, "/tmp", "size=1m",
	                          MS_NOSUID | MS_NODEV | MS_NOEXEC, "runtime"),
	                 0);
	assert_int_equal(exec_patterns_add(&p, "/workspace/*.sh", &prefix), 0);
	assert_string_equal(prefix, "/workspace");
	assert_false(p.exec_patterns[0].exact);
	assert_true(p.steps[0].flags & MS_NOEXEC); /* /tmp stays noexec */
	assert_true(exec_patterns_match(&p, "/workspace/run.sh"));
	assert_false(exec_patterns_match(&p, "/workspace/other.bin"));
	assert_false(exec_patterns_match(&p, "/workspace/sub/run.sh"));
	assert_true(exec_patterns_beneath(&p, "/workspace/other.bin"));
	assert_false(exec_patterns_beneath(&p, "/workspacex/run.sh"));
	assert_false(exec_patterns_beneath(&p, "/usr/bin/id"));
	assert_int_equal(exec_patterns_add(&p, "/tmp/**", &prefix), 0);
	assert_true(p.exec_patterns[1].exact);
	assert_false(p.steps[0].flags & MS_NOEXEC); /* exec in /tmp: a grant covers it */
	assert_true(exec_patterns_match(&p, "/tmp/a/b"));
	assert_int_equal(exec_patterns_add(&p, "/a/**/b**", &prefix), -EINVAL);
	exec_patterns_free(&p);
	assert_int_equal(p.n_exec_patterns, 0);

	assert_int_equal(exec_patterns_add(&p, "/**", &prefix), 0);
	assert_string_equal(prefix, "/");
	assert_true(p.exec_patterns[0].exact);
	assert_true(exec_patterns_beneath(&p, "/usr/bin/id"));
	plan_done(&p);
}

static void test_rule_json(void **state)
{
	FsRule rule = {.path = (char *)"/usr/bin/as", .access = 5};

	(void)state;
	json_t *o = exec_rule_json(&rule);
	assert_null(json_object_get(o, "why"));
	json_decref(o);
	rule.why = (char *)"toolchain gcc of EXTERNAL_COMMAND:gcc";
	o = exec_rule_json(&rule);
	assert_string_equal(json_string_value(json_object_get(o, "why")), rule.why);
	json_decref(o);
}

/* fs_rules_build with command grants: patterns on their prefix, a name pattern refused. */
static void build_with(const char *const *grants, int code, const char *needle, Plan *p)
{
	ob_capset *caps;
	ob_error e = {0};

	assert_int_equal(ob_capset_new(&caps), 0);
	for (size_t i = 0; grants[i]; i++) {
		ob_capability *c;
		assert_int_equal(ob_capability_parse(&c, grants[i], "/work", &e), 0);
		assert_int_equal(ob_capset_add(caps, c), 0);
		ob_capability_free(c);
	}
	int r = fs_rules_build(p, caps, NULL, "/usr/bin:/bin", &e);
	if (r != code || (needle && !strstr(e.msg, needle)))
		fail_msg("%d %s (wanted %d '%s')", r, e.msg, code, needle ? needle : "");
	ob_capset_unref(caps);
}

static const char *why_of(const Plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].path, path) == 0)
			return p->rules[i].why ? p->rules[i].why : "";
	return NULL;
}

static void test_rules_of_grants(void **state)
{
	Plan p = {.exec_path = (char *)"/bin/true"};

	(void)state;
	assert_int_equal(plan_add(&p, STEP_BIND, "/work", "/workspace", NULL, MS_NOSUID, "w"), 0);
	assert_int_equal(plan_add(&p, STEP_TMPFS, NULL, "/tmp", "size=1m", MS_NOEXEC, "tmp"), 0);
	build_with((const char *const[]){"EXTERNAL_COMMAND:/workspace/*.sh",
	                                 "EXTERNAL_COMMAND:./tools/*", "EXTERNAL_COMMAND:./built",
	                                 "EXTERNAL_COMMAND:/tmp/x", "EXTERNAL_COMMAND:/bin/sh",
	                                 NULL},
	           0, NULL, &p);
	assert_string_equal(why_of(&p, "/workspace"), "EXTERNAL_COMMAND:/workspace/*.sh");
	assert_non_null(why_of(&p, "/workspace/tools")); /* ./tools/(any) from the workdir */
	/* and where the host has it: nothing writable there, so the files that match now, each
	 * with a rule of its own (none: /work/tools is not there) */
	assert_null(why_of(&p, "/work/tools"));
	/* a literal: at both paths, with a rule of its own where the host has it (shown there
	 * by a FILE_* grant) */
	assert_non_null(why_of(&p, "/work/built"));
	assert_true(exec_patterns_match(&p, "/workspace/built"));
	assert_true(exec_patterns_match(&p, "/tmp/x"));
	assert_false(p.steps[1].flags & MS_NOEXEC); /* /tmp/x may be run */
	assert_string_equal(why_of(&p, "/bin/sh"), "EXTERNAL_COMMAND:/bin/sh");
	p.exec_path = NULL;
	plan_done(&p);

	Plan q = {.exec_path = (char *)"/bin/true"};
	build_with((const char *const[]){"EXTERNAL_COMMAND:git*", NULL}, -EOPNOTSUPP,
	           "name pattern", &q);
	q.exec_path = NULL;
	plan_done(&q);
	Plan m = {.exec_path = (char *)"/bin/true"};
	build_with((const char *const[]){"EXTERNAL_COMMAND:no-such-command-here", NULL}, -EINVAL,
	           "not found on PATH", &m);
	m.exec_path = NULL;
	plan_done(&m);
}

static int count_match(void *userdata, const char *path)
{
	return collect(userdata, path, "m");
}

static int expand(const char *rel_pattern, Found *f)
{
	char pattern[PATH_MAX];
	const char *msg = NULL;
	Glob g;

	(void)snprintf(pattern, sizeof(pattern), "%s/%s", root, rel_pattern);
	assert_int_equal(glob_compile_path(&g, pattern, strlen(pattern), &msg), 0);
	int r = exec_pattern_expand(&g, count_match, f);
	glob_done(&g);
	return r;
}

static void test_expand(void **state)
{
	Found f = {0};

	(void)state;
	/* 11/cc1, 12/cc1, 12/clink (a link within the prefix), 12/collect2; not cc1plus (not
	 * executable), not cout (a link out of the prefix), not plugin/cc1 (1? is two bytes) */
	assert_int_equal(expand("usr/lib/gcc/*/1?/c*", &f), 4);
	assert_non_null(strstr(f.list, "x86_64-linux-gnu/11/cc1:"));
	assert_non_null(strstr(f.list, "x86_64-linux-gnu/12/cc1:"));
	assert_non_null(strstr(f.list, "x86_64-linux-gnu/12/clink:"));
	assert_non_null(strstr(f.list, "x86_64-linux-gnu/12/collect2:"));
	assert_null(strstr(f.list, "cout"));
	f = (Found){0};
	assert_int_equal(expand("usr/lib/gcc/x86_64-linux-gnu/12/f9?1", &f), 1);
	f = (Found){0};
	assert_int_equal(expand("usr/lib/gcc/x86_64-linux-gnu/1*/cc1", &f), 2);
	f = (Found){0};
	assert_int_equal(expand("nowhere/*", &f), 0);
	assert_int_equal(expand("usr/**/cc1", &f), -E2BIG); /* trees are not walked */
	f = (Found){.fail_at = 1};
	assert_int_equal(expand("usr/bin/*", &f), -EIO);
	for (int i = 0; i <= EXEC_EXPAND_MAX; i++) {
		char name[64];
		(void)snprintf(name, sizeof(name), "many/f%d", i);
		put(name, 0755);
	}
	f = (Found){0};
	assert_int_equal(expand("many/f*", &f), -E2BIG);
}

/* The library's check says what the runner does for patterns: lexical, normalised. */
static void test_library_check_agrees(void **state)
{
	ob_capset *caps;
	ob_capability *c;
	ob_error e = {0};
	ob_cap_error ce;

	(void)state;
	assert_int_equal(ob_capset_new(&caps), 0);
	const char *grants[] = {"EXTERNAL_COMMAND:/workspace/*.sh", "EXTERNAL_COMMAND:/opt/t/**"};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ob_capability_parse(&c, grants[i], "/w", &e), 0);
		assert_int_equal(ob_capset_add(caps, c), 0);
		ob_capability_free(c);
	}
	assert_int_equal(ob_check_command(caps, NULL, "/workspace/run.sh", &ce), 0);
	assert_int_equal(ob_check_command(caps, NULL, "/workspace/other.bin", &ce), -EACCES);
	assert_string_equal(ce.needed, "EXTERNAL_COMMAND:/workspace/other.bin");
	assert_int_equal(ob_check_command(caps, NULL, "/workspace/sub/run.sh", &ce), -EACCES);
	assert_int_equal(ob_check_command(caps, NULL, "/opt/t/a/b", &ce), 0);
	assert_int_equal(ob_check_command(caps, NULL, "/opt/t/../u/x", &ce), -EACCES);
	assert_int_equal(ob_check_command(caps, NULL, "/workspace/../x.sh", &ce), -EACCES);
	ob_capset_unref(caps);
}

/* In a child: P's Landlock domain applied, then a TCP connect to PORT on 127.0.0.1. Its
 * errno, 0 when it connected. */
static int connect_under(const Plan *p, uint16_t port)
{
	pid_t pid = fork();
	if (pid == 0) {
		const char *failed = "";
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_port = htons(port),
		                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    fs_rules_apply(p, &failed, NULL) < 0)
			_exit(100);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		_exit(connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? 0 : errno);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* With network grants the domain limits TCP connects: to the listed port only (the proxy's),
 * to none when none is listed (the transparent path, whose connects the supervisor makes:
 * the docs and SandboxStart's landlock_tcp said so while the rule was not set). */
static void test_tcp_rule_applied(void **state)
{
	Plan p = {.landlock_abi = fs_rules_abi()};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	(void)state;

	if (p.landlock_abi < 4)
		skip();
	int l = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 8), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	uint16_t port = ntohs(sin.sin_port);
	assert_int_equal(connect_under(&p, port), 0); /* no network grant: not handled */
	p.tcp_connect_handled = true;
	assert_true(fs_rules_limit_tcp(&p));
	assert_int_equal(connect_under(&p, port), EACCES);
	p.tcp_connect_ports[p.n_tcp_connect_ports++] = port;
	assert_int_equal(connect_under(&p, port), 0);
	(void)close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pattern_prefix),
	    cmocka_unit_test(test_pattern_inside),
	    cmocka_unit_test(test_driver_names),
	    cmocka_unit_test_setup_teardown(test_gcc_helpers, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_not_a_driver, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_clang_helpers, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_expand, setup_tree, teardown_tree),
	    cmocka_unit_test(test_patterns_in_a_plan),
	    cmocka_unit_test(test_rule_json),
	    cmocka_unit_test(test_rules_of_grants),
	    cmocka_unit_test(test_library_check_agrees),
	    cmocka_unit_test(test_tcp_rule_applied),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
