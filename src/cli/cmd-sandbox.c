/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase sandbox run [OPTIONS] PROGRAM|SCRIPT [-- ARGS...] */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char sandbox_help[] = "Usage: omnibase sandbox COMMAND [OPTIONS]\n"
                                   "\n"
                                   "Commands:\n"
                                   "  run PROGRAM|SCRIPT [-- ARGS...]   run under the granted "
                                   "capabilities\n";

static const char run_help[] =
    "Usage: omnibase sandbox run [OPTIONS] PROGRAM|SCRIPT [-- ARGS...]\n"
    "\n"
    "Runs PROGRAM in new user, mount, pid, net, ipc, uts and cgroup namespaces on a fresh\n"
    "root: only the runtime (/usr, /lib*, a minimal /etc), a private /proc and /dev, a\n"
    "size-limited /tmp, the program itself and the granted paths are visible.\n"
    "\n"
    "Options:\n"
    "      --capabilities FILE   grants from a capability file (repeatable; union)\n"
    "      --cap TYPE:RESOURCE   one inline grant (repeatable)\n"
    "      --profile NAME        a shipped set of grants: shell, git, python, node, build\n"
    "                            (repeatable; union; see omnibase caps profiles)\n"
    "      --context KEY=VALUE   execution context for conditions and policies\n"
    "      --memory SIZE --cpus N --pids N --timeout SECONDS   override limits\n"
    "      --workdir DIR         host directory at /workspace, the working directory\n"
    "      --mode MODE           sandbox (default), rx (host readable), rwx (trusted only)\n"
    "      --env KEY=VALUE       add to the program's environment (repeatable)\n"
    "      --secret NAME=@FILE|env:VAR  a secret's source; granted ones appear as\n"
    "                            /run/secrets/NAME (mode 0400), never in the environment\n"
    "      --registry DIR        the registry store: REGISTRY_* grants appear at /registry\n"
    "      --component UUID      grants from the registry's policy for this component\n"
    "                            (--cap/--capabilities then only narrow them)\n"
    "      --artifacts DIR       the artifact store: ARTIFACT_* grants appear at /artifacts\n"
    "      --backend NAME        native (default), or an OCI runtime on a bundle made from\n"
    "                            the same plan: gvisor (runsc), crun, runc\n"
    "      --egress MODE         how granted network is reached: both (default: connect()\n"
    "                            made by the supervisor, names from a DNS stub, and the\n"
    "                            proxy variables), transparent, or proxy\n"
    "      --audit-log FILE      append events as JSON Lines (repeatable)\n"
    "      --audit-socket PATH   also send each event to a unix socket (repeatable)\n"
    "      --verbose             also print events on stderr, and report what was allowed\n"
    "                            (CapabilityUsed: each egress connection made)\n"
    "      --limit NAME=VALUE    set one limit: memory, cpus, pids, timeout, output, tmpfs,\n"
    "                            files, connections (concurrent egress), egress (bytes)\n"
    "      --json                print one JSON result object on stdout at exit, with the\n"
    "                            program's stdout and stderr captured into it\n"
    "      --dry-run             print the resolved plan and run nothing\n"
    "      --summary             with --dry-run: the plan as short text, not JSON\n"
    "      --seccomp-profile FILE  add system calls to, or take them off, the seccomp\n"
    "                            allow-list: {\"version\": 1, \"allow\": [...], \"deny\": [...]}\n"
    "      --allow-degraded      run even if a protection is unavailable\n"
    "      --allow-unsigned      run a --component whose signature or sha256 does not verify\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: the program's, 128+N when killed by signal N, 124 on timeout, 125 when\n"
    "omnibase itself failed, 126 when the program cannot be executed, 127 when not found.\n";

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_sandbox *, ob_sandbox_free)

enum {
	ARG_CAPS = 0x100,
	ARG_CAP,
	ARG_CONTEXT,
	ARG_MEMORY,
	ARG_CPUS,
	ARG_PIDS,
	ARG_TIMEOUT,
	ARG_WORKDIR,
	ARG_MODE,
	ARG_ENV,
	ARG_BACKEND,
	ARG_AUDIT_LOG,
	ARG_VERBOSE,
	ARG_JSON,
	ARG_DRY_RUN,
	ARG_DEGRADED,
	ARG_UNSIGNED,
	ARG_SECRET,
	ARG_AUDIT_SOCKET,
	ARG_REGISTRY,
	ARG_ARTIFACTS,
	ARG_COMPONENT,
	ARG_SECCOMP_PROFILE,
	ARG_LIMIT,
	ARG_EGRESS,
	ARG_PROFILE,
	ARG_SUMMARY,
};

typedef struct RunArgs {
	ob_sandbox *sb;
	ob_capset *caps;
	ob_limits limits;
	ob_limits cli_limits;
	char *cwd;
	const char *component;
	bool json, dry_run, caps_given, summary;
} RunArgs;

