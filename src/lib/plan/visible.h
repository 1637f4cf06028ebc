/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "plan/types.h"

/* Is host PATH (absolute, normalised) already visible at its own path inside what P mounts so
 * far: below a host directory bound at its own path (the runtime's /usr, mode rx's /), or the
 * very file bound or symlinked there?  False below a tmpfs (/tmp) or the empty root. */
bool plan_shows(const Plan *p, const char *path);

/* Is PATH "/" or a home directory (/root, /home/NAME, $HOME, the caller's passwd entry)?  No
 * bind of the program's surroundings may be one: a home holds far more than a program. */
bool path_is_home_or_root(const char *path);

/* Makes host PATH (absolute) visible read-only at its own path: each symlink on the way
 * (the path's own components and their targets', at most 40) becomes the same symlink
 * inside, and the file it resolves to is bound, unless P shows them already.  A directory is
 * bound only with DIR_OK.  Steps are marked as the caller's files (plan_mark_idmap).
 * *RET_REAL (may be NULL, PATH_MAX bytes) receives the resolved path.  -ENOENT, -ELOOP,
 * -EISDIR (a directory without DIR_OK), -EPERM (a home directory or /), -ENOMEM, -E2BIG. */
int plan_show_path(Plan *p, const char *path, bool dir_ok, const char *why, char *ret_real);
