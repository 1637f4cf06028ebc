/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase sandbox run [OPTIONS] PROGRAM|SCRIPT [-- ARGS...] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char sandbox_help[] = "Usage: omnibase sandbox COMMAND [OPTIONS]\n"
                                   "\n"
                                   "Commands:\n"
                                   "  run PROGRAM|SCRIPT [-- ARGS...]   run under the granted "
                                   "capabilities\n"
                                   "  learn --output FILE PROGRAM|SCRIPT [-- ARGS...]   run once, "
                                   "write the grants it needed\n";

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
    "                            files, connections (concurrent egress), egress (bytes),\n"
    "                            disk (bytes added through writable grants and --workdir)\n"
    "      --json                print one JSON result object on stdout at exit, with the\n"
    "                            program's stdout and stderr captured into it (also for\n"
    "                            option errors)\n"
    "      --quiet               no closing line on stderr about a timeout, a limit or\n"
    "                            denials\n"
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
	ARG_QUIET,
	ARG_OUTPUT,
	ARG_LEARN_NETWORK,
};

typedef struct RunArgs {
	ob_sandbox *sb;
	ob_capset *caps;
	ob_limits limits;
	ob_limits cli_limits;
	char *cwd;
	const char *component;
	char *workdir; /* --workdir resolved, owned: the base of relative grants */
	bool json, quiet, dry_run, caps_given, summary;
	LearnArgs *learn; /* sandbox learn (cmd-learn.c), or NULL */
} RunArgs;

static void run_args_done(RunArgs *a)
{
	free(a->workdir);
}

/* SPEC §2.2: relative grant paths are relative to --workdir DIR when given (it becomes
 * a->cwd, the base of --cap and --capabilities). */
static int relative_base(RunArgs *a, const char *dir)
{
	char *real = realpath(dir, NULL);
	if (!real) {
		log_error("--workdir %s: %s", dir, strerror(errno));
		return -EINVAL;
	}
	free(a->workdir);
	a->cwd = a->workdir = real;
	return ob_capset_set_workdir(a->caps, real);
}

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
		          "output, tmpfs, files, connections, egress, events, disk)",
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

