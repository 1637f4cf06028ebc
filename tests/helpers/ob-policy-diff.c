/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ob-policy-diff CASES.jsonl [TEXTS.jsonl]: replays the reference engine's answers
 * (tests/oracle/gen.mjs) through libomnibase's evaluator and compares decision, determining
 * policies and the set of erroring policies. Prints "cases N requests N allow N errors N mismatches
 * N" and the first mismatches; exit 1 on any mismatch or any case our parser refuses. With TEXTS,
 * also writes each case's policies as Cedar text ({"id": "text"} per line), for
 * tests/oracle/text-check.mjs to have the reference engine parse and answer.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* IDS (n) sorted and compared with the JSON array of strings WANT. */
static bool same_ids(const char **ids, size_t n, json_t *want)
{
	if (json_array_size(want) != n)
		return false;
	qsort(ids, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (!json_is_string(json_array_get(want, i)) ||
		    strcmp(ids[i], json_string_value(json_array_get(want, i))) != 0)
			return false;
	return true;
}

static bool check(const ob_policy_set *ps, const ob_decision *d, json_t *exp)
{
	const char *ids[512];
	size_t n = 0;

	if (strcmp(json_string_value(json_object_get(exp, "decision")),
	           d->allow ? "allow" : "deny"))
		return false;
	for (size_t i = 0; i < d->n_reasons && n < 512; i++)
		ids[n++] = ob_policy_set_id(ps, d->reasons[i]);
	if (!same_ids(ids, n, json_object_get(exp, "reasons")))
		return false;
	n = 0;
	for (size_t i = 0; i < d->n_errors && n < 512; i++)
		ids[n++] = ob_policy_set_id(ps, d->errors[i]);
	return same_ids(ids, n, json_object_get(exp, "errors"));
}

/* V as JSON text; a string is taken as the text itself (the corpus cases carry documents
 * whose keys hold NUL that way) */
static char *dump(json_t *v)
{
	if (json_is_string(v))
		return strndup(json_string_value(v), json_string_length(v));
	return json_dumps(v, JSON_COMPACT);
}

int main(int argc, char **argv)
{
	unsigned long cases = 0, requests = 0, allow = 0, errors = 0, refusals = 0, bad = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = argc >= 2 ? fopen(argv[1], "re") : NULL;
	FILE *texts = argc == 3 ? fopen(argv[2], "we") : NULL;

	if (!f || argc > 3 || (argc == 3 && !texts)) {
		fprintf(stderr, "usage: ob-policy-diff CASES.jsonl [TEXTS.jsonl]\n");
		return 2;
	}
	while (getline(&line, &cap, f) > 0) {
		json_error_t je;
		json_t *c = json_loads(line, JSON_ALLOW_NUL, &je);
		ob_policy_set *ps = NULL;
		ob_entities *es = NULL;
		ob_authorizer *a = NULL;
		ob_error err;
		char *pt = c ? dump(json_object_get(c, "policies")) : NULL;
		char *et = c ? dump(json_object_get(c, "entities")) : NULL;

		cases++;
		if (!pt || !et) {
			fprintf(stderr, "case %lu: not JSON: %s\n", cases, je.text);
			return 1;
		}
		const char *refused = json_string_value(json_object_get(c, "refused"));
		const char *stage =
		    ob_policy_set_parse(pt, strlen(pt), "policies", &ps, &err) < 0 ? "policies"
		    : ob_entities_parse(et, strlen(et), "entities", &es, &err) < 0 ? "entities"
		                                                                   : NULL;
		if (stage || refused) {
			/* a case the reference refuses must be refused by us, at the same stage */
			bool same = stage && refused && strcmp(stage, refused) == 0;
			if (!same && ++bad <= 5)
				fprintf(stderr,
				        "MISMATCH case %lu (%s): ours %s%s%s, reference %s\n",
				        cases, json_string_value(json_object_get(c, "name")),
				        stage ? "refused " : "accepted", stage ? stage : "",
				        stage ? err.msg : "", refused ? refused : "accepted");
			refusals += same;
			goto next;
		}
		if (ob_authorizer_new(ps, es, &a) < 0) {
			fprintf(stderr, "case %lu: no authorizer\n", cases);
			return 1;
		}
		if (texts) {
			json_t *o = json_object();
			for (size_t i = 0; i < ob_policy_set_size(ps); i++) {
				char *t = NULL;
				if (ob_policy_set_text(ps, i, &t) < 0)
					return 1;
				json_object_set_new(o, ob_policy_set_id(ps, i), json_string(t));
				free(t);
			}
			char *line_out = dump(o);
			fprintf(texts, "%s\n", line_out);
			free(line_out);
			json_decref(o);
		}
		json_t *reqs = json_object_get(c, "requests");
		for (size_t i = 0; i < json_array_size(reqs); i++) {
			json_t *r = json_array_get(reqs, i), *exp = json_object_get(r, "expected");
			ob_authz_request *rq;
			ob_decision d;
			char *ctx = dump(json_object_get(r, "context"));
			requests++;
			int rr = ob_authz_request_new(
			    a, json_string_value(json_object_get(r, "principal")),
			    json_string_value(json_object_get(r, "action")),
			    json_string_value(json_object_get(r, "resource")), ctx, &rq, &err);
			if (rr < 0 || json_object_get(exp, "failure")) {
				/* the reference refused the request: so must we */
				if ((rr >= 0 || !json_object_get(exp, "failure")) && ++bad <= 5)
					fprintf(stderr,
					        "MISMATCH case %lu request %zu: ours %s: %s\n",
					        cases, i, rr < 0 ? "refused" : "accepted",
					        rr < 0 ? err.msg : "");
				refusals += rr < 0;
				if (rr >= 0)
					ob_authz_request_free(rq);
				free(ctx);
				continue;
			}
			(void)ob_authorize(a, rq, &d);
			allow += d.allow;
			errors += d.n_errors > 0;
			if (!check(ps, &d, exp) && ++bad <= 5) {
				char *rs = dump(r);
				fprintf(stderr,
				        "MISMATCH case %lu request %zu: ours %s reasons %zu errors "
				        "%zu%s%s\n  %s\n  policies %s\n",
				        cases, i, d.allow ? "allow" : "deny", d.n_reasons,
				        d.n_errors, d.n_errors ? " first: " : "",
				        d.n_errors ? d.error_messages[0] : "", rs, pt);
				free(rs);
			}
			ob_authz_request_free(rq);
			free(ctx);
		}
	next:
		ob_authorizer_free(a);
		ob_entities_free(es);
		ob_policy_set_free(ps);
		free(pt);
		free(et);
		json_decref(c);
	}
	printf("cases %lu requests %lu allow %lu errors %lu mismatches %lu refusals %lu\n", cases,
	       requests, allow, errors, bad, refusals);
	free(line);
	fclose(f);
	if (texts && fclose(texts) != 0)
		return 1;
	return bad ? 1 : 0;
}
