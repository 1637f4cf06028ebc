/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "omnibase/omnibase.h"

const char *ob_version(void)
{
	return OB_VERSION_STRING;
}
