/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Observations of a learning run → the capability set that repeats it (learn-summary.h).
 * The set is a flat array searched linearly: a run touches hundreds of distinct paths, not
 * millions, and the bound keeps the worst case at a few tens of millions of comparisons.
 */
#include "model/learn-summary.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

typedef struct Observation {
	ob_cap_type type;
	unsigned flags; /* LearnFlags */
	bool done;      /* learn_summarize: already granted or left out */
	char *resource;
} Observation;

struct LearnSet {
	Observation *obs;
	size_t n, alloc, max, dropped;
	size_t left_out; /* by the last summary: no grant can express them */
};

int learn_set_new(size_t max, LearnSet **ret)
{
	LearnSet *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max = max;
	*ret = s;
	return 0;
}

LearnSet *learn_set_free(LearnSet *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		free(s->obs[i].resource);
	free(s->obs);
	free(s);
	return NULL;
}

static bool is_path_type(ob_cap_type type)
{
	return type == OB_CAP_FILE_READ || type == OB_CAP_FILE_WRITE;
}

int learn_set_add(LearnSet *s, ob_cap_type type, const char *resource, unsigned flags)
{
	if (!resource || !resource[0] || (is_path_type(type) && resource[0] != '/'))
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++)
		if (s->obs[i].type == type && s->obs[i].flags == flags &&
		    streq(s->obs[i].resource, resource))
			return 0;
	if (s->n >= s->max) {
		s->dropped++;
		return -E2BIG;
	}
	if (s->n == s->alloc) {
		size_t k = s->alloc ? s->alloc * 2 : 64;
		Observation *o = reallocarray(s->obs, k, sizeof(*o));
		if (!o)
			return -ENOMEM;
		s->obs = o;
		s->alloc = k;
	}
	char *r = strdup(resource);
	if (!r)
		return -ENOMEM;
	s->obs[s->n++] = (Observation){.type = type, .flags = flags, .resource = r};
	return 0;
}

size_t learn_set_size(const LearnSet *s)
{
	return s->n;
}

size_t learn_set_dropped(const LearnSet *s)
{
	return s->dropped + s->left_out;
}

/* PATH beneath DIR or DIR itself; "/" holds everything. */
static bool under(const char *path, const char *dir)
{
	return streq(dir, "/") || path_under(path, dir);
}

bool learn_dir_is_too_wide(const char *dir, const char *const *homes)
{
	const char *second = strchr(dir + 1, '/');

	/* "/", "/home", "/etc": a top-level directory is a system's, never one tool's */
	if (streq(dir, "/") || !second || second[1] == '\0')
		return true;
	for (const char *const *h = homes; h && *h; h++)
		if (under(*h, dir)) /* the home itself, or a directory that holds it */
			return true;
	return false;
}

bool learn_escape_path(const char *path, char *buf, size_t size)
{
	size_t o = 0;

	for (const char *p = path; *p; p++) {
		bool special = *p == '*' || *p == '?' || *p == '\\';
		if (o + (special ? 2 : 1) >= size)
			return false;
		if (special)
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	if (o >= size)
		return false;
	buf[o] = '\0';
	return true;
}

static bool is_given(const LearnLayout *l, const char *path)
{
	for (const char *const *g = l->given; g && *g; g++)
		if (!streq(*g, "/") && path_under(path, *g))
			return true;
	return false;
}

/* One summary's work: the grants made so far, and the paths they cover (a literal path grant
 * covers what is beneath it, as the runner binds it — asked of the text, not of the host,
 * whose directories may not exist where the file is read). */
typedef struct Summary {
	LearnSet *s;
	const LearnLayout *l;
	const ob_capset *given;
	ob_capset *out;
	struct {
		ob_cap_type type;
		char *path;
	} * roots;
	size_t n_roots;
	size_t left_out; /* observations no grant can express */
} Summary;

/* A grant the model refuses (a path too long, a malformed host): left out, and counted;
 * anything else (-ENOMEM) is an error. */
static bool unrepresentable(Summary *m, int r)
{
	if (r != -EINVAL && r != -ENAMETOOLONG)
		return false;
	m->left_out++;
	return true;
}

static bool covered(const Summary *m, ob_cap_type type, const char *resource)
{
	if (m->given && ob_capset_allows(m->given, type, resource, NULL) > 0)
		return true;
	for (size_t i = 0; i < m->n_roots; i++)
		if ((m->roots[i].type == type ||
		     (type == OB_CAP_FILE_READ && m->roots[i].type == OB_CAP_FILE_WRITE)) &&
		    (is_path_type(type) ? under(resource, m->roots[i].path)
		                        : streq(resource, m->roots[i].path)))
			return true;
	return false;
}

/* Grants TYPE on RESOURCE (a path, escaped here when LITERAL; "/ **" appended with TREE),
 * which then covers RESOURCE and, for a path, what is beneath it. */
static int grant(Summary *m, ob_cap_type type, const char *resource, bool literal, bool tree)
{
	char buf[PATH_MAX * 2 + 8];
	ob_capability *c;

	if (literal && !learn_escape_path(resource, buf, sizeof(buf) - 4))
		return -ENAMETOOLONG;
	if (!literal)
		(void)snprintf(buf, sizeof(buf), "%s", resource);
	size_t len = strlen(buf);
	if (tree) /* room kept above */
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "/**");
	int r = ob_capability_new(&c, type, buf, len, "/", NULL);
	if (r < 0)
		return r;
	r = ob_capset_add(m->out, c);
	ob_capability_free(c);
	if (r < 0)
		return r;
	void *a = reallocarray(m->roots, m->n_roots + 1, sizeof(*m->roots));
	if (!a)
		return -ENOMEM;
	m->roots = a;
	m->roots[m->n_roots].type = type;
	m->roots[m->n_roots].path = strdup(resource);
	return m->roots[m->n_roots++].path ? 0 : -ENOMEM;
}

