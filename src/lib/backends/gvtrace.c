/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Denials observed inside gVisor, from runsc's strace log (see gvtrace.h). */
#include "backends/gvtrace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"
#include "egress/egress.h"
#include "plan/syscall-filter.h"

/* A message of the log is "I1125 18:36:19.289450   17229 strace.go:605] [   1:   1] COMM X
 * NAME(ARGS) = RET (0xRET) errno=N (TEXT) (DURATION)"; "E" lines are entries, "X" exits; and,
 * with --debug, "D... task_syscall.go:NNN] [   1:   1] Syscall N: denied by seccomp". The
 * arguments are the program's (paths are printed as they are, newlines included): where a
 * field could be forged by what a program names, the parse takes the last occurrence of what
 * runsc writes after it, or tries each reading (gvtrace_denial), so that only the program's
 * own record can be muddled, never a denial hidden. */
#define LINE_MAX_LEN GVTRACE_LINE_MAX

static const char *find_last(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = end - n; p >= s; p--)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int gvtrace_header_pid(const char *line, size_t len)
{
	/* "Lmmdd hh:mm:ss.uuuuuu" then spaces, the pid, a space */
	if (len < 24 || !strchr("IWEDF", line[0]) || line[0] == '\0' || !digits(line + 1, 4) ||
	    line[5] != ' ' || !digits(line + 6, 2) || line[8] != ':' || !digits(line + 9, 2) ||
	    line[11] != ':' || !digits(line + 12, 2) || line[14] != '.' || !digits(line + 15, 6) ||
	    line[21] != ' ')
		return -1;
	size_t i = 22;
	while (i < len && line[i] == ' ')
		i++;
	long pid = 0;
	size_t d = i;
	for (; i < len && i - d < 10 && line[i] >= '0' && line[i] <= '9'; i++)
		pid = pid * 10 + (line[i] - '0');
	return i > d && i < len && line[i] == ' ' && pid > 0 && pid <= INT_MAX ? (int)pid : -1;
}

/* "[   1:   1] " after "] ": the sandbox's pid; the rest after it in *REST. */
static bool parse_task(const char *p, int *pid, const char **rest)
{
	char *end;

	if (strncmp(p, "] [", 3) != 0)
		return false;
	long v = strtol(p + 3, &end, 10);
	if (end == p + 3 || *end != ':' || v <= 0 || v > INT_MAX)
		return false;
	*pid = (int)v;
	p = strstr(end, "] ");
	if (!p)
		return false;
	*rest = p + 2;
	return true;
}

/* "COMM X NAME(": where NAME starts. COMM (at most 15 bytes, the program's to name) may hold
 * " X " itself: the last marker within its reach that a traced name follows. */
