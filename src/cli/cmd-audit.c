/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase audit verify FILE... | audit tail FILE [--follow] [--event TYPE] [--json] (SPEC §5) */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cli.h"

static const char audit_help[] = "Usage: omnibase audit COMMAND [OPTIONS] FILE\n"
                                 "\n"
                                 "Commands:\n"
                                 "  verify FILE...   check an audit log's hash chain\n"
                                 "  tail FILE        print its events, one a line\n";

static const char verify_help[] =
    "Usage: omnibase audit verify FILE...\n"
    "\n"
    "Checks that each line of the audit log FILE is a JSON event whose seq follows the line\n"
    "before's and whose prev is the SHA-256 of the line before: prints \"FILE: N events\n"
    "verified\", or names the first line that breaks the chain and why (an edited, deleted or\n"
    "reordered line, a line that is not JSON). An edit of the very last line, or a rewrite\n"
    "of the whole file with a new chain, is not seen: keep the last line's hash elsewhere.\n"
    "Exit status: 0 when every file verifies, 1 when a chain is broken, 125 when a file\n"
    "cannot be read.\n";

static const char tail_help[] =
    "Usage: omnibase audit tail FILE [--follow] [--event TYPE] [--json]\n"
    "\n"
    "Prints the events of the audit log FILE one a line: time, seq, event and its key fields.\n"
    "  -f, --follow      keep printing lines appended later, until SIGINT or SIGTERM\n"
    "  -e, --event TYPE  only events of TYPE (e.g. CapabilityDenied)\n"
    "      --json        each event's own JSON line instead\n"
    "Exit status: 0, or 125 when FILE cannot be read.\n";

static int audit_verify(int argc, char **argv)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		if (c != 'h') {
			(void)log_option_error("verify", "+h", options, argv);
			return OB_EXIT_SETUP;
		}
		(void)fputs(verify_help, stdout);
		return 0;
	}
	if (optind >= argc) {
		log_error("audit verify: no file given (see --help)");
		return OB_EXIT_SETUP;
	}
	for (int i = optind; i < argc; i++) {
		ob_error err = {0};
		uint64_t n = 0;
		int r = ob_audit_verify(argv[i], &n, &err);
		if (r >= 0) {
			(void)printf("%s: %" PRIu64 " event%s verified\n", argv[i], n,
			             n == 1 ? "" : "s");
			continue;
		}
		log_error("%s", err.msg[0] ? err.msg : strerror(-r));
		if (r == -EBADMSG || r == -EFBIG)
			ret = MAX(ret, 1);
		else
			ret = OB_EXIT_SETUP;
	}
	return ret;
}

typedef struct TailArgs {
	const char *file, *event;
	bool follow, json;
} TailArgs;

static int parse_tail_args(int argc, char **argv, TailArgs *a)
{
	static const struct option options[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"event", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hfe:", options, NULL)) >= 0) {
		switch (c) {
		case 'f':
			a->follow = true;
			break;
		case 'e':
			a->event = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			(void)fputs(tail_help, stdout);
			return 0;
		default:
			(void)log_option_error("tail", "+hfe:", options, argv);
			return -1;
		}
	}
	if (optind != argc - 1) {
		log_error("audit tail: one FILE expected (see --help)");
		return -1;
	}
	a->file = argv[optind];
	return 1;
}

/* Prints each complete line of BUF[0..*HAVE) and keeps the unfinished rest; AT_EOF prints
 * that rest too. LINENO counts lines for messages. */
static void print_lines(const TailArgs *a, char *buf, size_t *have, bool at_eof, uint64_t *lineno)
{
	size_t used = 0;

	while (used < *have) {
		char *nl = memchr(buf + used, '\n', *have - used);
		if (!nl && !at_eof)
			break;
		size_t len = nl ? (size_t)(nl - (buf + used)) : *have - used;
		_cleanup_free_ char *text = NULL;
		++*lineno;
		int r = ob_audit_format(buf + used, len, a->event,
		                        a->json ? OB_AUDIT_FORMAT_JSON : 0, &text);
		if (r == -EBADMSG)
			log_error("%s:%" PRIu64 ": not an audit event", a->file, *lineno);
		else if (r < 0)
			log_error("%s:%" PRIu64 ": %s", a->file, *lineno, strerror(-r));
		else if (r > 0)
			(void)printf("%s\n", text);
		used += len + (nl ? 1 : 0);
	}
	memmove(buf, buf + used, *have - used);
	*have -= used;
	(void)fflush(stdout);
}

static void noop_signal_handler(int sig)
{
	(void)sig;
}

/* Waits for FD to grow: an inotify watch when there is one, else a 500 ms poll. SIGINT and
 * SIGTERM are blocked but for this wait (ppoll), so they end it, never a half-printed line.
 * Returns false when a signal came. */
static bool wait_for_more(int ino, const sigset_t *waitmask)
{
	struct pollfd p = {.fd = ino, .events = POLLIN};
	char ev[4096];

	int k = ppoll(&p, ino >= 0 ? 1 : 0,
	              ino >= 0 ? NULL : &(struct timespec){.tv_nsec = 500000000}, waitmask);
	if (k < 0)
		return errno != EINTR;
	if (k > 0)
		(void)read(ino, ev,
		           sizeof(ev)); /* drain: the file is read again whatever changed */
	return true;
}

static int audit_tail(int argc, char **argv)
{
	TailArgs a = {0};
	int r = parse_tail_args(argc, argv, &a);
	if (r <= 0)
		return r == 0 ? 0 : OB_EXIT_SETUP;

	_cleanup_close_ int fd = open(a.file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_error("%s: %s", a.file, strerror(errno));
		return OB_EXIT_SETUP;
	}
	_cleanup_close_ int ino = -1;
	sigset_t block, waitmask;
	if (a.follow) {
		ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ino >= 0 && inotify_add_watch(ino, a.file, IN_MODIFY) < 0) {
			(void)close(ino);
			ino = -1; /* polled instead */
		}
		(void)sigemptyset(&block);
		(void)sigaddset(&block, SIGINT);
		(void)sigaddset(&block, SIGTERM);
		(void)sigprocmask(SIG_BLOCK, &block, &waitmask);
		(void)sigdelset(&waitmask, SIGINT);
		(void)sigdelset(&waitmask, SIGTERM);
		/* a handler, so that the signal interrupts ppoll instead of killing mid-print */
		(void)signal(SIGINT, noop_signal_handler);
		(void)signal(SIGTERM, noop_signal_handler);
	}
	static char buf[1 << 16];
	size_t have = 0;
	uint64_t lineno = 0;
	for (;;) {
		ssize_t k = read(fd, buf + have, sizeof(buf) - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			log_error("%s: %s", a.file, strerror(errno));
			return OB_EXIT_SETUP;
		}
		have += (size_t)k;
		/* a line longer than the buffer is printed in pieces, as it comes */
		print_lines(&a, buf, &have, (k == 0 && !a.follow) || have == sizeof(buf), &lineno);
		if (k > 0)
			continue;
		if (!a.follow || !wait_for_more(ino, &waitmask))
			break;
	}
	return 0;
}

static const Verb audit_verbs[] = {
    {"verify", "check the hash chain", audit_verify},
    {"tail", "print the events", audit_tail},
};

int cmd_audit(int argc, char **argv)
{
	return verb_dispatch(audit_verbs, ELEMENTSOF(audit_verbs), audit_help, argc - 1, argv + 1);
}
