/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runsc's strace log read for denials inside gVisor (gvtrace.c): lines as this runsc writes
 * them, what counts as a denial, and the FIFO reader's line handling. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/gvtrace.h"

#define HEAD        "I1125 18:36:19.290522   17229 strace.go:608] [   7:   7] python3 X "
#define ENOENT_TAIL " = 0 (0x0) errno=2 (no such file or directory) (45.518µs)"
#define EROFS_TAIL  " = 0 (0x0) errno=30 (read-only file system) (45.518µs)"

static int parse(const char *line, GvCall *call)
{
	return gvtrace_parse_line(line, strlen(line), call);
}

static const char *denial(const char *line, const char **resource, const char **op)
{
	GvCall call;
	*resource = *op = NULL;
	assert_int_equal(parse(line, &call), 1);
	return gvtrace_denial(&call, resource, op);
}

static void test_hidden_file_read(void **state)
{
	const char *res, *op;
	GvCall call;
	(void)state;

	assert_int_equal(parse(HEAD "openat(AT_FDCWD /tmp, 0x7f97 /etc/shadow, "
	                            "O_RDONLY|O_CLOEXEC, 0o0)" ENOENT_TAIL,
	                       &call),
	                 1);
	assert_int_equal(call.kind, GV_OPEN);
	assert_int_equal(call.pid, 7);
	assert_int_equal(call.error, ENOENT);
	assert_false(call.write);
	assert_string_equal(call.path, "/etc/shadow");
	assert_string_equal(gvtrace_denial(&call, &res, &op), "FILE_READ");
	assert_string_equal(res, "/etc/shadow");
	assert_string_equal(op, "read");
}

static void test_writes(void **state)
{
	const char *res, *op;
	(void)state;

	assert_string_equal(
	    denial(HEAD "open(0x7f97 /usr/x, O_WRONLY|O_CREAT|O_TRUNC, 0o666)" EROFS_TAIL, &res,
	           &op),
	    "FILE_WRITE");
	assert_string_equal(res, "/usr/x");
	assert_string_equal(op, "write");
	assert_string_equal(denial(HEAD "creat(0x1 /usr/y, 0o644)" EROFS_TAIL, &res, &op),
	                    "FILE_WRITE");
	/* a read-only open that meets a read-only file system is still a write refused */
	assert_string_equal(denial(HEAD "open(0x1 /usr/z, O_RDONLY, 0o0)" EROFS_TAIL, &res, &op),
	                    "FILE_WRITE");
	/* hidden, opened for writing (/etc/passwd is on every host) */
	assert_string_equal(
	    denial(HEAD "openat(0x3 /, 0x1 /etc/passwd, O_RDWR, 0o0)" ENOENT_TAIL, &res, &op),
	    "FILE_WRITE");
}

static void test_not_denials(void **state)
{
	const char *res, *op;
	(void)state;

	/* absent on the host too; gVisor's own /proc, /sys, /dev; relative paths */
	assert_null(denial(
	    HEAD "openat(AT_FDCWD /tmp, 0x1 /nonexistent/omnibase, O_RDONLY, 0o0)" ENOENT_TAIL,
	    &res, &op));
	assert_null(denial(HEAD "openat(AT_FDCWD /tmp, 0x1 /proc/kcore, O_RDONLY, 0o0)" ENOENT_TAIL,
	                   &res, &op));
	assert_null(
	    denial(HEAD "openat(AT_FDCWD /tmp, 0x1 /sys, O_RDONLY, 0o0)" ENOENT_TAIL, &res, &op));
	assert_null(denial(HEAD "openat(AT_FDCWD /tmp, 0x1 /dev/kvm, O_RDONLY, 0o0)" ENOENT_TAIL,
	                   &res, &op));
	assert_null(
	    denial(HEAD "openat(AT_FDCWD /etc, 0x1 passwd, O_RDONLY, 0o0)" ENOENT_TAIL, &res, &op));
	/* other errors (EACCES: permissions, not the layout) */
	assert_null(denial(HEAD "open(0x1 /etc/passwd, O_RDONLY, 0o0) = 0 (0x0) errno=13 "
	                        "(permission denied) (1µs)",
	                   &res, &op));
}

