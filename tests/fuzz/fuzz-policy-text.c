/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: Cedar's policy text (cedar-lex.c, cedar-parse*.c).  Whatever parses is
 * written back as text (what `caps review` shows) and parsed again: the second set must
 * exist and answer a few requests exactly as the first (same decision, same determining and
 * erroring policies by position).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char entities[] =
    "[{\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, \"attrs\": {}, \"parents\": []},"
    " {\"uid\": {\"type\": \"User\", \"id\": \"u\"}, \"attrs\": {\"age\": 3, \"name\": \"n\","
    " \"rec\": {\"x\": true}}, \"parents\": [{\"type\": \"Group\", \"id\": \"g\"}]},"
    " {\"uid\": {\"type\": \"Action\", \"id\": \"read\"}, \"attrs\": {}, \"parents\": []}]";

static const char *const reqs[][4] = {
    {"User::\"u\"", "Action::\"read\"", "Doc::\"d\"", "{\"n\": 1, \"s\": \"x\"}"},
    {"User::\"x\"", "Action::\"other\"", "User::\"u\"", "{}"},
};

/* The policies of PS written back as one Cedar text (NULL when out of memory) */
static char *written_back(const ob_policy_set *ps, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < ob_policy_set_size(ps); i++) {
		char *t = NULL;
		if (ob_policy_set_text(ps, i, &t) < 0)
			abort();
		fprintf(f, "%s\n", t);
		free(t);
	}
	if (fclose(f) != 0)
		return NULL;
	return buf;
}

static void same_answers(const ob_authorizer *a, const ob_authorizer *b, ob_entities *es)
{
	(void)es;
	for (size_t i = 0; i < 2; i++) {
		ob_authz_request *ra, *rb;
		ob_decision da, db;
		ob_error err;
		if (ob_authz_request_new((ob_authorizer *)a, reqs[i][0], reqs[i][1], reqs[i][2],
		                         reqs[i][3], &ra, &err) < 0 ||
		    ob_authz_request_new((ob_authorizer *)b, reqs[i][0], reqs[i][1], reqs[i][2],
		                         reqs[i][3], &rb, &err) < 0)
			abort();
		if (ob_authorize((ob_authorizer *)a, ra, &da) < 0 ||
		    ob_authorize((ob_authorizer *)b, rb, &db) < 0 || da.allow != db.allow ||
		    da.n_reasons != db.n_reasons || da.n_errors != db.n_errors)
			abort();
		for (size_t k = 0; k < da.n_reasons; k++)
			if (da.reasons[k] != db.reasons[k])
				abort();
		ob_authz_request_free(ra);
		ob_authz_request_free(rb);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ob_entities *es;
	ob_policy_set *ps = NULL, *again = NULL;
	ob_authorizer *a = NULL, *b = NULL;
	ob_error err;
	size_t len;

	if (!es && ob_entities_parse(entities, strlen(entities), "e", &es, &err) < 0)
		abort();
	if (ob_policy_set_parse((const char *)data, size, "fuzz.cedar", &ps, &err) < 0) {
		if (err.msg[0] == '\0')
			abort(); /* every failure must say why */
		return 0;
	}
	char *text = written_back(ps, &len);
	if (!text)
		abort();
	/* an empty set writes nothing, which reads back as an empty text */
	if (ob_policy_set_parse(text, len, "again.cedar", &again, &err) < 0 ||
	    ob_policy_set_size(again) != ob_policy_set_size(ps)) {
		fprintf(stderr, "written back: %s\nrefused: %s\n", text, err.msg);
		abort();
	}
	if (ob_authorizer_new(ps, es, &a) < 0 || ob_authorizer_new(again, es, &b) < 0)
		abort();
	same_answers(a, b, es);
	ob_authorizer_free(a);
	ob_authorizer_free(b);
	ob_policy_set_free(again);
	ob_policy_set_free(ps);
	free(text);
	return 0;
}
