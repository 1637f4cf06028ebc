/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What this kernel and user can apply (omnibase doctor, and checks before a run). */
#pragma once

#include <stdbool.h>

/* pidfd_getfd and SECCOMP_ADDFD_FLAG_SETFD: what the transparent egress path needs. */
bool probe_transparent_egress(void);
/* memfd_create's MFD_NOEXEC_SEAL (Linux >= 6.3): memfds the program makes cannot be run. */
bool probe_memfd_noexec(void);
/* Whether a user namespace can be made (tried in a child once per process). */
bool probe_user_namespaces(void);
/* The Landlock ABI a run uses: the kernel's, lowered by OB_TEST_LANDLOCK_ABI_MAX (tests
 * simulate older kernels with it; it can only lower, never raise). */
#define PROBE_LANDLOCK_ABI_ENV "OB_TEST_LANDLOCK_ABI_MAX"
int probe_landlock_abi(void);
/* ABI lowered to CAP when CAP is a plain number below it; otherwise ABI unchanged. */
int probe_lower_landlock_abi(int abi, const char *cap);
/* When probe_user_namespaces() fails: what refuses user namespaces here, and what allows them. */
const char *probe_userns_blocker(void);
const char *probe_userns_fix(void);