/* The directory part of PATH (absolute) into BUF: "/" for "/x". */
static void parent_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == path ? 1 : (size_t)(slash - path);

	(void)snprintf(buf, size, "%.*s", (int)MIN(n, size - 1), path);
}

/* How many of S's files of TYPE, not yet done, sit directly in DIR. */
static size_t files_in(const LearnSet *s, ob_cap_type type, const char *dir)
{
	char p[PATH_MAX];
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		const Observation *o = &s->obs[i];
		if (o->type != type || o->flags || o->done)
			continue;
		parent_of(o->resource, p, sizeof(p));
		k += streq(p, dir);
	}
	return k;
}

/* Marks done every observation of TYPE that the grants so far allow. */
static void mark_covered(Summary *m, ob_cap_type type)
{
	for (size_t i = 0; i < m->s->n; i++) {
		Observation *o = &m->s->obs[i];
		if (o->type == type && !o->done && covered(m, type, o->resource))
			o->done = true;
	}
}

/* The files of TYPE: DIR/ ** where enough of them share DIR, one grant each otherwise. */
static int grant_files(Summary *m, ob_cap_type type)
{
	unsigned collapse = m->l->collapse ? m->l->collapse : LEARN_COLLAPSE_FILES;
	char dir[PATH_MAX];
	int r;

	mark_covered(m, type);
	for (size_t i = 0; i < m->s->n; i++) {
		Observation *o = &m->s->obs[i];
		if (o->type != type || o->flags || o->done)
			continue;
		parent_of(o->resource, dir, sizeof(dir));
		if (files_in(m->s, type, dir) >= collapse &&
		    !learn_dir_is_too_wide(dir, m->l->homes))
			r = grant(m, type, dir, /* literal= */ true, /* tree= */ true);
		else
			r = grant(m, type, o->resource, /* literal= */ true, /* tree= */ false);
		if (r < 0 && !unrepresentable(m, r))
			return r;
		mark_covered(m, type);
	}
	return 0;
}

/* Does anything the run will see lie beneath DIR (a file used there, the program)? Then the
 * repeat shows DIR as the sandbox's skeleton of those paths, and listing it is no denial. */
static bool shows_beneath(const Summary *m, const char *dir)
{
	for (size_t i = 0; i < m->s->n; i++) {
		const char *r = m->s->obs[i].resource;
		if (is_path_type(m->s->obs[i].type) && !streq(r, dir) && under(r, dir))
			return true;
	}
	for (const char *const *g = m->l->given; g && *g; g++)
		if (!streq(*g, dir) && under(*g, dir))
			return true;
	return false;
}

/* Listed directories and those files were created in (of TYPE): the directory itself, where
 * that is not too wide (then left out: a listing of a home is not worth all of it). A listing
 * of a directory the repeat shows anyway, as the skeleton of what it binds beneath (the
 * program's own directory, which Python lists at every import), is left to that: the
 * skeleton holds what the run used there. */
static int grant_dirs(Summary *m, ob_cap_type type)
{
	for (size_t i = 0; i < m->s->n; i++) {
		Observation *o = &m->s->obs[i];
		if (o->type != type || !o->flags || o->done ||
		    learn_dir_is_too_wide(o->resource, m->l->homes) ||
		    covered(m, type, o->resource) ||
		    ((o->flags & LEARN_LISTED) && shows_beneath(m, o->resource)))
			continue;
		int r = grant(m, type, o->resource, /* literal= */ true, /* tree= */ false);
		if (r < 0 && !unrepresentable(m, r))
			return r;
	}
	return 0;
}

static int grant_others(Summary *m)
{
	for (size_t i = 0; i < m->s->n; i++) {
		Observation *o = &m->s->obs[i];
		if (is_path_type(o->type) || covered(m, o->type, o->resource))
			continue;
		int r = grant(m, o->type, o->resource, /* literal= */ false, /* tree= */ false);
		if (r < 0 && !unrepresentable(m, r))
			return r;
	}
	return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)

static int summarize(Summary *m)
{
	for (size_t i = 0; i < m->s->n; i++)
		m->s->obs[i].done =
		    is_path_type(m->s->obs[i].type) && is_given(m->l, m->s->obs[i].resource);
	/* writes first (a FILE_WRITE covers reads), and the directories created in before the
	 * files there */
	int r = grant_dirs(m, OB_CAP_FILE_WRITE);
	if (r >= 0)
		r = grant_files(m, OB_CAP_FILE_WRITE);
	if (r >= 0) /* a listed directory's grant covers its files: one bind, not nested ones */
		r = grant_dirs(m, OB_CAP_FILE_READ);
	if (r >= 0)
		r = grant_files(m, OB_CAP_FILE_READ);
	if (r >= 0)
		r = grant_others(m);
	return r;
}

int learn_summarize(LearnSet *s, const LearnLayout *layout, const ob_capset *given, ob_capset **ret)
{
	_cleanup_(ob_capset_unrefp) ob_capset *out = NULL;
	int r = given ? ob_capset_union(given, given, &out) : ob_capset_new(&out);
	if (r < 0)
		return r;
	Summary m = {.s = s, .l = layout, .given = given, .out = out};
	r = summarize(&m);
	s->left_out = m.left_out;
	for (size_t i = 0; i < m.n_roots; i++)
		free(m.roots[i].path);
	free(m.roots);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(out);
	return 0;
}
