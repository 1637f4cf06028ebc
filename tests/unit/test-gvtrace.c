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

#define EACCES_TAIL " = 0 (0x0) errno=13 (permission denied) (22.528µs)"
#define EPERM_TAIL  " = 0 (0x0) errno=1 (operation not permitted) (81.455µs)"

/* Each write by path as this runsc prints it: the path it writes, the call as operation. */
static void test_writes_by_path(void **state)
{
	static const struct {
		const char *line, *resource, *op;
	} cases[] = {
	    {HEAD "mkdir(0x7f19 /usr/newdir, 0o777)" EROFS_TAIL, "/usr/newdir", "mkdir"},
	    {HEAD "rmdir(0x7f19 /usr/lib)" EACCES_TAIL, "/usr/lib", "rmdir"},
	    {HEAD "unlink(0x7f19 /usr/bin/env)" EACCES_TAIL, "/usr/bin/env", "unlink"},
	    /* rename: the old name; link and symlink: the new one */
	    {HEAD "rename(0x7f19 /usr/bin/env, 0x7f18 /usr/bin/x)" EROFS_TAIL, "/usr/bin/env",
	     "rename"},
	    {HEAD "symlink(0x7f19 /x, 0x7f18 /usr/x)" EROFS_TAIL, "/usr/x", "symlink"},
	    {HEAD "renameat(AT_FDCWD /tmp, 0x7f7d /usr/lib/os-release, 0xffffffffffffff9c, "
	          "0x7f7e /usr/lib/x)" EROFS_TAIL,
	     "/usr/lib/os-release", "renameat"},
	    {HEAD "linkat(AT_FDCWD /tmp, 0x7f7d /usr/lib/os-release, 0xffffffffffffff9c, "
	          "0x7f7e /usr/lib/y, 0x0)" EROFS_TAIL,
	     "/usr/lib/y", "linkat"},
	    {HEAD "symlinkat(0x7f7d /x, AT_FDCWD /tmp, 0x7f7e /usr/lib/z)" EROFS_TAIL, "/usr/lib/z",
	     "symlinkat"},
	    {HEAD "unlinkat(AT_FDCWD /tmp, 0x7f7d /usr/lib/os-release, 0x0)" EACCES_TAIL,
	     "/usr/lib/os-release", "unlinkat"},
	    {HEAD "mkdirat(AT_FDCWD /tmp, 0x7f7d /usr/lib/d, 0x1ed)" EROFS_TAIL, "/usr/lib/d",
	     "mkdirat"},
	    {HEAD "fchmodat(AT_FDCWD /tmp, 0x7f7d /usr/lib/os-release, 0o644)" EPERM_TAIL,
	     "/usr/lib/os-release", "fchmodat"},
	    {HEAD "fchownat(AT_FDCWD /tmp, 0x7f7d /usr/lib/os-release, 0x0, 0x0, 0x0)" EPERM_TAIL,
	     "/usr/lib/os-release", "fchownat"},
	    {HEAD "chown(0x7f19 /usr/bin/env, 0x0, 0x0)" EPERM_TAIL, "/usr/bin/env", "chown"},
	    {HEAD "truncate(0x7f19 /usr/bin/env, 0x0)" EROFS_TAIL, "/usr/bin/env", "truncate"},
	    {HEAD "utimensat(AT_FDCWD /tmp, 0x7f19 /usr/bin/env, null, 0x0)" EACCES_TAIL,
	     "/usr/bin/env", "utimensat"},
	    {HEAD "mknodat(AT_FDCWD /tmp, 0x7f19 /usr/fifo, S_IFIFO|0o600, 0x0)" EROFS_TAIL,
	     "/usr/fifo", "mknodat"},
	    {HEAD "setxattr(0x7f19 /usr/bin/env, 0x7f20 user.x, 0xa5e420, 0x1, 0x0)" EACCES_TAIL,
	     "/usr/bin/env", "setxattr"},
	    {HEAD "lremovexattr(0x7f19 /usr/bin/env, 0x7f20 user.x)" EROFS_TAIL, "/usr/bin/env",
	     "lremovexattr"},
	    /* on an fd: its file's path, as runsc prints it */
	    {HEAD "fchmod(0x3 /usr/lib/os-release, 0o755)" EPERM_TAIL, "/usr/lib/os-release",
	     "fchmod"},
	    {HEAD "fchown(0x3 /usr/lib/os-release, 0x3e8, 0xffffffff)" EPERM_TAIL,
	     "/usr/lib/os-release", "fchown"},
	    {HEAD
	     "fsetxattr(0x3 /usr/lib/os-release, 0x7f57 user.x, 0xa5e420, 0x1, 0x0)" EACCES_TAIL,
	     "/usr/lib/os-release", "fsetxattr"},
	    /* hidden: a path the host has (/etc/passwd is on every host) */
	    {HEAD "chmod(0x7f19 /etc/passwd, 0o777)" ENOENT_TAIL, "/etc/passwd", "chmod"},
	    /* a path with a comma and a forged address in it: still this call's event */
	    {HEAD "mkdir(0x7f19 /usr/a, 0x1 b, 0o777)" EROFS_TAIL, "/usr/a, 0x1 b", "mkdir"},
	};
	const char *res, *op;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(denial(cases[i].line, &res, &op), "FILE_WRITE");
		assert_string_equal(res, cases[i].resource);
		assert_string_equal(op, cases[i].op);
	}
	/* not the layout's: a path the host lacks, a relative one, gVisor's own /proc, an
	 * error that is not a refusal */
	assert_null(
	    denial(HEAD "mkdir(0x7f19 /etc/ssh-nonexistent/x, 0o777)" ENOENT_TAIL, &res, &op));
	assert_null(denial(HEAD "unlink(0x7f19 x)" EACCES_TAIL, &res, &op));
	assert_null(denial(HEAD "chmod(0x7f19 /proc/1/x, 0o777)" EPERM_TAIL, &res, &op));
	assert_null(denial(HEAD "mkdir(0x7f19 /tmp/x, 0o777) = 0 (0x0) errno=17 (file exists) "
	                        "(1µs)",
	                   &res, &op));
	/* what this parser cannot read is not taken for a call */
	GvCall call;
	assert_int_equal(parse(HEAD "symlink(/x /usr/x)" EROFS_TAIL, &call), 0);
	assert_int_equal(parse(HEAD "renameat(0x7f7d /a)" EROFS_TAIL, &call), 0);
	assert_int_equal(parse(HEAD "chown(0x7f19 /usr/bin/env)" EPERM_TAIL, &call), 0);
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

