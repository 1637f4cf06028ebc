/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan/types.h"

struct Glob;

/* The longest wildcard-free directory of the path glob G, into BUF: "/workspace" for the
 * .sh files of /workspace, "/opt/tools" for "/opt/tools/{any}/bin/x", "/" when the first
 * segment has a wildcard. Pure. */
int exec_pattern_prefix(const struct Glob *g, char *buf, size_t size);
/* PATTERN (canonical, absolute) as the sandbox names it: beneath the host directory WORKDIR
 * (a relative grant is joined to it) it is beneath /workspace inside; else unchanged. Into
 * BUF; 1 when translated, 0 when not, -ENAMETOOLONG. Pure. */
int exec_pattern_inside(const char *pattern, const char *workdir, char *buf, size_t size);
/* Adds the path pattern PATTERN (canonical, absolute, with a wildcard) to P's exec patterns;
 * *PREFIX then points at its Landlock prefix (owned by P). A pattern that may match beneath
 * /tmp takes noexec off /tmp (exec there is possible exactly when a grant covers it). */
int exec_patterns_add(Plan *p, const char *pattern, const char **prefix);
/* Does one of P's exec patterns match PATH (a canonical sandbox path)? */
bool exec_patterns_match(const Plan *p, const char *path);
/* Is PATH beneath the Landlock prefix of one of P's exec patterns (so Landlock alone would
 * let it run)? */
bool exec_patterns_beneath(const Plan *p, const char *path);
/* Forgets the last pattern exec_patterns_add added (its files got rules of their own). */
void exec_patterns_pop(Plan *p);
void exec_patterns_free(Plan *p);

/* Called for each file a pattern matches: its path. */
typedef int (*ExecMatchFn)(void *userdata, const char *path);
#define EXEC_EXPAND_MAX 256
/* Where no new name can appear beneath a pattern's prefix, Landlock can be told the pattern
 * exactly: calls FOUND for each executable regular file the glob G matches now, segment by
 * segment from its prefix, leaving out what resolves outside the prefix (a symlink). Returns
 * how many, -E2BIG when more than EXEC_EXPAND_MAX or when G has a `**` (a walk of whole trees),
 * or FOUND's error. */
int exec_pattern_expand(const struct Glob *g, ExecMatchFn found, void *userdata);
/* A Landlock rule for --dry-run: path, access and, for an exec rule, why. */
json_t *exec_rule_json(const FsRule *rule);
