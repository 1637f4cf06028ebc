/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plan/types.h"

/* Finds the program of IN (a path, or a bare name on IN's PATH; a script's interpreter from
 * its #! line), binds it (and the interpreter) into P and sets P's argv. */
int plan_program(Plan *p, const PlanInput *in, ob_error *reterr);
/* Finds the executable NAME on SEARCH (a PATH string); *ret is malloc'ed. */
int plan_find_on_path(const char *name, const char *search, char **ret);
