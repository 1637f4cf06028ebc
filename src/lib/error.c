/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int ob_error_set(ob_error *reterr, int code, const char *fmt, ...)
{
	if (reterr) {
		va_list ap;

		va_start(ap, fmt);
		reterr->code = code;
		(void)vsnprintf(reterr->msg, sizeof(reterr->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void ob_error_prefix(ob_error *reterr, const char *fmt, ...)
{
	char prefix[256], old[sizeof(reterr->msg)];
	va_list ap;

	if (!reterr)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, reterr->msg, sizeof(old));
	(void)snprintf(reterr->msg, sizeof(reterr->msg), "%s: %s", prefix, old);
}
