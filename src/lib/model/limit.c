/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource limits of a run (SPEC §2.4): defaults, names, and the size syntax. */
#include "model/limit.h"

#include <stdio.h>
#include <stdlib.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/string-table.h"

static const char *const limit_table[OB_LIMIT_MAX] = {
    [OB_LIMIT_MEMORY] = "memory", [OB_LIMIT_CPUS] = "cpus",
    [OB_LIMIT_PIDS] = "pids",     [OB_LIMIT_TIMEOUT] = "timeout",
    [OB_LIMIT_OUTPUT] = "output", [OB_LIMIT_TMPFS] = "tmpfs",
    [OB_LIMIT_FILES] = "files",   [OB_LIMIT_CONNECTIONS] = "connections",
    [OB_LIMIT_EGRESS] = "egress", [OB_LIMIT_EVENTS] = "events",
    [OB_LIMIT_DISK] = "disk",
};

/* Inclusive bounds of each limit, in its unit.  Zero is never a limit: it would be
 * "unlimited" in some kernel interfaces and "nothing" in others.  pids: the sandbox's init,
 * the program, and for a moment the task that hands the seccomp listener over (notify.c);
 * fewer failed the run with EAGAIN at start. */
static const uint64_t limit_min[OB_LIMIT_MAX] = {
    [OB_LIMIT_MEMORY] = 1 << 20, [OB_LIMIT_CPUS] = 1,        [OB_LIMIT_PIDS] = 3,
    [OB_LIMIT_TIMEOUT] = 1,      [OB_LIMIT_OUTPUT] = 1,      [OB_LIMIT_TMPFS] = 4096,
    [OB_LIMIT_FILES] = 4,        [OB_LIMIT_CONNECTIONS] = 1, [OB_LIMIT_EGRESS] = 1,
    [OB_LIMIT_EVENTS] = 1,       [OB_LIMIT_DISK] = 1 << 20,
};
static const uint64_t limit_max[OB_LIMIT_MAX] = {
    [OB_LIMIT_MEMORY] = 1ULL << 50, [OB_LIMIT_CPUS] = 1024ULL * 1000,
    [OB_LIMIT_PIDS] = 4194304,      [OB_LIMIT_TIMEOUT] = 30ULL * 86400 * 1000,
    [OB_LIMIT_OUTPUT] = 1ULL << 50, [OB_LIMIT_TMPFS] = 1ULL << 50,
    [OB_LIMIT_FILES] = 1048576,     [OB_LIMIT_CONNECTIONS] = 65536,
    [OB_LIMIT_EGRESS] = 1ULL << 50, [OB_LIMIT_EVENTS] = 100000000,
    [OB_LIMIT_DISK] = 1ULL << 50,
};

void ob_limits_init(ob_limits *limits)
{
	if (!limits)
		return;
	*limits = (ob_limits){
	    .value =
	        {
	            [OB_LIMIT_MEMORY] = 256ULL << 20,
	            [OB_LIMIT_CPUS] = 1000,
	            [OB_LIMIT_PIDS] = 64,
	            [OB_LIMIT_TIMEOUT] = 30ULL * 1000,
	            [OB_LIMIT_OUTPUT] = 16ULL << 20,
	            [OB_LIMIT_TMPFS] = 64ULL << 20,
	            [OB_LIMIT_FILES] = 256,
	            [OB_LIMIT_CONNECTIONS] = 256,
	            [OB_LIMIT_EGRESS] = 4ULL << 30,
	            [OB_LIMIT_EVENTS] = 10000,
	            [OB_LIMIT_DISK] = 128ULL
	                              << 20, /* below memory: the overlay's layer is memory */
	        },
	};
}

DEFINE_STRING_TABLE(ob_limit, ob_limit, limit_table, OB_LIMIT_MAX)

bool limit_is_size(ob_limit limit)
{
	return limit == OB_LIMIT_MEMORY || limit == OB_LIMIT_OUTPUT || limit == OB_LIMIT_TMPFS ||
	       limit == OB_LIMIT_EGRESS || limit == OB_LIMIT_DISK;
}

int ob_size_parse(const char *text, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = text;

	assert_return(text && ret, -EINVAL);
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_C(1) << 62) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	unsigned shift = 0;
	switch (*p) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	default:
		break;
	}
	if (shift)
		p++;
	if (shift && p[0] == 'i' && p[1] == 'B')
		p += 2;
	else if (*p == 'B')
		p++;
	if (*p != '\0')
		return -EINVAL;
	if (v > (UINT64_C(1) << 62) >> shift)
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

