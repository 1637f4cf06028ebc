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

/* Prints "omnibase: " and the message to stderr. */
void log_error(const char *fmt, ...) _printf_(1, 2);

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

int cmd_audit(int argc, char **argv);
int cmd_caps(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_scan(int argc, char **argv);
