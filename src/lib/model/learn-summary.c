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
	return s->dropped;
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

/* Adds TYPE:RESOURCE (a path, escaped here when LITERAL) to OUT. */
static int grant(ob_capset *out, ob_cap_type type, const char *resource, bool literal,
                 const char *suffix)
{
	char buf[PATH_MAX * 2 + 8];
	ob_capability *c;

	if (literal && !learn_escape_path(resource, buf, sizeof(buf) - 4))
		return -ENAMETOOLONG;
	if (!literal)
		(void)snprintf(buf, sizeof(buf), "%s", resource);
	if (suffix)
		(void)strcat(buf, suffix);
	int r = ob_capability_new(&c, type, buf, strlen(buf), "/", NULL);
	if (r < 0)
		return r;
	r = ob_capset_add(out, c);
	ob_capability_free(c);
	return r;
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

/* Marks done every file of TYPE that OUT's grants already allow. */
static void mark_covered(LearnSet *s, ob_cap_type type, const ob_capset *out)
{
	for (size_t i = 0; i < s->n; i++) {
		Observation *o = &s->obs[i];
		if (o->type == type && !o->done &&
		    ob_capset_allows(out, type, o->resource, NULL) > 0)
			o->done = true;
	}
}

/* The files of TYPE: DIR/ ** where enough of them share DIR, one grant each otherwise. */
static int grant_files(LearnSet *s, const LearnLayout *l, ob_cap_type type, ob_capset *out)
{
	unsigned collapse = l->collapse ? l->collapse : LEARN_COLLAPSE_FILES;
	char dir[PATH_MAX];
	int r;

	mark_covered(s, type, out);
	for (size_t i = 0; i < s->n; i++) {
		Observation *o = &s->obs[i];
		if (o->type != type || o->flags || o->done)
			continue;
		parent_of(o->resource, dir, sizeof(dir));
		if (files_in(s, type, dir) >= collapse && !learn_dir_is_too_wide(dir, l->homes))
			r = grant(out, type, dir, /* literal= */ true, "/**");
		else
			r = grant(out, type, o->resource, /* literal= */ true, NULL);
		if (r < 0)
			return r;
		mark_covered(s, type, out);
	}
	return 0;
}

/* Listed directories and those files were created in (of TYPE): the directory itself, where
 * that is not too wide (then left out: a listing of a home is not worth all of it). */
static int grant_dirs(LearnSet *s, const LearnLayout *l, ob_cap_type type, ob_capset *out)
{
	for (size_t i = 0; i < s->n; i++) {
		Observation *o = &s->obs[i];
		if (o->type != type || !o->flags || o->done ||
		    learn_dir_is_too_wide(o->resource, l->homes) ||
		    ob_capset_allows(out, type, o->resource, NULL) > 0)
			continue;
		int r = grant(out, type, o->resource, /* literal= */ true, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int grant_others(LearnSet *s, ob_capset *out)
{
	for (size_t i = 0; i < s->n; i++) {
		Observation *o = &s->obs[i];
		if (is_path_type(o->type) || ob_capset_allows(out, o->type, o->resource, NULL) > 0)
			continue;
		int r = grant(out, o->type, o->resource, /* literal= */ false, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ob_capset *, ob_capset_unref)

int learn_summarize(LearnSet *s, const LearnLayout *layout, const ob_capset *given, ob_capset **ret)
{
	_cleanup_(ob_capset_unrefp) ob_capset *out = NULL;
	int r = given ? ob_capset_union(given, given, &out) : ob_capset_new(&out);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n; i++)
		s->obs[i].done =
		    is_path_type(s->obs[i].type) && is_given(layout, s->obs[i].resource);
	/* writes first (a FILE_WRITE covers reads), and the directories created in before the
	 * files there */
	r = grant_dirs(s, layout, OB_CAP_FILE_WRITE, out);
	if (r >= 0)
		r = grant_files(s, layout, OB_CAP_FILE_WRITE, out);
	if (r >= 0)
		r = grant_files(s, layout, OB_CAP_FILE_READ, out);
	if (r >= 0)
		r = grant_dirs(s, layout, OB_CAP_FILE_READ, out);
	if (r >= 0)
		r = grant_others(s, out);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(out);
	return 0;
}
