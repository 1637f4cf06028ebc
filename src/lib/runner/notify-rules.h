/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "plan/types.h"

/* Would the program's host identity be refused opening a file with ST's owner and mode
 * (for writing with WRITE)? Only when run as root (P->id_base); see notify-rules.c. */
bool denied_by_permissions(const Plan *p, const struct stat *st, bool write);
/* Is PATH one of the /proc files the sandbox's layout refuses (for writing with WRITE)? */
bool proc_protected(const char *path, bool write);
