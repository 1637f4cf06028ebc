/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system call policy's tables (syscall-table.c), shared by the native filter and the OCI
 * backends' seccomp object. */
#pragma once

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One comparison of a conditional rule: argument ARG OP A (B: MASKED_EQ's datum). */
typedef struct ArgCmp {
	unsigned arg;
	enum scmp_compare op;
	uint64_t a, b;
} ArgCmp;

/* A call allowed (or, in cond_refusals, refused) only with these comparisons, ANDed. */
typedef struct CondRule {
	const char *name;
	unsigned n;
	ArgCmp cmp[2];
} CondRule;

/* A range of refused values of one argument, matched as aligned blocks (syscall_next_block). */
typedef struct CondRange {
	const char *name;
	unsigned arg;
	uint64_t lo, hi;
} CondRange;

extern const char *const syscalls_allowed[];          /* allowed outright */
extern const char *const syscalls_refused_examples[]; /* refused, named for --dry-run and docs */
extern const char *const syscalls_observed[]; /* exec, connect, open: seen by the supervisor */
extern const char *const syscalls_observed_files[]; /* observed with SQLite side files */
/* observed where a listener exists (runner/notify-write.c), else allowed */
extern const char *const syscalls_observed_writes[];
extern const CondRule cond_rules[];           /* allowed with some arguments */
extern const CondRule cond_unobserved[];      /* observed calls' limits where none observes */
extern const CondRule cond_refusals[];        /* their refused uses, disjoint */
extern const CondRange cond_refused_ranges[]; /* refused values between allowed ones */
extern const uint64_t ioctl_ranges[][2];      /* the allowed ioctl commands */
extern const size_t syscalls_allowed_n, syscalls_refused_examples_n, syscalls_observed_n,
    syscalls_observed_files_n, syscalls_observed_writes_n, cond_rules_n, cond_unobserved_n,
    cond_refusals_n, cond_refused_ranges_n, ioctl_ranges_n;

/* Is NAME one of the N names of LIST? */
bool syscall_in_list(const char *const *list, size_t n, const char *name);
/* Does the NULL-terminated NAMES (a --seccomp-profile list, may be NULL) hold NAME? */
bool filter_profile_has(char *const *names, const char *name);
/* The next aligned block of [*LO, HI]: its mask; *LO moves past it. */
uint64_t syscall_next_block(uint64_t *lo, uint64_t hi);
/* Is NAME allowed only with some arguments (or clone3, answered ENOSYS)? */
bool syscall_is_conditional(const char *name);
