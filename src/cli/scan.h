/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* omnibase scan's parts: the findings, the sandboxed parser run, the shell judge. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "omnibase/omnibase.h"

#include "basic/macro.h"

typedef struct Finding {
	const char *file;
	long line, col;
	char rule[24];
	char *msg;
} Finding;

typedef struct Scan {
	ob_capset *caps;
	Finding *f;
	size_t n;
	bool bad; /* bad input: exit 125 */
} Scan;

/* A parser's run: its exit status and output (malloc'ed; scan_run_done() frees them). */
typedef struct ScanRun {
	int exit_code;
	char *out, *err;
	char why[512]; /* what the sandbox said, if anything */
} ScanRun;

void scan_add(Scan *s, const char *file, long line, long col, const char *rule, const char *fmt,
              ...) _printf_(6, 7);
void scan_addv(Scan *s, const char *file, long line, long col, const char *rule, const char *fmt,
               va_list ap) _printf_(6, 0);
/* Is any capability of type T granted? */
bool scan_has_type(const ob_capset *set, ob_cap_type t);
/* scheme://[user@]host[:port]/…: the host and port a URL connects to; false if unknown. */
bool scan_url_target(const char *url, char *host, size_t size, unsigned *port);
/* Runs ARGV in a sandbox with no grants, FILE on its stdin. 0 (then *RET is filled), or
 * -errno with the error said. */
int scan_run_parser(const char *file, char *const argv[], ScanRun *ret);
void scan_run_done(ScanRun *r);

/* scan-shell.c: parses FILE with shfmt and judges what it runs and writes. */
void scan_shell_file(Scan *s, const char *file);
