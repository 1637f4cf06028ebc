/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Clock helpers, header-only. */
#pragma once

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds: for clocks and deadlines, which the wall clock (set by
 * NTP or by hand) must not move. */
static inline uint64_t now_ms(void)
{
	struct timespec t;
	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}
