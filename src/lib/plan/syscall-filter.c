/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The native backend's seccomp policy: an allow-list, built with libseccomp in the supervisor
 * before clone and installed by the sandbox's program right before its execve, with a
 * listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) that the supervisor holds.
 *
 * Every system call not on the list, a listed one with refused arguments, and every call
 * through another architecture's entry point (the i386 `int 0x80` path, x32) goes to the
 * supervisor, which records a SandboxViolation naming the call and answers EPERM: a refused
 * call is an error the program sees, not a kill, and it is always on the record. Only clone3
 * is answered ENOSYS directly, so that C libraries fall back to clone, whose flags the filter
 * can read (clone3 passes them in memory, out of a filter's reach); that is a probe, not a
 * violation. The calls the supervisor observes for denials (exec, connect, open; notify.c)
 * go to it too and are let through.
 */
#include "plan/syscall-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "plan/syscall-table.h"

/* Each allowed name that this libseccomp knows, as an unconditional rule; with FILES not
 * the SQLite side-file calls, which then take the default action (to the supervisor). */
static int add_allowed(scmp_filter_ctx ctx, const FilterProfile *prof, bool files)
{
	for (size_t i = 0; i < syscalls_allowed_n; i++) {
		int nr = seccomp_syscall_resolve_name(syscalls_allowed[i]);
		if (nr == __NR_SCMP_ERROR || filter_profile_has(prof->deny, syscalls_allowed[i]) ||
		    (files && syscall_in_list(syscalls_observed_files, syscalls_observed_files_n,
		                              syscalls_allowed[i])) ||
		    syscall_in_list(syscalls_observed_writes, syscalls_observed_writes_n,
		                    syscalls_allowed[i]))
			continue;
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Adds the conditional rules to CTX (those PROF denies by name left out). */
static int add_conditional(scmp_filter_ctx ctx, const FilterProfile *prof)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < cond_rules_n; i++) {
		const CondRule *c = &cond_rules[i];
		struct scmp_arg_cmp cmp[2];
		if (filter_profile_has(prof->deny, c->name) ||
		    syscall_in_list(syscalls_observed_writes, syscalls_observed_writes_n, c->name))
			continue; /* observed: the supervisor checks the mode (notify-write.c) */
		for (unsigned k = 0; k < c->n; k++)
			cmp[k] = SCMP_CMP64(c->cmp[k].arg, c->cmp[k].op, c->cmp[k].a, c->cmp[k].b);
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
		                           seccomp_syscall_resolve_name(c->name), c->n, cmp);
	}
	for (size_t i = 0; r >= 0 && !filter_profile_has(prof->deny, "ioctl") && i < ioctl_ranges_n;
	     i++)
		for (uint64_t lo = ioctl_ranges[i][0]; r >= 0 && lo <= ioctl_ranges[i][1];) {
			uint64_t start = lo, mask = syscall_next_block(&lo, ioctl_ranges[i][1]);
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			                     SCMP_A1_64(SCMP_CMP_MASKED_EQ, mask, start));
		}
	/* clone3's flags live in memory: answered "not implemented", callers use clone. */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r;
}

/* Exports CTX's BPF program into P (a pipe would do; a memfd needs no reader). */
static int export_bpf(scmp_filter_ctx ctx, FilterProg *p)
{
	_cleanup_close_ int fd = memfd_create("omnibase-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	p->code = malloc((size_t)size);
	if (!p->code)
		return -ENOMEM;
	if (pread(fd, p->code, (size_t)size, 0) != size)
		return -EIO;
	p->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

#ifndef SECCOMP_NO_PREBUILT
/* The default policy, compiled at build time by seccomp-gen (seccomp-prebuilt.c): libseccomp
 * takes about 1.5 ms to build it, a third of a sandbox's start-up. */
extern const struct sock_filter seccomp_prebuilt_code[2][BPF_MAXINSNS];
extern const unsigned short seccomp_prebuilt_len[2];

static int copy_prebuilt(FilterProg *prog, bool files)
{
	unsigned short len = seccomp_prebuilt_len[files];
	prog->code = malloc(len * sizeof(struct sock_filter));
	if (!prog->code)
		return -ENOMEM;
	memcpy(prog->code, seccomp_prebuilt_code[files], len * sizeof(struct sock_filter));
	prog->len = len;
	return 0;
}
#endif

int filter_build(FilterProg *prog, const FilterProfile *prof, bool files, ob_error *reterr)
{
	*prog = (FilterProg){0};
#ifndef SECCOMP_NO_PREBUILT
	if (!prof->allow && !prof->deny) {
		int r = copy_prebuilt(prog, files);
		return r < 0 ? ob_error_set(reterr, r, "seccomp: out of memory") : 0;
	}
#endif
	return filter_build_fresh(prog, prof, files, reterr);
}

int filter_build_fresh(FilterProg *prog, const FilterProfile *prof, bool files, ob_error *reterr)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_NOTIFY);
	int r;

	*prog = (FilterProg){0};
	if (!ctx)
		return ob_error_set(reterr, -ENOMEM, "seccomp: out of memory");
	/* Other architectures' entry points (i386 int 0x80, x32) reach the supervisor too. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
	if (r >= 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* the child sets it itself */
	if (r >= 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); /* a binary tree */
	if (r >= 0)
		r = add_allowed(ctx, prof, files);
	for (size_t i = 0; r >= 0 && prof->allow && prof->allow[i]; i++)
		if (!syscall_in_list(syscalls_allowed, syscalls_allowed_n, prof->allow[i]))
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			                     seccomp_syscall_resolve_name(prof->allow[i]), 0);
	if (r >= 0)
		r = add_conditional(ctx, prof);
	/* The observed calls (exec, connect, open; with FILES the side-file ones) need no rule:
	 * the default action brings them to the supervisor, which tells them from refusals. */
	if (r >= 0)
		r = export_bpf(ctx, prog);
	seccomp_release(ctx);
	if (r < 0) {
		filter_prog_done(prog);
		return ob_error_set(reterr, r, "building the seccomp filter: %s", strerror(-r));
	}
	return 0;
}

