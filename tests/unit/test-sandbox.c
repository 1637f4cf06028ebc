/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sandbox builder and planner through the public API: validation, copies, the plan. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "omnibase/omnibase.h"
#include <cmocka.h>

#include "basic/fdpass.h"
#include "basic/procfs.h"
#include "plan/identity.h"
#include "plan/syscall-filter.h"

static ob_sandbox *new_sandbox(void)
{
	ob_sandbox *sb;
	assert_int_equal(ob_sandbox_new(&sb), 0);
	return sb;
}

static void test_modes(void **state)
{
	(void)state;
	assert_string_equal(ob_sandbox_mode_to_string(OB_MODE_SANDBOX), "sandbox");
	assert_string_equal(ob_sandbox_mode_to_string(OB_MODE_RX), "rx");
	assert_string_equal(ob_sandbox_mode_to_string(OB_MODE_RWX), "rwx");
	assert_null(ob_sandbox_mode_to_string(OB_MODE_MAX));
	assert_int_equal(ob_sandbox_mode_from_string("rx"), OB_MODE_RX);
	assert_int_equal(ob_sandbox_mode_from_string("open"), OB_MODE_INVALID);
	assert_int_equal(ob_sandbox_mode_from_string(NULL), OB_MODE_INVALID);
}

static void test_builder_validation(void **state)
{
	(void)state;
	ob_sandbox *sb = new_sandbox();
	ob_error e;
	char *argv_empty[] = {NULL};

	assert_int_equal(ob_sandbox_set_mode(sb, OB_MODE_MAX), -EINVAL);
	assert_int_equal(ob_sandbox_set_mode(sb, OB_MODE_RX), 0);
	assert_int_equal(ob_sandbox_set_workdir(sb, "/nonexistent/dir", &e), -ENOENT);
	assert_non_null(strstr(e.msg, "--workdir"));
	assert_int_equal(ob_sandbox_set_workdir(sb, "/tmp", &e), 0);
	assert_int_equal(ob_sandbox_add_env(sb, "NOEQUALS", &e), -EINVAL);
	assert_int_equal(ob_sandbox_add_env(sb, "=x", &e), -EINVAL);
	assert_int_equal(ob_sandbox_add_env(sb, "A=1", &e), 0);
	assert_int_equal(ob_sandbox_add_secret(sb, "x=plain", &e), -EINVAL);
	assert_int_equal(ob_sandbox_add_secret(sb, "x", &e), -EINVAL);
	assert_int_equal(ob_sandbox_add_secret(sb, "x=env:HOME", &e), 0);
	assert_int_equal(ob_sandbox_set_command(sb, argv_empty, &e), -EINVAL);
	assert_int_equal(ob_sandbox_set_context(sb, "bad key", "v"), -EINVAL);
	assert_int_equal(ob_sandbox_set_context(sb, "env", "prod"), 0);
	assert_int_equal(ob_sandbox_add_audit_fd(sb, -1), -EINVAL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ob_sandbox_add_audit_log(sb, "/dev/null"), 0);
	assert_int_equal(ob_sandbox_add_audit_log(sb, "/dev/null"), -E2BIG);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ob_sandbox_add_audit_fd(sb, 2), 0);
	assert_int_equal(ob_sandbox_add_audit_fd(sb, 2), -E2BIG);
	assert_int_equal(ob_sandbox_set_allow_degraded(sb, true), 0);
	assert_int_equal(ob_sandbox_set_capture_output(sb, true), 0);
	assert_null(ob_sandbox_free(sb));
	assert_null(ob_sandbox_free(NULL));
	ob_result_done(NULL);
}

static void test_plan_errors(void **state)
{
	(void)state;
	ob_sandbox *sb = new_sandbox();
	ob_error e = {0};
	ob_result res;
	char *plan = NULL;

	assert_int_equal(ob_sandbox_plan_json(sb, &plan, &e), -EINVAL); /* no program */
	char *missing[] = {"/nonexistent/program", NULL};
	assert_int_equal(ob_sandbox_set_command(sb, missing, &e), 0);
	assert_int_equal(ob_sandbox_plan_json(sb, &plan, &e), -ENOENT);
	assert_int_equal(ob_sandbox_run(sb, &res, &e), -ENOENT);
	assert_int_equal(res.exit_code, OB_EXIT_NOTFOUND);
	char *dir[] = {"/tmp", NULL};
	assert_int_equal(ob_sandbox_set_command(sb, dir, &e), 0);
	assert_int_equal(ob_sandbox_run(sb, &res, &e), -EACCES);
	assert_int_equal(res.exit_code, OB_EXIT_NOEXEC);
	char *nameless[] = {"surely-no-such-command-here", NULL};
	assert_int_equal(ob_sandbox_set_command(sb, nameless, &e), 0);
	assert_int_equal(ob_sandbox_plan_json(sb, &plan, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "not found on PATH"));
	ob_sandbox_free(sb);
}

