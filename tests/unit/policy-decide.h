/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One authorization decision from documents, for the policy tests (test-policy.c,
 * test-policy-prepared.c). Include after <cmocka.h>. */
#pragma once

#include <string.h>

#include "omnibase/omnibase.h"

enum {
	DENY = 0,
	ALLOW = 1,
	ERROR = -1
};

/* POLICIES (a file named NAME: ".json" or ".cedar" text) and ENTITIES (JSON) decide whether
 * PRINCIPAL may read RESOURCE in CONTEXT: ALLOW, DENY, or ERROR when a policy's evaluation
 * failed and none allowed; *REASONS (if not NULL) gets how many policies determined it. */
static inline int decide_read(const char *policies, const char *name, const char *entities,
                              const char *principal, const char *resource, const char *context,
                              size_t *reasons)
{
	ob_policy_set *ps;
	ob_entities *es;
	ob_authorizer *a;
	ob_authz_request *r;
	ob_error e = {0};
	ob_decision d;

	if (ob_policy_set_parse(policies, strlen(policies), name, &ps, &e) < 0)
		fail_msg("%s: %s", policies, e.msg);
	assert_int_equal(ob_entities_parse(entities, strlen(entities), "e.json", &es, &e), 0);
	assert_int_equal(ob_authorizer_new(ps, es, &a), 0);
	if (ob_authz_request_new(a, principal, "Action::\"read\"", resource, context, &r, &e) < 0)
		fail_msg("request: %s", e.msg);
	assert_int_equal(ob_authorize(a, r, &d), 0);
	assert_true(d.n_errors == 0 || !d.allow); /* an error never allows */
	if (reasons)
		*reasons = d.n_reasons;
	ob_authz_request_free(r);
	ob_authorizer_free(a);
	ob_entities_free(es);
	ob_policy_set_free(ps);
	return d.allow ? ALLOW : d.n_errors ? ERROR : DENY;
}