void filter_prog_done(FilterProg *p)
{
	free(p->code);
	*p = (FilterProg){0};
}

bool filter_is_observed(int nr, bool files)
{
	/* Numbers, not names: this runs for every notification. */
	static const int calls[] = {
	    __NR_execve,       __NR_execveat, __NR_connect,   __NR_bind,      __NR_listen,
	    __NR_sendto,       __NR_sendmsg,  __NR_sendmmsg,  __NR_openat,
#ifdef __NR_open
	    __NR_open,         __NR_creat,
#endif
	    437 /* openat2 */, __NR_setxattr, __NR_lsetxattr, __NR_fsetxattr, __NR_memfd_create};
	static const int file_calls[] = {__NR_unlinkat,   __NR_faccessat, 439 /* faccessat2 */,
	                                 __NR_newfstatat, __NR_statx,
#ifdef __NR_unlink
	                                 __NR_unlink,     __NR_access,    __NR_stat,
	                                 __NR_lstat
#endif
	};
	for (size_t i = 0; i < ELEMENTSOF(calls); i++)
		if (calls[i] == nr)
			return true;
	for (size_t i = 0; files && i < ELEMENTSOF(file_calls); i++)
		if (file_calls[i] == nr)
			return true;
	return false;
}

const char *filter_syscall_name(uint32_t audit_arch, int nr, char *buf, size_t size)
{
	/* libseccomp's architecture tokens are the AUDIT_ARCH_* values themselves. */
	char *name = seccomp_syscall_resolve_num_arch(audit_arch, nr);

	if (name) {
		(void)snprintf(buf, size, "%s", name);
		free(name);
	} else {
		(void)snprintf(buf, size, "syscall %d", nr);
	}
	return buf;
}

json_t *filter_profile_json(const FilterProfile *prof, bool files)
{
	json_t *allow = json_array(), *refused = json_array(), *obs = json_array();

	for (size_t i = 0; i < syscalls_allowed_n; i++)
		if (seccomp_syscall_resolve_name(syscalls_allowed[i]) != __NR_SCMP_ERROR &&
		    !(prof && filter_profile_has(prof->deny, syscalls_allowed[i])))
			(void)json_array_append_new(allow, json_string(syscalls_allowed[i]));
	for (size_t i = 0; prof && prof->allow && prof->allow[i]; i++)
		(void)json_array_append_new(allow, json_string(prof->allow[i]));
	for (size_t i = 0; i < syscalls_refused_examples_n; i++)
		if (!(prof && filter_profile_has(prof->allow, syscalls_refused_examples[i])))
			(void)json_array_append_new(refused,
			                            json_string(syscalls_refused_examples[i]));
	for (size_t i = 0; i < syscalls_observed_n; i++)
		(void)json_array_append_new(obs, json_string(syscalls_observed[i]));
	for (size_t i = 0; i < syscalls_observed_writes_n; i++)
		if (seccomp_syscall_resolve_name(syscalls_observed_writes[i]) != __NR_SCMP_ERROR)
			(void)json_array_append_new(obs, json_string(syscalls_observed_writes[i]));
	for (size_t i = 0; files && i < syscalls_observed_files_n; i++)
		if (!syscall_in_list(syscalls_observed_writes, syscalls_observed_writes_n,
		                     syscalls_observed_files[i]))
			(void)json_array_append_new(obs, json_string(syscalls_observed_files[i]));
	return json_pack(
	    "{s:s, s:o, s:[s,s,s,s,s,s,s], s:o, s:o, s:s}", "default",
	    "refused (EPERM) and recorded as SandboxViolation", "allowed", allow, "conditional",
	    "clone without namespace flags", "socket: AF_UNIX, AF_INET, AF_INET6",
	    "socketpair: AF_UNIX", "personality: default or query only",
	    "ioctl: all but TIOCSTI and TIOCLINUX",
	    "chmod, fchmod, fchmodat, mkdir, mkdirat, mknod, mknodat: no set-user-ID or "
	    "set-group-ID bit",
	    "memfd_create: with MFD_NOEXEC_SEAL (without it, made sealed by the supervisor)",
	    "observed", obs, "refused_examples", refused, "other_architectures",
	    "refused (EPERM) and recorded: i386 int 0x80, x32");
}