/* SPEC is the --limit NAME=VALUE the user wrote, NULL for the flag of the limit's name: the
 * message names what was written, not a flag that was not. */
static int set_limit_flag(RunArgs *a, ob_limit l, const char *text, const char *spec)
{
	ob_error e;
	if (ob_limits_set_text(&a->cli_limits, l, text, &e) < 0) {
		const char *why = strstr(e.msg, "': ");
		if (spec)
			log_error("--limit %s: %s", spec, why ? why + 3 : e.msg);
		else
			log_error("--%s", e.msg);
		return -EINVAL;
	}
	return 0;
}

/* --limit NAME=VALUE: any limit by its capability-file name (ours; the SPEC's flags cover
 * four of them). */
static int set_named_limit(RunArgs *a, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char name[32];

	if (!eq || (size_t)(eq - spec) >= sizeof(name)) {
		log_error("--limit '%s': expected NAME=VALUE", spec);
		return -EINVAL;
	}
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	ob_limit l = ob_limit_from_string(name);
	if (l < 0) {
		log_error("--limit '%s': unknown limit (expected memory, cpus, pids, timeout, "
		          "output, tmpfs, files, connections, egress, events)",
		          spec);
		return -EINVAL;
	}
	return set_limit_flag(a, l, eq + 1, spec);
}

static int add_cap(RunArgs *a, const char *spec)
{
	ob_capability *c;
	ob_error e;

	if (ob_capability_parse(&c, spec, a->cwd, &e) < 0) {
		log_error("--cap %s", e.msg);
		return -EINVAL;
	}
	int r = ob_capset_add(a->caps, c);
	ob_capability_free(c);
	return r;
}

static int add_context(RunArgs *a, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[129];

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		log_error("--context '%s': expected KEY=VALUE", kv);
		return -EINVAL;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	if (ob_sandbox_set_context(a->sb, key, eq + 1) < 0) {
		log_error("--context '%s': keys are 1-128 characters of [A-Za-z0-9_.-]", kv);
		return -EINVAL;
	}
	return 0;
}

/* --profile NAME and --summary (kept apart: handle_option is long enough). */
static int handle_profile_option(RunArgs *a, int c, const char *arg)
{
	ob_error e;

	if (c == ARG_SUMMARY) {
		a->summary = true;
		return 0;
	}
	if (c != ARG_PROFILE)
		return -EINVAL;
	a->caps_given = true;
	if (ob_profile_load(arg, a->cwd, a->caps, &a->limits, &e) < 0) {
		log_error("--profile: %s", e.msg);
		return -EINVAL;
	}
	return 0;
}

static int handle_option(RunArgs *a, int c, const char *arg)
{
	ob_error e;

	switch (c) {
	case ARG_COMPONENT:
		a->component = arg;
		return 0;
	case ARG_SECCOMP_PROFILE:
		if (ob_sandbox_set_seccomp_profile(a->sb, arg, &e) < 0) {
			log_error("--seccomp-profile %s", e.msg);
			return -EINVAL;
		}
		return 0;
	case ARG_CAPS:
		a->caps_given = true;
		if (ob_capfile_load(arg, a->cwd, a->caps, &a->limits, &e) < 0) {
			log_error("%s", e.msg);
			return -EINVAL;
		}
		return 0;
	case ARG_CAP:
		a->caps_given = true;
		return add_cap(a, arg);
	case ARG_CONTEXT:
		return add_context(a, arg);
	case ARG_MEMORY:
		return set_limit_flag(a, OB_LIMIT_MEMORY, arg, NULL);
	case ARG_CPUS:
		return set_limit_flag(a, OB_LIMIT_CPUS, arg, NULL);
	case ARG_PIDS:
		return set_limit_flag(a, OB_LIMIT_PIDS, arg, NULL);
	case ARG_LIMIT:
		return set_named_limit(a, arg);
	case ARG_TIMEOUT:
		return set_limit_flag(a, OB_LIMIT_TIMEOUT, arg, NULL);
	case ARG_WORKDIR:
		if (ob_sandbox_set_workdir(a->sb, arg, &e) < 0) {
			log_error("%s", e.msg);
			return -EINVAL;
		}
		return 0;
	case ARG_MODE: {
		ob_sandbox_mode m = ob_sandbox_mode_from_string(arg);
		if (m < 0) {
			log_error("--mode '%s': expected sandbox, rx or rwx", arg);
			return -EINVAL;
		}
		return ob_sandbox_set_mode(a->sb, m);
	}
	case ARG_ENV:
		if (ob_sandbox_add_env(a->sb, arg, &e) < 0) {
			log_error("%s", e.msg);
			return -EINVAL;
		}
		return 0;
	case ARG_BACKEND: {
		ob_backend b = ob_backend_from_string(arg);
		if (b < 0) {
			log_error("--backend '%s': expected native, gvisor, crun or runc", arg);
			return -EINVAL;
		}
		return ob_sandbox_set_backend(a->sb, b);
	}
	case ARG_EGRESS: {
		ob_egress m = ob_egress_from_string(arg);
		if (m < 0) {
			log_error("--egress '%s': expected transparent, proxy or both", arg);
			return -EINVAL;
		}
		return ob_sandbox_set_egress(a->sb, m);
	}
	case ARG_AUDIT_LOG:
		return ob_sandbox_add_audit_log(a->sb, arg);
	case ARG_AUDIT_SOCKET:
		return ob_sandbox_add_audit_socket(a->sb, arg);
	case ARG_VERBOSE:
		(void)ob_sandbox_set_verbose(a->sb, true);
		return ob_sandbox_add_audit_fd(a->sb, STDERR_FILENO);
	case ARG_JSON:
		a->json = true;
		return 0;
	case ARG_DRY_RUN:
		a->dry_run = true;
		return 0;
	case ARG_DEGRADED:
		return ob_sandbox_set_allow_degraded(a->sb, true);
	case ARG_UNSIGNED:
		return ob_sandbox_set_allow_unsigned(a->sb, true);
	case ARG_REGISTRY:
	case ARG_ARTIFACTS: {
		int r = (c == ARG_REGISTRY ? ob_sandbox_set_registry
		                           : ob_sandbox_set_artifacts)(a->sb, arg, &e);
		if (r < 0) {
			log_error("%s", e.msg);
			return -EINVAL;
		}
		return 0;
	}
	case ARG_SECRET:
		if (ob_sandbox_add_secret(a->sb, arg, &e) < 0) {
			log_error("%s", e.msg);
			return -EINVAL;
		}
		return 0;
	default:
		return handle_profile_option(a, c, arg);
	}
}

