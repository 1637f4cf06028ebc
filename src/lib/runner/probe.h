/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What this kernel and user can apply (omnibase doctor, and checks before a run). */
#pragma once

#include <stdbool.h>

/* pidfd_getfd and SECCOMP_ADDFD_FLAG_SETFD: what the transparent egress path needs. */
bool probe_transparent_egress(void);
/* memfd_create's MFD_NOEXEC_SEAL (Linux >= 6.3): memfds the program makes cannot be run. */
bool probe_memfd_noexec(void);