static void test_plan_json(void **state)
{
	(void)state;
	ob_sandbox *sb = new_sandbox();
	ob_capset *caps;
	ob_capability *c;
	ob_error e;
	char *plan = NULL;
	char *argv[] = {"/bin/true", "arg", NULL};

	assert_int_equal(ob_capset_new(&caps), 0);
	assert_int_equal(ob_capability_parse(&c, "FILE_READ:/etc/hostname", "/", &e), 0);
	assert_int_equal(ob_capset_add(caps, c), 0);
	ob_capability_free(c);
	assert_int_equal(ob_sandbox_set_capabilities(sb, caps), 0);
	ob_capset_unref(caps);
	/* the set held already, by the sandbox alone: referenced before it is released */
	assert_int_equal(ob_sandbox_set_capabilities(sb, caps), 0);
	assert_int_equal(ob_sandbox_set_command(sb, argv, &e), 0);
	assert_int_equal(ob_sandbox_add_env(sb, "K=V", &e), 0);
	ob_limits l;
	ob_limits_init(&l);
	l.value[OB_LIMIT_TMPFS] = 8 << 20;
	assert_int_equal(ob_sandbox_set_limits(sb, &l), 0);
	if (ob_sandbox_plan_json(sb, &plan, &e) < 0)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(plan, "\"argv\": [\n    \"/bin/true\",\n    \"arg\""));
	assert_non_null(strstr(plan, "\"K=V\""));
	assert_non_null(strstr(plan, "\"FILE_READ:/etc/hostname\""));
	assert_non_null(strstr(plan, "size=8388608"));
	assert_non_null(strstr(plan, "\"landlock\""));
	free(plan);
	ob_sandbox_free(sb);
}

static void test_probe(void **state)
{
	(void)state;
	char *s = NULL;
	assert_int_equal(ob_probe_json(&s), 0);
	assert_non_null(strstr(s, "\"landlock_abi\""));
	assert_non_null(strstr(s, "\"cgroup\""));
	free(s);
}

/* The build-time copy of the default policy is what libseccomp builds now, byte for byte;
 * a profile goes through libseccomp and changes the program. */
static void test_seccomp_prebuilt(void **state)
{
	FilterProfile none = {0};
	char *deny[] = {"getppid", NULL};
	FilterProfile prof = {.deny = deny};
	ob_error e;

	(void)state;
	for (int files = 0; files < 2; files++) {
		FilterProg a, b, c;
		assert_int_equal(filter_build(&a, &none, files, &e), 0);
		assert_int_equal(filter_build_fresh(&b, &none, files, &e), 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.code, b.code, a.len * sizeof(a.code[0]));
		assert_int_equal(filter_build(&c, &prof, files, &e), 0);
		assert_true(c.len != a.len ||
		            memcmp(a.code, c.code, a.len * sizeof(a.code[0])) != 0);
		filter_prog_done(&a);
		filter_prog_done(&b);
		filter_prog_done(&c);
	}
	assert_true(filter_is_observed(257 /* openat */, false));
	assert_false(filter_is_observed(262 /* newfstatat */, false));
	assert_true(filter_is_observed(262, true));
	assert_true(filter_is_observed(319 /* memfd_create: made sealed when unsealed */, false));
	char name[64];
	assert_string_equal(filter_syscall_name(0xc000003e, 39, name, sizeof(name)), "getpid");
	assert_string_equal(filter_syscall_name(0xc000003e, 99999, name, sizeof(name)),
	                    "syscall 99999");
}

/* basic/fdpass: what is sent arrives as new fds on the same files; a count mismatch is
 * refused and what came is closed. */
