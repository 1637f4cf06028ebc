/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the capability-file parser, and the set it builds. */
#include <stdint.h>
#include <stdlib.h>

#include "omnibase/omnibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ob_capset *set = NULL;
	ob_limits limits;
	ob_error err;
	char *json = NULL;

	ob_limits_init(&limits);
	if (ob_capset_new(&set) < 0)
		return 0;
	if (ob_capfile_parse((const char *)data, size, "fuzz.json", "/work/dir", set, &limits,
	                     &err) >= 0) {
		/* Whatever parsed must print, and every grant must cover itself. */
		if (ob_capset_to_json(set, &limits, &json) < 0)
			abort();
		for (size_t i = 0; i < ob_capset_size(set); i++) {
			const ob_capability *c = ob_capset_get(set, i);
			if (!ob_capability_covers(c, c))
				abort();
		}
		free(json);
	} else if (err.msg[0] == '\0') {
		abort(); /* every failure must say why */
	}
	ob_capset_unref(set);
	return 0;
}
