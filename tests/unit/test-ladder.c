/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The protection ladder's pure parts: the Landlock test knob that only lowers, the plan of
 * the tier without namespaces on host paths, and doctor's verdicts for hosts this machine is
 * not (fed as the probe's JSON).
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "runner/doctor.h"
#include "runner/nons.h"
#include "runner/probe.h"

static void test_landlock_knob_only_lowers(void **state)
{
	(void)state;
	assert_int_equal(probe_lower_landlock_abi(7, NULL), 7);
	assert_int_equal(probe_lower_landlock_abi(7, ""), 7);
	assert_int_equal(probe_lower_landlock_abi(7, "2"), 2);
	assert_int_equal(probe_lower_landlock_abi(7, "0"), 0);
	assert_int_equal(probe_lower_landlock_abi(7, "7"), 7);
	assert_int_equal(probe_lower_landlock_abi(3, "9"), 3); /* never raised */
	assert_int_equal(probe_lower_landlock_abi(7, "-1"), 7);
	assert_int_equal(probe_lower_landlock_abi(7, "2x"), 7);
	assert_int_equal(probe_lower_landlock_abi(7, "99999999999999999999"), 7);
	assert_int_equal(probe_lower_landlock_abi(0, "1"), 0);
}

/* A plan's steps as the layout makes them: the runtime, a grant, the workspace, tmpfs. */
static MountStep steps[] = {
    {.kind = STEP_BIND, .src = "/usr", .dest = "/usr", .flags = MS_RDONLY},
    {.kind = STEP_SYMLINK, .src = "usr/bin", .dest = "/bin"},
    {.kind = STEP_TMPFS, .dest = "/dev"},
    {.kind = STEP_BIND, .src = "/dev/null", .dest = "/dev/null"},
    {.kind = STEP_DIR, .dest = "/etc"},
    {.kind = STEP_FILE, .dest = "/etc/passwd"},
    {.kind = STEP_PROC, .dest = "/proc"},
    {.kind = STEP_TMPFS, .dest = "/tmp"},
    {.kind = STEP_BIND, .src = "/home/u/project", .dest = "/workspace"},
    {.kind = STEP_BIND, .src = "/proc/sys", .dest = "/proc/sys", .src_inside = true},
};

static Plan plan_with(const char *exec_path, const char *cwd)
{
	static const char *const paths[] = {
	    "/", "/usr", "/dev/null", "/tmp", "/proc", "/workspace/bin/tool", "/etc/passwd"};
	Plan p = {.steps = steps, .n_steps = sizeof(steps) / sizeof(steps[0]), .landlock_abi = 7};

	p.rules = calloc(sizeof(paths) / sizeof(paths[0]), sizeof(FsRule));
	assert_non_null(p.rules);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		p.rules[p.n_rules++] = (FsRule){.path = strdup(paths[i]), .access = 0xf};
	p.exec_path = strdup(exec_path);
	p.cwd = strdup(cwd);
	p.envp = calloc(3, sizeof(char *));
	assert_non_null(p.envp);
	p.envp[0] = strdup("HOME=/workspace");
	p.envp[1] = strdup("LANG=C");
	return p;
}

static void plan_free(Plan *p)
{
	for (size_t i = 0; i < p->n_rules; i++)
		free(p->rules[i].path);
	free(p->rules);
	free(p->exec_path);
	free(p->cwd);
	for (size_t i = 0; p->envp && p->envp[i]; i++)
		free(p->envp[i]);
	free(p->envp);
}

static void test_host_paths(void **state)
{
	Plan p = plan_with("/bin/true", "/workspace");
	char buf[64];

	(void)state;
	assert_int_equal(nons_host_path(&p, "/workspace/a/b", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/project/a/b");
	assert_int_equal(nons_host_path(&p, "/usr/bin/python3", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/usr/bin/python3");
	assert_int_equal(nons_host_path(&p, "/bin/true", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/bin/true");
	assert_int_equal(nons_host_path(&p, "/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(nons_host_path(&p, "/proc/self/status", buf, sizeof(buf)), 0);
	/* what the sandbox makes itself has no host path */
	assert_int_equal(nons_host_path(&p, "/tmp/x", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(nons_host_path(&p, "/dev/tty", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(nons_host_path(&p, "/etc/passwd", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(nons_host_path(&p, "/etc/shadow", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(nons_host_path(&p, "/proc/sys/kernel", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(nons_host_path(&p, "/opt/x", buf, sizeof(buf)), -ENOENT);
	/* /workspacex is not under /workspace */
	assert_int_equal(nons_host_path(&p, "/workspacex", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(
	    nons_host_path(&p, "/workspace/a-rather-long-name-well-past-the-buffer-size-of-64", buf,
	                   sizeof(buf)),
	    -ENAMETOOLONG);
	plan_free(&p);
}

static void test_host_paths_mode_rx(void **state)
{
	MountStep root[] = {{.kind = STEP_BIND, .src = "/", .dest = "/", .flags = MS_RDONLY},
	                    {.kind = STEP_TMPFS, .dest = "/tmp"}};
	Plan p = {.steps = root, .n_steps = 2};
	char buf[64];

	(void)state;
	assert_int_equal(nons_host_path(&p, "/etc/hosts", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/hosts");
	assert_int_equal(nons_host_path(&p, "/tmp/x", buf, sizeof(buf)), -ENOENT);
}

static void test_plan_on_host_paths(void **state)
{
	Plan p = plan_with("/workspace/bin/tool", "/workspace");
	ob_error e = {0};

	(void)state;
	assert_int_equal(nons_plan(&p, true, &e), 0);
	assert_true(p.no_namespaces);
	assert_string_equal(p.exec_path, "/home/u/project/bin/tool");
	assert_string_equal(p.cwd, "/home/u/project");
	assert_string_equal(p.envp[0], "HOME=/home/u/project");
	assert_string_equal(p.envp[1], "LANG=C");
	/* kept: /, /usr, /dev/null, /proc (read only), the tool; gone: /tmp, /etc/passwd */
	assert_int_equal(p.n_rules, 5);
	for (size_t i = 0; i < p.n_rules; i++) {
		assert_string_not_equal(p.rules[i].path, "/tmp");
		if (strcmp(p.rules[i].path, "/proc") == 0)
			assert_int_equal(p.rules[i].access, (1 << 2) | (1 << 3));
	}
	json_t *prot = nons_protections_json(&p, &(Cgroup){.version = 0});
	assert_string_equal(json_string_value(json_object_get(prot, "tier")), "no-namespaces");
	assert_true(json_is_false(json_object_get(prot, "netns")));
	assert_true(json_is_true(json_object_get(prot, "rlimits")));
	json_decref(prot);
	plan_free(&p);

	/* a working directory the sandbox makes itself: the root */
	p = plan_with("/bin/true", "/tmp");
	assert_int_equal(nons_plan(&p, true, &e), 0);
	assert_string_equal(p.cwd, "/");
	plan_free(&p);
}

static void test_plan_refusals(void **state)
{
	ob_error e = {0};
	Plan p = plan_with("/bin/true", "/");

	(void)state;
	assert_int_equal(nons_plan(&p, false, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "omnibase doctor"));
	assert_non_null(strstr(e.msg, "--allow-degraded"));
	p.proxy = true;
	assert_int_equal(nons_plan(&p, true, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "network grants"));
	p.proxy = false;
	p.has_secrets = true;
	assert_int_equal(nons_plan(&p, true, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "secrets"));
	p.has_secrets = false;
	p.n_dbs = 1;
	assert_int_equal(nons_plan(&p, true, &e), -EOPNOTSUPP);
	p.n_dbs = 0;
	p.landlock_abi = 0;
	assert_int_equal(nons_plan(&p, true, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "Landlock"));
	p.landlock_abi = 7;
	free(p.exec_path);
	p.exec_path = strdup("/tmp/made-inside");
	assert_int_equal(nons_plan(&p, true, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "must be a host file"));
	plan_free(&p);
}

static char *doctor(const char *probe_json)
{
	json_error_t je;
	json_t *o = json_loads(probe_json, 0, &je);
	char *text = NULL;

	assert_non_null(o);
	assert_int_equal(doctor_text(o, &text), 0);
	json_decref(o);
	return text;
}

static void test_doctor_ubuntu_like_host(void **state)
{
	(void)state;
	char *t = doctor("{\"version\": \"0.1\", \"kernel\": \"6.8.0\", \"root\": false, "
	                 "\"userns\": false, \"namespaces\": false, \"userns_blocker\": "
	                 "\"kernel.apparmor_restrict_unprivileged_userns=1\", \"userns_fix\": "
	                 "\"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\", "
	                 "\"landlock_abi\": 4, \"seccomp_notify\": true, \"pidfd_getfd\": true, "
	                 "\"addfd_setfd\": true, \"memfd_noexec\": true, \"cgroup\": \"none\", "
	                 "\"cgroup_v2_controllers\": [\"cpu\", \"memory\", \"pids\"], "
	                 "\"backends\": {\"gvisor\": {\"installed\": false}, \"runc\": "
	                 "{\"installed\": true, \"version\": \"1.1\"}}}");
	assert_non_null(strstr(t, "userns          NO       refused by "
	                          "kernel.apparmor_restrict_unprivileged_userns=1; fix: sudo"));
	assert_non_null(strstr(t, "ABI 4; lacks device ioctl rules"));
	assert_non_null(strstr(t, "native          degraded without namespaces"));
	assert_non_null(strstr(t, "gvisor          no       not installed"));
	assert_non_null(strstr(t, "runc            no       1.1: as root only"));
	assert_non_null(strstr(t, "none writable: memory and process limits by rlimits"));
	assert_non_null(strstr(t, "v2: cpu memory pids"));
	assert_non_null(strstr(t, "verdict: new user namespaces are refused"));
	free(t);
}

static void test_doctor_debian_12_host(void **state)
{
	(void)state;
	char *t = doctor("{\"kernel\": \"6.1.0\", \"root\": true, \"userns\": true, "
	                 "\"landlock_abi_kernel\": 7, "
	                 "\"namespaces\": true, \"landlock_abi\": 2, \"seccomp_notify\": true, "
	                 "\"pidfd_getfd\": false, \"addfd_setfd\": false, \"cgroup\": \"v2\", "
	                 "\"cgroup_v2_controllers\": [], \"backends\": {\"gvisor\": "
	                 "{\"installed\": true, \"version\": \"x\"}, \"crun\": {\"installed\": "
	                 "true, \"version\": \"1.8\"}}}");
	assert_non_null(strstr(t, "ABI 2 (the kernel's 7 lowered by OB_TEST_LANDLOCK_ABI_MAX)"));
	assert_non_null(strstr(t, "lacks truncation rules "
	                          "(TRUNCATE) (ABI 3, Linux 6.2), TCP connect rules"));
	assert_non_null(strstr(t, "pidfd_getfd     no"));
	assert_non_null(strstr(t, "addfd           no"));
	assert_non_null(strstr(t, "memfd_noexec    no"));
	assert_non_null(strstr(t, "v2, limits by cgroup; delegated: no controllers"));
	assert_non_null(strstr(t, "native          yes      full"));
	assert_non_null(strstr(t, "gvisor          degraded"));
	assert_non_null(strstr(t, "crun            yes      1.8: namespaces"));
	assert_non_null(strstr(t, "verdict: the native backend runs with every protection"));
	free(t);
}

static void test_doctor_bare_hosts(void **state)
{
	(void)state;
	char *t = doctor("{\"userns\": true, \"namespaces\": false, \"landlock_abi\": 0, "
	                 "\"seccomp_notify\": true, \"cgroup\": \"v1\"}");
	assert_non_null(strstr(t, "landlock        NO"));
	assert_non_null(strstr(t, "a user namespace, but not the others"));
	assert_non_null(strstr(t, "native          degraded namespaces and seccomp"));
	assert_non_null(strstr(t, "verdict: no Landlock"));
	free(t);
	t = doctor("{\"userns\": false, \"landlock_abi\": 0, \"seccomp_notify\": true}");
	assert_non_null(strstr(t, "native          no       cannot run: no namespaces and no"));
	free(t);
	t = doctor("{\"userns\": true, \"landlock_abi\": 6, \"seccomp_notify\": false}");
	assert_non_null(strstr(t, "landlock        yes      ABI 6\n"));
	assert_non_null(strstr(t, "native          no       cannot run: no seccomp user"));
	free(t);
}

static void test_landlock_lacks(void **state)
{
	(void)state;
	json_t *a = doctor_landlock_lacks(2);
	assert_int_equal(json_array_size(a), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "abi")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "linux")),
	                    "6.7");
	json_decref(a);
	a = doctor_landlock_lacks(6);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_landlock_knob_only_lowers),
	    cmocka_unit_test(test_host_paths),
	    cmocka_unit_test(test_host_paths_mode_rx),
	    cmocka_unit_test(test_plan_on_host_paths),
	    cmocka_unit_test(test_plan_refusals),
	    cmocka_unit_test(test_doctor_ubuntu_like_host),
	    cmocka_unit_test(test_doctor_debian_12_host),
	    cmocka_unit_test(test_doctor_bare_hosts),
	    cmocka_unit_test(test_landlock_lacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
