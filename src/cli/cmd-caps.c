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
                                "normalised set\n";

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
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		if (c == 'h') {
			(void)fputs(check_help, stdout);
			return 0;
		}
		if (c != 'j')
			return OB_EXIT_SETUP;
		json = true;
	}
	if (optind >= argc) {
		log_error("caps check: no capability file given (see --help)");
		return OB_EXIT_SETUP;
	}
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	if (!cwd) {
		log_error("cannot get the current directory: %s", strerror(errno));
		return OB_EXIT_SETUP;
	}
	_cleanup_(json_decrefp) json_t *files = json ? json_array() : NULL;
	bool bad = false;
	for (int i = optind; i < argc; i++)
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

int cmd_caps(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"check", "validate capability files", caps_check},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), caps_help, argc - 1, argv + 1);
}
