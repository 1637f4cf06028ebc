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
                                "registry component\n"
                                "  profiles        list the profiles shipped (--profile NAME)\n"
                                "  show --profile NAME   print a profile's capability file\n"
                                "  test [FILE...] [--profile NAME]... TYPE:RESOURCE\n"
                                "                  would these grants allow this request?\n";

static const char test_help[] =
    "Usage: omnibase caps test [OPTIONS] [FILE...] TYPE:RESOURCE\n"
    "\n"
    "Checks one request (FILE_READ:/data/a.csv, NETWORK_CONNECT:api.example.com:443,\n"
    "EXTERNAL_COMMAND:git, ...) against the grants of capability FILEs and profiles, with\n"
    "the same checks the sandbox uses.  Prints \"allowed by <capability>\" and exits 0, or\n"
    "\"denied; needed <grant>\" and exits 1; 125 on bad input.\n"
    "\n"
    "Options:\n"
    "      --profile NAME        grants of a shipped profile (repeatable)\n"
    "      --context KEY=VALUE   execution context for conditions (repeatable)\n"
    "  -h, --help                show this help\n";

static const char show_help[] = "Usage: omnibase caps show --profile NAME\n"
                                "\n"
                                "Prints the capability file of a shipped profile.\n";

static const char profiles_help[] = "Usage: omnibase caps profiles [--json]\n"
                                    "\n"
                                    "Lists the profiles shipped with omnibase: each name and "
                                    "what it grants.\n";

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
	const json_t *sig = json_object_get(rv, "signature");
	const char *reason = json_string_value(json_object_get(sig, "reason"));
	(void)printf("signature %s%s%s\n", json_string_value(json_object_get(sig, "state")),
	             reason ? ": " : " by key ",
	             reason ?: json_string_value(json_object_get(sig, "key")));
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
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		if (c == 'h') {
			(void)fputs(review_help, stdout);
			return 0;
		}
		if (c == '?') {
			(void)log_option_error("review", "+h", options, argv);
			return OB_EXIT_SETUP;
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

static int caps_profiles(int argc, char **argv)
{
	_cleanup_free_ char *s = NULL;
	bool json = false;
	ob_error err = {0};
	const json_t *e;
	size_t i;

	if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		(void)fputs(profiles_help, stdout);
		return 0;
	}
	json = argc == 2 && streq(argv[1], "--json");
	if (argc > 2 || (argc == 2 && !json)) {
		log_error("caps profiles: unexpected '%s' (see --help)", argv[1]);
		return OB_EXIT_SETUP;
	}
	if (ob_profiles_json(&s, &err) < 0) {
		log_error("%s", err.msg);
		return OB_EXIT_SETUP;
	}
	if (json) {
		(void)puts(s);
		return 0;
	}
	_cleanup_(json_decrefp) json_t *arr = json_loads(s, 0, NULL);
	json_array_foreach(arr, i, e)
		(void)printf("%-10s %s\n", json_string_value(json_object_get(e, "name")),
		             json_string_value(json_object_get(e, "description")));
	return arr ? 0 : OB_EXIT_SETUP;
}

static int caps_show(int argc, char **argv)
{
	_cleanup_free_ char *file = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	ob_error err = {0};
	char buf[4096];
	size_t n;

	if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		(void)fputs(show_help, stdout);
		return 0;
	}
	const char *name = argc == 3 && streq(argv[1], "--profile")               ? argv[2]
	                   : argc == 2 && strncmp(argv[1], "--profile=", 10) == 0 ? argv[1] + 10
	                                                                          : NULL;
	if (!name) {
		log_error("caps show: expected --profile NAME (see --help)");
		return OB_EXIT_SETUP;
	}
	if (ob_profile_path(name, &file, &err) < 0) {
		log_error("%s", err.msg);
		return OB_EXIT_SETUP;
	}
	f = fopen(file, "re");
	if (!f) {
		log_error("%s: %s", file, strerror(errno));
		return OB_EXIT_SETUP;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		(void)fwrite(buf, 1, n, stdout);
	return 0;
}

