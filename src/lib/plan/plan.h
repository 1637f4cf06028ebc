/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building the plan of a run (SPEC §3) from what the caller asked for. */
#pragma once

#include <jansson.h>

#include "plan/types.h"

/*
 * Resolves IN into PLAN (the Landlock rules are added after it: fs-rules.c).  Errors: -ENOENT
 * (program not found: exit 127), -ENOEXEC/-EACCES (found, not runnable: 126), -EINVAL and others
 * (setup: 125), with RETERR saying why.
 */
int plan_build(Plan *plan, const PlanInput *in, ob_error *reterr);
void plan_done(Plan *plan);
/* The plan as JSON (the --dry-run output, without protections). */
json_t *plan_to_json(const Plan *plan);
