/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "omnibase/omnibase.h"

#include "basic/macro.h"

/*
 * Fills RETERR (may be NULL) with CODE (a negative errno) and a formatted message, and returns
 * CODE, so that callers can write `return ob_error_set(reterr, -EINVAL, "...")`.
 */
int ob_error_set(ob_error *reterr, int code, const char *fmt, ...) _printf_(3, 4);
