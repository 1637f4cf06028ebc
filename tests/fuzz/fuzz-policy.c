/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the Cedar policy parser, and the evaluator over whatever parsed (a fixed
 * entity store and a few requests reach every scope and operator the input uses). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char entities[] =
    "[{\"uid\": {\"type\": \"Group\", \"id\": \"g\"}, \"attrs\": {}, \"parents\": []},"
    " {\"uid\": {\"type\": \"User\", \"id\": \"u\"}, \"attrs\": {\"age\": 3, \"name\": \"n\","
    " \"tags\": [\"a\"], \"rec\": {\"x\": true}}, \"parents\": [{\"type\": \"Group\", \"id\": "
    "\"g\"}]},"
    " {\"uid\": {\"type\": \"Action\", \"id\": \"read\"}, \"attrs\": {}, \"parents\": []}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ob_entities *es;
	ob_policy_set *ps = NULL;
	ob_authorizer *a = NULL;
	ob_error err;

	if (!es && ob_entities_parse(entities, strlen(entities), "e", &es, &err) < 0)
		abort();
	if (ob_policy_set_parse((const char *)data, size, "fuzz.json", &ps, &err) < 0) {
		if (err.msg[0] == '\0')
			abort(); /* every failure must say why */
		return 0;
	}
	if (ob_authorizer_new(ps, es, &a) < 0)
		abort();
	static const char *const reqs[][4] = {
	    {"User::\"u\"", "Action::\"read\"", "Doc::\"d\"", "{\"n\": 1, \"s\": \"x\"}"},
	    {"User::\"x\"", "Action::\"other\"", "User::\"u\"", "{}"},
	};
	for (size_t i = 0; i < 2; i++) {
		ob_authz_request *r;
		ob_decision d;
		if (ob_authz_request_new(a, reqs[i][0], reqs[i][1], reqs[i][2], reqs[i][3], &r,
		                         &err) < 0)
			abort();
		if (ob_authorize(a, r, &d) < 0 ||
		    d.n_reasons + d.n_errors > ob_policy_set_size(ps) ||
		    (d.allow && d.n_reasons == 0))
			abort();
		for (size_t k = 0; k < d.n_errors; k++)
			if (!d.error_messages[k] || !ob_policy_set_id(ps, d.errors[k]))
				abort();
		ob_authz_request_free(r);
	}
	ob_authorizer_free(a);
	ob_policy_set_free(ps);
	return 0;
}
