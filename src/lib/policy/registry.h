/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "omnibase/omnibase.h"

/* The review as JSON (borrowed): {"component", "requested": [{"capability", "principal",
 * "action", "resource", "decision", "policies": [{"id", "text"}], "errors"}], "granted"}. */
const json_t *review_json(const ob_review *rv);