static const char *parse_exit(const char *p, char name[static 16])
{
	const char *found = NULL;
	for (size_t off = 0; off <= 16 && p[off]; off++) {
		if (strncmp(p + off, " X ", 3) != 0)
			continue;
		size_t n = strspn(p + off + 3, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (n > 0 && n < 16 && p[off + 3 + n] == '(') {
			memcpy(name, p + off + 3, n);
			name[n] = '\0';
			found = p + off + 3;
		}
	}
	return found;
}

/* The errno after ") = ... errno=N"; 0 when the call succeeded. */
static int parse_errno(const char *result)
{
	const char *e = strstr(result, " errno=");
	char *end;

	if (!e)
		return 0;
	long v = strtol(e + 7, &end, 10);
	return end != e + 7 && v > 0 && v < 4096 ? (int)v : 0;
}

/* Drops ", 0oMODE" and, with FLAGS, ", FLAGS" from the end of ARGS[0, *LEN); the flags say
 * whether the open writes. */
static bool strip_mode_and_flags(const char *args, size_t *len, bool flags, bool *write)
{
	const char *end = args + *len;
	const char *m = find_last(args, end, ", 0o");

	if (!m || strspn(m + 4, "01234567") != (size_t)(end - m - 4))
		return false;
	end = m;
	if (flags) {
		const char *f = find_last(args, end, ", ");
		if (!f)
			return false;
		size_t n = (size_t)(end - f - 2);
		char buf[256];
		if (n == 0 || n >= sizeof(buf))
			return false;
		memcpy(buf, f + 2, n);
		buf[n] = '\0';
		if (strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789abcdefx|") != n)
			return false;
		*write = strstr(buf, "O_WRONLY") || strstr(buf, "O_RDWR") ||
		         strstr(buf, "O_CREAT") || strstr(buf, "O_TRUNC");
		end = f;
	}
	*len = (size_t)(end - args);
	return true;
}

/* "0xADDR " at P (before END): its length, 0 if not one. */
static size_t address_len(const char *p, const char *end)
{
	if (end - p < 4 || memcmp(p, "0x", 2) != 0)
		return 0;
	size_t hex = strspn(p + 2, "0123456789abcdef");
	return hex > 0 && p + 2 + hex < end && p[2 + hex] == ' ' ? 3 + hex : 0;
}

/* The readings of a path in T[0, LEN): it starts after "0xADDR " at the start (AT_START) or
 * after any ", 0xADDR " (after a directory, itself the program's to name); it ends at LEN or,
 * for an exec, before any ", 0xADDR [" (the argument vector). FN gets each reading; a
 * non-zero return stops. */
typedef int (*reading_fn)(void *userdata, const char *path, size_t len);

/* A message with more readings than this (one stat each) is a program's muddle: recorded
 * under its first reading rather than searched (which would let it stall the supervisor). */
#define READINGS_MAX 64

static int readings(const char *t, size_t len, bool at_start, bool exec, reading_fn fn,
                    void *userdata)
{
	const char *end = t + len;
	unsigned tried = 0, starts = 0;

	for (const char *s = t; s < end; s++) {
		size_t a;
		if (at_start ? s != t : (s - t < 2 || memcmp(s - 2, ", ", 2) != 0))
			continue;
		if (!(a = address_len(s, end)))
			continue;
		const char *path = s + a;
		/* an exec's every start scans the rest for its end: bounded too, or a message of
		 * ", 0x1 " pieces would cost the square of its length */
		if (exec && ++starts > READINGS_MAX)
			return -E2BIG;
		if (!exec) {
			if (++tried > READINGS_MAX)
				return -E2BIG;
			int r = fn(userdata, path, (size_t)(end - path));
			if (r)
				return r;
			continue;
		}
		for (const char *e = path; e + 2 < end; e++) {
			size_t b;
			if (memcmp(e, ", ", 2) != 0 || !(b = address_len(e + 2, end)) ||
			    e + 2 + b >= end || e[2 + b] != '[')
				continue;
			if (++tried > READINGS_MAX)
				return -E2BIG;
			int r = fn(userdata, path, (size_t)(e - path));
			if (r)
				return r;
		}
		if (at_start)
			break;
	}
	return 0;
}

static int first_reading(void *userdata, const char *path, size_t len)
{
	GvCall *call = userdata;
	if (len == 0 || len >= sizeof(call->path) || memchr(path, '\0', len))
		return 0;
	memcpy(call->path, path, len);
	call->path[len] = '\0';
	return 1;
}

/* CALL's arguments A[0, LEN) kept for gvtrace_denial; the first reading of its path. */
static int keep_text(GvCall *call, const char *a, size_t len, bool at_start, bool exec)
{
	if (len >= sizeof(call->text))
		return 0;
	memcpy(call->text, a, len);
	call->text[len] = '\0';
	call->text_len = len;
	call->at_start = at_start;
	return readings(call->text, len, at_start, exec, first_reading, call) > 0 ? 1 : 0;
}

static int parse_open(const char *name, const char *args, size_t len, GvCall *call)
{
	bool creat = streq(name, "creat"), at = streq(name, "openat");

	call->kind = GV_OPEN;
	call->write = creat;
	if (!strip_mode_and_flags(args, &len, !creat, &call->write))
		return 0;
	return keep_text(call, args, len, !at, false);
}

/* The calls that write by path without opening (the native notify-write.c's), as runsc
 * prints them: the path an argument of its own (AT: after a directory fd), TRAILING
 * arguments after it; LAST: of two paths, the second is the one written (link, symlink).
 * setxattr's trailing ones: the name, the value, its size, the flags. The calls on an fd
 * (fchmod, fchown, fsetxattr, fremovexattr) are there too: runsc prints an fd with its
 * file's path as it prints an address with its string, "fchmod(0x3 /usr/lib/x, 0o755)". */
typedef struct WriteCall {
	const char *name;
	bool at, last;
	unsigned trailing;
} WriteCall;

static const WriteCall write_calls[] = {
    {"mkdir", false, false, 1},        {"mkdirat", true, false, 1},
    {"rmdir", false, false, 0},        {"unlink", false, false, 0},
    {"unlinkat", true, false, 1},      {"rename", false, false, 0},
    {"renameat", true, false, 0},      {"renameat2", true, false, 1},
    {"link", false, true, 0},          {"linkat", true, true, 1},
    {"symlink", false, true, 0},       {"symlinkat", false, true, 0},
    {"chmod", false, false, 1},        {"fchmodat", true, false, 1},
    {"chown", false, false, 2},        {"lchown", false, false, 2},
    {"fchownat", true, false, 3},      {"truncate", false, false, 1},
    {"utime", false, false, 1},        {"utimes", false, false, 1},
    {"utimensat", true, false, 2},     {"mknod", false, false, 2},
    {"mknodat", true, false, 2},       {"setxattr", false, false, 4},
    {"lsetxattr", false, false, 4},    {"removexattr", false, false, 1},
    {"lremovexattr", false, false, 1}, {"fsetxattr", false, false, 4},
    {"fremovexattr", false, false, 1}, {"fchmod", false, false, 1},
    {"fchown", false, false, 2},
};

static const WriteCall *write_call(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(write_calls); i++)
		if (streq(write_calls[i].name, name))
			return &write_calls[i];
	return NULL;
}

/* ARGS[0, LEN) without the last N ", ..." arguments (runsc's own words: mode, ids, flags). */
static bool strip_trailing(const char *args, size_t *len, unsigned n)
{
	const char *end = args + *len;
	for (unsigned i = 0; i < n; i++) {
		const char *c = find_last(args, end, ", ");
		if (!c)
			return false;
		end = c;
	}
	*len = (size_t)(end - args);
	return true;
}

static int parse_write(const WriteCall *w, const char *args, size_t len, GvCall *call)
{
	call->kind = GV_WRITE;
	call->write = true;
	(void)snprintf(call->name, sizeof(call->name), "%s", w->name);
	if (!strip_trailing(args, &len, w->trailing))
		return 0;
	if (w->last) {
		/* the second path: after the last ", 0xADDR " (a forged one in it only moves
		 * this call's own record) */
		for (const char *c = find_last(args, args + len, ", 0x"); c;
		     c = c > args ? find_last(args, c, ", 0x") : NULL)
			if (address_len(c + 2, args + len))
				return keep_text(call, c + 2, (size_t)(args + len - c - 2), true,
				                 false);
		return 0;
	}
	/* rename's first path (the one checked, as natively) ends where the second starts, or
	 * renameat's before the second's directory */
	if (strncmp(w->name, "rename", 6) == 0) {
		const char *c = find_last(args, args + len, ", 0x");
		if (!c || !address_len(c + 2, args + len) ||
		    (w->at && !(c = find_last(args, c, ", "))))
			return 0;
		len = (size_t)(c - args);
	}
	return keep_text(call, args, len, !w->at, false);
}

static int parse_exec(const char *name, const char *args, size_t len, GvCall *call)
{
	call->kind = GV_EXEC;
	return keep_text(call, args, len, streq(name, "execve"), true);
}
/* "... {Family: AF_INET, Addr: 10.1.2.3, Port: 80} ...": the address, formatted as the
 * native notifier does. */
static int parse_connect(const char *args, GvCall *call)
{
	const char *f = strstr(args, "{Family: ");
	struct sockaddr_storage ss = {0};
	char addr[INET6_ADDRSTRLEN];
	char *end;

	call->kind = GV_CONNECT;
	if (!f)
		return 0;
	bool v6 = strncmp(f + 9, "AF_INET6, Addr: ", 16) == 0;
	if (!v6 && strncmp(f + 9, "AF_INET, Addr: ", 15) != 0)
		return 0; /* unix sockets: the sandbox's own */
	const char *a = f + 9 + (v6 ? 16 : 15);
	size_t n = strcspn(a, ",");
	if (n == 0 || n >= sizeof(addr) || strncmp(a + n, ", Port: ", 8) != 0)
		return 0;
	memcpy(addr, a, n);
	addr[n] = '\0';
	long port = strtol(a + n + 8, &end, 10);
	if (end == a + n + 8 || *end != '}' || port < 0 || port > 65535)
		return 0;
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return 0;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return 0;
	}
	call->loopback = egress_address_is_loopback((const struct sockaddr *)&ss);
	egress_format_address((const struct sockaddr *)&ss, call->address, sizeof(call->address));
	return 1;
}

