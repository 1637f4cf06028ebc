/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EXTERNAL_COMMAND path patterns (SPEC §2.2: `**` beneath /workspace is whatever the program
 * builds there). A pattern names paths as the sandbox shows them: /workspace is the workdir, /tmp
 * the sandbox's own tmpfs, every other path the host file bound at the same path. A relative grant,
 * joined to the host workdir by the model, is translated to /workspace as well.
 *
 * Two fences (docs/design/toolchains.md, "Command patterns"): Landlock grants EXECUTE beneath
 * the pattern's longest wildcard-free directory (the kernel's rules are per hierarchy), so
 * nothing outside it ever runs; the supervisor matches every exec beneath it against the
 * pattern itself, before the exec (refused with EACCES and recorded) and after it, at the
 * process's next trap, against the kernel's own record of what runs (/proc/PID/exe: killed
 * and recorded), which a thread swapping the path after the first look cannot fool.
 */
#include "plan/exec-rules.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "basic/dirent-util.h"
#include "basic/macro.h"
#include "model/pattern.h"

int exec_pattern_prefix(const Glob *g, char *buf, size_t size)
{
	size_t end = 0;

	for (size_t i = 0; i + 1 < g->n_segs && g->segs[i].literal; i++)
		end = g->segs[i].off + g->segs[i].len;
	if (end == 0) /* the first segment has a wildcard: the root */
		end = 1;
	if (end >= size)
		return -ENAMETOOLONG;
	memcpy(buf, g->text, end);
	buf[end] = '\0';
	return 0;
}

/* PATH beneath DIR, the root included. */
static bool beneath(const char *path, const char *dir)
{
	return streq(dir, "/") || path_under(path, dir);
}

int exec_pattern_inside(const char *pattern, const char *workdir, char *buf, size_t size)
{
	size_t n = workdir ? strlen(workdir) : 0;

	if (n <= 1 || strncmp(pattern, workdir, n) != 0 || (pattern[n] != '/' && pattern[n]))
		return snprintf(buf, size, "%s", pattern) >= (int)size ? -ENAMETOOLONG : 0;
	if (snprintf(buf, size, "/workspace%s", pattern + n) >= (int)size)
		return -ENAMETOOLONG;
	return 1;
}

/* Exec beneath /tmp, the sandbox's tmpfs, is possible exactly when a grant covers it: a
 * pattern that may match there takes its noexec off. */
static void lift_noexec(Plan *p, const char *prefix)
{
	for (size_t i = 0; i < p->n_steps; i++) {
		MountStep *s = &p->steps[i];
		if (s->kind == STEP_TMPFS && streq(s->dest, "/tmp") &&
		    (beneath(s->dest, prefix) || path_under(prefix, s->dest)))
			s->flags &= ~(unsigned long)MS_NOEXEC;
	}
}

static int pattern_compile(ExecPattern *e, const char *pattern)
{
	const char *msg = NULL;
	char prefix[PATH_MAX];

	e->glob = calloc(1, sizeof(Glob));
	if (!e->glob)
		return -ENOMEM;
	int r = glob_compile_path(e->glob, pattern, strlen(pattern), &msg);
	if (r < 0) {
		free(e->glob);
		e->glob = NULL;
		return r;
	}
	r = exec_pattern_prefix(e->glob, prefix, sizeof(prefix));
	if (r >= 0 && !(e->prefix = strdup(prefix)))
		r = -ENOMEM;
	if (r < 0)
		return r;
	size_t n = strlen(prefix);
	e->exact = streq(pattern + (n > 1 ? n : 0), "/**");
	return 0;
}

int exec_patterns_add(Plan *p, const char *pattern, const char **prefix)
{
	ExecPattern *n = reallocarray(p->exec_patterns, p->n_exec_patterns + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->exec_patterns = n;
	ExecPattern *e = &n[p->n_exec_patterns++];
	*e = (ExecPattern){0};
	int r = pattern_compile(e, pattern);
	if (r < 0)
		return r;
	lift_noexec(p, e->prefix);
	*prefix = e->prefix;
	return 0;
}

bool exec_patterns_match(const Plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_exec_patterns; i++)
		if (glob_match(p->exec_patterns[i].glob, path, strlen(path)))
			return true;
	return false;
}

