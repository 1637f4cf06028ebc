/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit events' fields (SPEC §5); audit.c adds the common ones and writes them. */
#include "audit/events.h"

void event_denied(Audit *a, const char *capability, const char *resource, const char *operation,
                  const char *needed, const char *detail, int pid)
{
	audit_emit(a, "CapabilityDenied",
	           json_pack("{s:s, s:s, s:s, s:s?, s:s*, s:i}", "capability", capability,
	                     "resource", resource, "operation", operation, "needed", needed,
	                     "detail", detail, "pid", pid));
}

void event_used(Audit *a, const char *capability, const char *resource, const char *operation,
                const char *address, int pid)
{
	audit_emit(a, "CapabilityUsed",
	           json_pack("{s:s, s:s, s:s, s:s, s:i}", "capability", capability, "resource",
	                     resource, "operation", operation, "address", address, "pid", pid));
}

void event_violation(Audit *a, const char *syscall, const char *detail, int pid)
{
	audit_emit(a, "SandboxViolation",
	           json_pack("{s:s, s:s, s:s, s:i}", "syscall", syscall, "operation", "syscall",
	                     "detail", detail, "pid", pid));
}

void event_limit(Audit *a, ob_limit l, uint64_t value)
{
	char v[32];
	ob_limit_format(l, value, v, sizeof(v));
	/* SPEC §5 names the resource "cpu" where the limit is "cpus". */
	audit_emit(a, "ResourceLimitExceeded",
	           json_pack("{s:s, s:s}", "resource",
	                     l == OB_LIMIT_CPUS ? "cpu" : ob_limit_to_string(l), "limit", v));
}

void event_degraded(Audit *a, const char *protection, const char *reason)
{
	audit_emit(a, "SandboxDegraded",
	           json_pack("{s:s, s:s}", "protection", protection, "reason", reason));
}

void event_policies(Audit *a, const json_t *requested)
{
	size_t i;
	json_t *e;

	json_array_foreach((json_t *)requested, i, e) {
		json_t *ids = json_array(), *p;
		size_t k;
		json_array_foreach(json_object_get(e, "policies"), k, p)
			(void)json_array_append(ids, json_object_get(p, "id"));
		audit_emit(a, "PolicyEvaluated",
		           json_pack("{s:O, s:O, s:O, s:O, s:o, s:O, s:O}", "principal",
		                     json_object_get(e, "principal"), "action",
		                     json_object_get(e, "action"), "resource",
		                     json_object_get(e, "resource"), "decision",
		                     json_object_get(e, "decision"), "policies", ids, "errors",
		                     json_object_get(e, "errors"), "capability",
		                     json_object_get(e, "capability")));
	}
}

void event_start(Audit *a, const char *program, char *const *argv, json_t *capabilities,
                 json_t *limits, const char *mode, json_t *protections, char *const *warnings,
                 size_t n_warnings)
{
	json_t *args = json_array(), *warns = json_array();
	for (size_t i = 0; argv && argv[i]; i++)
		(void)json_array_append_new(args, json_string(argv[i]));
	for (size_t i = 0; i < n_warnings; i++)
		(void)json_array_append_new(warns, json_string(warnings[i]));
	audit_emit(a, "SandboxStart",
	           json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o}", "program", program, "argv",
	                     args, "capabilities", capabilities, "limits", limits, "mode", mode,
	                     "protections", protections, "warnings", warns));
}

void event_exit(Audit *a, const ob_result *res, json_t *egress)
{
	json_t *fields =
	    json_pack("{s:i, s:i, s:I, s:I, s:i}", "status", res->status, "signal", res->signal,
	              "duration_ms", (json_int_t)res->duration_ms, "max_rss_kb",
	              (json_int_t)res->max_rss_kb, "violations", (int)res->violations);
	if (fields && egress)
		(void)json_object_set_new(fields, "egress", egress);
	else
		json_decref(egress);
	audit_emit(a, "SandboxExit", fields);
}
