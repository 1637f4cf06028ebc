/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the Cedar entity parser (hierarchy closure included), and `in` and
 * attribute lookups over whatever parsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policies[] =
    "{\"staticPolicies\": {\"p\": {\"effect\": \"permit\", \"principal\": {\"op\": \"in\", "
    "\"entity\": {\"type\": \"G\", \"id\": \"g\"}}, \"action\": {\"op\": \"All\"}, \"resource\": "
    "{\"op\": \"All\"}, \"conditions\": [{\"kind\": \"when\", \"body\": {\"has\": {\"left\": "
    "{\"Var\": \"principal\"}, \"attr\": \"a\"}}}, {\"kind\": \"unless\", \"body\": {\"==\": "
    "{\"left\": {\".\": {\"left\": {\"Var\": \"principal\"}, \"attr\": \"a\"}}, \"right\": "
    "{\"Value\": 1}}}}]}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ob_policy_set *ps;
	ob_entities *es = NULL;
	ob_authorizer *a = NULL;
	ob_error err;

	if (!ps && ob_policy_set_parse(policies, strlen(policies), "p", &ps, &err) < 0)
		abort();
	if (ob_entities_parse((const char *)data, size, "fuzz.json", &es, &err) < 0) {
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (ob_authorizer_new(ps, es, &a) < 0)
		abort();
	static const char *const who[] = {"U::\"u\"", "G::\"g\"", "A::\"\""};
	for (size_t i = 0; i < 3; i++) {
		ob_authz_request *r;
		ob_decision d;
		if (ob_authz_request_new(a, who[i], "Action::\"x\"", "R::\"r\"", NULL, &r, &err) <
		        0 ||
		    ob_authorize(a, r, &d) < 0)
			abort();
		ob_authz_request_free(r);
	}
	ob_authorizer_free(a);
	ob_entities_free(es);
	return 0;
}
