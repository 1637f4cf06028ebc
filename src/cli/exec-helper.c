/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omnibase-exec ABI ACCESS:PATH... -- PROGRAM [ARGS...]: applies the plan's Landlock rules
 * to itself, then executes PROGRAM. The OCI backends (runc, crun) run it as the container's
 * first program, bound read-only at /dev/.omnibase-exec: the runtime has set no_new_privs and
 * the seccomp filter by then, and Landlock is what the runtimes do not apply — the file
 * rules and the exec allow-list of the native backend (docs/design/backends.md). Fails
 * closed: a rule that cannot be applied is exit 125, nothing runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plan/fs-rules.h"
#include "plan/plan.h"

#define MAX_RULES 1024

/* A whole number in BASE, nothing else, into *RET. */
static bool parse_number(const char *s, const char *end, int base, unsigned long long *ret)
{
	char *stop;
	errno = 0;
	*ret = strtoull(s, &stop, base);
	return s != end && stop == end && errno == 0 && s[0] != '-';
}

int main(int argc, char **argv)
{
	static FsRule rules[MAX_RULES];
	Plan p = {.rules = rules};
	unsigned long long abi = 0;
	int k = 2;

	if (argc < 4) {
		(void)fputs("usage: omnibase-exec ABI ACCESS:PATH... -- PROGRAM [ARGS...]\n",
		            stderr);
		return 125;
	}
	/* the arguments are omnibase's own, but one misread would mean fewer rules: any doubt
	 * is exit 125 */
	if (!parse_number(argv[1], argv[1] + strlen(argv[1]), 10, &abi) || abi >= 1000) {
		(void)fprintf(stderr, "omnibase-exec: bad Landlock ABI '%s'\n", argv[1]);
		return 125;
	}
	p.landlock_abi = (int)abi;
	bool ok = true;
	for (; ok && k < argc && strcmp(argv[k], "--") != 0 && p.n_rules < MAX_RULES; k++) {
		char *colon = strchr(argv[k], ':');
		unsigned long long access;
		if (!colon || colon[1] != '/' || !parse_number(argv[k], colon, 16, &access)) {
			ok = false;
			break;
		}
		rules[p.n_rules].access = access;
		rules[p.n_rules++].path = colon + 1;
	}
	if (!ok || k + 1 >= argc || strcmp(argv[k], "--") != 0) {
		(void)fprintf(stderr, "omnibase-exec: bad arguments at '%s'\n",
		              k < argc ? argv[k] : "(end)");
		return 125;
	}
	const char *failed = "";
	/* the ruleset kept open (close-on-exec) until the execve: the supervisor's open broker
	 * takes a copy at that exec's trap, to open as the program (runner/notify-broker.c) */
	int ruleset = -1;
	int r = p.landlock_abi > 0 ? fs_rules_apply(&p, &failed, &ruleset) : 0;
	if (r < 0) {
		(void)fprintf(stderr, "omnibase-exec: Landlock: %s: %s\n", failed, strerror(-r));
		return 125;
	}
	/* past RLIMIT_FSIZE (--limit disk, docs/design/disk.md) a write fails with EFBIG rather
	 * than SIGXFSZ killing the program, as natively; an ignored signal stays so across exec */
	(void)signal(SIGXFSZ, SIG_IGN);
	/* The raw system call: a coverage build rewrites execv() into a counter dump, whose
	 * writes into the (hidden) build tree the supervisor would record as denials. */
	(void)syscall(SYS_execve, argv[k + 1], argv + k + 1, environ);
	int e = errno;
	(void)fprintf(stderr, "omnibase-exec: %s: %s\n", argv[k + 1], strerror(e));
	return e == ENOENT ? 127 : 126;
}
