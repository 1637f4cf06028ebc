/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/error.h"

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