typedef struct TestArgs {
	ob_capset *set;
	ob_context *ctx;
	const char *cwd;
} TestArgs;

static int test_option(TestArgs *t, int c, const char *arg)
{
	ob_error err = {0};

	if (c == 'p' && ob_profile_load(arg, t->cwd, t->set, NULL, &err) < 0) {
		log_error("--profile: %s", err.msg);
		return -EINVAL;
	}
	if (c == 'x' && ob_context_set_assignment(t->ctx, arg) < 0) {
		log_error("--context '%s': expected KEY=VALUE", arg);
		return -EINVAL;
	}
	return 0;
}

/* Asks the request SPEC ("TYPE:RESOURCE") of T's grants; prints the answer, returns the exit
 * code. */
static int test_request(const TestArgs *t, const char *spec)
{
	const char *colon = strchr(spec, ':');
	char type_name[32];
	ob_cap_error ce = {0};
	const ob_capability *by = NULL;

	if (!colon || (size_t)(colon - spec) >= sizeof(type_name)) {
		log_error("caps test: '%s': expected TYPE:RESOURCE", spec);
		return OB_EXIT_SETUP;
	}
	(void)snprintf(type_name, sizeof(type_name), "%.*s", (int)(colon - spec), spec);
	ob_cap_type type = ob_cap_type_from_string(type_name);
	if (type < 0) {
		/* The library's parser says what was expected, and what was probably meant. */
		ob_capability *c = NULL;
		ob_error err = {0};
		(void)ob_capability_parse(&c, spec, t->cwd, &err);
		ob_capability_free(c);
		log_error("caps test: %s", err.msg);
		return OB_EXIT_SETUP;
	}
	int r = ob_check_request(t->set, t->ctx, type, colon + 1, &by, &ce);
	if (r == -EACCES) {
		(void)printf("denied; needed %s\n", ce.needed);
		return 1;
	}
	if (r < 0) {
		log_error("caps test: %s", ce.msg);
		return OB_EXIT_SETUP;
	}
	(void)printf("allowed by %s:%s\n", ob_cap_type_to_string(ob_capability_type(by)),
	             ob_capability_resource(by));
	return 0;
}

static int caps_test(int argc, char **argv)
{
	static const struct option options[] = {
	    {"profile", required_argument, NULL, 'p'},
	    {"context", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	_cleanup_(ob_capset_unrefp) ob_capset *set = NULL;
	_cleanup_(ob_context_freep) ob_context *ctx = NULL;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	ob_error err = {0};
	int c;

	if (!cwd || ob_capset_new(&set) < 0 || ob_context_new(&ctx) < 0 ||
	    ob_capset_set_workdir(set, cwd) < 0)
		return OB_EXIT_SETUP;
	TestArgs t = {.set = set, .ctx = ctx, .cwd = cwd};
	optind = 1;
	opterr = 0;
	/* No '+': options may follow the files (getopt permutes them to the front). */
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 'h') {
			(void)fputs(test_help, stdout);
			return 0;
		}
		if (c == '?' ? log_option_error("test", "h", options, argv) < 0
		             : test_option(&t, c, optarg) < 0)
			return OB_EXIT_SETUP;
	}
	if (optind >= argc) {
		log_error("caps test: no request TYPE:RESOURCE given (see --help)");
		return OB_EXIT_SETUP;
	}
	for (int i = optind; i < argc - 1; i++)
		if (ob_capfile_load(argv[i], cwd, set, NULL, &err) < 0) {
			log_error("%s", err.msg);
			return OB_EXIT_SETUP;
		}
	return test_request(&t, argv[argc - 1]);
}

int cmd_caps(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"check", "validate capability files", caps_check},
	    {"review", "requested vs granted capabilities of a component", caps_review},
	    {"profiles", "list the shipped profiles", caps_profiles},
	    {"show", "print a profile's capability file", caps_show},
	    {"test", "check one request against grants", caps_test},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), caps_help, argc - 1, argv + 1);
}
