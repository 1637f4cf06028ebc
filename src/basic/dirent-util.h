/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>

#include "basic/macro.h"

/* _cleanup_(closedirp) DIR *d = opendir(…): closed when it goes out of scope. */
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)