/* "[   1:   1] Syscall N: denied by seccomp", the whole of the rest. */
static int parse_seccomp(const char *p, GvCall *call)
{
	char *end;

	if (strncmp(p, "Syscall ", 8) != 0)
		return 0;
	long nr = strtol(p + 8, &end, 10);
	if (end == p + 8 || nr < 0 || nr > 4096 || !streq(end, ": denied by seccomp"))
		return 0;
	call->kind = GV_SECCOMP;
	call->nr = (int)nr;
	call->error = EPERM;
	return 1;
}

int gvtrace_parse_line(const char *line, size_t len, GvCall *call)
{
	char buf[LINE_MAX_LEN];
	char name[16];
	const char *p, *rest;
	int pid = 0, r;

	*call = (GvCall){0};
	if (len >= sizeof(buf) || memchr(line, '\0', len) || gvtrace_header_pid(line, len) < 0)
		return 0;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (buf[0] == 'D' && (p = strstr(buf, " task_syscall.go:")) && (p = strchr(p, ']')) &&
	    parse_task(p, &pid, &rest))
		r = parse_seccomp(rest, call);
	else if (buf[0] != 'I' || !(p = strstr(buf, " strace.go:")) || !(p = strchr(p, ']')) ||
	         !parse_task(p, &pid, &rest) || !(p = parse_exit(rest, name)))
		return 0;
	else {
		const char *args = p + strlen(name) + 1,
		           *close = find_last(args, buf + len, ") = ");
		if (!close || (call->error = parse_errno(close + 4)) == 0)
			return 0;
		size_t n = (size_t)(close - args);
		if (streq(name, "open") || streq(name, "openat") || streq(name, "creat"))
			r = parse_open(name, args, n, call);
		else if (streq(name, "execve") || streq(name, "execveat"))
			r = parse_exec(name, args, n, call);
		else if (streq(name, "connect")) {
			buf[close - buf] = '\0';
			r = parse_connect(args, call);
		} else if (streq(name, "clone") || streq(name, "fork") || streq(name, "vfork")) {
			call->kind = GV_CLONE;
			r = 1;
		} else if (write_call(name))
			r = parse_write(write_call(name), args, n, call);
		else
			return 0;
	}
	if (r <= 0) {
		*call = (GvCall){0};
		return 0;
	}
	call->pid = pid;
	return 1;
}

