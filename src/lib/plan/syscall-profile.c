/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --seccomp-profile FILE: names added to or taken off the allow-list, checked by name. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/json-locate.h"
#include "basic/macro.h"
#include "plan/syscall-filter.h"
#include "plan/syscall-table.h"

void filter_profile_done(FilterProfile *p)
{
	for (size_t i = 0; p->allow && p->allow[i]; i++)
		free(p->allow[i]);
	for (size_t i = 0; p->deny && p->deny[i]; i++)
		free(p->deny[i]);
	free(p->allow);
	free(p->deny);
	*p = (FilterProfile){0};
}

static int profile_fail(const char *data, size_t len, const char *name, const char *path,
                        const char *what, ob_error *reterr)
{
	unsigned line, col;
	if (json_locate(data, len, path, &line, &col) >= 0)
		return ob_error_set(reterr, -EINVAL, "%s:%u:%u: %s: %s", name, line, col, path,
		                    what);
	return ob_error_set(reterr, -EINVAL, "%s: %s: %s", name, path, what);
}

static int profile_list(const char *data, size_t len, const char *name, const json_t *root,
                        const char *key, char ***ret, ob_error *reterr)
{
	const json_t *list = json_object_get(root, key);
	char path[64];

	(void)snprintf(path, sizeof(path), "$.%s", key);
	if (!list)
		return 0;
	if (!json_is_array(list))
		return profile_fail(data, len, name, path, "expected an array of system call names",
		                    reterr);
	*ret = calloc(json_array_size(list) + 1, sizeof(char *));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));
		(void)snprintf(path, sizeof(path), "$.%s[%zu]", key, i);
		if (!s || seccomp_syscall_resolve_name(s) == __NR_SCMP_ERROR)
			return profile_fail(data, len, name, path,
			                    s ? "unknown system call name" : "expected a string",
			                    reterr);
		if (syscall_in_list(syscalls_observed, syscalls_observed_n, s))
			return profile_fail(
			    data, len, name, path,
			    "exec, connect, sends, open and memfd_create are observed "
			    "by the supervisor and cannot be changed here",
			    reterr);
		if (!((*ret)[i] = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

int filter_profile_load(const char *file, FilterProfile *p, ob_error *reterr)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t jerr;
	size_t len;
	const char *key;
	json_t *v;

	*p = (FilterProfile){0};
	int r = read_file_limited(file, 1u << 20, &data, &len, reterr);
	if (r < 0)
		return r;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ob_error_set(reterr, -EINVAL, "%s:%d:%d: %s", file, jerr.line, jerr.column,
		                    jerr.text);
	if (!json_is_object(root))
		return profile_fail(data, len, file, "$", "expected an object", reterr);
	json_object_foreach(root, key, v) {
		char path[80];
		(void)snprintf(path, sizeof(path), "$.%.40s", key);
		if (streq(key, "version") ? !json_is_integer(v) || json_integer_value(v) != 1
		                          : !streq(key, "allow") && !streq(key, "deny"))
			return profile_fail(data, len, file, path,
			                    streq(key, "version")
			                        ? "expected 1"
			                        : "unknown key (expected version, "
			                          "allow, deny)",
			                    reterr);
	}
	r = profile_list(data, len, file, root, "allow", &p->allow, reterr);
	if (r >= 0)
		r = profile_list(data, len, file, root, "deny", &p->deny, reterr);
	if (r < 0) {
		filter_profile_done(p);
		return r == -ENOMEM ? ob_error_set(reterr, r, "out of memory") : r;
	}
	return 0;
}
