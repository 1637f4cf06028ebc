/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "basic/suggest.h"
#include "cli.h"

static const char main_help[] =
    "Usage: omnibase COMMAND [OPTIONS]\n"
    "\n"
    "Run untrusted code under exactly the capabilities it was granted.\n"
    "\n"
    "Commands:\n"
    "  sandbox   run a program under the granted capabilities\n"
    "  caps      validate and inspect capability files\n"
    "  policy    validate Cedar policy files, evaluate requests\n"
    "  registry  sign, verify, lint and store registry components\n"
    "  scan      check Python sources against the grants before they run\n"
    "  audit     verify an audit log's hash chain, print its events\n"
    "  doctor    show which protections this kernel and user can apply\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (COMMAND --help for a command's)\n"
    "      --version  show the version\n";

static const Verb main_verbs[] = {
    {"sandbox", "run a program under the granted capabilities", cmd_sandbox},
    {"caps", "validate and inspect capability files", cmd_caps},
    {"policy", "validate policies and evaluate requests", cmd_policy},
    {"registry", "sign, verify, lint and store registry components", cmd_registry},
    {"scan", "check Python sources against the grants before they run", cmd_scan},
    {"audit", "verify and print audit logs", cmd_audit},
    {"doctor", "kernel features and protections available", cmd_doctor},
};

char log_last_error[1024];

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(log_last_error, sizeof(log_last_error), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	(void)fputs("omnibase: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	va_end(ap);
}

int verb_dispatch(const Verb *verbs, size_t n, const char *help, int argc, char **argv)
{
	if (argc < 1 || streq(argv[0], "--help") || streq(argv[0], "-h")) {
		(void)fputs(help, argc < 1 ? stderr : stdout);
		return argc < 1 ? OB_EXIT_SETUP : 0;
	}
	const char *names[16];
	for (size_t i = 0; i < n; i++) {
		if (streq(argv[0], verbs[i].name))
			return verbs[i].run(argc, argv);
		if (i < ELEMENTSOF(names))
			names[i] = verbs[i].name;
	}
	const char *near = suggest_closest(argv[0], names, MIN(n, ELEMENTSOF(names)));
	log_error("unknown command '%s'%s%s%s (see --help)", argv[0], near ? "; did you mean " : "",
	          near ? near : "", near ? "?" : "");
	return OB_EXIT_SETUP;
}

int log_option_error(const char *verb, const char *shortopts, const struct option *options,
                     char **argv)
{
	/* getopt_long has stepped past what it could not use: that is argv[optind - 1]. */
	const char *arg = argv[optind - 1];
	char word[SUGGEST_MAX_LEN + 1], known[32][SUGGEST_MAX_LEN + 3];
	const char *names[32];
	size_t n = 0;

	/* A known option without its argument: a long one, or a short one of SHORTOPTS. */
	bool is_long = strncmp(arg, "--", 2) == 0;
	if (optopt != 0 && (is_long || (optopt != ':' && strchr(shortopts, optopt)))) {
		log_error("%s: option '%s' requires an argument (see --help)", verb,
		          is_long ? arg : (char[]){'-', (char)optopt, '\0'});
		return -EINVAL;
	}
	if (optopt != 0) {
		log_error("%s: invalid option '-%c' (see --help)", verb, optopt);
		return -EINVAL;
	}
	/* "--timout=5": the name is what comes before '='. */
	(void)snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg, "="), arg);
	for (const struct option *o = options; o->name && n < ELEMENTSOF(names); o++, n++) {
		(void)snprintf(known[n], sizeof(known[n]), "--%s", o->name);
		names[n] = known[n];
	}
	const char *near = suggest_closest(word, names, n);
	log_error("%s: unrecognized option '%s'%s%s%s", verb, word, near ? "; did you mean " : "",
	          near ? near : "", near ? "?" : "");
	return -EINVAL;
}

int parse_flag_and_args(int argc, char **argv, const char *flag, bool *set, const char *help,
                        const char *missing)
{
	const struct option options[] = {
	    {flag, no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		if (c == 'h') {
			(void)fputs(help, stdout);
			return 0;
		}
		if (c != 'f')
			return log_option_error(argv[0], "+h", options, argv);
		*set = true;
	}
	if (optind >= argc) {
		log_error("%s", missing);
		return -1;
	}
	return optind;
}

/* A closed 0, 1 or 2 would be handed out again by the next open or pipe, and a sandbox's
 * pipe could end up as somebody's "stdin": make sure all three are open first. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			_exit(OB_EXIT_SETUP);
}

int main(int argc, char **argv)
{
	ensure_std_fds();
	if (argc == 2 && streq(argv[1], "--version")) {
		(void)printf("omnibase %s\n", ob_version());
		return 0;
	}
	int r = verb_dispatch(main_verbs, ELEMENTSOF(main_verbs), main_help, argc - 1, argv + 1);
	if (fflush(stdout) != 0) {
		log_error("writing output: %s", strerror(errno));
		return OB_EXIT_SETUP;
	}
	return r;
}