static int parse_run_args(RunArgs *a, int argc, char **argv)
{
	static const struct option options[] = {
	    {"capabilities", required_argument, NULL, ARG_CAPS},
	    {"cap", required_argument, NULL, ARG_CAP},
	    {"context", required_argument, NULL, ARG_CONTEXT},
	    {"memory", required_argument, NULL, ARG_MEMORY},
	    {"cpus", required_argument, NULL, ARG_CPUS},
	    {"pids", required_argument, NULL, ARG_PIDS},
	    {"timeout", required_argument, NULL, ARG_TIMEOUT},
	    {"limit", required_argument, NULL, ARG_LIMIT},
	    {"workdir", required_argument, NULL, ARG_WORKDIR},
	    {"mode", required_argument, NULL, ARG_MODE},
	    {"env", required_argument, NULL, ARG_ENV},
	    {"backend", required_argument, NULL, ARG_BACKEND},
	    {"audit-log", required_argument, NULL, ARG_AUDIT_LOG},
	    {"verbose", no_argument, NULL, ARG_VERBOSE},
	    {"json", no_argument, NULL, ARG_JSON},
	    {"dry-run", no_argument, NULL, ARG_DRY_RUN},
	    {"allow-degraded", no_argument, NULL, ARG_DEGRADED},
	    {"allow-unsigned", no_argument, NULL, ARG_UNSIGNED},
	    {"secret", required_argument, NULL, ARG_SECRET},
	    {"egress", required_argument, NULL, ARG_EGRESS},
	    {"registry", required_argument, NULL, ARG_REGISTRY},
	    {"artifacts", required_argument, NULL, ARG_ARTIFACTS},
	    {"component", required_argument, NULL, ARG_COMPONENT},
	    {"seccomp-profile", required_argument, NULL, ARG_SECCOMP_PROFILE},
	    {"audit-socket", required_argument, NULL, ARG_AUDIT_SOCKET},
	    {"profile", required_argument, NULL, ARG_PROFILE},
	    {"summary", no_argument, NULL, ARG_SUMMARY},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c, idx = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, &idx)) >= 0) {
		if (c == 'h') {
			(void)fputs(run_help, stdout);
			return 0;
		}
		if (c == '?')
			return log_option_error("run", "+h", options, argv);
		if (handle_option(a, c, optarg) < 0)
			return -EINVAL;
	}
	if (optind >= argc) {
		log_error("sandbox run: no program given (see --help)");
		return -EINVAL;
	}
	return optind;
}

static void merge_limits(ob_limits *dst, const ob_limits *cli)
{
	for (int l = 0; l < OB_LIMIT_MAX; l++)
		if (cli->explicit_mask & (1u << l))
			dst->value[l] = cli->value[l];
}

