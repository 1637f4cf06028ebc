/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase sandbox learn --output FILE [--learn-network] [run options] PROGRAM|SCRIPT [-- ARGS...]
 * The run options are `sandbox run`'s (cmd-sandbox.c); the learning is the library's. */
#include <string.h>

#include "cli.h"

const char learn_help[] =
    "Usage: omnibase sandbox learn --output FILE [OPTIONS] PROGRAM|SCRIPT [-- ARGS...]\n"
    "\n"
    "Runs PROGRAM once, recording what it does: files read and written, commands run,\n"
    "hosts connected to. Then writes FILE, the least-privilege capability file with which\n"
    "`omnibase sandbox run --capabilities FILE` repeats the run without a denial: single\n"
    "files, DIR/** only where many files of DIR were used, never /, a top-level directory\n"
    "or a home wholesale, merged with the --cap/--capabilities grants given here.\n"
    "\n"
    "While learning, the host is visible read-only (as --mode rx shows it); a file that\n"
    "would be hidden is read from the host, read-only; a write outside --workdir goes to a\n"
    "scratch copy, never to the host; any command may run. The network stays refused (and\n"
    "recorded) unless --learn-network. The program can read whatever you can: learn only\n"
    "programs you would let read your files.\n"
    "\n"
    "Options:\n"
    "      --output FILE         where to write the capability file (replaced atomically)\n"
    "      --learn-network       make each connection the program asks for (and record it)\n"
    "  and the options of `omnibase sandbox run` (see its --help), but --mode: learning\n"
    "  always runs as rx, and --backend: learning needs the native backend.\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: the program's (as `sandbox run`); 125 when FILE cannot be written.\n";

int learn_option(LearnArgs *l, const char *name, const char *arg)
{
	if (!l) {
		log_error("--%s is an option of `sandbox learn`, not of `sandbox run`", name);
		return -EINVAL;
	}
	if (streq(name, "output")) {
		if (!arg[0]) {
			log_error("--output: expected a file name");
			return -EINVAL;
		}
		l->output = arg;
	} else {
		l->network = true;
	}
	return 0;
}

int sandbox_learn(int argc, char **argv)
{
	LearnArgs l = {0};
	return sandbox_run_args(argc, argv, &l);
}

int learn_finish(ob_sandbox *sb, const LearnArgs *l, int exit_code)
{
	ob_error err = {0};
	int r = ob_sandbox_learn_write(sb, l->output, &err);

	if (r < 0) {
		log_error("%s", err.msg[0] ? err.msg : "cannot write the learned capability file");
		return OB_EXIT_SETUP;
	}
	if (r > 0)
		log_error("%s: %d observations are missing from it (past the record's bound, or "
		          "no grant can express them)",
		          l->output, r);
	(void)fprintf(stderr, "omnibase: wrote %s: the grants this run needed\n", l->output);
	return exit_code;
}
