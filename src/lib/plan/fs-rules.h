/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plan/types.h"

/* The Landlock ABI of the running kernel, 0 when Landlock is unavailable. */
int fs_rules_abi(void);
/* Computes P's Landlock rules from its mount steps, its executable and the EXTERNAL_COMMAND
 * grants active in CTX (bare names resolved on HOST_PATH). Supervisor side. */
int fs_rules_build(Plan *p, const ob_capset *caps, const ob_context *ctx, const char *host_path,
                   ob_error *reterr);
/* Applies P's rules to the calling process (after no_new_privs, before execve). No
 * allocation. On failure *failed names the rule or call. With RET_RULESET the ruleset's fd
 * (close-on-exec) is kept there, for the supervisor's open broker (runner/notify-broker.h). */
int fs_rules_apply(const Plan *p, const char **failed, int *ret_ruleset);
/* Does the domain fs_rules_apply makes limit TCP connects (to P's ports; none listed: every
 * one refused, the transparent path, whose connects the supervisor makes)? */
bool fs_rules_limit_tcp(const Plan *p);
