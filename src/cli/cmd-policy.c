/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase policy check FILE... | policy eval --policies FILE ... (SPEC §3, §6) */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char policy_help[] = "Usage: omnibase policy COMMAND [OPTIONS]\n"
                                  "\n"
                                  "Commands:\n"
                                  "  check FILE...   validate Cedar JSON policy files\n"
                                  "  eval            evaluate one request against a policy set\n";

static const char check_help[] =
    "Usage: omnibase policy check [--entities] FILE...\n"
    "\n"
    "Validates policy sets in Cedar's JSON policy format ({\"staticPolicies\": {...}} or a\n"
    "list of policies); with --entities, files in Cedar's JSON entity format. Each error names\n"
    "the file, line:column, the JSON path and what was expected.\n"
    "Exit status: 0 when every file is valid, 125 when any is not.\n";

static const char eval_help[] =
    "Usage: omnibase policy eval --policies FILE [--entities FILE] --principal P\n"
    "                            --action A --resource R [--context JSON] [--json]\n"
    "\n"
    "P, A and R are Cedar entity references, e.g. 'Component::\"42\"'; --context is a JSON\n"
    "object. Prints ALLOW or DENY (with --json: {\"decision\", \"reasons\", \"errors\"}).\n"
    "Exit status: 0 on ALLOW, 2 on DENY, 125 on bad input.\n";

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_policy_set *, ob_policy_set_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_entities *, ob_entities_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_authorizer *, ob_authorizer_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_authz_request *, ob_authz_request_free)

static int policy_check(int argc, char **argv)
{
	bool entities = false;
	int first = parse_flag_and_args(argc, argv, "entities", &entities, check_help,
	                                "policy check: no file given (see --help)");

	if (first <= 0)
		return first == 0 ? 0 : OB_EXIT_SETUP;
	bool bad = false;
	for (int i = first; i < argc; i++) {
		_cleanup_(ob_policy_set_freep) ob_policy_set *ps = NULL;
		_cleanup_(ob_entities_freep) ob_entities *es = NULL;
		ob_error err = {0};
		int r = entities ? ob_entities_load(argv[i], &es, &err)
		                 : ob_policy_set_load(argv[i], &ps, &err);
		if (r < 0) {
			log_error("%s", err.msg[0] ? err.msg : strerror(-r));
			bad = true;
		} else if (entities) {
			(void)printf("%s: valid, %zu entities\n", argv[i], ob_entities_size(es));
		} else {
			size_t n = ob_policy_set_size(ps);
			(void)printf("%s: valid, %zu polic%s\n", argv[i], n, n == 1 ? "y" : "ies");
		}
	}
	return bad ? OB_EXIT_SETUP : 0;
}

typedef struct EvalArgs {
	const char *policies, *entities, *principal, *action, *resource, *context;
	bool json;
} EvalArgs;

static int parse_eval_args(int argc, char **argv, EvalArgs *a)
{
	static const struct option options[] = {
	    {"policies", required_argument, NULL, 'p'},
	    {"entities", required_argument, NULL, 'e'},
	    {"principal", required_argument, NULL, 'P'},
	    {"action", required_argument, NULL, 'A'},
	    {"resource", required_argument, NULL, 'R'},
	    {"context", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'p':
			a->policies = optarg;
			break;
		case 'e':
			a->entities = optarg;
			break;
		case 'P':
			a->principal = optarg;
			break;
		case 'A':
			a->action = optarg;
			break;
		case 'R':
			a->resource = optarg;
			break;
		case 'c':
			a->context = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			(void)fputs(eval_help, stdout);
			return 1;
		default:
			return log_option_error("eval", "+h", options, argv);
		}
	}
	if (optind < argc) {
		log_error("policy eval: unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!a->policies || !a->principal || !a->action || !a->resource) {
		log_error("policy eval: --policies, --principal, --action and --resource are "
		          "required (see --help)");
		return -EINVAL;
	}
	return 0;
}

static void print_decision(const ob_policy_set *ps, const ob_decision *d, bool json)
{
	if (!json) {
		(void)puts(d->allow ? "ALLOW" : "DENY");
		for (size_t i = 0; i < d->n_reasons; i++)
			(void)printf("  %s %s\n", d->allow ? "permitted by" : "forbidden by",
			             ob_policy_set_id(ps, d->reasons[i]));
		for (size_t i = 0; i < d->n_errors; i++)
			(void)printf("  error in %s: %s\n", ob_policy_set_id(ps, d->errors[i]),
			             d->error_messages[i]);
		return;
	}
	json_t *reasons = json_array(), *errors = json_array();
	for (size_t i = 0; i < d->n_reasons; i++)
		(void)json_array_append_new(reasons,
		                            json_string(ob_policy_set_id(ps, d->reasons[i])));
	for (size_t i = 0; i < d->n_errors; i++)
		(void)json_array_append_new(errors, json_pack("{s:s, s:s}", "policy",
		                                              ob_policy_set_id(ps, d->errors[i]),
		                                              "message", d->error_messages[i]));
	_cleanup_(json_decrefp) json_t *o =
	    json_pack("{s:s, s:o, s:o}", "decision", d->allow ? "allow" : "deny", "reasons",
	              reasons, "errors", errors);
	_cleanup_free_ char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s)
		(void)puts(s);
}

static int policy_eval(int argc, char **argv)
{
	_cleanup_(ob_policy_set_freep) ob_policy_set *ps = NULL;
	_cleanup_(ob_entities_freep) ob_entities *es = NULL;
	_cleanup_(ob_authorizer_freep) ob_authorizer *az = NULL;
	_cleanup_(ob_authz_request_freep) ob_authz_request *rq = NULL;
	EvalArgs a = {0};
	ob_error err = {0};
	ob_decision d;

	int r = parse_eval_args(argc, argv, &a);
	if (r != 0)
		return r > 0 ? 0 : OB_EXIT_SETUP;
	r = ob_policy_set_load(a.policies, &ps, &err);
	if (r >= 0 && a.entities)
		r = ob_entities_load(a.entities, &es, &err);
	if (r >= 0 && ob_authorizer_new(ps, es, &az) < 0)
		r = -ENOMEM;
	if (r >= 0)
		r = ob_authz_request_new(az, a.principal, a.action, a.resource, a.context, &rq,
		                         &err);
	if (r >= 0)
		r = ob_authorize(az, rq, &d);
	if (r < 0) {
		log_error("%s", err.msg[0] ? err.msg : strerror(-r));
		return OB_EXIT_SETUP;
	}
	print_decision(ps, &d, a.json);
	return d.allow ? 0 : 2;
}

int cmd_policy(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"check", "validate policy files", policy_check},
	    {"eval", "evaluate a request", policy_eval},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), policy_help, argc - 1, argv + 1);
}
