/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Finds the value that PATH ("$", "$.key", "$.list[3].key") names in DATA, a JSON text that
 * has already been parsed successfully, and returns its 1-based line and column (columns
 * count characters).  -ENOENT when the path does not lead to a value, -EINVAL for a path
 * that does not start with '$'.
 */
int json_locate(const char *data, size_t len, const char *path, unsigned *ret_line,
                unsigned *ret_col);
