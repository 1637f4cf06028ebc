/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a path grant finds on the host (SPEC §2.2): a grant that matches nothing is a warning,
 * not silence; FILE_WRITE of a file that does not exist yet lets the program create it (the
 * supervisor creates it empty at launch, in its directory, and binds that file alone).
 */
#pragma once

#include "omnibase/omnibase.h"

#include "basic/macro.h"
#include "plan/types.h"

/* Adds a warning (printf-style) to the plan: said on stderr and in SandboxStart. */
int plan_warn(Plan *p, const char *fmt, ...) _printf_(2, 3);

/* Plan time: FILE_WRITE of PATH (absolute, literal), which does not exist. Binds PATH
 * read-write once it exists, created empty at launch; needs its directory to exist with no
 * symlink on the way (else a warning and nothing bound). WHY names the grant. */
int grantfiles_plan_new(Plan *p, const char *path, const char *why, ob_error *reterr);

/* Launch: creates the files grantfiles_plan_new() recorded (as the supervisor, so the id map
 * of the grant shows them as the program's), never through a symlink. */
int grantfiles_prepare(Plan *p, ob_error *reterr);

/* After the run: removes each file this run created that is still as it was made (empty,
 * never written, truncated or touched): the program did not create it. */
void grantfiles_cleanup(Plan *p);

void grantfiles_done(Plan *p);

/* The warnings and the files to create, for --dry-run: {"warnings": [...], "new_files": [...]}
 * added to O. */
void grantfiles_to_json(const Plan *p, json_t *o);
