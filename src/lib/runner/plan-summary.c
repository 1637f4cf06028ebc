/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `sandbox run --dry-run --summary`: the plan of ob_sandbox_plan_json() for people, one line
 * per thing that matters (`ro /usr`, `rw /workspace`, Landlock rules by access name, limits,
 * the exec allow-list, the environment).  Written from the JSON document, so the summary
 * never says something the full plan does not.
 */
#include "runner/plan-summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

#include "basic/macro.h"

/* Landlock's filesystem access rights, bit by bit (uapi linux/landlock.h, ABI 1-5). */
static const char *const access_names[] = {
    "execute",   "write_file", "read_file", "read_dir",  "remove_dir", "remove_file",
    "make_char", "make_dir",   "make_reg",  "make_sock", "make_fifo",  "make_block",
    "make_sym",  "refer",      "truncate",  "ioctl_dev",
};

#define ACCESS_EXECUTE 1u

static json_t *access_to_names(uint64_t access)
{
	json_t *a = json_array();

	for (size_t b = 0; a && b < 64; b++) {
		if (!(access & (UINT64_C(1) << b)))
			continue;
		char unknown[16];
		(void)snprintf(unknown, sizeof(unknown), "bit%zu", b);
		(void)json_array_append_new(
		    a, json_string(b < ELEMENTSOF(access_names) ? access_names[b] : unknown));
	}
	return a;
}

void plan_json_name_access(json_t *plan)
{
	json_t *rules = json_object_get(json_object_get(plan, "landlock"), "rules"), *r;
	size_t i;

	json_array_foreach(rules, i, r) {
		json_int_t access = json_integer_value(json_object_get(r, "access"));
		(void)json_object_set_new(r, "access_names", access_to_names((uint64_t)access));
	}
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* A mount as `ro /usr  (runtime)`; directories and symlinks of the skeleton are left out. */
static void summary_mount(FILE *f, const json_t *m)
{
	const char *type = str(m, "type");

	if (streq(type, "dir") || streq(type, "symlink"))
		return;
	if (streq(type, "bind"))
		type = json_is_true(json_object_get(m, "read_only")) ? "ro" : "rw";
	(void)fprintf(f, "  %-7s %-40s %s\n", type, str(m, "dest"), str(m, "why"));
}

static void summary_landlock(FILE *f, const json_t *plan)
{
	const json_t *ll = json_object_get(plan, "landlock"), *r, *n;
	size_t i, k;

	(void)fprintf(f, "landlock (ABI %lld):\n",
	              (long long)json_integer_value(json_object_get(ll, "abi")));
	/* The executables' rules (execute, read_file) are the allow-list below. */
	json_array_foreach(json_object_get(ll, "rules"), i, r) {
		if ((uint64_t)json_integer_value(json_object_get(r, "access")) & ACCESS_EXECUTE)
			continue;
		(void)fprintf(f, "  %-40s", str(r, "path"));
		json_array_foreach(json_object_get(r, "access_names"), k, n)
			(void)fprintf(f, "%s%s", k ? "," : " ", json_string_value(n));
		(void)fputc('\n', f);
	}
	(void)fprintf(f, "exec allow-list (Landlock execute):\n");
	json_array_foreach(json_object_get(ll, "rules"), i, r)
		if ((uint64_t)json_integer_value(json_object_get(r, "access")) & ACCESS_EXECUTE)
			(void)fprintf(f, "  %s\n", str(r, "path"));
}

static void summary_strings(FILE *f, const char *title, const json_t *arr)
{
	const json_t *v;
	size_t i;

	(void)fprintf(f, "%s:%s\n", title, json_array_size(arr) ? "" : " none");
	json_array_foreach(arr, i, v)
		(void)fprintf(f, "  %s\n", json_string_value(v));
}

static void summary_write(FILE *f, const json_t *plan)
{
	const json_t *v, *eg = json_object_get(plan, "egress");
	const char *key;
	size_t i;

	(void)fprintf(f, "program: %s (runs %s)\n", str(plan, "program"), str(plan, "exec"));
	(void)fprintf(f, "mode: %s, backend: %s, cwd: %s, uid: %lld\n", str(plan, "mode"),
	              str(plan, "backend"), str(plan, "cwd"),
	              (long long)json_integer_value(json_object_get(plan, "uid")));
	summary_strings(f, "capabilities", json_object_get(plan, "capabilities"));
	(void)fprintf(f, "mounts:\n");
	json_array_foreach(json_object_get(plan, "mounts"), i, v)
		summary_mount(f, v);
	summary_landlock(f, plan);
	(void)fprintf(f, "network: %s\n",
	              json_is_true(json_object_get(eg, "proxy")) ||
	                      json_is_true(json_object_get(eg, "transparent"))
	                  ? (json_is_true(json_object_get(eg, "transparent"))
	                         ? (json_is_true(json_object_get(eg, "proxy"))
	                                ? "egress by proxy and transparent connect"
	                                : "egress by transparent connect")
	                         : "egress by proxy")
	                  : "none (empty network namespace)");
	(void)fprintf(f, "limits:");
	json_object_foreach((json_t *)json_object_get(plan, "limits"), key, v)
		(void)fprintf(f, " %s=%s", key, json_string_value(v));
	(void)fputc('\n', f);
	summary_strings(f, "env", json_object_get(plan, "env"));
}

int ob_sandbox_plan_summary(ob_sandbox *sb, char **ret, ob_error *reterr)
{
	_cleanup_free_ char *doc = NULL, *text = NULL;
	size_t len = 0;

	assert_return(sb && ret, -EINVAL);
	int r = ob_sandbox_plan_json(sb, &doc, reterr);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *plan = json_loads(doc, 0, NULL);
	FILE *f = plan ? open_memstream(&text, &len) : NULL;
	if (!f)
		return -ENOMEM;
	summary_write(f, plan);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(text);
	return 0;
}
