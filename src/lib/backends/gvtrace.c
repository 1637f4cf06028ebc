/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Denials observed inside gVisor, from runsc's strace log (see gvtrace.h). */
#include "backends/gvtrace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

/* A line of the log is "I1125 18:36:19.289450   17229 strace.go:605] [   1:   1] COMM X
 * NAME(ARGS) = RET (0xRET) errno=N (TEXT) (DURATION)"; "E" lines are entries, "X" exits.
 * The arguments are the program's (paths are printed as they are): where a field could be
 * forged by what a program names, the parse takes the first or last occurrence so that only
 * the program's own record can be muddled, never another's access granted. */
#define LINE_MAX_LEN GVTRACE_LINE_MAX

static const char *find_last(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = end - n; p >= s; p--)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* "[   1:   1] COMM X NAME(": the sandbox's pid and where NAME starts. */
static const char *parse_head(const char *line, int *pid)
{
	const char *p = strstr(line, "strace.go:");
	char *end;

	if (line[0] != 'I' || !p || !(p = strstr(p, "] [")))
		return NULL;
	long v = strtol(p + 3, &end, 10);
	if (end == p + 3 || *end != ':' || v <= 0 || v > INT_MAX)
		return NULL;
	*pid = (int)v;
	p = strstr(end, "] ");
	if (!p || !(p = strstr(p + 2, " X ")))
		return NULL;
	return p + 3;
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

/* "0xADDR PATH" at ARGS[0, LEN): PATH into OUT. */
static bool parse_path(const char *args, size_t len, char *out, size_t size)
{
	size_t hex;

	if (len < 4 || memcmp(args, "0x", 2) != 0)
		return false;
	hex = strspn(args + 2, "0123456789abcdef");
	if (hex == 0 || 2 + hex >= len || args[2 + hex] != ' ')
		return false;
	size_t n = len - 3 - hex;
	if (n == 0 || n >= size)
		return false;
	memcpy(out, args + 3 + hex, n);
	out[n] = '\0';
	return strlen(out) == n;
}

static int parse_open(const char *name, const char *args, size_t len, GvCall *call)
{
	bool creat = streq(name, "creat"), at = streq(name, "openat");

	call->kind = GV_OPEN;
	call->write = creat;
	if (!strip_mode_and_flags(args, &len, !creat, &call->write))
		return 0;
	if (at) {
		/* "DIRFD DIRPATH, 0xADDR PATH": the first ", 0x" after the directory */
		char buf[LINE_MAX_LEN];
		memcpy(buf, args, len);
		buf[len] = '\0';
		const char *p = strstr(buf, ", 0x");
		if (!p)
			return 0;
		args += p + 2 - buf;
		len -= (size_t)(p + 2 - buf);
	}
	return parse_path(args, len, call->path, sizeof(call->path)) ? 1 : 0;
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

int gvtrace_parse_line(const char *line, size_t len, GvCall *call)
{
	char buf[LINE_MAX_LEN];
	char name[16];
	int pid = 0;

	*call = (GvCall){0};
	if (len >= sizeof(buf) || memchr(line, '\0', len))
		return 0;
	memcpy(buf, line, len);
	buf[len] = '\0';
	const char *p = parse_head(buf, &pid);
	if (!p)
		return 0;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (n == 0 || n >= sizeof(name) || p[n] != '(')
		return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	const char *args = p + n + 1, *close = find_last(args, buf + len, ") = ");
	if (!close)
		return 0;
	int error = parse_errno(close + 4);
	if (error == 0)
		return 0;
	int r;
	if (streq(name, "open") || streq(name, "openat") || streq(name, "creat"))
		r = parse_open(name, args, (size_t)(close - args), call);
	else if (streq(name, "connect")) {
		buf[close - buf] = '\0';
		r = parse_connect(args, call);
	} else if (streq(name, "clone") || streq(name, "fork") || streq(name, "vfork")) {
		call->kind = GV_CLONE;
		r = 1;
	} else
		return 0;
	if (r <= 0) {
		*call = (GvCall){0};
		return 0;
	}
	call->pid = pid;
	call->error = error;
	return 1;
}

const char *gvtrace_denial(const GvCall *call, const char **resource, const char **operation)
{
	struct stat st;

	if (call->kind == GV_CLONE) /* a limit, not a denial (gvtrace_on_process_limit) */
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
	/* /proc, /sys and /dev are gVisor's own; relative paths cannot be told from here */
	if (call->path[0] != '/' || path_under(call->path, "/proc") ||
	    path_under(call->path, "/sys") || path_under(call->path, "/dev"))
		return NULL;
	/* a write to what the sandbox shows read-only; or hidden: the sandbox does not show
	 * what the host has */
	bool write = call->write || call->error == EROFS;
	if (call->error != EROFS && !(call->error == ENOENT && stat(call->path, &st) == 0))
		return NULL;
	*resource = call->path;
	*operation = write ? "write" : "read";
	return write ? "FILE_WRITE" : "FILE_READ";
}

/* How long lines may gather in the FIFO between reads (see gvtrace_poll_fd). */
#define BATCH_NS (10ULL * 1000 * 1000)

struct GvTrace {
	int fd;
	uint64_t last_read_ns;
	char path[PATH_MAX];
	gvtrace_deny_fn deny;
	void (*process_limit)(void *userdata);
	void *userdata;
	bool skipping; /* inside a line too long for the buffer */
	size_t len;
	char buf[LINE_MAX_LEN];
};

int gvtrace_new(const char *path, gvtrace_deny_fn deny, void *userdata, GvTrace **ret)
{
	GvTrace *t = calloc(1, sizeof(*t));

	*ret = NULL;
	if (!t)
		return -ENOMEM;
	(void)snprintf(t->path, sizeof(t->path), "%s", path);
	t->deny = deny;
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

static void handle_line(GvTrace *t, const char *line, size_t len)
{
	GvCall call;
	const char *resource = NULL, *operation = NULL;

	if (gvtrace_parse_line(line, len, &call) <= 0)
		return;
	if (call.kind == GV_CLONE) {
		if (call.error == EAGAIN && t->process_limit)
			t->process_limit(t->userdata);
		return;
	}
	const char *cap = gvtrace_denial(&call, &resource, &operation);
	if (cap)
		t->deny(t->userdata, cap, resource, operation, call.pid);
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
			if (!t->skipping)
				handle_line(t, t->buf + start, end - start);
			t->skipping = false;
			start = end + 1;
		}
		memmove(t->buf, t->buf + start, t->len - start);
		t->len -= start;
		if (t->len ==
		    sizeof(t->buf)) { /* a line longer than the buffer: not ours to read */
			t->skipping = true;
			t->len = 0;
		}
	}
}

void gvtrace_on_process_limit(GvTrace *t, void (*fn)(void *userdata))
{
	t->process_limit = fn;
}

void gvtrace_free(GvTrace *t)
{
	if (!t)
		return;
	(void)close(t->fd);
	(void)unlink(t->path);
	free(t);
}
