/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every audit event's fields (SPEC §5), built in one place: the runner, the egress parts and
 * the backends report through these, so an event type has one shape wherever it comes from.
 */
#pragma once

#include <jansson.h>

#include "audit/audit.h"

/* CapabilityDenied: CAPABILITY refused on RESOURCE by OPERATION (exec, open, connect, …),
 * NEEDED the grant that would allow it ("FILE_READ:/etc/passwd"; NULL: no grant does), with
 * DETAIL (why; NULL: none) and the program's PID (0: the supervisor's own refusal). */
void event_denied(Audit *a, const char *capability, const char *resource, const char *operation,
                  const char *needed, const char *detail, int pid);
/* CapabilityUsed (--verbose): a granted network connection made, to ADDRESS. */
void event_used(Audit *a, const char *capability, const char *resource, const char *operation,
                const char *address, int pid);
/* SandboxViolation: a refused system call SYSCALL, DETAIL its refused arguments. */
void event_violation(Audit *a, const char *syscall, const char *detail, int pid);
/* ResourceLimitExceeded: limit L (VALUE its setting, formatted). */
void event_limit(Audit *a, ob_limit l, uint64_t value);
/* SandboxDegraded: PROTECTION not applied, and why (--allow-degraded asked for it). */
void event_degraded(Audit *a, const char *protection, const char *reason);
/* PolicyEvaluated for each entry of REQUESTED (a review's "requested" array). */
void event_policies(Audit *a, const json_t *requested);
/* SandboxStart: PROGRAM run with ARGV (NULL-terminated); CAPABILITIES, LIMITS and
 * PROTECTIONS are taken (references stolen); WARNINGS (N_WARNINGS): what the plan found
 * amiss, e.g. a grant that matches nothing on the host. */
void event_start(Audit *a, const char *program, char *const *argv, json_t *capabilities,
                 json_t *limits, const char *mode, json_t *protections, char *const *warnings,
                 size_t n_warnings);
/* SandboxExit from RES; EGRESS (stolen, may be NULL): the egress counters. */
void event_exit(Audit *a, const ob_result *res, json_t *egress);
