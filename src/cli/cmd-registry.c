/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase registry add|list|show|verify|lint|sign (SPEC §7) */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char registry_help[] =
    "Usage: omnibase registry COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  add    --registry DIR [--key SECKEY] METADATA.json [--policy P.cedar.json]\n"
    "         lint, then store the component (signed with --key)\n"
    "  list   --registry DIR [--json]          the components and their signature state\n"
    "  show   --registry DIR UUID [--json]     one component\n"
    "  verify --registry DIR [UUID...]         signatures by keys/*.pub and entrypoint sha256;\n"
    "                                          exit 1 when any is bad (each named)\n"
    "  lint   METADATA.json...                 unsafe grants and schema; exit 1 on findings\n"
    "  sign   --key SECKEY FILE...             write FILE.minisig (minisign-compatible)\n"
    "\n"
    "Options: --password-file FILE (or $OMNIBASE_KEY_PASSWORD) for an encrypted key.\n"
    "Exit status: 0, 1 (findings, verification failures), 125 bad input.\n";

typedef struct Opts {
	const char *dir, *key, *policy, *pwfile;
	bool json;
	int first; /* index of the first operand */
} Opts;

/* Returns 1 to go on, 0 when help was shown, -1 on a bad option. */
static int parse_opts(const char *verb, int argc, char **argv, Opts *o)
{
	static const struct option options[] = {
	    {"registry", required_argument, NULL, 'r'},
	    {"key", required_argument, NULL, 'k'},
	    {"policy", required_argument, NULL, 'p'},
	    {"password-file", required_argument, NULL, 'w'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	*o = (Opts){0};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			(void)fputs(registry_help, stdout);
			return 0;
		case 'r':
			o->dir = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'p':
			o->policy = optarg;
			break;
		case 'w':
			o->pwfile = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		default:
			(void)log_option_error(verb, "h", options, argv);
			return -1;
		}
	}
	o->first = optind;
	return 1;
}

static int fail(int r, const ob_error *e)
{
	log_error("%s", e->msg[0] ? e->msg : strerror(-r));
	return OB_EXIT_SETUP;
}

#define PARSE(verb, need_dir)                                                                      \
	Opts o;                                                                                    \
	ob_error err = {0};                                                                        \
	int k = parse_opts(verb, argc, argv, &o);                                                  \
	if (k <= 0)                                                                                \
		return k == 0 ? 0 : OB_EXIT_SETUP;                                                 \
	if ((need_dir) && !o.dir) {                                                                \
		log_error("registry %s: --registry DIR is required", verb);                        \
		return OB_EXIT_SETUP;                                                              \
	}

static int registry_add(int argc, char **argv)
{
	_cleanup_free_ char *uuid = NULL;
	PARSE("add", true);
	if (argc - o.first != 1) {
		log_error("registry add: expected one METADATA.json");
		return OB_EXIT_SETUP;
	}
	int r = ob_registry_add(o.dir, argv[o.first], o.policy, o.key, o.pwfile, &uuid, &err);
	if (r < 0)
		return fail(r, &err);
	(void)printf("added %s%s\n", uuid, o.key ? " (signed)" : " (unsigned)");
	return 0;
}

static int registry_list(int argc, char **argv)
{
	_cleanup_free_ char *s = NULL;
	PARSE("list", true);
	int r = ob_registry_list(o.dir, &s, &err);
	if (r < 0)
		return fail(r, &err);
	if (o.json) {
		(void)puts(s);
		return 0;
	}
	_cleanup_(json_decrefp) json_t *a = json_loads(s, 0, NULL);
	size_t i;
	json_t *c;
	json_array_foreach(a, i, c) {
		json_t *sig = json_object_get(c, "signature"), *v = json_object_get(c, "version");
		_cleanup_free_ char *ver = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		(void)printf("%s  %s  %s  %s  %s\n", json_string_value(json_object_get(c, "uuid")),
		             json_string_value(json_object_get(c, "name")) ?: "-", ver ? ver : "-",
		             json_string_value(json_object_get(c, "kind")) ?: "-",
		             json_string_value(json_object_get(sig, "state")));
	}
	return 0;
}

