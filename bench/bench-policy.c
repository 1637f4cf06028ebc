/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-policy DIR: Cedar decisions/s on the shared workload (../shared/bench/cedar/workload).
 * Loads DIR/policies.json and DIR/entities.json once, parses every request of
 * DIR/requests.jsonl once (as cedar-wasm's sliced mode builds its inputs before timing),
 * checks every answer against DIR/expected.jsonl (decision, reasons, the set of erroring
 * policies; exit 1 on the first difference), then evaluates the requests in order, cycling,
 * for at least OB_BENCH_SECONDS (default 5) seconds on one thread and prints one JSON line
 * {"engine","decisions_per_s","us_per_decision","mode"}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omnibase/omnibase.h"

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench-policy: %s: %s\n", what, msg);
	exit(2);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Our answer as sorted id lists, compared with the expected line. */
static bool same_answer(const ob_policy_set *ps, const ob_decision *d, json_t *exp, char *why,
                        size_t size)
{
	const char *dec = json_string_value(json_object_get(exp, "decision"));
	json_t *reasons = json_object_get(exp, "reasons"), *errors = json_object_get(exp, "errors");
	const char *ids[256];

	if (!dec || strcmp(dec, d->allow ? "allow" : "deny") != 0) {
		snprintf(why, size, "decision %s, expected %s", d->allow ? "allow" : "deny", dec);
		return false;
	}
	if (json_array_size(reasons) != d->n_reasons || json_array_size(errors) != d->n_errors) {
		snprintf(why, size, "%zu reasons/%zu errors, expected %zu/%zu", d->n_reasons,
		         d->n_errors, json_array_size(reasons), json_array_size(errors));
		return false;
	}
	for (int pass = 0; pass < 2; pass++) {
		json_t *want = pass ? errors : reasons;
		size_t n = pass ? d->n_errors : d->n_reasons;
		for (size_t i = 0; i < n && i < 256; i++)
			ids[i] = ob_policy_set_id(ps, pass ? d->errors[i] : d->reasons[i]);
		qsort(ids, n, sizeof(char *), cmp_str);
		/* expected lists are sorted by id already (reasons) or by policy (errors) */
		const char *exp_ids[256];
		for (size_t i = 0; i < n && i < 256; i++) {
			json_t *e = json_array_get(want, i);
			exp_ids[i] = pass ? json_string_value(json_object_get(e, "policy"))
			                  : json_string_value(e);
		}
		qsort(exp_ids, n, sizeof(char *), cmp_str);
		for (size_t i = 0; i < n && i < 256; i++)
			if (!exp_ids[i] || strcmp(ids[i], exp_ids[i]) != 0) {
				snprintf(why, size, "%s %s, expected %s", pass ? "error" : "reason",
				         ids[i], exp_ids[i] ? exp_ids[i] : "?");
				return false;
			}
	}
	return true;
}

int main(int argc, char **argv)
{
	char path[4096];
	ob_error err;
	ob_policy_set *ps;
	ob_entities *es;
	ob_authorizer *a;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-policy DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/policies.json", argv[1]);
	if (ob_policy_set_load(path, &ps, &err) < 0)
		die("policies", err.msg);
	snprintf(path, sizeof(path), "%s/entities.json", argv[1]);
	if (ob_entities_load(path, &es, &err) < 0)
		die("entities", err.msg);
	if (ob_authorizer_new(ps, es, &a) < 0)
		die("authorizer", "out of memory");

	snprintf(path, sizeof(path), "%s/requests.jsonl", argv[1]);
	FILE *rf = fopen(path, "re");
	snprintf(path, sizeof(path), "%s/expected.jsonl", argv[1]);
	FILE *ef = fopen(path, "re");
	if (!rf || !ef)
		die(argv[1], "cannot open requests.jsonl / expected.jsonl");
	size_t n = 0, alloc = 0;
	ob_authz_request **reqs = NULL;
	char *line = NULL, *eline = NULL;
	size_t cap = 0, ecap = 0;
	while (getline(&line, &cap, rf) > 0) {
		json_error_t je;
		json_t *r = json_loads(line, 0, &je), *e = NULL;
		if (getline(&eline, &ecap, ef) <= 0 || !r || !(e = json_loads(eline, 0, &je)))
			die("requests", "unreadable line");
		char *ctx = json_dumps(json_object_get(r, "context"), JSON_COMPACT);
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			reqs = realloc(reqs, alloc * sizeof(*reqs));
		}
		if (ob_authz_request_new(a, json_string_value(json_object_get(r, "principal")),
		                         json_string_value(json_object_get(r, "action")),
		                         json_string_value(json_object_get(r, "resource")), ctx,
		                         &reqs[n], &err) < 0)
			die("request", err.msg);
		ob_decision d;
		char why[256];
		ob_authorize(a, reqs[n], &d);
		if (!same_answer(ps, &d, e, why, sizeof(why))) {
			fprintf(stderr,
			        "bench-policy: request %zu differs from the reference: %s\n", n + 1,
			        why);
			return 1;
		}
		free(ctx);
		json_decref(r);
		json_decref(e);
		n++;
	}
	fprintf(stderr, "bench-policy: %zu answers identical to the reference engine's\n", n);

	const char *s = getenv("OB_BENCH_SECONDS");
	double seconds = s ? atof(s) : 5.0, t0 = now(), t;
	unsigned long long done = 0, allow = 0;
	do {
		for (size_t i = 0; i < n; i++) {
			ob_decision d;
			ob_authorize(a, reqs[i], &d);
			allow += d.allow;
		}
		done += n;
		t = now();
	} while (t - t0 < seconds);
	double per_s = (double)done / (t - t0);
	printf("{\"engine\":\"omnibase\",\"decisions_per_s\":%.0f,\"us_per_decision\":%.4f,"
	       "\"mode\":\"preparsed requests, one thread\",\"allow\":%llu}\n",
	       per_s, 1e6 / per_s, allow);
	for (size_t i = 0; i < n; i++)
		ob_authz_request_free(reqs[i]);
	free(reqs);
	free(line);
	free(eline);
	fclose(rf);
	fclose(ef);
	ob_authorizer_free(a);
	ob_entities_free(es);
	ob_policy_set_free(ps);
	return 0;
}
