/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: resource patterns.  Input: a type byte, then pattern A, pattern B and a
 * request separated by '\n'.  Beyond "no crash", it checks the soundness of subsumption:
 * when A covers B and B allows the request, A must allow it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

#include "fuzz-parts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ob_capset *set_of(const ob_capability *c)
{
	ob_capset *s = NULL;

	if (ob_capset_new(&s) < 0)
		return NULL;
	(void)ob_capset_set_workdir(s, "/work/dir");
	if (ob_capset_add(s, c) < 0)
		s = ob_capset_unref(s);
	return s;
}

static void check_soundness(const ob_capability *a, const ob_capability *b, const char *req)
{
	ob_capset *sa = set_of(a), *sb = set_of(b);

	if (sa && sb && ob_capset_allows(sb, ob_capability_type(b), req, NULL) == 1 &&
	    ob_capability_covers(a, b) &&
	    ob_capset_allows(sa, ob_capability_type(b), req, NULL) != 1)
		abort();
	if (sa && !ob_capability_covers(a, a))
		abort();
	ob_capset_unref(sa);
	ob_capset_unref(sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ob_capability *a = NULL, *b = NULL;
	size_t la, lb, lr;

	if (size < 1 || size > 8192)
		return 0;
	ob_cap_type type = (ob_cap_type)(data[0] % OB_CAP_TYPE_MAX);
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	const char *pa = next_part(&p, end, &la);
	const char *pb = next_part(&p, end, &lb);
	const char *pr = next_part(&p, end, &lr);
	char *req = strndup(pr, lr);
	if (!req)
		return 0;
	(void)ob_capability_new(&a, type, pa, la, "/work/dir", NULL);
	(void)ob_capability_new(&b, type, pb, lb, "/work/dir", NULL);
	if (a && b)
		check_soundness(a, b, req);
	if (a) {
		ob_capset *s = set_of(a);
		ob_cap_error e;
		if (s) {
			(void)ob_check_file_read(s, NULL, req, &e);
			(void)ob_check_network(s, NULL, req, 443, &e);
			(void)ob_check_database(s, NULL, req, "write", &e);
			(void)ob_check_registry(s, NULL, req, "read", &e);
			(void)ob_check_command(s, NULL, req, &e);
			(void)ob_check_secret(s, NULL, req, &e);
		}
		ob_capset_unref(s);
	}
	ob_capability_free(a);
	ob_capability_free(b);
	free(req);
	return 0;
}
