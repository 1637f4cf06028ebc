/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "plan/types.h"

/* The runtime's directories (/usr, /bin, /lib, …), bound read-only in every mode. */
extern const char *const plan_runtime_dirs[];
extern const size_t plan_n_runtime_dirs;

/* Appends a step of KIND to P (strings copied; WHY, a static string, says what for in
 * --dry-run). -E2BIG past the plan's step limit, -ENOMEM. */
int plan_add(Plan *p, StepKind kind, const char *src, const char *dest, const char *data,
             unsigned long flags, const char *why);
/* A bind of host path SRC at the same path, read-only with RO, if it exists; a symlink
 * becomes a symlink. */
int plan_bind_same(Plan *p, const char *src, bool ro, const char *why);
/* Modes rx and rwx: the host's root, one top-level entry at a time on the sandbox's own root
 * (read-only with RO), but for what the sandbox has of its own. WHY is PLAN_HOST_ROOT_WHY. */
#define PLAN_HOST_ROOT_WHY "the host (mode rx/rwx)"
int plan_host_root(Plan *p, bool ro);
/* Marks the binds P gained since step FROM as grants: the caller's files there become the
 * sandbox uid's (an id-mapped mount, when run as root). */
void plan_mark_idmap(Plan *p, size_t from);
/* Is PATH in one of the runtime's directories? */
bool plan_under_runtime(const char *path);