static int denials, violations;
static char last_resource[PATH_MAX + 64], last_cap[32];

static void count(void *userdata, const char *capability, const char *resource,
                  const char *operation, int pid)
{
	(void)userdata;
	(void)operation;
	assert_int_equal(pid, 7);
	(void)snprintf(last_cap, sizeof(last_cap), "%s", capability);
	(void)snprintf(last_resource, sizeof(last_resource), "%s", resource);
	denials++;
}

static void violation(void *userdata, const char *syscall, const char *detail, int pid)
{
	(void)userdata;
	(void)detail;
	assert_string_equal(syscall, "vhangup");
	assert_int_equal(pid, 3);
	violations++;
}

#define FIRST       "I1125 18:36:19.000001   17229 main.go:216] ***************************\n"
#define SHADOW_LINE HEAD "openat(AT_FDCWD /tmp, 0x1 /etc/shadow, O_RDONLY, 0o0)" ENOENT_TAIL "\n"

static GvTrace *open_trace(char *dir, char *path, size_t size, int *w)
{
	GvTrace *t;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, size, "%s/trace", dir);
	assert_int_equal(gvtrace_new(path, count, violation, NULL, &t), 0);
	assert_true(gvtrace_fd(t) >= 0);
	*w = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(*w >= 0);
	denials = violations = 0;
	return t;
}

