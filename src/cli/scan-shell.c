/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shell sources for `omnibase scan`: shfmt (a real POSIX/bash parser) turns the source into
 * its syntax tree as JSON, inside a sandbox with no grants; here the tree is walked for the
 * programs it runs (a CallExpr's first word), the URLs given to them, the files it writes by
 * redirection, and what it computes instead (eval, a command named by a variable).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scan.h"

/* Builtins and keywords that run no program and reach nothing by themselves. */
static const char *const builtins[] = {
    ":",       "[",        "[[",     "alias", "break",   "cd",    "continue", "declare",
    "echo",    "exit",     "export", "false", "getopts", "local", "printf",   "pwd",
    "read",    "readonly", "return", "set",   "shift",   "test",  "trap",     "true",
    "typeset", "umask",    "unset",  "wait",  "let",     "shopt", "type",     "hash",
};

typedef struct Walk {
	Scan *s;
	const char *file;
	const char *src; /* the source, to read a redirection's operator */
	size_t len;
} Walk;

static long pos(const json_t *n, const char *what)
{
	return (long)json_integer_value(json_object_get(json_object_get(n, "Pos"), what));
}

/* The word's value when it is one literal (plain or single-quoted); NULL if computed. */
static const char *literal(const json_t *word)
{
	const json_t *parts = json_object_get(word, "Parts");
	if (json_array_size(parts) != 1)
		return NULL;
	const json_t *p = json_array_get(parts, 0);
	const char *t = json_string_value(json_object_get(p, "Type"));
	if (!streq_ptr(t, "Lit") && !streq_ptr(t, "SglQuoted"))
		return NULL;
	return json_string_value(json_object_get(p, "Value"));
}

static bool is_builtin(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(builtins); i++)
		if (streq(name, builtins[i]))
			return true;
	return false;
}

static void call_urls(Walk *w, const json_t *args, const char *prog)
{
	ob_cap_error ce = {0};
	char host[256];
	unsigned port;
	size_t i;
	json_t *a;

	json_array_foreach(args, i, a) {
		const char *v = i > 0 ? literal(a) : NULL;
		if (v && strstr(v, "://") && scan_url_target(v, host, sizeof(host), &port) &&
		    ob_check_network(w->s->caps, NULL, host, port, &ce) < 0)
			scan_add(w->s, w->file, pos(a, "Line"), pos(a, "Col"), "network",
			         "%s \"%.200s\" connects to %s: needs %s", prog, v, ce.resource,
			         ce.needed);
	}
}

static void call(Walk *w, const json_t *n)
{
	const json_t *args = json_object_get(n, "Args"), *first = json_array_get(args, 0);
	ob_cap_error ce = {0};
	size_t skip = 0;

	if (!first)
		return; /* only assignments */
	const char *name = literal(first);
	/* exec/command/nohup PROG: the program is the next word */
	while (name && (streq(name, "exec") || streq(name, "command") || streq(name, "nohup")) &&
	       json_array_get(args, skip + 1)) {
		first = json_array_get(args, ++skip);
		name = literal(first);
	}
	long line = pos(first, "Line"), col = pos(first, "Col");
	if (!name) {
		scan_add(w->s, w->file, line, col, "dynamic-code",
		         "a command whose name is computed: the scan cannot see what runs");
		return;
	}
	if (streq(name, "eval")) {
		scan_add(w->s, w->file, line, col, "dynamic-code",
		         "eval: code the scan cannot see (and the sandbox will judge)");
		return;
	}
	if (is_builtin(name))
		return;
	if (ob_check_command(w->s->caps, NULL, name, &ce) < 0)
		scan_add(w->s, w->file, line, col, "command", "runs %s: needs %s", name, ce.needed);
	call_urls(w, args, name);
}

static void redirect(Walk *w, const json_t *r)
{
	const json_t *op = json_object_get(r, "OpPos");
	size_t off = (size_t)json_integer_value(json_object_get(op, "Offset"));
	ob_cap_error ce = {0};

	if (off >= w->len)
		return;
	const char *o = w->src + off;
	/* >, >>, >|, <>, &>, &>> write a file; >& duplicates a descriptor */
	bool writes = (o[0] == '>' && o[1] != '&') || (o[0] == '<' && o[1] == '>') ||
	              (o[0] == '&' && o[1] == '>');
	if (!writes)
		return;
	const json_t *word = json_object_get(r, "Word");
	const char *path = literal(word);
	if (!path || streq(path, "/dev/null") || strncmp(path, "/dev/std", 8) == 0 ||
	    strncmp(path, "/dev/fd/", 8) == 0)
		return;
	if (ob_check_file_write(w->s->caps, NULL, path, &ce) < 0)
		scan_add(w->s, w->file, pos(r, "Line"), pos(r, "Col"), "file-write",
		         "writes \"%.200s\": needs %s", path, ce.needed);
}

/* Every node of the tree, depth first (jansson bounds the depth of what it parsed). */
static void walk(Walk *w, const json_t *n)
{
	const char *key;
	const json_t *v;
	size_t i;

	if (json_is_array(n)) {
		json_array_foreach(n, i, v)
			walk(w, v);
		return;
	}
	if (!json_is_object(n))
		return;
	if (streq_ptr(json_string_value(json_object_get(n, "Type")), "CallExpr"))
		call(w, n);
	json_array_foreach(json_object_get(n, "Redirs"), i, v)
		redirect(w, v);
	json_object_foreach((json_t *)n, key, v)
		walk(w, v);
}

/* shfmt says "[<standard input>:]LINE:COL: what": say it as FILE:LINE:COL: syntax: what. */
static bool syntax_error(const char *file, const char *err)
{
	const char *p = strncmp(err, "<standard input>:", 17) == 0 ? err + 17 : err;
	long line, col;
	int n = 0;

	if (sscanf(p, "%ld:%ld: %n", &line, &col, &n) != 2 || n == 0)
		return false;
	log_error("%s:%ld:%ld: syntax: %.*s", file, line, col, (int)strcspn(p + n, "\n"), p + n);
	return true;
}

void scan_shell_file(Scan *s, const char *file)
{
	const char *shfmt = getenv("OMNIBASE_SCAN_SHFMT");
	char *const argv[] = {(char *)(shfmt ? shfmt : "/usr/bin/shfmt"), "-tojson", NULL};
	_cleanup_free_ char *src = NULL;
	size_t len = 0;
	ScanRun run = {0};

	FILE *f = fopen(file, "re");
	if (f) {
		src = calloc(1, 16u << 20);
		len = src ? fread(src, 1, (16u << 20) - 1, f) : 0;
		(void)fclose(f);
	}
	if (!src || scan_run_parser(file, argv, &run) < 0) {
		s->bad = true;
		return;
	}
	_cleanup_(json_decrefp) json_t *tree =
	    run.exit_code == 0 ? json_loads(run.out, JSON_DECODE_ANY, NULL) : NULL;
	if (!tree && !(run.exit_code == 1 && syntax_error(file, run.err)))
		log_error("%s: the shell parser failed in its sandbox (exit %d; shfmt installed?): "
		          "%s%.300s",
		          file, run.exit_code, run.why, run.err);
	if (!tree)
		s->bad = true;
	else {
		Walk w = {.s = s, .file = file, .src = src, .len = len};
		walk(&w, tree);
	}
	scan_run_done(&run);
}
