/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * syscall-loop WORKLOAD N: N iterations of one system-call pattern, printing nanoseconds per
 * iteration — what bench/seccomp.sh runs on the host, under bubblewrap (no seccomp, no
 * Landlock) and under omnibase (both), to measure what the hardening layers cost.
 *   getppid   a call the filter allows at once
 *   stat      a path walk (Landlock is not asked: stat is no access right)
 *   openat    open + close of a file (Landlock checks it; omnibase also observes it)
 *   sendmsg   a one-byte datagram sent with sendmsg (no destination: a connected unix
 *             socket pair, the IPC case) and received; omnibase observes every sendmsg
 *   mkdir     mkdir + rmdir of a directory in /tmp (omnibase performs both in its broker)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct stat st;
	int sv[2] = {-1, -1};
	char byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "sendmsg") && socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
		return 1;
	long n = atol(argv[2]);
	const char *w = argv[1];
	double t = now();
	for (long i = 0; i < n; i++) {
		if (!strcmp(w, "getppid")) {
			(void)getppid();
		} else if (!strcmp(w, "sendmsg")) {
			(void)sendmsg(sv[0], &msg, 0);
			(void)recv(sv[1], &byte, 1, 0);
		} else if (!strcmp(w, "stat")) {
			(void)stat("/usr/bin/true", &st);
		} else if (!strcmp(w, "mkdir")) {
			if (mkdir("/tmp/syscall-loop.d", 0755) == 0)
				(void)rmdir("/tmp/syscall-loop.d");
		} else {
			int fd = openat(AT_FDCWD, "/usr/lib/os-release", O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				(void)close(fd);
		}
	}
	printf("%.1f\n", (now() - t) / (double)n);
	return 0;
}
