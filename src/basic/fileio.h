/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "omnibase/omnibase.h"

/* Reads the regular file PATH, at most MAX bytes (larger: -EFBIG), into a malloc'ed buffer
 * with a NUL after the LEN bytes. Errors name the file. */
int read_file_limited(const char *path, size_t max, char **ret, size_t *ret_len, ob_error *reterr);
