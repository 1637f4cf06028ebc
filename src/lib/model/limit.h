/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "omnibase/omnibase.h"

/* True for the limits measured in bytes (memory, output, tmpfs, egress, disk). */
bool limit_is_size(ob_limit limit);
/* -ERANGE with *msg set when V is outside LIMIT's bounds. */
int limit_check_range(ob_limit limit, uint64_t v, const char **msg);
/* Parses the text form of LIMIT (sizes, decimal seconds/CPUs, whole numbers) into its unit. */
int limit_parse_text(ob_limit limit, const char *text, uint64_t *ret, const char **msg);
