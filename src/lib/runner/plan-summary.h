/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

/* Adds "access_names" (["read_file", "read_dir", ...]) beside each numeric "access" of the
 * plan document's Landlock rules (PLAN: ob_sandbox_plan_json()'s object).  Best effort: a
 * failed allocation leaves a rule without names. */
void plan_json_name_access(json_t *plan);