/* --profile NAME and the plain flags (kept apart: handle_option is long enough). */
static int handle_profile_option(RunArgs *a, int c, const char *arg)
{
	ob_error e;

	switch (c) {
	case ARG_SUMMARY:
		a->summary = true;
		return 0;
	case ARG_JSON:
		a->json = true;
		return 0;
	case ARG_DRY_RUN:
		a->dry_run = true;
		return 0;
	case ARG_QUIET:
		a->quiet = true;
		return 0;
	default:
		break;
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
	case ARG_OUTPUT:
	case ARG_LEARN_NETWORK:
		return learn_option(a->learn, c == ARG_OUTPUT ? "output" : "learn-network", arg);
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
	    {"quiet", no_argument, NULL, ARG_QUIET},
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
	    {"output", required_argument, NULL, ARG_OUTPUT},
	    {"learn-network", no_argument, NULL, ARG_LEARN_NETWORK},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c, idx = 0;
	bool bad_workdir = false;

	/* --json and --quiet first: an error in any option is then reported in their form */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", options, &idx)) >= 0) {
		a->json |= c == ARG_JSON;
		a->quiet |= c == ARG_QUIET;
		/* relative grants are relative to --workdir, wherever it stands */
		if (c == ARG_WORKDIR && relative_base(a, optarg) < 0)
			bad_workdir = true;
	}
	if (bad_workdir)
		return -EINVAL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", options, &idx)) >= 0) {
		if (c == 'h') {
			(void)fputs(a->learn ? learn_help : run_help, stdout);
			return 0;
		}
		if (c == '?')
			return log_option_error(a->learn ? "learn" : "run", "+h", options, argv);
		if (handle_option(a, c, optarg) < 0)
			return -EINVAL;
	}
	if (optind >= argc) {
		log_error("sandbox %s: no program given (see --help)", a->learn ? "learn" : "run");
		return -EINVAL;
	}
	if (a->learn && !a->learn->output) {
		log_error("sandbox learn: --output FILE is required (see --help)");
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

/* The --json object: one schema for a run and for a failure before it (RES NULL). */
static void print_result(const ob_result *res, const char *error)
{
	_cleanup_free_ char *s = NULL;
	ob_error err = {0};

	(void)snprintf(err.msg, sizeof(err.msg), "%s", error);
	if (ob_result_json(res, &err, &s) >= 0)
		(void)puts(s);
}

/* Says how omnibase ended or constrained the run, unless --quiet. */
static void print_summary(const RunArgs *a, const ob_result *res)
{
	_cleanup_free_ char *line = NULL;

	if (!a->quiet && ob_result_summary(res, &line) >= 0 && line)
		log_error("%s", line);
}

/* A failure before the run: its exit code, and with --json its result object. */
static int fail_early(const RunArgs *a, int code)
{
	if (a->json)
		print_result(NULL, log_last_error);
	return code;
}

static int sandbox_run(int argc, char **argv)
{
	return sandbox_run_args(argc, argv, NULL);
}

int sandbox_run_args(int argc, char **argv, LearnArgs *learn)
{
	_cleanup_(ob_capset_unrefp) ob_capset *caps = NULL;
	_cleanup_(ob_sandbox_freep) ob_sandbox *sb = NULL;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	_cleanup_(run_args_done) RunArgs a = {0};
	ob_error err = {0};
	ob_result res;

	if (!cwd || ob_capset_new(&caps) < 0 || ob_sandbox_new(&sb) < 0 ||
	    ob_capset_set_workdir(caps, cwd) < 0) {
		log_error("out of memory or no working directory");
		return OB_EXIT_SETUP;
	}
	a = (RunArgs){.sb = sb, .caps = caps, .cwd = cwd, .learn = learn};
	(void)ob_sandbox_set_warning_fd(sb, STDERR_FILENO);
	ob_limits_init(&a.limits);
	ob_limits_init(&a.cli_limits);
	int k = parse_run_args(&a, argc, argv); /* 0: help shown; > 0: index of PROGRAM */
	if (k <= 0)
		return k == 0 ? 0 : fail_early(&a, OB_EXIT_SETUP);
	int first = k < argc && streq(argv[k], "--") ? k + 1 : k;
	char **cmd = argv + first;
	/* "PROGRAM -- ARGS": drop the separator between the program and its arguments. */
	if (cmd[0] && cmd[1] && streq(cmd[1], "--"))
		memmove(cmd + 1, cmd + 2, (size_t)(argc - first - 1) * sizeof(char *));
	merge_limits(&a.limits, &a.cli_limits);
	if (a.component && ob_sandbox_set_component(sb, a.component, a.caps_given) < 0)
		return fail_early(&a, OB_EXIT_SETUP);
	if (!cmd[0] || ob_sandbox_set_capabilities(sb, caps) < 0 ||
	    ob_sandbox_set_limits(sb, &a.limits) < 0 || ob_sandbox_set_command(sb, cmd, &err) < 0) {
		log_error("%s", err.msg[0] ? err.msg : "bad arguments");
		return fail_early(&a, OB_EXIT_SETUP);
	}
	if (learn && ob_sandbox_set_learn(sb, true, learn->network) < 0)
		return OB_EXIT_SETUP;
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
	int ran = ob_sandbox_run(sb, &res, &err);
	if (err.msg[0])
		log_error("%s", err.msg);
	print_summary(&a, &res);
	if (a.json)
		print_result(&res, err.msg);
	ob_result_done(&res);
	if (learn && ran >= 0)
		return learn_finish(sb, learn, res.exit_code);
	return res.exit_code;
}

int cmd_sandbox(int argc, char **argv)
{
	static const Verb verbs[] = {
	    {"run", "run a program under the granted capabilities", sandbox_run},
	    {"learn", "run once and write the capability file it needed", sandbox_learn},
	};
	return verb_dispatch(verbs, ELEMENTSOF(verbs), sandbox_help, argc - 1, argv + 1);
}
