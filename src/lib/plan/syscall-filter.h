/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "omnibase/omnibase.h"

/* A compiled filter: what the sandbox's program installs (no allocation after clone). */
typedef struct SeccompProg {
	struct sock_filter *code;
	unsigned short len;
} SeccompProg;

/* --seccomp-profile: names added to the allow-list, names taken off it (NULL-terminated). */
typedef struct SeccompProfile {
	char **allow;
	char **deny;
} SeccompProfile;

/* Builds the allow-list filter (seccomp.c says what it allows and why). FILES: the SQLite
 * side-file calls are observed too. */
int seccomp_build(SeccompProg *prog, const SeccompProfile *prof, bool files, ob_error *reterr);
/* The same, always through libseccomp (seccomp_build uses the build-time copy of the default
 * policy when PROF changes nothing). */
int seccomp_build_fresh(SeccompProg *prog, const SeccompProfile *prof, bool files,
                        ob_error *reterr);
void seccomp_prog_done(SeccompProg *p);
/* Is NR (native) one of the calls the supervisor observes and lets through? */
bool seccomp_is_observed(int nr, bool files);
/* The name of system call NR of AUDIT_ARCH (an AUDIT_ARCH_* value) into BUF. */
const char *seccomp_name(uint32_t audit_arch, int nr, char *buf, size_t size);
/* The policy, for --dry-run. */
json_t *seccomp_profile_json(const SeccompProfile *prof, bool files);
/* The same policy as an OCI runtime-spec seccomp object (linux.seccomp), for the OCI
 * backends: refusals are EPERM (no supervisor observes them there). */
json_t *seccomp_oci_json(const SeccompProfile *prof, const char *listener);
int seccomp_profile_load(const char *file, SeccompProfile *p, ob_error *reterr);
void seccomp_profile_done(SeccompProfile *p);