static void test_connects(void **state)
{
	const char *res, *op;
	GvCall call;
	(void)state;

	assert_string_equal(denial(HEAD "connect(0x3 socket:[1], 0x7f23 {Family: AF_INET, Addr: "
	                                "10.1.2.3, Port: 80}, 0x10) = 0 (0x0) errno=113 (no "
	                                "route to host) (96.042µs)",
	                           &res, &op),
	                    "NETWORK_CONNECT");
	assert_string_equal(res, "10.1.2.3:80");
	assert_string_equal(op, "connect");
	assert_string_equal(denial(HEAD "connect(0x3 socket:[1], 0x7f23 {Family: AF_INET6, Addr: "
	                                "2001:db8::1, Port: 443}, 0x1c) = 0 (0x0) errno=101 "
	                                "(network is unreachable) (9µs)",
	                           &res, &op),
	                    "NETWORK_CONNECT");
	assert_string_equal(res, "[2001:db8::1]:443");
	/* the sandbox's own loopback */
	assert_int_equal(parse(HEAD "connect(0x4 socket:[2], 0x7f23 {Family: AF_INET6, Addr: ::1, "
	                            "Port: 81}, 0x1c) = 0 (0x0) errno=111 (connection refused) "
	                            "(316µs)",
	                       &call),
	                 1);
	assert_true(call.loopback);
	assert_null(gvtrace_denial(&call, &res, &op));
}

