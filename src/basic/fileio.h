/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/resource.h>

#include "omnibase/omnibase.h"

/* Reads the regular file PATH, at most MAX bytes (larger: -EFBIG), into a malloc'ed buffer
 * with a NUL after the LEN bytes. Errors name the file. */
int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ob_error *reterr);

/* close_range(2)'s flag (Linux 5.11), which older headers lack. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Raises this process's soft RLIMIT_NOFILE toward WANT (no further than the hard limit, never
 * lowered): the soft limit now, or 0 when it cannot be read. */
rlim_t nofile_raise(rlim_t want);
