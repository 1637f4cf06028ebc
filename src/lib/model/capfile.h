/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "omnibase/omnibase.h"

/* Parses CAPS, the "capabilities" array found at $.capabilities of the JSON text DATA (LEN
 * bytes, called NAME in messages), into SET: the same rules and messages as a capability
 * file (component metadata in the registry has this array too). */
int capfile_parse_capabilities(const char *data, size_t len, const char *name, const json_t *caps,
                               const char *workdir, ob_capset *set, ob_error *reterr);
