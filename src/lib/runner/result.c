/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A run's result for people and programs: the distinct denials it kept, the line on stderr
 * that says how omnibase ended or constrained the run, and the --json object. Both renderings
 * live here, in the library, so the CLI and the Python binding say the same thing.
 */
#include "runner/result.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

void result_add_denial(ob_result *res, const char *capability, const char *resource,
                       const char *operation, const char *needed)
{
	res->denials_total++;
	for (size_t i = 0; i < res->n_denials; i++) {
		ob_denial *d = &res->denials[i];
		if (streq(d->capability, capability) && streq(d->operation, operation) &&
		    streq(d->resource, resource)) {
			d->count++;
			return;
		}
	}
	if (res->n_denials >= OB_RESULT_MAX_DENIALS)
		return;
	if (!res->denials) {
		res->denials = calloc(OB_RESULT_MAX_DENIALS, sizeof(ob_denial));
		if (!res->denials)
			return;
	}
	ob_denial *d = &res->denials[res->n_denials];
	*d = (ob_denial){.resource = strdup(resource), .needed = strdup(needed), .count = 1};
	if (!d->resource || !d->needed) {
		free(d->resource);
		free(d->needed);
		*d = (ob_denial){0};
		return;
	}
	(void)snprintf(d->capability, sizeof(d->capability), "%s", capability);
	(void)snprintf(d->operation, sizeof(d->operation), "%s", operation);
	res->n_denials++;
}

void result_free_denials(ob_result *res)
{
	for (size_t i = 0; i < res->n_denials; i++) {
		free(res->denials[i].resource);
		free(res->denials[i].needed);
	}
	free(res->denials);
	res->denials = NULL;
	res->n_denials = 0;
	res->denials_total = 0;
}

const char *result_reason(const ob_result *res)
{
	if (res->timed_out)
		return "timeout";
	if (res->status >= 0)
		return "exited";
	if (res->signal > 0)
		return res->oom ? "memory" : "signaled";
	if (res->exit_code == OB_EXIT_NOTFOUND)
		return "not-found";
	if (res->exit_code == OB_EXIT_NOEXEC)
		return "not-executable";
	return "error";
}

static bool hit(const ob_result *res, ob_limit l)
{
	return (res->limits_hit & (1u << l)) != 0;
}

/* Appends "; " and the formatted text to the stream F (the first part without "; "). */
static void part(FILE *f, bool *first, const char *fmt, ...) _printf_(3, 4);
static void part(FILE *f, bool *first, const char *fmt, ...)
{
	va_list ap;
	if (!*first)
		(void)fputs("; ", f);
	*first = false;
	va_start(ap, fmt);
	(void)vfprintf(f, fmt, ap);
	va_end(ap);
}

/* The limits omnibase enforced on the run, each in the words of its flag. */
static void summary_limits(FILE *f, const ob_result *res, bool *first)
{
	char v[32];

	if (res->timed_out) {
		ob_limit_format(OB_LIMIT_TIMEOUT, res->limits.value[OB_LIMIT_TIMEOUT], v,
		                sizeof(v));
		part(f, first, "killed after %s s (--timeout)", v);
	}
	ob_limit_format(OB_LIMIT_MEMORY, res->limits.value[OB_LIMIT_MEMORY], v, sizeof(v));
	if (!res->timed_out && res->oom && res->signal > 0)
		part(f, first, "killed: out of memory (--memory %s)", v);
	else if (!res->timed_out && (res->oom || hit(res, OB_LIMIT_MEMORY)))
		part(f, first, "memory limit %s reached (--memory)", v);
	if (res->output_exceeded || hit(res, OB_LIMIT_OUTPUT)) {
		ob_limit_format(OB_LIMIT_OUTPUT, res->limits.value[OB_LIMIT_OUTPUT], v, sizeof(v));
		part(f, first, "output cut at %s bytes (--limit output=%s)", v, v);
	}
	if (hit(res, OB_LIMIT_PIDS)) {
		ob_limit_format(OB_LIMIT_PIDS, res->limits.value[OB_LIMIT_PIDS], v, sizeof(v));
		part(f, first, "process limit %s reached (--pids)", v);
	}
	if (hit(res, OB_LIMIT_TMPFS)) {
		ob_limit_format(OB_LIMIT_TMPFS, res->limits.value[OB_LIMIT_TMPFS], v, sizeof(v));
		part(f, first, "/tmp full at %s (--limit tmpfs=%s)", v, v);
	}
}

/* Has DENIALS[0, N) one naming the same capability and resource as D (another operation)? */
static bool named_before(const ob_denial *denials, size_t n, const ob_denial *d)
{
	for (size_t i = 0; i < n; i++)
		if (streq(denials[i].capability, d->capability) &&
		    streq(denials[i].resource, d->resource))
			return true;
	return false;
}