static void print_result(const ob_result *res, const ob_error *err)
{
	json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:b, s:b, s:I, s:I, s:i}", "execution_id",
	                      res->execution_id, "exit_code", res->exit_code, "status", res->status,
	                      "signal", res->signal, "timed_out", res->timed_out, "oom", res->oom,
	                      "duration_ms", (json_int_t)res->duration_ms, "max_rss_kb",
	                      (json_int_t)res->max_rss_kb, "violations", (int)res->violations);
	if (o && err->msg[0])
		(void)json_object_set_new(o, "error", json_string(err->msg));
	/* Captured output, when it is text (JSON strings are UTF-8); null otherwise. */
	if (o) {
		json_t *out = res->stdout_data ? json_stringn(res->stdout_data, res->stdout_len)
		                               : json_string("");
		json_t *errs = res->stderr_data ? json_stringn(res->stderr_data, res->stderr_len)
		                                : json_string("");
		(void)json_object_set_new(o, "stdout", out ? out : json_null());
		(void)json_object_set_new(o, "stderr", errs ? errs : json_null());
		(void)json_object_set_new(o, "output_exceeded", json_boolean(res->output_exceeded));
	}
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s)
		(void)puts(s);
	free(s);
	json_decref(o);
}

static int sandbox_run(int argc, char **argv)
{
	_cleanup_(ob_capset_unrefp) ob_capset *caps = NULL;
	_cleanup_(ob_sandbox_freep) ob_sandbox *sb = NULL;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	RunArgs a = {0};
	ob_error err = {0};
	ob_result res;

	if (!cwd || ob_capset_new(&caps) < 0 || ob_sandbox_new(&sb) < 0 ||
	    ob_capset_set_workdir(caps, cwd) < 0) {
		log_error("out of memory or no working directory");
		return OB_EXIT_SETUP;
	}
	a = (RunArgs){.sb = sb, .caps = caps, .cwd = cwd};
	ob_limits_init(&a.limits);
	ob_limits_init(&a.cli_limits);
	int k = parse_run_args(&a, argc, argv); /* 0: help shown; > 0: index of PROGRAM */
	if (k <= 0)
		return k == 0 ? 0 : OB_EXIT_SETUP;
	int first = k < argc && streq(argv[k], "--") ? k + 1 : k;
	char **cmd = argv + first;
	/* "PROGRAM -- ARGS": drop the separator between the program and its arguments. */
	if (cmd[0] && cmd[1] && streq(cmd[1], "--"))
		memmove(cmd + 1, cmd + 2, (size_t)(argc - first - 1) * sizeof(char *));
	merge_limits(&a.limits, &a.cli_limits);
	if (a.component && ob_sandbox_set_component(sb, a.component, a.caps_given) < 0)
		return OB_EXIT_SETUP;
	if (!cmd[0] || ob_sandbox_set_capabilities(sb, caps) < 0 ||
	    ob_sandbox_set_limits(sb, &a.limits) < 0 || ob_sandbox_set_command(sb, cmd, &err) < 0) {
		log_error("%s", err.msg[0] ? err.msg : "bad arguments");
		return OB_EXIT_SETUP;
	}
	if (a.dry_run) {
		_cleanup_free_ char *plan = NULL;
		int r =
		    (a.summary ? ob_sandbox_plan_summary : ob_sandbox_plan_json)(sb, &plan, &err);
		if (r < 0) {
			log_error("%s", err.msg);
			return r == -ENOENT ? OB_EXIT_NOTFOUND : OB_EXIT_SETUP;
		}
		(void)fputs(plan, stdout);
		if (!a.summary)
			(void)putchar('\n');
		return 0;
	}
	if (a.json) /* the program's output goes into the result object, not around it */
		(void)ob_sandbox_set_capture_output(sb, true);
	(void)ob_sandbox_run(sb, &res, &err);
	if (err.msg[0])
		log_error("%s", err.msg);
	if (a.json)
		print_result(&res, &err);
	ob_result_done(&res);
	return res.exit_code;
}

int cmd_sandbox(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"run", "run a program under the granted capabilities", sandbox_run},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), sandbox_help, argc - 1, argv + 1);
}

static const char doctor_help[] = "Usage: omnibase doctor\n"
                                  "\n"
                                  "Prints, as JSON, which protections this kernel and user can "
                                  "apply:\n"
                                  "namespaces, Landlock ABI, seccomp, cgroup version, pidfd.\n";

int cmd_doctor(int argc, char **argv)
{
	_cleanup_free_ char *s = NULL;

	if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		(void)fputs(doctor_help, stdout);
		return 0;
	}
	if (argc > 1) {
		log_error("doctor takes no arguments (see --help)");
		return OB_EXIT_SETUP;
	}
	if (ob_probe_json(&s) < 0) {
		log_error("out of memory");
		return OB_EXIT_SETUP;
	}
	(void)puts(s);
	return 0;
}
