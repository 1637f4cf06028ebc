/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase caps check FILE... [--json] */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char caps_help[] = "Usage: omnibase caps COMMAND [OPTIONS]\n"
                                "\n"
                                "Commands:\n"
                                "  check FILE...   validate capability files and print the "
                                "normalised set\n"
                                "  review          requested vs granted capabilities of a "
                                "registry component\n";

static const char review_help[] =
    "Usage: omnibase caps review --registry DIR --component UUID [--context KEY=VALUE]...\n"
    "                            [--json]\n"
    "\n"
    "Decides each capability the component requests (DIR/components/UUID.json) with its\n"
    "policy set (DIR/policies/UUID.cedar.json or UUID.cedar) and shows, for each, the decision, "
    "the\n"
    "policies that permitted or forbade it (as Cedar text: their conditions) and the\n"
    "policies whose conditions failed to evaluate. Exit status 0, or 125 on bad input.\n";

static const char check_help[] =
    "Usage: omnibase caps check [--json] FILE...\n"
    "\n"
    "Validates capability files (SPEC §2.4) and prints each one's normalised capabilities\n"
    "and limits.  Relative paths are resolved against the current directory.\n"
    "Exit status: 0 when every file is valid, 125 when any is not (each error names the\n"
    "file, the line:column or JSON path, and what was expected).\n"
    "\n"
    "Options:\n"
    "      --json   print one JSON object {\"files\": [...]} instead of text\n"
    "  -h, --help   show this help\n";

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)

static void print_limits(const ob_limits *l)
{
	(void)printf("  %-17s", "limits");
	for (int i = 0; i < OB_LIMIT_MAX; i++) {
		char v[32];
		ob_limit_format((ob_limit)i, l->value[i], v, sizeof(v));
		(void)printf(" %s=%s", ob_limit_to_string((ob_limit)i), v);
	}
	(void)putchar('\n');
}

static void print_text(const char *file, const ob_capset *set, const ob_limits *limits)
{
	size_t n = ob_capset_size(set);

	(void)printf("%s: valid, %zu capabilit%s\n", file, n, n == 1 ? "y" : "ies");
	for (size_t i = 0; i < n; i++) {
		const ob_capability *c = ob_capset_get(set, i);
		(void)printf("  %-17s %s", ob_cap_type_to_string(ob_capability_type(c)),
		             ob_capability_resource(c));
		for (size_t k = 0; k < ob_capability_n_conditions(c); k++) {
			const char *key, *value;
			(void)ob_capability_condition(c, k, &key, &value);
			(void)printf("%s%s=%s", k == 0 ? "  when " : ",", key, value);
		}
		(void)putchar('\n');
	}
	print_limits(limits);
}

static json_t *file_json(const char *file, const ob_capset *set, const ob_limits *limits,
                         const ob_error *err)
{
	if (err)
		return json_pack("{s:s, s:b, s:s}", "file", file, "valid", 0, "error", err->msg);
	_cleanup_free_ char *s = NULL;
	if (ob_capset_to_json(set, limits, &s) < 0)
		return NULL;
	json_t *o = json_loads(s, 0, NULL);
	if (o) {
		(void)json_object_set_new(o, "file", json_string(file));
		(void)json_object_set_new(o, "valid", json_true());
	}
	return o;
}

/* Validates one file; prints it (text mode) or appends it to FILES (JSON mode). */
static int check_one(const char *file, const char *cwd, json_t *files)
{
	_cleanup_(ob_capset_unrefp) ob_capset *set = NULL;
	ob_limits limits;
	ob_error err = {0};

	ob_limits_init(&limits);
	int r = ob_capset_new(&set);
	if (r >= 0)
		r = ob_capfile_load(file, cwd, set, &limits, &err);
	if (r < 0)
		log_error("%s", err.msg[0] ? err.msg : strerror(-r));
	if (files)
		(void)json_array_append_new(files,
		                            file_json(file, set, &limits, r < 0 ? &err : NULL));
	else if (r >= 0)
		print_text(file, set, &limits);
	return r;
}