static int registry_show(int argc, char **argv)
{
	_cleanup_free_ char *s = NULL;
	PARSE("show", true);
	if (argc - o.first != 1) {
		log_error("registry show: expected one UUID");
		return OB_EXIT_SETUP;
	}
	int r = ob_registry_show(o.dir, argv[o.first], &s, &err);
	if (r < 0)
		return fail(r, &err);
	_cleanup_(json_decrefp) json_t *j = json_loads(s, 0, NULL);
	if (!o.json) {
		json_t *sig = json_object_get(j, "signature");
		const char *reason = json_string_value(json_object_get(sig, "reason"));
		(void)printf("signature: %s%s%s\n",
		             json_string_value(json_object_get(sig, "state")),
		             reason ? ": " : " by key ",
		             reason ?: json_string_value(json_object_get(sig, "key")));
		(void)printf("policy: %s\n",
		             json_string_value(json_object_get(j, "policy")) ?: "(none)");
	}
	_cleanup_free_ char *m = json_dumps(o.json ? j : json_object_get(j, "metadata"),
	                                    o.json ? JSON_COMPACT : JSON_INDENT(2));
	(void)puts(m ? m : "");
	return 0;
}

static int verify_one(const char *dir, const char *uuid)
{
	_cleanup_free_ char *key = NULL;
	ob_error err = {0};

	int r = ob_registry_verify(dir, uuid, &key, &err);
	if (r < 0) {
		(void)printf("%s: BAD: %s\n", uuid, err.msg[0] ? err.msg : strerror(-r));
		return r == -EBADMSG ? 1 : OB_EXIT_SETUP;
	}
	(void)printf("%s: OK (key %s)\n", uuid, key);
	return 0;
}

static int registry_verify(int argc, char **argv)
{
	_cleanup_free_ char *s = NULL;
	int worst = 0;
	PARSE("verify", true);
	if (o.first < argc) {
		for (int i = o.first; i < argc; i++) {
			int r = verify_one(o.dir, argv[i]);
			worst = r > worst ? r : worst;
		}
		return worst;
	}
	int r = ob_registry_list(o.dir, &s, &err);
	if (r < 0)
		return fail(r, &err);
	_cleanup_(json_decrefp) json_t *a = json_loads(s, 0, NULL);
	size_t i;
	json_t *c;
	json_array_foreach(a, i, c) {
		int v = verify_one(o.dir, json_string_value(json_object_get(c, "uuid")));
		worst = v > worst ? v : worst;
	}
	return worst;
}

static int registry_lint(int argc, char **argv)
{
	int status = 0;
	PARSE("lint", false);
	if (o.first >= argc) {
		log_error("registry lint: expected METADATA.json...");
		return OB_EXIT_SETUP;
	}
	for (int i = o.first; i < argc; i++) {
		_cleanup_free_ char *out = NULL;
		int n = ob_registry_lint(argv[i], &out, &err);
		if (n < 0)
			return fail(n, &err);
		(void)fputs(out, stdout);
		if (n > 0)
			status = 1;
	}
	return status;
}

static int registry_sign(int argc, char **argv)
{
	PARSE("sign", false);
	if (!o.key || o.first >= argc) {
		log_error("registry sign: --key SECKEY and FILE... are required");
		return OB_EXIT_SETUP;
	}
	for (int i = o.first; i < argc; i++) {
		int r = ob_registry_sign(o.key, o.pwfile, argv[i], &err);
		if (r < 0)
			return fail(r, &err);
		(void)printf("signed %s -> %s.minisig\n", argv[i], argv[i]);
	}
	return 0;
}

int cmd_registry(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"add", "lint and store a component", registry_add},
	    {"list", "list the components", registry_list},
	    {"show", "show one component", registry_show},
	    {"verify", "check signatures and entrypoints", registry_verify},
	    {"lint", "check metadata for unsafe grants", registry_lint},
	    {"sign", "sign a file (minisign-compatible)", registry_sign},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), registry_help, argc - 1, argv + 1);
}
