/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob-enosys SYSCALL[,SYSCALL...] PROGRAM [ARGS...]: runs PROGRAM with the named system calls
 * failing with ENOSYS (a seccomp filter, inherited across fork and exec), to test how
 * omnibase behaves on a kernel without them.
 *
 * The name `userns` in the list instead refuses new user namespaces with EPERM, as on a host
 * where they are restricted (Ubuntu's AppArmor sysctl, Docker's default seccomp profile):
 * clone and unshare with CLONE_NEWUSER fail with EPERM, and clone3 (whose flags a filter
 * cannot read) with ENOSYS, so that callers fall back to clone.
 *
 * The name `addfd` refuses the seccomp notifier's SECCOMP_IOCTL_NOTIF_ADDFD with EINVAL, as a
 * kernel before 5.9 answers it.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int refuse_user_namespaces(scmp_filter_ctx ctx)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
	                         SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r;
}

static int refuse(scmp_filter_ctx ctx, const char *name)
{
	if (strcmp(name, "userns") == 0)
		return refuse_user_namespaces(ctx);
	if (strcmp(name, "addfd") == 0) {
		const scmp_datum_t cmd = SECCOMP_IOCTL_NOTIF_ADDFD;
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(ioctl), 1,
		                        SCMP_A1(SCMP_CMP_EQ, cmd));
	}
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return -EINVAL;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		(void)fprintf(stderr,
		              "usage: ob-enosys SYSCALL|userns|addfd[,...] PROGRAM [ARGS...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 2;
	char *list = strdup(argv[1]);
	for (char *name = strtok(list, ","); name; name = strtok(NULL, ","))
		if (refuse(ctx, name) < 0) {
			(void)fprintf(stderr, "ob-enosys: unknown system call %s\n", name);
			return 2;
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