/* "N denials: CAP RESOURCE, … (allow with --cap NEEDED …)": the first three distinct ones
 * (a file refused to setxattr, then to removexattr, is named once). */
static void summary_denials(FILE *f, const ob_result *res, bool *first)
{
	size_t pick[3], shown = 0, i;

	if (res->denials_total == 0)
		return;
	part(f, first, "%u denial%s", res->denials_total, res->denials_total == 1 ? "" : "s");
	for (i = 0; i < res->n_denials && shown < 3; i++)
		if (!named_before(res->denials, i, &res->denials[i]))
			pick[shown++] = i;
	if (shown == 0)
		return;    /* counted, none kept (no memory) */
	bool more = false; /* another distinct one after those shown */
	for (; i < res->n_denials && !more; i++)
		more = !named_before(res->denials, i, &res->denials[i]);
	for (size_t k = 0; k < shown; k++)
		(void)fprintf(f, "%s %s %s", k ? "," : ":", res->denials[pick[k]].capability,
		              res->denials[pick[k]].resource);
	if (more)
		(void)fputs(", …", f);
	bool any = false;
	for (size_t k = 0; k < shown; k++) {
		if (!res->denials[pick[k]].needed[0])
			continue; /* no grant allows it */
		(void)fprintf(f, "%s --cap %s", any ? "" : " (allow with",
		              res->denials[pick[k]].needed);
		any = true;
	}
	if (any)
		(void)fputs(more ? " …)" : ")", f);
}

int ob_result_summary(const ob_result *res, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	bool first = true;

	assert_return(res && ret, -EINVAL);
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	summary_limits(f, res, &first);
	summary_denials(f, res, &first);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = first ? NULL : TAKE_PTR(buf);
	return 0;
}

static json_t *denials_json(const ob_result *res)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < res->n_denials; i++) {
		const ob_denial *d = &res->denials[i];
		(void)json_array_append_new(
		    a, json_pack("{s:s, s:s, s:s, s:s?, s:i}", "capability", d->capability,
		                 "resource", d->resource, "operation", d->operation, "needed",
		                 d->needed[0] ? d->needed : NULL, "count", (int)d->count));
	}
	return a;
}

static json_t *limits_hit_json(const ob_result *res)
{
	json_t *a = json_array();
	for (int l = 0; a && l < OB_LIMIT_MAX; l++)
		if (hit(res, (ob_limit)l))
			(void)json_array_append_new(a,
			                            json_string(ob_limit_to_string((ob_limit)l)));
	return a;
}

/* Captured output, when it is text (JSON strings are UTF-8); null otherwise. */
static json_t *text_or_null(const char *data, size_t len)
{
	json_t *s = data ? json_stringn(data, len) : json_string("");
	return s ? s : json_null();
}

static json_t *result_object(const ob_result *res)
{
	json_t *o = json_pack(
	    "{s:s, s:i, s:i, s:i, s:s, s:b, s:b, s:I, s:I, s:i, s:o, s:i, s:o}", "execution_id",
	    res->execution_id, "exit_code", res->exit_code, "status", res->status, "signal",
	    res->signal, "reason", result_reason(res), "timed_out", res->timed_out, "oom", res->oom,
	    "duration_ms", (json_int_t)res->duration_ms, "max_rss_kb", (json_int_t)res->max_rss_kb,
	    "violations", (int)res->violations, "denials", denials_json(res), "denials_count",
	    (int)res->denials_total, "limits_hit", limits_hit_json(res));
	if (!o)
		return NULL;
	json_t *out = text_or_null(res->stdout_data, res->stdout_len);
	json_t *err = text_or_null(res->stderr_data, res->stderr_len);
	/* "output" is the schema's; the flat keys stay for the callers that read them */
	(void)json_object_set_new(o, "output",
	                          json_pack("{s:O, s:O, s:b}", "stdout", out, "stderr", err,
	                                    "exceeded", res->output_exceeded));
	(void)json_object_set_new(o, "stdout", out);
	(void)json_object_set_new(o, "stderr", err);
	(void)json_object_set_new(o, "output_exceeded", json_boolean(res->output_exceeded));
	return o;
}

int ob_result_json(const ob_result *res, const ob_error *err, char **ret)
{
	ob_result none = {.exit_code = OB_EXIT_SETUP, .status = -1};

	assert_return(ret, -EINVAL);
	json_t *o = result_object(res ? res : &none);
	if (o && !res)
		(void)json_object_set_new(o, "execution_id", json_null());
	if (o && err && err->msg[0])
		(void)json_object_set_new(o, "error", json_string(err->msg));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}
