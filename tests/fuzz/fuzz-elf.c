/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the ELF reader (plan/elf.c), which reads programs and libraries from
 * anywhere on the host (a home directory, a download) before the sandbox starts.  Beyond "no
 * crash": what it accepts is bounded (at most ELF_MAX_NEEDED names, each shorter than
 * PATH_MAX), and $ORIGIN expansion of an accepted search path stays inside its buffer.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ElfSource src = {.buf = data, .fd = -1, .size = size};
	char buf[256];
	ElfInfo info;

	int r = elf_parse(&src, &info);
	if (r < 0) {
		if (r != -ENOEXEC && r != -EBADMSG && r != -ENOMEM)
			abort();
		return 0;
	}
	if (info.n_needed > ELF_MAX_NEEDED || (info.n_needed && !info.dynamic))
		abort();
	for (size_t i = 0; i < info.n_needed; i++)
		if (strlen(info.needed[i]) >= PATH_MAX)
			abort();
	const char *paths[] = {info.runpath, info.rpath};
	for (size_t i = 0; i < 2; i++)
		if (paths[i] && elf_expand_origin(paths[i], "/origin/dir", buf, sizeof(buf)) == 0 &&
		    strlen(buf) >= sizeof(buf))
			abort();
	elf_info_done(&info);
	return 0;
}
