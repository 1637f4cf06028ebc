/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `registry lint` (SPEC §7): a component's metadata checked before it is stored. Findings
 * are FILE:$.path: RULE: message, one a line. The rules (docs/design/registry.md):
 *
 *   schema          a field missing, of the wrong type, or unknown
 *   uuid            not a canonical UUID (8-4-4-4-12 hex digits)
 *   entrypoint      absolute or with "..": it must stay in the component's folder
 *   sha256          not 64 lower-case hex digits
 *   capability      a capability the capability-file parser refuses
 *   write-root      FILE_WRITE on /, ** or a home directory (~, /home, /home/USER, /root)
 *   write-registry  FILE_WRITE on /registry (where runs see the registry), on the registry's
 *                   own directory when adding to it (or a parent), or REGISTRY_WRITE
 *   network-any     NETWORK_CONNECT to any host (*, *:*, *:PORT)
 *   secret-any      SECRET_ACCESS * (every secret)
 *   command-any     EXTERNAL_COMMAND *
 *   shell-network   EXTERNAL_COMMAND of a shell or interpreter while a network connect is
 *                   also granted: together they run anything against the network
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "model/capfile.h"
#include "policy/registry.h"

#define META_MAX_BYTES (4u << 20)

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)

typedef struct Lint {
	const char *file;
	const char *registry; /* the registry's real path, when adding to it; or NULL */
	char *out;
	size_t size;
	FILE *f;
	int n;
} Lint;

_printf_(4, 5) static void finding(Lint *l, const char *path, const char *rule, const char *fmt,
                                   ...)
{
	va_list ap;

	(void)fprintf(l->f, "%s:%s: %s: ", l->file, path, rule);
	va_start(ap, fmt);
	(void)vfprintf(l->f, fmt, ap);
	va_end(ap);
	(void)fputc('\n', l->f);
	l->n++;
}

static bool is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

static bool is_sha256(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static void lint_fields(Lint *l, const json_t *m)
{
	static const char *const known[] = {"uuid",   "name",       "version", "kind",
	                                    "groups", "entrypoint", "sha256",  "capabilities"};
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)m, key, v) {
		bool ok = false;
		for (size_t i = 0; i < ELEMENTSOF(known); i++)
			ok = ok || streq(key, known[i]);
		if (!ok)
			finding(l, "$", "schema", "unknown field \"%.80s\"", key);
	}
	static const char *const strings[] = {"uuid", "name", "entrypoint", "sha256"};
	for (size_t i = 0; i < ELEMENTSOF(strings); i++)
		if (!json_is_string(json_object_get(m, strings[i])))
			finding(l, "$", "schema", "\"%s\": expected a string", strings[i]);
	v = json_object_get(m, "version");
	if (v && !json_is_string(v) && !json_is_integer(v))
		finding(l, "$.version", "schema", "expected a string or an integer");
	v = json_object_get(m, "kind");
	if (v && !json_is_string(v))
		finding(l, "$.kind", "schema", "expected a string");
	v = json_object_get(m, "groups");
	for (size_t i = 0; v && i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			finding(l, "$.groups", "schema", "[%zu]: expected a string", i);
	if (v && !json_is_array(v))
		finding(l, "$.groups", "schema", "expected an array of strings");
	const char *s = json_string_value(json_object_get(m, "uuid"));
	if (s && !is_uuid(s))
		finding(l, "$.uuid", "uuid", "\"%.80s\" is not a UUID (8-4-4-4-12 hex digits)", s);
	s = json_string_value(json_object_get(m, "entrypoint"));
	if (s && !registry_entrypoint_is_safe(s))
		finding(l, "$.entrypoint", "entrypoint",
		        "\"%.200s\" must be a relative path without \"..\"", s);
	s = json_string_value(json_object_get(m, "sha256"));
	if (s && !is_sha256(s))
		finding(l, "$.sha256", "sha256", "expected 64 lower-case hex digits");
}

/* Strips trailing slashes and the globs that follow them from a path pattern into BUF. */
static const char *path_base(const char *r, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s", r);
	for (;;) {
		size_t n = strlen(buf);
		if (n > 3 && streq(buf + n - 3, "/**"))
			buf[n - 3] = '\0';
		else if (n > 2 && streq(buf + n - 2, "/*"))
			buf[n - 2] = '\0';
		else if (n > 1 && buf[n - 1] == '/')
			buf[n - 1] = '\0';
		else
			return buf;
	}
}

static bool is_home(const char *b)
{
	if (b[0] == '~' || strstr(b, "$HOME") || streq(b, "/root"))
		return true;
	if (strncmp(b, "/home", 5) != 0 || (b[5] != '\0' && b[5] != '/'))
		return false;
	return b[5] == '\0' || !strchr(b + 6, '/'); /* /home or /home/USER itself */
}

