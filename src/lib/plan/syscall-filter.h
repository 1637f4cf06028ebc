/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "omnibase/omnibase.h"

/* The AUDIT_ARCH of this build's system calls: what seccomp hands every filter, notifier and
 * trace reader here. Undefined on an architecture the filters do not know. */
#if defined(__x86_64__)
#define FILTER_NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

/* A compiled filter: what the sandbox's program installs (no allocation after clone). */
typedef struct FilterProg {
	struct sock_filter *code;
	unsigned short len;
} FilterProg;

/* --seccomp-profile: names added to the allow-list, names taken off it (NULL-terminated). */
typedef struct FilterProfile {
	char **allow;
	char **deny;
} FilterProfile;

/* Builds the allow-list filter (plan/syscall-table.c says what it allows and why). FILES: the
 * SQLite side-file calls are observed too. */
int filter_build(FilterProg *prog, const FilterProfile *prof, bool files, ob_error *reterr);
/* The same, always through libseccomp (filter_build uses the build-time copy of the default
 * policy when PROF changes nothing). */
int filter_build_fresh(FilterProg *prog, const FilterProfile *prof, bool files, ob_error *reterr);
void filter_prog_done(FilterProg *p);
/* Is NR (native) one of the calls the supervisor observes and lets through? */
bool filter_is_observed(int nr, bool files);
/* The name of system call NR of AUDIT_ARCH (an AUDIT_ARCH_* value) into BUF. */
const char *filter_syscall_name(uint32_t audit_arch, int nr, char *buf, size_t size);
/* The policy, for --dry-run. */
json_t *filter_profile_json(const FilterProfile *prof, bool files);
int filter_profile_load(const char *file, FilterProfile *p, ob_error *reterr);
void filter_profile_done(FilterProfile *p);