/* Outside gVisor's own /proc, /sys and /dev, and absolute (a relative path cannot be told
 * from here). */
static bool host_path(const char *path)
{
	return path[0] == '/' && !path_under(path, "/proc") && !path_under(path, "/sys") &&
	       !path_under(path, "/dev");
}

typedef struct Reading {
	GvCall *call;
	bool found;
} Reading;

/* A reading that the host has (what the sandbox refused to show or to run). */
static int host_has(void *userdata, const char *path, size_t len)
{
	Reading *r = userdata;
	struct stat st;

	if (first_reading(r->call, path, len) == 0 || !host_path(r->call->path) ||
	    stat(r->call->path, &st) < 0)
		return 0;
	r->found = true;
	return 1;
}

static const char *exec_denial(GvCall *call, const char **resource, const char **operation)
{
	Reading r = {.call = call};
	char first[PATH_MAX];

	if (call->error != EACCES && call->error != ENOENT)
		return NULL;
	(void)snprintf(first, sizeof(first), "%s", call->path);
	int n = readings(call->text, call->text_len, call->at_start, true, host_has, &r);
	/* EACCES: the sandbox has the file and would not run it (noexec: not granted) */
	if (!r.found && (call->error == EACCES || n == -E2BIG))
		(void)snprintf(call->path, sizeof(call->path), "%s", first);
	else if (!r.found)
		return NULL;
	*resource = call->path;
	*operation = "execute";
	return "EXTERNAL_COMMAND";
}

/* A hidden path: the first of its readings that the host has (all of them past
 * READINGS_MAX, recorded under the first). */
static bool hidden_reading(GvCall *call)
{
	Reading r = {.call = call};
	char first[PATH_MAX];

	(void)snprintf(first, sizeof(first), "%s", call->path);
	int n = readings(call->text, call->text_len, call->at_start, false, host_has, &r);
	if (!r.found && n != -E2BIG)
		return false;
	if (!r.found)
		(void)snprintf(call->path, sizeof(call->path), "%s", first);
	return true;
}