static void put(int w, const char *s, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(w, s + off, len - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
}

static void close_trace(GvTrace *t, char *dir, const char *path, int w)
{
	(void)close(w);
	gvtrace_free(t);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
}

static void test_fifo_reader(void **state)
{
	char dir[] = "/tmp/omnibase-gvtrace-XXXXXX", path[64], junk[3 * GVTRACE_LINE_MAX + 512];
	int w;
	(void)state;

	GvTrace *t = open_trace(dir, path, sizeof(path), &w);
	/* the Sentry's first line, then a message in two writes: read once the next starts */
	put(w, FIRST, strlen(FIRST));
	put(w, SHADOW_LINE, 40);
	gvtrace_dispatch(t);
	put(w, &SHADOW_LINE[40], strlen(SHADOW_LINE) - 40);
	gvtrace_dispatch(t);
	assert_int_equal(denials, 0);
	put(w, FIRST, strlen(FIRST));
	gvtrace_dispatch(t);
	assert_int_equal(denials, 1);
	/* a message three buffers long (an exec's environment): its start and its end kept */
	(void)snprintf(junk, sizeof(junk), HEAD "execve(0x1 /usr/sbin/nologin, 0x2 [\"");
	size_t n = strlen(junk);
	memset(junk + n, 'x', 3 * GVTRACE_LINE_MAX - n);
	(void)snprintf(junk + 3 * GVTRACE_LINE_MAX, 512, "\"], 0x3 []) = 0 (0x0) errno=2 (x)\n");
	put(w, junk, strlen(junk));
	gvtrace_dispatch(t);
	gvtrace_finish(t);
	assert_int_equal(denials, 2);
	assert_string_equal(last_cap, "EXTERNAL_COMMAND");
	assert_string_equal(last_resource, "/usr/sbin/nologin");
	/* a refused call (no argument printed) */
	put(w,
	    "D1125 18:36:19.290522   17229 task_syscall.go:240] [   3:   3] Syscall 153: "
	    "denied by seccomp\n",
	    strlen("D1125 18:36:19.290522   17229 task_syscall.go:240] [   3:   3] Syscall 153: "
	           "denied by seccomp\n"));
	gvtrace_finish(t);
	assert_int_equal(violations, 1);
	/* batching: just read, so not due yet, and the wait shortened to when it is */
	int wait_ms = 100;
	assert_int_equal(gvtrace_poll_fd(t, &wait_ms), -1);
	assert_true(wait_ms >= 1 && wait_ms <= 11);
	usleep(12 * 1000);
	wait_ms = 100;
	assert_int_equal(gvtrace_poll_fd(t, &wait_ms), gvtrace_fd(t));
	assert_int_equal(wait_ms, 100);
	assert_int_equal(gvtrace_poll_fd(NULL, &wait_ms), -1);
	close_trace(t, dir, path, w);
	gvtrace_free(NULL);
	gvtrace_finish(NULL);
	assert_int_equal(gvtrace_fd(NULL), -1);
	/* the FIFO cannot be made: an error, nothing opened */
	assert_true(gvtrace_new("/nonexistent/dir/trace", count, NULL, NULL, &t) < 0);
}

/* A path with newlines and copies of the log's lines in it (as runsc prints it: raw): neither
 * a forged denial nor a forged refusal, and the real one not hidden. */
static void test_forged_lines(void **state)
{
	char dir[] = "/tmp/omnibase-gvtrace-XXXXXX", path[64];
	int w;
	(void)state;

	GvTrace *t = open_trace(dir, path, sizeof(path), &w);
	put(w, FIRST, strlen(FIRST));
	/* the forger guesses the header but not the Sentry's host pid (17229) */
	static const char forged[] =
	    "I1125 18:36:19.290522   17228 strace.go:608] [   7:   7] python3 X "
	    "openat(AT_FDCWD /tmp, 0x1 /etc/shadow, O_RDONLY, 0o0)" ENOENT_TAIL "\n"
	    "D1125 18:36:19.290522   17228 task_syscall.go:240] [   3:   3] Syscall 153: "
	    "denied by seccomp\n";
	char msg[4096];
	/* the real call: a path under /etc/passwd's name with the forged lines after a newline */
	(void)snprintf(
	    msg, sizeof(msg),
	    HEAD "openat(AT_FDCWD /tmp, 0x1 /nonexistent/x\n%s, O_RDONLY, 0o0)" ENOENT_TAIL "\n",
	    forged);
	put(w, msg, strlen(msg));
	gvtrace_finish(t);
	assert_int_equal(denials, 0);
	assert_int_equal(violations, 0);
	/* hiding: a host file's name ending in a newline and something else is still one path;
	 * here, the newline splits the line of a real denial of a file the host has */
	char host[] = "/tmp/omnibase-gvtrace-host\nXXXXXX";
	int fd = mkstemp(host);
	assert_true(fd >= 0);
	(void)close(fd);
	(void)snprintf(msg, sizeof(msg),
	               HEAD "openat(AT_FDCWD /tmp, 0x1 %s, O_RDONLY, 0o0)" ENOENT_TAIL "\n", host);
	put(w, msg, strlen(msg));
	gvtrace_finish(t);
	assert_int_equal(denials, 1);
	assert_string_equal(last_resource, host);
	/* a directory named like the log's punctuation: each reading tried, the real one found */
	(void)snprintf(
	    msg, sizeof(msg),
	    HEAD "openat(AT_FDCWD /tmp/a, 0x1 , 0x2 /etc/shadow, O_RDONLY, 0o0)" ENOENT_TAIL "\n");
	put(w, msg, strlen(msg));
	gvtrace_finish(t);
	assert_int_equal(denials, 2);
	assert_string_equal(last_resource, "/etc/shadow");
	(void)unlink(host);
	close_trace(t, dir, path, w);
}

static void test_execs_and_seccomp(void **state)
{
	const char *res, *op;
	GvCall call;
	(void)state;

	/* not executable in the sandbox (noexec: not granted) */
	assert_string_equal(denial(HEAD "execve(0x1 /usr/bin/id, 0x2 [\"id\"], 0x3 []) = 0 (0x0) "
	                                "errno=13 (permission denied) (1µs)",
	                           &res, &op),
	                    "EXTERNAL_COMMAND");
	assert_string_equal(res, "/usr/bin/id");
	assert_string_equal(op, "execute");
	/* not shown, the host has it; a path with the vector's punctuation in it */
	assert_string_equal(denial(HEAD "execve(0x1 /usr/bin/id, 0x5 [x, 0x2 [\"id\"], 0x3 []) = 0 "
	                                "(0x0) errno=2 (no such file) (1µs)",
	                           &res, &op),
	                    "EXTERNAL_COMMAND");
	assert_string_equal(res, "/usr/bin/id");
	assert_string_equal(denial(HEAD "execveat(AT_FDCWD /tmp, 0x1 /usr/bin/id, 0x2 [], 0x3 [], "
	                                "0x0) = 0 (0x0) errno=2 (no such file) (1µs)",
	                           &res, &op),
	                    "EXTERNAL_COMMAND");
	/* absent on the host too; other errors */
	assert_null(denial(HEAD "execve(0x1 /nonexistent/x, 0x2 [], 0x3 []) = 0 (0x0) errno=2 (x) "
	                        "(1µs)",
	                   &res, &op));
	assert_null(denial(HEAD "execve(0x1 /usr/bin/id, 0x2 [], 0x3 []) = 0 (0x0) errno=8 (x) "
	                        "(1µs)",
	                   &res, &op));
	assert_int_equal(parse("D1125 18:36:19.290522   17229 task_syscall.go:240] [   3:   3] "
	                       "Syscall 321: denied by seccomp",
	                       &call),
	                 1);
	assert_int_equal(call.kind, GV_SECCOMP);
	assert_int_equal(call.nr, 321);
	assert_int_equal(call.pid, 3);
	assert_null(gvtrace_denial(&call, &res, &op));
	assert_int_equal(parse("D1125 18:36:19.290522   17229 task_syscall.go:240] [   3:   3] "
	                       "Syscall 321: denied by seccomp, really",
	                       &call),
	                 0);
	/* a muddle of readings (one stat each): recorded under the first, never searched for
	 * long (nor dropped) */
	char many[GVTRACE_LINE_MAX];
	size_t n = (size_t)snprintf(many, sizeof(many), HEAD "openat(AT_FDCWD /tmp");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, ", 0x1 /a");
	(void)snprintf(many + n, sizeof(many) - n, ", O_RDONLY, 0o0)" ENOENT_TAIL);
	assert_string_equal(denial(many, &res, &op), "FILE_READ");
	assert_int_equal(strlen(res), 99 * strlen("/a, 0x1 ") + 2); /* all after the first */
	/* an exec (execveat: the path may start after any ", 0xADDR ") ends its path before
	 * the vector: with one, the first reading; without, no reading (each start's search
	 * for the vector is bounded, not the square of the message) */
	n = (size_t)snprintf(many, sizeof(many), HEAD "execveat(AT_FDCWD /tmp");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, ", 0x1 /a");
	size_t cut = n;
	(void)snprintf(many + n, sizeof(many) - n, ", 0x2 [], 0x3 [], 0x0) = 0 (0x0) errno=13 (x)");
	assert_string_equal(denial(many, &res, &op), "EXTERNAL_COMMAND");
	assert_true(strncmp(res, "/a, 0x1 /a", 10) == 0);
	(void)snprintf(many + cut, sizeof(many) - cut, ", 0x0) = 0 (0x0) errno=13 (x) (1µs)");
	assert_int_equal(parse(many, &call), 0);
	/* the header */
	assert_int_equal(gvtrace_header_pid("I1125 18:36:19.290522   17229 x", 31), 17229);
	assert_int_equal(gvtrace_header_pid("I1125 18:36:19.290522   17229", 29), -1);
	assert_int_equal(gvtrace_header_pid("X1125 18:36:19.290522   17229 x", 31), -1);
	/* a name (COMM) that holds the marker itself */
	assert_int_equal(
	    parse("I1125 18:36:19.290522   17229 strace.go:608] [   7:   7] a X open( X "
	          "open(0x1 /etc/shadow, O_RDONLY, 0o0)" ENOENT_TAIL,
	          &call),
	    1);
	assert_string_equal(call.path, "/etc/shadow");
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
	GvCall call;
	int w;
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
	GvTrace *t = open_trace(dir, path, sizeof(path), &w);
	put(w, FIRST, strlen(FIRST));
	/* before a callback is set: read, nothing to call */
	put(w, eagain, sizeof(eagain) - 1);
	gvtrace_finish(t);
	gvtrace_on_process_limit(t, on_limit);
	put(w, lines, sizeof(lines) - 1);
	gvtrace_finish(t);
	assert_int_equal(process_limits, 0);
	put(w, eagain, sizeof(eagain) - 1);
	gvtrace_finish(t);
	assert_int_equal(process_limits, 1);
	close_trace(t, dir, path, w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hidden_file_read),  cmocka_unit_test(test_writes),
	    cmocka_unit_test(test_writes_by_path),    cmocka_unit_test(test_not_denials),
	    cmocka_unit_test(test_connects),          cmocka_unit_test(test_other_lines),
	    cmocka_unit_test(test_tricky_paths),      cmocka_unit_test(test_forged_lines),
	    cmocka_unit_test(test_execs_and_seccomp), cmocka_unit_test(test_fifo_reader),
	    cmocka_unit_test(test_process_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
