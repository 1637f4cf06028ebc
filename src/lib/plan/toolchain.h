/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A compiler driver's name, taken apart: "x86_64-linux-gnu-gcc-12" is the driver "gcc" of
 * the toolchain "gcc", triplet "x86_64-linux-gnu", version "12". */
typedef struct DriverName {
	const char *toolchain; /* the table's name for it ("gcc", "clang"), NULL: none */
	char triplet[64];      /* "" when the name has none */
	char version[32];      /* "" when the name has none */
} DriverName;

/* Parses BASENAME (a file name, no '/') against the table of known drivers. Pure. Returns 0
 * with D filled, or -ENOENT when no known driver has this name. */
int toolchain_parse_driver(const char *basename, DriverName *d);

/* Called for each helper program found: its host path and the toolchain's name. */
typedef int (*ToolchainAddFn)(void *userdata, const char *helper, const char *toolchain);

/* When DRIVER (a host path, as found on PATH or granted; its symlink chain is followed) is a
 * known compiler driver, calls ADD for each helper program it runs from its own installation,
 * found by reading the file system (never by running the driver). Returns how many were
 * added (0 when DRIVER is no driver), or ADD's negative error. */
int toolchain_helpers(const char *driver, ToolchainAddFn add, void *userdata);