/* A write by path refused by the layout: a read-only place (EROFS; or EACCES and EPERM,
 * which gVisor answers before EROFS for what the host's root owns: a directory's entries, a
 * file's mode, owner and times), or a hidden one the host has. */
static const char *write_denial(GvCall *call, const char **resource, const char **operation)
{
	if (call->error == ENOENT
	        ? !hidden_reading(call)
	        : (call->error != EROFS && call->error != EACCES && call->error != EPERM) ||
	              !host_path(call->path))
		return NULL;
	*resource = call->path;
	*operation = call->name;
	return "FILE_WRITE";
}

const char *gvtrace_denial(GvCall *call, const char **resource, const char **operation)
{
	if (call->kind == GV_SECCOMP ||
	    call->kind == GV_CLONE) /* a limit: gvtrace_on_process_limit */
		return NULL;
	if (call->kind == GV_CONNECT) {
		/* gVisor's loopback is its own netstack's (or, with network grants, the
		 * namespace holding only the proxy): nothing of the host's is reached there */
		if (call->loopback)
			return NULL;
		*resource = call->address;
		*operation = "connect";
		return "NETWORK_CONNECT";
	}
	if (call->kind == GV_EXEC)
		return exec_denial(call, resource, operation);
	if (call->kind == GV_WRITE)
		return write_denial(call, resource, operation);
	/* a write to what the sandbox shows read-only: the first reading; or hidden: a
	 * reading that the host has */
	bool write = call->write || call->error == EROFS;
	if (call->error == ENOENT) {
		if (!hidden_reading(call))
			return NULL;
	} else if (call->error != EROFS || !host_path(call->path))
		return NULL;
	*resource = call->path;
	*operation = write ? "write" : "read";
	return write ? "FILE_WRITE" : "FILE_READ";
}

/* How long lines may gather in the FIFO between reads (see gvtrace_poll_fd). */
#define BATCH_NS (10ULL * 1000 * 1000)

/* Of a message longer than the buffer, the end kept (the result, after the path). */
#define TAIL_LEN 512

struct GvTrace {
	int fd;
	uint64_t last_read_ns;
	char path[PATH_MAX];
	gvtrace_deny_fn deny;
	void (*process_limit)(void *userdata);
	gvtrace_violation_fn violation;
	void *userdata;
	int sentry_pid; /* from the log's first line; 0 before it */
	bool in_line;   /* the buffer's start continues a line longer than it */
	size_t len;     /* read, not yet split into lines */
	bool have_msg;  /* a message is gathering */
	bool cut;       /* ... longer than MSG's head: its end is in TAIL */
	size_t msg_len; /* its head */
	size_t tail_len;
	char buf[LINE_MAX_LEN];
	char msg[LINE_MAX_LEN];
	char tail[TAIL_LEN];
};

