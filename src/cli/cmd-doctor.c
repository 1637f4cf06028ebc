/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase doctor: what this host can apply, for reading or (--json) for machines. */
#include <stdio.h>

#include "basic/macro.h"
#include "cli/cli.h"

static const char doctor_help[] =
    "Usage: omnibase doctor [--json]\n"
    "\n"
    "Says which protections this kernel and user can apply: a verdict per protection (user\n"
    "namespaces, Landlock ABI and what it lacks, seccomp notifier, pidfd_getfd and ADDFD,\n"
    "memfd sealing, cgroups) and per backend (native, gvisor, runc, crun) with the tier it\n"
    "would run; for what is missing, what blocks it and the fix.\n"
    "\n"
    "      --json    the same as one JSON document\n"
    "  -h, --help    show this help\n";

int cmd_doctor(int argc, char **argv)
{
	_cleanup_free_ char *s = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			(void)fputs(doctor_help, stdout);
			return 0;
		}
		if (!streq(argv[i], "--json")) {
			log_error("doctor: unknown argument %s (see --help)", argv[i]);
			return OB_EXIT_SETUP;
		}
		json = true;
	}
	if ((json ? ob_probe_json(&s) : ob_probe_text(&s)) < 0) {
		log_error("out of memory");
		return OB_EXIT_SETUP;
	}
	(void)fputs(s, stdout);
	if (json)
		(void)fputc('\n', stdout);
	return 0;
}