static bool is_interpreter(const char *cmd)
{
	static const char *const names[] = {"sh",   "bash", "dash",    "zsh",  "ksh",    "fish",
	                                    "csh",  "tcsh", "busybox", "env",  "python", "python3",
	                                    "perl", "ruby", "node",    "php",  "lua",    "tclsh",
	                                    "awk",  "gawk", "nc",      "ncat", "socat"};
	const char *b = strrchr(cmd, '/');
	b = b ? b + 1 : cmd;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strncmp(b, names[i], strlen(names[i])) == 0 &&
		    strspn(b + strlen(names[i]), "0123456789.") == strlen(b + strlen(names[i])))
			return true;
	return false;
}

/* Does a write under the path B reach DIR, or DIR reach into B? */
static bool overlaps(const char *b, const char *dir)
{
	size_t n = strlen(b), m = strlen(dir);
	if (n <= m)
		return strncmp(dir, b, n) == 0 &&
		       (dir[n] == '/' || dir[n] == '\0' || streq(b, "/"));
	return strncmp(b, dir, m) == 0 && b[m] == '/';
}

static void lint_grant(Lint *l, const char *path, const char *type, const char *res, bool network)
{
	char buf[4096];

	if (streq(type, "FILE_WRITE")) {
		const char *b = path_base(res, buf, sizeof(buf));
		if (streq(b, "/") || streq(b, "**") || streq(b, "*") || streq(b, "/**"))
			finding(l, path, "write-root",
			        "FILE_WRITE on \"%.200s\": the whole file system", res);
		else if (is_home(b))
			finding(l, path, "write-root", "FILE_WRITE on \"%.200s\": a home directory",
			        res);
		else if (streq(b, "/registry") || strncmp(b, "/registry/", 10) == 0 ||
		         (l->registry && b[0] == '/' && overlaps(b, l->registry)))
			finding(l, path, "write-registry",
			        "FILE_WRITE on \"%.200s\": the registry itself", res);
	} else if (streq(type, "REGISTRY_WRITE"))
		finding(l, path, "write-registry", "REGISTRY_WRITE: write access to the registry");
	else if (streq(type, "NETWORK_CONNECT") && (streq(res, "*") || strncmp(res, "*:", 2) == 0))
		finding(l, path, "network-any", "NETWORK_CONNECT \"%.200s\": any host", res);
	else if (streq(type, "SECRET_ACCESS") && (streq(res, "*") || streq(res, "**")))
		finding(l, path, "secret-any", "SECRET_ACCESS \"%.200s\": every secret", res);
	else if (streq(type, "EXTERNAL_COMMAND") && (streq(res, "*") || streq(res, "**")))
		finding(l, path, "command-any", "EXTERNAL_COMMAND \"%.200s\": any program", res);
	else if (streq(type, "EXTERNAL_COMMAND") && network && is_interpreter(res))
		finding(l, path, "shell-network",
		        "EXTERNAL_COMMAND \"%.200s\" (a shell or interpreter) with NETWORK_CONNECT "
		        "granted: runs anything against the network",
		        res);
}

static void lint_capabilities(Lint *l, const JsonDoc *doc, const json_t *caps)
{
	bool network = false;
	size_t i;
	json_t *c;

	if (!caps)
		return;
	if (!json_is_array(caps)) {
		finding(l, "$.capabilities", "schema", "expected an array");
		return;
	}
	_cleanup_(ob_capset_unrefp) ob_capset *set = NULL;
	ob_error e = {0};
	if (ob_capset_new(&set) >= 0 && capfile_parse_capabilities(doc->data, doc->len, doc->name,
	                                                           caps, "/workspace", set, &e) < 0)
		finding(l, "$.capabilities", "capability", "%s", e.msg);
	json_array_foreach(caps, i, c)
		network = network || streq_ptr(json_string_value(json_object_get(c, "type")),
		                               "NETWORK_CONNECT");
	json_array_foreach(caps, i, c) {
		const char *t = json_string_value(json_object_get(c, "type")),
		           *r = json_string_value(json_object_get(c, "resource"));
		char path[64];
		(void)snprintf(path, sizeof(path), "$.capabilities[%zu]", i);
		if (t && r)
			lint_grant(l, path, t, r, network);
	}
}

int registry_lint(const char *path, const char *registry, char **ret, ob_error *reterr)
{
	_cleanup_(json_decrefp) json_t *m = NULL;
	_cleanup_free_ char *data = NULL;
	Lint l = {.file = path, .registry = registry};
	size_t len;

	assert_return(path && ret, -EINVAL);
	int r = json_doc_load(path, META_MAX_BYTES, &data, &len, &m, reterr);
	if (r < 0)
		return r;
	l.f = open_memstream(&l.out, &l.size);
	if (!l.f)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	if (!json_is_object(m))
		finding(&l, "$", "schema", "expected a JSON object");
	else {
		JsonDoc doc = {.data = data, .len = len, .name = path};
		lint_fields(&l, m);
		lint_capabilities(&l, &doc, json_object_get(m, "capabilities"));
	}
	if (fclose(l.f) != 0) {
		free(l.out);
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	}
	*ret = l.out;
	return l.n;
}

int ob_registry_lint(const char *path, char **ret, ob_error *reterr)
{
	return registry_lint(path, NULL, ret, reterr);
}
