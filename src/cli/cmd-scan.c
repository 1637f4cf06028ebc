/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omnibase scan FILE... [--capabilities FILE] [--json] (SPEC §9): advisory, before anything
 * runs. The source is untrusted input to its parser, so Python's own ast module parses it
 * inside a sandbox with no grants at all (the file arrives on stdin, the findings leave on
 * stdout: scan-python.h); here they are judged against the capability file's grants with the
 * same checks the sandbox uses.
 */
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "scan-python.h"
#include "scan.h"

static const char scan_help[] =
    "Usage: omnibase scan [--capabilities FILE] [--json] FILE...\n"
    "\n"
    "Checks Python and shell sources, before they run, for what the grants do not allow:\n"
    "imports of network, process and native-code modules (socket, subprocess, ctypes, ...)\n"
    "without a matching grant, programs run, URLs called and files written outside the\n"
    "grants, eval/exec of non-literals. The parsers run in a sandbox with no grants: Python's\n"
    "ast (/usr/bin/python3, or $OMNIBASE_SCAN_PYTHON) and, for .sh/.bash files and shell\n"
    "#! lines, shfmt (/usr/bin/shfmt, or $OMNIBASE_SCAN_SHFMT). Without --capabilities\n"
    "nothing is granted.\n"
    "Output: FILE:LINE:COL: RULE: message. Exit status: 0 clean, 1 findings, 125 bad input.\n";

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(ob_sandbox *, ob_sandbox_free)

void scan_addv(Scan *s, const char *file, long line, long col, const char *rule, const char *fmt,
               va_list ap)
{
	Finding *f = realloc(s->f, (s->n + 1) * sizeof(Finding));
	if (!f)
		return;
	s->f = f;
	f += s->n;
	*f = (Finding){.file = file, .line = line, .col = col};
	(void)snprintf(f->rule, sizeof(f->rule), "%s", rule);
	if (vasprintf(&f->msg, fmt, ap) >= 0)
		s->n++;
}

void scan_add(Scan *s, const char *file, long line, long col, const char *rule, const char *fmt,
              ...)
{
	va_list ap;
	va_start(ap, fmt);
	scan_addv(s, file, line, col, rule, fmt, ap);
	va_end(ap);
}

/* A finding at the position of a Python scanner's ITEM. */
_printf_(5, 6) static void add(Scan *s, const char *file, const json_t *item, const char *rule,
                               const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	scan_addv(s, file, (long)json_integer_value(json_object_get(item, "line")),
	          (long)json_integer_value(json_object_get(item, "col")), rule, fmt, ap);
	va_end(ap);
}

bool scan_has_type(const ob_capset *set, ob_cap_type t)
{
	for (size_t i = 0; i < ob_capset_size(set); i++)
		if (ob_capability_type(ob_capset_get(set, i)) == t)
			return true;
	return false;
}