static int caps_check(int argc, char **argv)
{
	bool json = false;
	int first = parse_flag_and_args(argc, argv, "json", &json, check_help,
	                                "caps check: no capability file given (see --help)");

	if (first <= 0)
		return first == 0 ? 0 : OB_EXIT_SETUP;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	if (!cwd) {
		log_error("cannot get the current directory: %s", strerror(errno));
		return OB_EXIT_SETUP;
	}
	_cleanup_(json_decrefp) json_t *files = json ? json_array() : NULL;
	bool bad = false;
	for (int i = first; i < argc; i++)
		bad |= check_one(argv[i], cwd, files) < 0;
	if (json) {
		_cleanup_(json_decrefp) json_t *root = json_pack("{s:O}", "files", files);
		_cleanup_free_ char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
		if (!s)
			return OB_EXIT_SETUP;
		(void)puts(s);
	}
	return bad ? OB_EXIT_SETUP : 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_review *, ob_review_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_context *, ob_context_free)

static void print_review(const json_t *rv)
{
	const json_t *req = json_object_get(rv, "requested"), *e;
	size_t i;

	(void)printf("component %s", json_string_value(json_object_get(rv, "component")));
	if (json_is_string(json_object_get(rv, "name")))
		(void)printf(" (%s)", json_string_value(json_object_get(rv, "name")));
	(void)putchar('\n');
	json_array_foreach(req, i, e) {
		bool allow = streq(json_string_value(json_object_get(e, "decision")), "allow");
		const json_t *pols = json_object_get(e, "policies"),
		             *errs = json_object_get(e, "errors");
		size_t k;
		const json_t *x;
		(void)printf("  %-6s %s\n", allow ? "GRANT" : "DENY",
		             json_string_value(json_object_get(e, "capability")));
		json_array_foreach(pols, k, x)
			(void)printf("         %s %s: %s\n",
			             allow ? "permitted by" : "forbidden by",
			             json_string_value(json_object_get(x, "id")),
			             json_string_value(json_object_get(x, "text")));
		if (!allow && json_array_size(pols) == 0)
			(void)printf("         no policy permits it\n");
		json_array_foreach(errs, k, x)
			(void)printf("         not evaluated, %s: %s\n",
			             json_string_value(json_object_get(x, "policy")),
			             json_string_value(json_object_get(x, "message")));
	}
	(void)printf("granted %zu of %zu\n", json_array_size(json_object_get(rv, "granted")),
	             json_array_size(req));
}

static int caps_review(int argc, char **argv)
{
	static const struct option options[] = {
	    {"registry", required_argument, NULL, 'r'}, {"component", required_argument, NULL, 'c'},
	    {"context", required_argument, NULL, 'x'},  {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},           {},
	};
	_cleanup_(ob_context_freep) ob_context *ctx = NULL;
	_cleanup_(ob_review_freep) ob_review *rv = NULL;
	const char *dir = NULL, *uuid = NULL;
	bool json = false;
	ob_error err = {0};
	int c;

	if (ob_context_new(&ctx) < 0)
		return OB_EXIT_SETUP;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		if (c == 'h') {
			(void)fputs(review_help, stdout);
			return 0;
		}
		if (c == 'r')
			dir = optarg;
		else if (c == 'c')
			uuid = optarg;
		else if (c == 'j')
			json = true;
		else if (c != 'x' || ob_context_set_assignment(ctx, optarg) < 0) {
			if (c == 'x')
				log_error("--context '%s': expected KEY=VALUE", optarg);
			return OB_EXIT_SETUP;
		}
	}
	if (!dir || !uuid || optind < argc) {
		log_error("caps review: --registry DIR and --component UUID are required (see "
		          "--help)");
		return OB_EXIT_SETUP;
	}
	int r = ob_registry_review(dir, uuid, ctx, &rv, &err);
	if (r < 0) {
		log_error("%s", err.msg[0] ? err.msg : strerror(-r));
		return OB_EXIT_SETUP;
	}
	_cleanup_free_ char *s = NULL;
	if (ob_review_to_json(rv, &s) < 0)
		return OB_EXIT_SETUP;
	if (json) {
		(void)puts(s);
		return 0;
	}
	_cleanup_(json_decrefp) json_t *o = json_loads(s, 0, NULL);
	if (!o)
		return OB_EXIT_SETUP;
	print_review(o);
	return 0;
}

int cmd_caps(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"check", "validate capability files", caps_check},
	    {"review", "requested vs granted capabilities of a component", caps_review},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), caps_help, argc - 1, argv + 1);
}
