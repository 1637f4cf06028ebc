/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the audit log verifier and the event formatter (omnibase audit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omnibase/omnibase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ob_error err = {0};
	uint64_t n = 0;

	int r = ob_audit_verify_buffer((const char *)data, size, "fuzz", &n, &err);
	if (r < 0 && (r != -EBADMSG || strncmp(err.msg, "fuzz:", 5) != 0))
		abort(); /* every break names the line */
	if (r == 0 && n > size)
		abort();
	/* each line through the formatter, in both forms */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		for (unsigned flags = 0; flags < 2; flags++) {
			char *text = NULL;
			r = ob_audit_format(p, len, flags ? "SandboxExit" : NULL, flags, &text);
			if (r > 0 && !text)
				abort();
			free(text);
		}
		p += len + 1;
	}
	return 0;
}