int limit_check_range(ob_limit limit, uint64_t v, const char **msg)
{
	if (v < limit_min[limit] || v > limit_max[limit]) {
		switch (limit) {
		case OB_LIMIT_MEMORY:
			*msg = "must be between 1M and 1024T";
			break;
		case OB_LIMIT_CPUS:
			*msg = "must be between 0.001 and 1024";
			break;
		case OB_LIMIT_PIDS:
			*msg = "must be between 3 (the sandbox's init, the program and a helper) "
			       "and 4194304";
			break;
		case OB_LIMIT_TIMEOUT:
			*msg = "must be between 0.001 and 2592000 seconds";
			break;
		case OB_LIMIT_TMPFS:
			*msg = "must be between 4K and 1024T";
			break;
		case OB_LIMIT_DISK:
			*msg = "must be between 1M and 1024T";
			break;
		case OB_LIMIT_FILES:
			*msg = "must be between 4 and 1048576";
			break;
		case OB_LIMIT_CONNECTIONS:
			*msg = "must be between 1 and 65536";
			break;
		case OB_LIMIT_EVENTS:
			*msg = "must be between 1 and 100000000";
			break;
		default:
			*msg = "must be between 1 byte and 1024T";
			break;
		}
		return -ERANGE;
	}
	return 0;
}

/* Seconds or CPUs as a decimal number, scaled to thousandths. */
static int parse_milli(const char *text, uint64_t *ret)
{
	char *end;

	if (!(*text >= '0' && *text <= '9') && *text != '.')
		return -EINVAL;
	errno = 0;
	double d = strtod(text, &end);
	if (errno != 0 || *end != '\0' || !(d >= 0 && d <= 1e12))
		return -EINVAL;
	*ret = (uint64_t)(d * 1000.0 + 0.5); /* d in [0, 1e12]: no libm needed */
	return 0;
}

int limit_parse_text(ob_limit limit, const char *text, uint64_t *ret, const char **msg)
{
	int r;

	if (limit_is_size(limit)) {
		r = ob_size_parse(text, ret);
		*msg = "expected a size such as 512K, 256M or 2G";
	} else if (limit == OB_LIMIT_CPUS || limit == OB_LIMIT_TIMEOUT) {
		r = parse_milli(text, ret);
		*msg = limit == OB_LIMIT_CPUS ? "expected a number of CPUs such as 1 or 0.5"
		                              : "expected a number of seconds such as 30 or 1.5";
	} else {
		r = ob_size_parse(text, ret);
		if (r >= 0 && !(text[strlen(text) - 1] >= '0' && text[strlen(text) - 1] <= '9'))
			r = -EINVAL;
		*msg = "expected a whole number";
	}
	if (r == -EINVAL)
		return r;
	if (r < 0)
		*ret = UINT64_MAX;
	return limit_check_range(limit, *ret, msg);
}

int ob_limits_set_text(ob_limits *limits, ob_limit limit, const char *text, ob_error *reterr)
{
	const char *msg;
	uint64_t v;

	assert_return(limits && text, -EINVAL);
	if (!ob_limit_to_string(limit))
		return ob_error_set(reterr, -EINVAL, "unknown limit %d", (int)limit);
	int r = limit_parse_text(limit, text, &v, &msg);
	if (r < 0)
		return ob_error_set(reterr, -EINVAL, "%s '%.64s': %s", limit_table[limit], text,
		                    msg);
	limits->value[limit] = v;
	limits->explicit_mask |= 1u << limit;
	return 0;
}

void ob_limit_format(ob_limit limit, uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGT";

	if (!buf)
		return;
	if (limit_is_size(limit)) {
		int u = -1;
		while (u < 3 && v >= 1024 && v % 1024 == 0) {
			v /= 1024;
			u++;
		}
		(void)snprintf(buf, size, "%llu%s", (unsigned long long)v,
		               u < 0 ? "" : (char[]){units[u], '\0'});
	} else if (limit == OB_LIMIT_CPUS || limit == OB_LIMIT_TIMEOUT) {
		if (v % 1000 == 0)
			(void)snprintf(buf, size, "%llu", (unsigned long long)(v / 1000));
		else
			(void)snprintf(buf, size, "%llu.%03llu", (unsigned long long)(v / 1000),
			               (unsigned long long)(v % 1000));
	} else {
		(void)snprintf(buf, size, "%llu", (unsigned long long)v);
	}
}
