/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the library, the CLI and the tests. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Takes ownership of a pointer or fd: returns it and resets the variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		typeof(p) _tp = (p);                                                               \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

/* Closes the N fds of FDS that are open (>= 0). */
static inline void close_many(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Defines `static inline void namep(type **p)` calling `func(*p)` when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p) /* NOLINT(bugprone-macro-parentheses) */               \
	{                                                                                          \
		if (*p)                                                                            \
			(void)func(*p);                                                            \
	}

/* Wraps a libc call that returns -1 and sets errno into a -errno return. */
#define RET_NERRNO(expr)                                                                           \
	({                                                                                         \
		typeof(expr) _r = (expr);                                                          \
		_r < 0 ? -errno : _r;                                                              \
	})

/* Public API argument checks: return R when the condition fails. */
#define assert_return(expr, r)                                                                     \
	do {                                                                                       \
		if (!(expr))                                                                       \
			return (r);                                                                \
	} while (0)

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)

/* Is PATH the directory DIR or beneath it (by name: "/a/bc" is not under "/a/b")? */
static inline bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