int gvtrace_new(const char *path, gvtrace_deny_fn deny, gvtrace_violation_fn violation,
                void *userdata, GvTrace **ret)
{
	GvTrace *t = calloc(1, sizeof(*t));

	*ret = NULL;
	if (!t)
		return -ENOMEM;
	(void)snprintf(t->path, sizeof(t->path), "%s", path);
	t->deny = deny;
	t->violation = violation;
	t->userdata = userdata;
	/* read-write: never end-of-file before runsc opens it, nor between its writers */
	if (mkfifo(path, 0600) < 0 || (t->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		int e = -errno;
		free(t);
		return e;
	}
	/* room for the lines of a batch (1 MiB: an unprivileged caller's maximum); the default
	 * 64 KiB if refused */
	(void)fcntl(t->fd, F_SETPIPE_SZ, 1 << 20);
	*ret = t;
	return 0;
}

int gvtrace_fd(const GvTrace *t)
{
	return t ? t->fd : -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int gvtrace_poll_fd(const GvTrace *t, int *wait_ms)
{
	if (!t)
		return -1;
	uint64_t now = now_ns();
	if (now - t->last_read_ns >= BATCH_NS)
		return t->fd;
	int due = (int)((t->last_read_ns + BATCH_NS - now) / 1000000) + 1;
	if (due < *wait_ms)
		*wait_ms = due;
	return -1;
}

static void handle_message(GvTrace *t, const char *msg, size_t len)
{
	GvCall call;
	const char *resource = NULL, *operation = NULL;
	char name[64];

	if (gvtrace_parse_line(msg, len, &call) <= 0)
		return;
	if (call.kind == GV_CLONE) {
		if (call.error == EAGAIN && t->process_limit)
			t->process_limit(t->userdata);
		return;
	}
	if (call.kind == GV_SECCOMP) {
		if (t->violation)
			t->violation(
			    t->userdata,
			    filter_syscall_name(FILTER_NATIVE_ARCH, call.nr, name, sizeof(name)),
			    "refused by the seccomp allow-list (gVisor: its arguments are "
			    "not logged)",
			    call.pid);
		return;
	}
	const char *cap = gvtrace_denial(&call, &resource, &operation);
	if (cap)
		t->deny(t->userdata, cap, resource, operation, call.pid);
}

/* The gathered message, read and forgotten. */
static void flush_message(GvTrace *t)
{
	if (!t->have_msg)
		return;
	if (t->cut) {
		memcpy(t->msg + t->msg_len, t->tail, t->tail_len);
		t->msg_len += t->tail_len;
	}
	handle_message(t, t->msg, t->msg_len);
	t->have_msg = t->cut = false;
	t->msg_len = t->tail_len = 0;
}

static void append(GvTrace *t, const char *data, size_t n)
{
	size_t head = sizeof(t->msg) - TAIL_LEN - 1;

	if (!t->cut) {
		size_t k = MIN(n, head - t->msg_len);
		memcpy(t->msg + t->msg_len, data, k);
		t->msg_len += k;
		data += k;
		n -= k;
		if (n == 0)
			return;
		t->cut = true;
	}
	if (n >= TAIL_LEN) {
		memcpy(t->tail, data + n - TAIL_LEN, TAIL_LEN);
		t->tail_len = TAIL_LEN;
		return;
	}
	size_t keep = MIN(t->tail_len, TAIL_LEN - n);
	memmove(t->tail, t->tail + t->tail_len - keep, keep);
	memcpy(t->tail + keep, data, n);
	t->tail_len = keep + n;
}

/* DATA[0, N): a line's start (START) or the rest of a long one. A line with the Sentry's
 * header starts a message; any other continues the one before (a path's newline). */
static void add_piece(GvTrace *t, const char *data, size_t n, bool start)
{
	if (start) {
		int pid = gvtrace_header_pid(data, n);
		if (t->sentry_pid == 0 && pid > 0)
			t->sentry_pid = pid; /* the first line: runsc's, before the program */
		if (pid > 0 && pid == t->sentry_pid) {
			flush_message(t);
			t->have_msg = true;
		} else if (t->have_msg)
			append(t, "\n", 1);
		else
			return; /* before any message of the Sentry's: not ours */
	}
	if (t->have_msg)
		append(t, data, n);
}

void gvtrace_dispatch(GvTrace *t)
{
	t->last_read_ns = now_ns();
	/* at most the FIFO's size per call: a program that keeps it full must not keep the
	 * supervisor from its other work (the timeout, the output) */
	for (size_t total = 0; total < (1u << 20);) {
		ssize_t n = read(t->fd, t->buf + t->len, sizeof(t->buf) - t->len);
		if (n <= 0)
			return;
		t->len += (size_t)n;
		total += (size_t)n;
		size_t start = 0;
		for (char *nl; (nl = memchr(t->buf + start, '\n', t->len - start));) {
			size_t end = (size_t)(nl - t->buf);
			add_piece(t, t->buf + start, end - start, !t->in_line);
			t->in_line = false;
			start = end + 1;
		}
		memmove(t->buf, t->buf + start, t->len - start);
		t->len -= start;
		if (t->len == sizeof(t->buf)) { /* a line longer than the buffer: its part */
			add_piece(t, t->buf, t->len, !t->in_line);
			t->in_line = true;
			t->len = 0;
		}
	}
}

void gvtrace_on_process_limit(GvTrace *t, void (*fn)(void *userdata))
{
	t->process_limit = fn;
}

void gvtrace_finish(GvTrace *t)
{
	if (!t)
		return;
	gvtrace_dispatch(t);
	if (t->len > 0) /* a last line without its newline */
		add_piece(t, t->buf, t->len, !t->in_line);
	t->len = 0;
	flush_message(t);
}

void gvtrace_free(GvTrace *t)
{
	if (!t)
		return;
	(void)close(t->fd);
	(void)unlink(t->path);
	free(t);
}