bool exec_patterns_beneath(const Plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_exec_patterns; i++)
		if (beneath(path, p->exec_patterns[i].prefix))
			return true;
	return false;
}

void exec_patterns_pop(Plan *p)
{
	ExecPattern *e = &p->exec_patterns[--p->n_exec_patterns];

	glob_done(e->glob);
	free(e->glob);
	free(e->prefix);
}

typedef struct Expand {
	const Glob *g;
	char root[PATH_MAX]; /* the prefix, resolved */
	ExecMatchFn found;
	void *userdata;
	int n;
} Expand;

/* PATH (matched by the glob) when it is an executable regular file whose resolved path stays
 * beneath the prefix. */
static int expand_file(Expand *x, const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	if (!glob_match(x->g, path, strlen(path)) || !realpath(path, real) ||
	    !beneath(real, x->root) || stat(real, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & 0111))
		return 0;
	if (++x->n > EXEC_EXPAND_MAX)
		return -E2BIG;
	return x->found(x->userdata, path);
}

/* Matches segment SEG onwards beneath PATH (LEN bytes used of PATH_MAX). */
static int expand_from(Expand *x, size_t seg, char *path, size_t len)
{
	if (seg == x->g->n_segs)
		return expand_file(x, path);
	const GlobSeg *s = &x->g->segs[seg];
	const char *text = x->g->text + s->off;
	if (len + 1 + s->len >= PATH_MAX)
		return 0;
	if (s->literal) {
		(void)snprintf(path + len, PATH_MAX - len, "%s%.*s", len > 1 ? "/" : "",
		               (int)s->len, text);
		int r = expand_from(x, seg + 1, path, strlen(path));
		path[len] = '\0';
		return r;
	}
	_cleanup_(closedirp) DIR *d = opendir(path);
	int r = 0;
	for (struct dirent *e; r >= 0 && d && (e = readdir(d));) {
		if (streq(e->d_name, ".") || streq(e->d_name, "..") ||
		    !glob_match_raw(text, s->len, e->d_name, strlen(e->d_name)) ||
		    len + 1 + strlen(e->d_name) >= PATH_MAX)
			continue;
		(void)snprintf(path + len, PATH_MAX - len, "%s%s", len > 1 ? "/" : "", e->d_name);
		r = expand_from(x, seg + 1, path, strlen(path));
		path[len] = '\0';
	}
	return r;
}

int exec_pattern_expand(const Glob *g, ExecMatchFn found, void *userdata)
{
	Expand x = {.g = g, .found = found, .userdata = userdata};
	char path[PATH_MAX], prefix[PATH_MAX];
	size_t seg = 0;

	for (size_t i = 0; i < g->n_segs; i++)
		if (g->segs[i].globstar)
			return -E2BIG;
	int r = exec_pattern_prefix(g, prefix, sizeof(prefix));
	if (r < 0)
		return r;
	if (!realpath(prefix, x.root))
		return 0; /* nothing there: nothing to allow */
	/* from the prefix on: its segments are the leading literal ones */
	for (size_t n = strlen(prefix); n > 1 && seg < g->n_segs; seg++)
		if (g->segs[seg].off + g->segs[seg].len == n) {
			seg++;
			break;
		}
	memcpy(path, prefix, strlen(prefix) + 1);
	r = expand_from(&x, seg, path, strlen(path));
	return r < 0 ? r : x.n;
}

void exec_patterns_free(Plan *p)
{
	for (size_t i = 0; i < p->n_exec_patterns; i++) {
		if (p->exec_patterns[i].glob)
			glob_done(p->exec_patterns[i].glob);
		free(p->exec_patterns[i].glob);
		free(p->exec_patterns[i].prefix);
	}
	free(p->exec_patterns);
	p->exec_patterns = NULL;
	p->n_exec_patterns = 0;
}

json_t *exec_rule_json(const FsRule *rule)
{
	json_t *o = json_pack("{s:s, s:I}", "path", rule->path, "access", (json_int_t)rule->access);
	if (o && rule->why)
		(void)json_object_set_new(o, "why", json_string(rule->why));
	return o;
}