static bool prefixed(const char *name, const char *mod)
{
	size_t n = strlen(mod);
	return strncmp(name, mod, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* Modules whose import means a grant is needed (or, for native code, a review). */
static const struct {
	const char *mod;
	ob_cap_type need; /* OB_CAP_TYPE_MAX: native code, always reported */
} modules[] = {
    {"socket", OB_CAP_NETWORK_CONNECT},
    {"ssl", OB_CAP_NETWORK_CONNECT},
    {"http.client", OB_CAP_NETWORK_CONNECT},
    {"urllib.request", OB_CAP_NETWORK_CONNECT},
    {"urllib3", OB_CAP_NETWORK_CONNECT},
    {"requests", OB_CAP_NETWORK_CONNECT},
    {"httpx", OB_CAP_NETWORK_CONNECT},
    {"aiohttp", OB_CAP_NETWORK_CONNECT},
    {"ftplib", OB_CAP_NETWORK_CONNECT},
    {"smtplib", OB_CAP_NETWORK_CONNECT},
    {"xmlrpc.client", OB_CAP_NETWORK_CONNECT},
    {"websockets", OB_CAP_NETWORK_CONNECT},
    {"paramiko", OB_CAP_NETWORK_CONNECT},
    {"subprocess", OB_CAP_EXTERNAL_COMMAND},
    {"pty", OB_CAP_EXTERNAL_COMMAND},
    {"pexpect", OB_CAP_EXTERNAL_COMMAND},
    {"ctypes", OB_CAP_TYPE_MAX},
    {"_ctypes", OB_CAP_TYPE_MAX},
    {"cffi", OB_CAP_TYPE_MAX},
};

static void judge_import(Scan *s, const char *file, const json_t *it, const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
		if (!prefixed(name, modules[i].mod))
			continue;
		if (modules[i].need == OB_CAP_TYPE_MAX)
			add(s, file, it, "native-code",
			    "import of %s: native code, which no grant describes (review it)",
			    name);
		else if (!scan_has_type(s->caps, modules[i].need))
			add(s, file, it, "import", "import of %s: nothing grants %s", name,
			    ob_cap_type_to_string(modules[i].need));
		return;
	}
}

static bool runs_program(const char *n)
{
	static const char *const p[] = {
	    "subprocess.", "os.exec",  "os.spawn",  "os.posix_spawn",
	    "pty.spawn",   "os.popen", "os.system", "asyncio.create_subprocess_"};
	for (size_t i = 0; i < ELEMENTSOF(p); i++)
		if (strncmp(n, p[i], strlen(p[i])) == 0)
			return true;
	return false;
}

/* scheme://[user@]host[:port]/…: the host and port a URL connects to; false if unknown. */
bool scan_url_target(const char *url, char *host, size_t size, unsigned *port)
{
	static const struct {
		const char *scheme;
		unsigned port;
	} dflt[] = {{"http", 80}, {"https", 443}, {"ftp", 21}, {"ws", 80}, {"wss", 443}};
	const char *p = strstr(url, "://");
	if (!p)
		return false;
	*port = 0;
	for (size_t i = 0; i < ELEMENTSOF(dflt); i++)
		if ((size_t)(p - url) == strlen(dflt[i].scheme) &&
		    strncasecmp(url, dflt[i].scheme, (size_t)(p - url)) == 0)
			*port = dflt[i].port;
	p += 3;
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	const char *colon = p[0] == '[' ? memchr(p, ']', n) : p;
	colon = colon ? memchr(colon, ':', n - (size_t)(colon - p)) : NULL;
	size_t hl = colon ? (size_t)(colon - p) : n;
	if (colon)
		*port = (unsigned)strtoul(colon + 1, NULL, 10);
	if (hl == 0 || hl >= size || *port == 0 || *port > 65535)
		return false;
	memcpy(host, p[0] == '[' ? p + 1 : p, p[0] == '[' ? hl - 2 : hl);
	host[p[0] == '[' ? hl - 2 : hl] = '\0';
	return true;
}

static void judge(Scan *s, const char *file, const json_t *it)
{
	const char *kind = json_string_value(json_object_get(it, "kind")),
	           *name = json_string_value(json_object_get(it, "name")) ?: "";
	ob_cap_error ce = {0};
	char host[256];
	unsigned port;

	if (streq(kind, "import"))
		judge_import(s, file, it, name);
	else if (streq(kind, "dynamic"))
		add(s, file, it, "dynamic-code",
		    "%s of a non-literal: code this scan cannot see (and the sandbox will judge)",
		    name);
	else if (streq(kind, "command")) {
		const char *cmd = json_string_value(json_object_get(it, "command"));
		if (!cmd)
			return; /* the parser's output is not trusted either */
		if (ob_check_command(s->caps, NULL, cmd, &ce) < 0)
			add(s, file, it, "command", "%s runs %s: needs %s", name, cmd, ce.needed);
	} else if (streq(kind, "call") && runs_program(name) &&
	           !scan_has_type(s->caps, OB_CAP_EXTERNAL_COMMAND))
		add(s, file, it, "command", "%s runs a program: no EXTERNAL_COMMAND grant", name);
	else if (streq(kind, "write")) {
		const char *path = json_string_value(json_object_get(it, "path"));
		if (!path)
			return; /* the parser's output is not trusted either */
		if (ob_check_file_write(s->caps, NULL, path, &ce) < 0)
			add(s, file, it, "file-write", "open(\"%s\") for writing: needs %s", path,
			    ce.needed);
	} else if (streq(kind, "url")) {
		const char *url = json_string_value(json_object_get(it, "url"));
		if (!url)
			return; /* the parser's output is not trusted either */
		if (scan_url_target(url, host, sizeof(host), &port) &&
		    ob_check_network(s->caps, NULL, host, port, &ce) < 0)
			add(s, file, it, "network", "%s(\"%.200s\") connects to %s: needs %s", name,
			    url, ce.resource, ce.needed);
	}
}

int scan_run_parser(const char *file, char *const argv[], ScanRun *ret)
{
	_cleanup_(ob_sandbox_freep) ob_sandbox *sb = NULL;
	_cleanup_(ob_capset_unrefp) ob_capset *none = NULL;
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ob_result res = {0};
	ob_error err = {0};

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s: %s", file, fd < 0 ? strerror(errno) : "not a regular file");
		return -EINVAL;
	}
	if (ob_sandbox_new(&sb) < 0 || ob_capset_new(&none) < 0 ||
	    ob_sandbox_set_capabilities(sb, none) < 0 ||
	    ob_sandbox_set_capture_output(sb, true) < 0 ||
	    ob_sandbox_set_command(sb, argv, &err) < 0) {
		log_error("%s: %s", file, err.msg[0] ? err.msg : "out of memory");
		return -ENOMEM;
	}
	/* The source reaches the parser on stdin: the sandbox needs no file grant for it. */
	_cleanup_close_ int saved = dup(STDIN_FILENO);
	if (saved < 0 || dup2(fd, STDIN_FILENO) < 0)
		return -errno;
	(void)ob_sandbox_run(sb, &res, &err);
	(void)dup2(saved, STDIN_FILENO);
	*ret = (ScanRun){.exit_code = res.exit_code,
	                 .out = strndup(res.stdout_data ? res.stdout_data : "", res.stdout_len),
	                 .err = strndup(res.stderr_data ? res.stderr_data : "", res.stderr_len)};
	if (err.msg[0])
		(void)snprintf(ret->why, sizeof(ret->why), "%s", err.msg);
	ob_result_done(&res);
	if (!ret->out || !ret->err) {
		scan_run_done(ret);
		return -ENOMEM;
	}
	return 0;
}