static void test_other_lines(void **state)
{
	GvCall call;
	static const char *const lines[] = {
	    /* succeeded; entries; other calls; other log lines */
	    HEAD "openat(AT_FDCWD /tmp, 0x1 /etc/ld.so.cache, O_RDONLY|O_CLOEXEC, 0o0) = 3 (0x3) "
	         "(181.74µs)",
	    "I1125 18:35:09.793882   16441 strace.go:570] [   1:   1] sh E openat(AT_FDCWD /tmp, "
	    "0x1 /etc/shadow, O_RDONLY|O_CLOEXEC, 0o0)",
	    HEAD "execve(0x1 /usr/bin/id, 0x2 [\"id\"], 0x3 []) = 0 (0x0) errno=13 (x) (1µs)",
	    "I1125 18:35:09.731332   16441 main.go:230] \t\tStrace: true, max size: 1024",
	    "W1125 18:35:09.731332   16441 strace.go:608] [   1:   1] sh X open(0x1 /etc/shadow, "
	    "O_RDONLY, 0o0)" ENOENT_TAIL,
	    /* malformed: no mode, odd flags, no address, a unix socket, bad port, pid 0 */
	    HEAD "open(0x1 /etc/shadow, O_RDONLY)" ENOENT_TAIL,
	    HEAD "open(0x1 /etc/shadow, O_RDONLY;rm, 0o0)" ENOENT_TAIL,
	    HEAD "open(/etc/shadow, O_RDONLY, 0o0)" ENOENT_TAIL,
	    HEAD "connect(0x3 socket:[1], 0x1 {Family: AF_UNIX, Addr: \"/x\"}, 0x10) = 0 (0x0) "
	         "errno=2 (x) (1µs)",
	    HEAD "connect(0x3 socket:[1], 0x1 {Family: AF_INET, Addr: 1.2.3.4, Port: 99999}, 0x10)"
	         " = 0 (0x0) errno=113 (x) (1µs)",
	    HEAD "connect(0x3 socket:[1], 0x1 {Family: AF_INET, Addr: 1.2.3, Port: 9}, 0x10)"
	         " = 0 (0x0) errno=113 (x) (1µs)",
	    "I1125 18:36:19.290522   17229 strace.go:608] [   0:   0] sh X open(0x1 /etc/shadow, "
	    "O_RDONLY, 0o0)" ENOENT_TAIL,
	    "",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(parse(lines[i], &call), 0);
	/* a NUL inside */
	assert_int_equal(gvtrace_parse_line("I\0strace.go:", 12, &call), 0);
}

/* A path can hold what the log's punctuation looks like: the last ") = " ends the arguments,
 * the first ", 0x" after openat's directory starts the path. */
static void test_tricky_paths(void **state)
{
	GvCall call;
	(void)state;

	assert_int_equal(
	    parse(HEAD "open(0x1 /tmp/a) = 0 (0x0) errno=2, O_RDONLY, 0o0)" ENOENT_TAIL, &call), 1);
	assert_string_equal(call.path, "/tmp/a) = 0 (0x0) errno=2");
	assert_int_equal(
	    parse(HEAD "openat(AT_FDCWD /tmp, 0x1 /a, 0x2 /b, O_RDONLY, 0o0)" ENOENT_TAIL, &call),
	    1);
	assert_string_equal(call.path, "/a, 0x2 /b");
}

static int denials;

static void count(void *userdata, const char *capability, const char *resource,
                  const char *operation, int pid)
{
	(void)userdata;
	(void)operation;
	assert_string_equal(capability, "FILE_READ");
	assert_string_equal(resource, "/etc/shadow");
	assert_int_equal(pid, 7);
	denials++;
}

static void test_fifo_reader(void **state)
{
	char dir[] = "/tmp/omnibase-gvtrace-XXXXXX", path[64], junk[3 * GVTRACE_LINE_MAX + 512];
	GvTrace *t;
	static const char line[] =
	    HEAD "openat(AT_FDCWD /tmp, 0x1 /etc/shadow, O_RDONLY, 0o0)" ENOENT_TAIL "\n";
	(void)state;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/trace", dir);
	assert_int_equal(gvtrace_new(path, count, NULL, &t), 0);
	assert_true(gvtrace_fd(t) >= 0);
	int w = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(w >= 0);
	/* a line in two writes, then one too long for the buffer (skipped), then one more */
	assert_int_equal(write(w, line, 40), 40);
	gvtrace_dispatch(t);
	assert_int_equal(denials, 0);
	assert_int_equal(write(w, line + 40, sizeof(line) - 41), (ssize_t)sizeof(line) - 41);
	gvtrace_dispatch(t);
	assert_int_equal(denials, 1);
	/* one line three buffers long followed by what reads as a whole denial line (the
	 * buffer starts afresh exactly there): skipped, never read as that denial */
	memset(junk, 'x', sizeof(junk));
	memcpy(junk + 3 * GVTRACE_LINE_MAX, line, sizeof(line) - 2);
	junk[3 * GVTRACE_LINE_MAX + sizeof(line) - 2] = '\0';
	for (size_t off = 0, len = strlen(junk); off < len;) {
		ssize_t n = write(w, junk + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
		gvtrace_dispatch(t);
	}
	assert_int_equal(write(w, "\n", 1), 1);
	assert_int_equal(write(w, line, sizeof(line) - 1), (ssize_t)sizeof(line) - 1);
	gvtrace_dispatch(t);
	assert_int_equal(denials, 2);
	/* batching: just read, so not due yet, and the wait shortened to when it is */
	int wait_ms = 100;
	assert_int_equal(gvtrace_poll_fd(t, &wait_ms), -1);
	assert_true(wait_ms >= 1 && wait_ms <= 11);
	usleep(12 * 1000);
	wait_ms = 100;
	assert_int_equal(gvtrace_poll_fd(t, &wait_ms), gvtrace_fd(t));
	assert_int_equal(wait_ms, 100);
	assert_int_equal(gvtrace_poll_fd(NULL, &wait_ms), -1);
	(void)close(w);
	gvtrace_free(t);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
	gvtrace_free(NULL);
	assert_int_equal(gvtrace_fd(NULL), -1);
	/* the FIFO cannot be made: an error, nothing opened */
	assert_true(gvtrace_new("/nonexistent/dir/trace", count, NULL, &t) < 0);
	assert_null(t);
}

static int process_limits;

static void on_limit(void *userdata)
{
	(void)userdata;
	process_limits++;
}

/* The pids limit inside gVisor: a fork refused with EAGAIN is the limit; a fork refused
 * otherwise, or one that succeeded, is not; neither is ever a denial. */
static void test_process_limit(void **state)
{
	char dir[] = "/tmp/omnibase-gvtrace-XXXXXX", path[64];
	const char *res, *op;
	GvTrace *t;
	GvCall call;
	static const char eagain[] =
	    HEAD "clone(0x1200011, 0x0, 0x0, 0x7f3c, 0x0) = 0 (0x0) errno=11 (resource "
	         "temporarily unavailable) (9.1µs)\n";
	static const char lines[] =
	    HEAD "fork() = 0 (0x0) errno=12 (cannot allocate memory) (9.1µs)\n" HEAD
	         "vfork() = 12 (0xc) (20µs)\n" HEAD "openat(AT_FDCWD /tmp, 0x1 /x, O_RDONLY, "
	         "0o0) = 0 (0x0) errno=11 (resource temporarily unavailable) (1µs)\n";
	(void)state;

	assert_int_equal(parse(eagain, &call), 1);
	assert_int_equal(call.kind, GV_CLONE);
	assert_int_equal(call.error, EAGAIN);
	assert_null(gvtrace_denial(&call, &res, &op));
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/trace", dir);
	assert_int_equal(gvtrace_new(path, count, NULL, &t), 0);
	int w = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(w >= 0);
	/* before a callback is set: read, nothing to call */
	assert_int_equal(write(w, eagain, sizeof(eagain) - 1), (ssize_t)sizeof(eagain) - 1);
	gvtrace_dispatch(t);
	gvtrace_on_process_limit(t, on_limit);
	assert_int_equal(write(w, lines, sizeof(lines) - 1), (ssize_t)sizeof(lines) - 1);
	gvtrace_dispatch(t);
	assert_int_equal(process_limits, 0);
	assert_int_equal(write(w, eagain, sizeof(eagain) - 1), (ssize_t)sizeof(eagain) - 1);
	gvtrace_dispatch(t);
	assert_int_equal(process_limits, 1);
	(void)close(w);
	gvtrace_free(t);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hidden_file_read), cmocka_unit_test(test_writes),
	    cmocka_unit_test(test_not_denials),      cmocka_unit_test(test_connects),
	    cmocka_unit_test(test_other_lines),      cmocka_unit_test(test_tricky_paths),
	    cmocka_unit_test(test_fifo_reader),      cmocka_unit_test(test_process_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
