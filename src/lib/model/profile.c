/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Profiles (SPEC §3, `--profile NAME`): capability files shipped with omnibase, one per name,
 * in one directory.  Which directory is decided here, once, for the CLI and the bindings
 * alike: the installed one, or the source tree's when the running program was built in a
 * build tree (meson bakes both paths in), so a build is testable before it is installed and an
 * installed binary never reads a source tree.
 */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/suggest.h"

#define PROFILE_NAME_MAX 64
#define PROFILES_MAX     256

int ob_profile_dir(char **ret)
{
	char exe[PATH_MAX];
	const char *dir = OB_PROFILES_DIR;
	size_t root = strlen(OB_BUILD_ROOT);

	assert_return(ret, -EINVAL);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (strncmp(exe, OB_BUILD_ROOT, root) == 0 && exe[root] == '/')
			dir = OB_SOURCE_PROFILES_DIR;
	}
	*ret = strdup(dir);
	return *ret ? 0 : -ENOMEM;
}

static bool profile_name_is_valid(const char *name, size_t len)
{
	if (len == 0 || len > PROFILE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", name[i]) || name[i] == '\0')
			return false;
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The profile names in DIR (files NAME.json with a valid NAME), sorted, in NAMES (at most
 * PROFILES_MAX, each malloc'ed); returns how many. */
static int profile_names(const char *dir, char **names, ob_error *reterr)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d) {
		int e = errno;
		return ob_error_set(reterr, -e,
		                    "profiles directory '%s': %s (`meson install` puts them there)",
		                    dir, strerror(e));
	}
	while (n < PROFILES_MAX && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || !streq(de->d_name + len - 5, ".json") ||
		    !profile_name_is_valid(de->d_name, len - 5))
			continue;
		names[n] = strndup(de->d_name, len - 5);
		if (!names[n]) {
			while (n > 0)
				free(names[--n]);
			return ob_error_set(reterr, -ENOMEM, "out of memory");
		}
		n++;
	}
	qsort(names, (size_t)n, sizeof(char *), cmp_names);
	return n;
}

static void names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
}

/* {"name", "description", "file"} of one profile; its description from the file's
 * "description" key (capability files may carry one). */
static json_t *profile_entry(const char *dir, const char *name, ob_error *reterr)
{
	_cleanup_free_ char *file = NULL;
	json_error_t je;

	if (asprintf(&file, "%s/%s.json", dir, name) < 0) {
		file = NULL;
		(void)ob_error_set(reterr, -ENOMEM, "out of memory");
		return NULL;
	}
	_cleanup_(json_decrefp) json_t *doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		(void)ob_error_set(reterr, -EINVAL, "%s:%d:%d: %s", file, je.line, je.column,
		                   je.text);
		return NULL;
	}
	const char *desc = json_string_value(json_object_get(doc, "description"));
	json_t *e = json_pack("{s:s, s:s, s:s}", "name", name, "description", desc ? desc : "",
	                      "file", file);
	if (!e)
		(void)ob_error_set(reterr, -ENOMEM, "out of memory");
	return e;
}

int ob_profiles_json(char **ret, ob_error *reterr)
{
	_cleanup_free_ char *dir = NULL;
	char *names[PROFILES_MAX] = {0};

	assert_return(ret, -EINVAL);
	if (ob_profile_dir(&dir) < 0)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	int n = profile_names(dir, names, reterr);
	if (n < 0)
		return n;
	_cleanup_(json_decrefp) json_t *arr = json_array();
	int r = arr ? 0 : ob_error_set(reterr, -ENOMEM, "out of memory");
	for (int i = 0; r >= 0 && i < n; i++) {
		json_t *e = profile_entry(dir, names[i], reterr);
		r = e ? json_array_append_new(arr, e) : -EINVAL;
	}
	names_free(names, n);
	if (r < 0)
		return reterr && reterr->code ? reterr->code : -ENOMEM;
	*ret = json_dumps(arr, JSON_COMPACT);
	return *ret ? 0 : ob_error_set(reterr, -ENOMEM, "out of memory");
}

/* The -ENOENT for an unknown NAME: what there is, and the nearest name. */
static int unknown_profile(const char *dir, const char *name, ob_error *reterr)
{
	char *names[PROFILES_MAX] = {0}, list[256] = "";
	ob_error ignored = {0};
	int n = profile_names(dir, names, &ignored);

	if (n < 0)
		return ob_error_set(reterr, n, "profile '%s': %s", name, ignored.msg);
	for (int i = 0; i < n; i++) {
		size_t used = strlen(list);
		(void)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = suggest_closest(name, (const char *const *)names, (size_t)n);
	(void)ob_error_set(reterr, -ENOENT, "unknown profile '%s'%s%s%s (profiles in %s: %s)", name,
	                   near ? "; did you mean " : "", near ? near : "", near ? "?" : "", dir,
	                   n ? list : "none");
	names_free(names, n);
	return -ENOENT;
}

int ob_profile_path(const char *name, char **ret, ob_error *reterr)
{
	_cleanup_free_ char *dir = NULL, *file = NULL;

	assert_return(name && ret, -EINVAL);
	if (!profile_name_is_valid(name, strlen(name)))
		return ob_error_set(reterr, -EINVAL,
		                    "profile '%.64s': expected a name of 1-64 characters of "
		                    "[a-z0-9_-] (see omnibase caps profiles)",
		                    name);
	if (ob_profile_dir(&dir) < 0)
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	if (asprintf(&file, "%s/%s.json", dir, name) < 0) {
		file = NULL;
		return ob_error_set(reterr, -ENOMEM, "out of memory");
	}
	if (access(file, F_OK) < 0)
		return unknown_profile(dir, name, reterr);
	*ret = TAKE_PTR(file);
	return 0;
}

int ob_profile_load(const char *name, const char *workdir, ob_capset *set, ob_limits *limits,
                    ob_error *reterr)
{
	_cleanup_free_ char *file = NULL;

	int r = ob_profile_path(name, &file, reterr);
	if (r < 0)
		return r;
	return ob_capfile_load(file, workdir, set, limits, reterr);
}