static void test_fdpass(void **state)
{
	(void)state;
	int sp[2], p[2], got[2] = {-1, -1};
	char buf[4] = "";

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fd_send(sp[1], 'x', p, 0), -EINVAL);
	assert_int_equal(fd_send(sp[1], 'x', p, FDPASS_MAX + 1), -EINVAL);
	assert_int_equal(fd_receive(sp[0], got, 1), -EAGAIN); /* nothing sent yet */
	assert_int_equal(fd_send(sp[1], 'x', p, 2), 0);
	assert_int_equal(fd_receive(sp[0], got, 2), 0);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(got[1], "ok", 2), 2);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);
	(void)close(got[0]);
	(void)close(got[1]);
	assert_int_equal(fd_send(sp[1], 'x', p, 2), 0);
	assert_int_equal(fd_receive(sp[0], got, 1), -EBADMSG);
	assert_int_equal(fd_receive(sp[0], got, 5), -EINVAL);
	/* some: 1 to MAX; wait: a byte and 0 to MAX, its tag kept */
	char tag = 0;
	assert_int_equal(fd_send(sp[1], 'y', p, 1), 0);
	assert_int_equal(fd_receive_some(sp[0], got, 2), 1);
	(void)close(got[0]);
	assert_int_equal(send(sp[1], "r", 1, 0), 1);
	assert_int_equal(fd_receive_wait(sp[0], &tag, got, 2), 0);
	assert_int_equal(tag, 'r');
	assert_int_equal(fd_send(sp[1], 'c', p, 2), 0);
	assert_int_equal(fd_receive_wait(sp[0], &tag, got, 2), 2);
	assert_int_equal(tag, 'c');
	(void)close(got[0]);
	(void)close(got[1]);
	assert_int_equal(fd_send(sp[1], 'c', p, 2), 0); /* more than asked for: closed, refused */
	assert_int_equal(fd_receive_wait(sp[0], &tag, got, 1), -EBADMSG);
	/* more fds than any message of ours holds: cut by the kernel (MSG_CTRUNC), refused */
	int five[5] = {p[0], p[1], p[0], p[1], p[0]};
	char cbuf[CMSG_SPACE(sizeof(five))] = {0}, byte = 'c';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(five));
	memcpy(CMSG_DATA(c), five, sizeof(five));
	assert_int_equal(sendmsg(sp[1], &m, 0), 1);
	assert_int_equal(fd_receive_wait(sp[0], &tag, got, FDPASS_MAX), -EBADMSG);
	(void)close(sp[1]);
	assert_int_equal(fd_receive_wait(sp[0], &tag, got, 1), -EPIPE);
	assert_int_equal(fd_receive(sp[0], got, 1), -EPIPE);
	(void)close(sp[0]);
	(void)close(p[0]);
	(void)close(p[1]);
}

/* basic/procfs: our own status, and a pid that is not there. */
static void test_procfs(void **state)
{
	(void)state;
	char v[64];

	assert_true(proc_status_field(getpid(), "Tgid", v, sizeof(v)));
	assert_int_equal(atoi(v), getpid());
	assert_false(proc_status_field(getpid(), "NoSuchKey", v, sizeof(v)));
	assert_int_equal(proc_thread_group(getpid()), getpid());
	assert_int_equal(proc_inner_pid(getpid()), getpid()); /* not in a child namespace */
	assert_int_equal(proc_inner_pid(0x3fffffff), 0x3fffffff);
	assert_int_equal(proc_thread_group(0x3fffffff), 0x3fffffff);
}

/* plan/identity: the host range comes from /etc/subuid's omnibase entry only when it is a
 * whole unprivileged range; anything else is the documented default. */
static void test_identity_base(void **state)
{
	(void)state;
	char path[] = "/tmp/ob-subuid-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char *const cases[][2] = {
	    {"omnibase:200000:65536\n", "200000"},
	    {"alice:100000:65536\nomnibase:300000:70000\n", "300000"},
	    {"omnibase:200000:1000\n", "default"},         /* too few ids */
	    {"omnibase:1000:65536\n", "default"},          /* the system's and its users' ids */
	    {"omnibase:x:y\n", "default"},                 /* not numbers */
	    {"alice:100000:65536\n", "default"},           /* no entry */
	    {"omnibase:-65536:65536\n", "default"},        /* negative */
	    {"omnibase:4294901760:65536\n", "default"},    /* past the last id */
	    {"omnibase:4294901758:65536\n", "4294901758"}, /* ends right below it */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, cases[i][0], strlen(cases[i][0]), 0),
		                 (ssize_t)strlen(cases[i][0]));
		uid_t want = strcmp(cases[i][1], "default") == 0 ? IDENTITY_DEFAULT_BASE
		                                                 : (uid_t)atol(cases[i][1]);
		assert_int_equal(identity_base_from(path), want);
	}
	(void)close(fd);
	(void)unlink(path);
	assert_int_equal(identity_base_from("/nonexistent/subuid"), IDENTITY_DEFAULT_BASE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),         cmocka_unit_test(test_builder_validation),
	    cmocka_unit_test(test_plan_errors),   cmocka_unit_test(test_plan_json),
	    cmocka_unit_test(test_probe),         cmocka_unit_test(test_seccomp_prebuilt),
	    cmocka_unit_test(test_fdpass),        cmocka_unit_test(test_procfs),
	    cmocka_unit_test(test_identity_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
