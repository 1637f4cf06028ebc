/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a line of runsc's strace log (gvtrace.c). Its arguments are the
 * sandboxed program's (paths, addresses), so any bytes may arrive. Beyond "no crash": a call
 * read from a line has a positive pid and errno, an open's path is NUL-free and non-empty, a
 * connect's address is "ip:port" or "[ip6]:port"; a denial names its resource.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/gvtrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GvCall call;
	const char *resource = NULL, *operation = NULL;

	if (gvtrace_parse_line((const char *)data, size, &call) <= 0)
		return 0;
	if (call.pid <= 0 || call.error <= 0)
		abort();
	if (call.kind == GV_OPEN && call.path[0] == '\0')
		abort();
	if (call.kind == GV_CONNECT && !strchr(call.address, ':'))
		abort();
	const char *cap = gvtrace_denial(&call, &resource, &operation);
	if (cap && (!resource || !operation || !*resource))
		abort();
	return 0;
}
