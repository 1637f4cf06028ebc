/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thin command-line layer: each verb parses its arguments and prints; the work is in
 * libomnibase. */
#pragma once

#include <getopt.h>
#include <stdio.h>

#include "omnibase/omnibase.h"

#include "basic/macro.h"

typedef struct Verb {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} Verb;

/* Prints "omnibase: " and the message to stderr, and keeps it in log_last_error (for a
 * --json result of a failure). */
void log_error(const char *fmt, ...) _printf_(1, 2);
extern char log_last_error[1024];

/* Dispatches ARGV[0] through VERBS; prints HELP for --help/-h/none.  Returns an exit code. */
int verb_dispatch(const Verb *verbs, size_t n, const char *help, int argc, char **argv);

/* Parses "[--FLAG] [-h|--help] ARG..." for verbs with one boolean option: *SET when FLAG is
 * given. Returns the index of the first argument, 0 when help was shown, -1 on a bad option
 * or when no argument follows (then MISSING is the error printed). */
int parse_flag_and_args(int argc, char **argv, const char *flag, bool *set, const char *help,
                        const char *missing);

/* After getopt_long(…, SHORTOPTS, OPTIONS, …) (with opterr = 0) returned '?': prints
 * "VERB: unrecognized option '--timout'; did you mean --timeout?" (the nearest of OPTIONS),
 * or that an option lacks its argument.  Returns -EINVAL. */
int log_option_error(const char *verb, const char *shortopts, const struct option *options,
                     char **argv);
/* `sandbox learn` (cmd-learn.c): its own options, beside the run options of cmd-sandbox.c. */
typedef struct LearnArgs {
	const char *output;
	bool network;
} LearnArgs;
extern const char learn_help[];
int sandbox_learn(int argc, char **argv);
/* --output or --learn-network (NAME) with ARG into L; an error for `sandbox run` (L NULL). */
int learn_option(LearnArgs *l, const char *name, const char *arg);
/* After the learning run of SB, which ended with EXIT_CODE: the capability file written.
 * Returns the exit code: the program's, 125 when the file could not be written. */
int learn_finish(ob_sandbox *sb, const LearnArgs *l, int exit_code);
/* cmd-sandbox.c: `sandbox run`, or with LEARN `sandbox learn`. Returns the exit code. */
int sandbox_run_args(int argc, char **argv, LearnArgs *learn);

int cmd_audit(int argc, char **argv);
int cmd_caps(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_scan(int argc, char **argv);
