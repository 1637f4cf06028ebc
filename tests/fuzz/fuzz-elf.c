/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the ELF reader (plan/elf.c), which reads programs and libraries from
 * anywhere on the host (a home directory, a download) before the sandbox starts.  Beyond "no
 * crash": what it accepts is bounded (at most ELF_MAX_NEEDED names, each shorter than
 * PATH_MAX), $ORIGIN expansion of an accepted search path stays inside its buffer, and the
 * same bytes read from a file (through the reader's window) give the same answer.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plan/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The bytes read back from a file: the answer must not depend on where they come from. */
static void check_from_file(const uint8_t *data, size_t size, int want, const ElfInfo *info)
{
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	ElfInfo got;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	ElfSource src = {.fd = fd, .size = size};
	int r = elf_parse(&src, &got);
	(void)close(fd);
	if (r != want)
		abort();
	if (r < 0)
		return;
	if (got.n_needed != info->n_needed || !same_string(got.interp, info->interp) ||
	    !same_string(got.runpath, info->runpath) || !same_string(got.rpath, info->rpath))
		abort();
	for (size_t i = 0; i < got.n_needed; i++)
		if (!same_string(got.needed[i], info->needed[i]))
			abort();
	elf_info_done(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ElfSource src = {.buf = data, .fd = -1, .size = size};
	char buf[256];
	ElfInfo info;

	int r = elf_parse(&src, &info);
	check_from_file(data, size, r, &info);
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
