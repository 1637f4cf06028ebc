/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob-enosys SYSCALL[,SYSCALL...] PROGRAM [ARGS...]: runs PROGRAM with the named system calls
 * failing with ENOSYS (a seccomp filter, inherited across fork and exec), to test how
 * omnibase behaves on a kernel without them.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		(void)fprintf(stderr, "usage: ob-enosys SYSCALL[,SYSCALL...] PROGRAM [ARGS...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 2;
	char *list = strdup(argv[1]);
	for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0) {
			(void)fprintf(stderr, "ob-enosys: unknown system call %s\n", name);
			return 2;
		}
	}
	free(list);
	if (seccomp_load(ctx) < 0) {
		(void)fprintf(stderr, "ob-enosys: cannot load the filter\n");
		return 2;
	}
	seccomp_release(ctx);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
