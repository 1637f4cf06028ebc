/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `omnibase doctor` for reading: the probe's JSON (probe.c) as verdict lines. */
#pragma once

#include <jansson.h>

/* PROBE (the document ob_probe_json prints) as text: a line per protection and per backend,
 * the tier each would run, and for what is missing what blocks it and the fix. *RET is
 * malloc'ed. -ENOMEM. */
int doctor_text(const json_t *probe, char **ret);
/* The tier the native backend runs on the host PROBE describes (a sentence). */
const char *doctor_native_tier(const json_t *probe);
/* What Landlock ABI ABI lacks: [{"abi": N, "linux": "6.7", "what": "..."}, ...]. */
json_t *doctor_landlock_lacks(int abi);