void scan_run_done(ScanRun *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static void scan_python_file(Scan *s, const char *file)
{
	/* The system's interpreter by default: a PATH lookup may find a shim (pyenv) that
	 * reaches outside what the sandbox shows. */
	const char *py = getenv("OMNIBASE_SCAN_PYTHON");
	char *const argv[] = {
	    (char *)(py ? py : "/usr/bin/python3"), "-I", "-S", "-c", (char *)scan_python, NULL};
	ScanRun run = {0};

	if (scan_run_parser(file, argv, &run) < 0) {
		s->bad = true;
		return;
	}
	if (run.exit_code != 0) {
		log_error("%s: the parser failed in its sandbox (exit %d): %s%.300s", file,
		          run.exit_code, run.why, run.err);
		s->bad = true;
	}
	for (char *line = run.exit_code == 0 ? strtok(run.out, "\n") : NULL; line;
	     line = strtok(NULL, "\n")) {
		_cleanup_(json_decrefp) json_t *it = json_loads(line, 0, NULL);
		const char *kind = json_string_value(json_object_get(it, "kind"));
		if (!kind)
			continue;
		if (streq(kind, "error")) {
			log_error("%s:%lld:%lld: syntax: %s", file,
			          json_integer_value(json_object_get(it, "line")),
			          json_integer_value(json_object_get(it, "col")),
			          json_string_value(json_object_get(it, "message")));
			s->bad = true;
			break;
		}
		judge(s, file, it);
	}
	scan_run_done(&run);
}

/* Shell when the name says so (.sh, .bash) or the first line is a shell's #!. */
static bool is_shell(const char *file)
{
	static const char *const shells[] = {"/sh", "/bash", "/dash", " sh", " bash", "/ksh"};
	char line[256] = "";
	size_t n = strlen(file);

	if ((n > 3 && streq(file + n - 3, ".sh")) || (n > 5 && streq(file + n - 5, ".bash")))
		return true;
	FILE *f = fopen(file, "re");
	if (!f)
		return false;
	bool sh = fgets(line, sizeof(line), f) && strncmp(line, "#!", 2) == 0;
	(void)fclose(f);
	line[strcspn(line, "\n")] = '\0';
	for (size_t i = 0; sh && i < ELEMENTSOF(shells); i++) {
		const char *p = strstr(line, shells[i]);
		if (p && (p[strlen(shells[i])] == '\0' || p[strlen(shells[i])] == ' '))
			return true;
	}
	return false;
}

static void scan_file(Scan *s, const char *file)
{
	if (is_shell(file))
		scan_shell_file(s, file);
	else
		scan_python_file(s, file);
}

static int cmp_finding(const void *a, const void *b)
{
	const Finding *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	return x->line != y->line ? (x->line < y->line ? -1 : 1)
	                          : (x->col < y->col ? -1 : x->col > y->col);
}

static void print(const Scan *s, bool json)
{
	_cleanup_(json_decrefp) json_t *a = json ? json_array() : NULL;

	for (size_t i = 0; i < s->n; i++) {
		const Finding *f = &s->f[i];
		if (json)
			(void)json_array_append_new(
			    a, json_pack("{s:s, s:I, s:I, s:s, s:s}", "file", f->file, "line",
			                 (json_int_t)f->line, "col", (json_int_t)f->col, "rule",
			                 f->rule, "message", f->msg));
		else
			(void)printf("%s:%ld:%ld: %s: %s\n", f->file, f->line, f->col, f->rule,
			             f->msg);
	}
	if (json) {
		_cleanup_(json_decrefp) json_t *o = json_pack("{s:O}", "findings", a);
		_cleanup_free_ char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
		(void)puts(t ? t : "{}");
	}
}

int cmd_scan(int argc, char **argv)
{
	static const struct option options[] = {
	    {"capabilities", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	_cleanup_(ob_capset_unrefp) ob_capset *caps = NULL;
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	const char *capfile = NULL;
	bool json = false;
	ob_error err = {0};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 'h') {
			(void)fputs(scan_help, stdout);
			return 0;
		}
		if (c == 'c')
			capfile = optarg;
		else if (c == 'j')
			json = true;
		else {
			(void)log_option_error("scan", "h", options, argv);
			return OB_EXIT_SETUP;
		}
	}
	if (optind >= argc) {
		log_error("scan: expected FILE... (see --help)");
		return OB_EXIT_SETUP;
	}
	if (!cwd || ob_capset_new(&caps) < 0 || ob_capset_set_workdir(caps, cwd) < 0 ||
	    (capfile && ob_capfile_load(capfile, cwd, caps, NULL, &err) < 0)) {
		log_error("%s", err.msg[0] ? err.msg : "out of memory");
		return OB_EXIT_SETUP;
	}
	Scan s = {.caps = caps};
	for (int i = optind; i < argc; i++)
		scan_file(&s, argv[i]);
	if (s.n > 0)
		qsort(s.f, s.n, sizeof(Finding), cmp_finding);
	print(&s, json);
	for (size_t i = 0; i < s.n; i++)
		free(s.f[i].msg);
	free(s.f);
	return s.bad ? OB_EXIT_SETUP : s.n > 0 ? 1 : 0;
}
