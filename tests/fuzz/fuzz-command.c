/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: command grants as the runner plans them. Input: a path pattern, a
 * request path and a driver name separated by '\n'. Beyond "no crash", it checks the
 * property Landlock's part of the fence rests on: every path the pattern matches lies beneath
 * the pattern's Landlock prefix (exec_pattern_prefix), so the kernel never refuses what the
 * grant allows nor the prefix reaches outside the directories the pattern names literally;
 * and that a parsed driver name puts back together into the name it came from.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "fuzz-parts.h"
#include "model/pattern.h"
#include "plan/exec-rules.h"
#include "plan/toolchain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const char *pat, size_t lp, const char *req, size_t lr)
{
	char norm[PATH_MAX], prefix[PATH_MAX], inside[PATH_MAX], path[PATH_MAX];
	const char *msg = NULL;
	Glob g;

	int n = path_normalize(pat, lp, "/work", true, true, norm, sizeof(norm), &msg);
	if (n <= 0 || glob_compile_path(&g, norm, (size_t)n, &msg) < 0)
		return;
	if (exec_pattern_prefix(&g, prefix, sizeof(prefix)) < 0)
		abort(); /* never longer than the pattern */
	if (strncmp(g.text, prefix, strlen(prefix)) != 0)
		abort(); /* a prefix of the pattern's own text */
	int k = path_normalize(req, lr, "/work", true, false, path, sizeof(path), &msg);
	if (k > 0 && glob_match(&g, path, (size_t)k) && !streq(prefix, "/") &&
	    !path_under(path, prefix))
		abort();
	(void)exec_pattern_inside(norm, "/work", inside, sizeof(inside));
	glob_done(&g);
}

static void check_driver(const char *name, size_t len)
{
	char buf[256];
	DriverName d;

	if (len >= sizeof(buf) || memchr(name, '\0', len))
		return;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (toolchain_parse_driver(buf, &d) < 0)
		return;
	/* triplet, driver, version: nothing lost, nothing added */
	size_t t = strlen(d.triplet), v = strlen(d.version);
	if (t + v >= len || (t && strncmp(buf, d.triplet, t) != 0) ||
	    (v && strcmp(buf + len - v, d.version) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t lp, lr, ld;

	if (size > 8192)
		return 0;
	const char *p = (const char *)data, *end = (const char *)data + size;
	const char *pat = next_part(&p, end, &lp);
	const char *req = next_part(&p, end, &lr);
	const char *drv = next_part(&p, end, &ld);
	check_prefix(pat, lp, req, lr);
	check_driver(drv, ld);
	return 0;
}
