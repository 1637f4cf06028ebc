/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a run's result says beyond its status: the distinct denials (with the grant that would
 * allow each), the limits reached, and the two renderings every caller shares: the one line
 * on stderr and the --json object (result.c).
 */
#pragma once

#include "omnibase/omnibase.h"

/* Counts one denial into RES: a new (capability, resource, operation) is kept while fewer
 * than OB_RESULT_MAX_DENIALS are, a known one has its count raised; NEEDED "" when no grant
 * allows it. Never fails: without memory the denial is only counted. */
void result_add_denial(ob_result *res, const char *capability, const char *resource,
                       const char *operation, const char *needed);
/* Frees the denials RES owns. */
void result_free_denials(ob_result *res);
/* The end of a run in one word: "exited", "signaled", "timeout", "memory", "not-found",
 * "not-executable", "error". */
const char *result_reason(const ob_result *res);
