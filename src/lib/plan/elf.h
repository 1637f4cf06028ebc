/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where an ELF file's bytes come from: a buffer (BUF, SIZE bytes) when FD < 0, else the file
 * FD of SIZE bytes (read with pread, so a file truncated meanwhile cannot fault us). */
typedef struct ElfSource {
	const uint8_t *buf;
	int fd;
	uint64_t size;
} ElfSource;

#define ELF_MAX_NEEDED 256

/* What the dynamic loader needs to know of an object (only what the plan uses). */
typedef struct ElfInfo {
	uint8_t elf_class; /* ELFCLASS32 or ELFCLASS64 */
	uint16_t machine;  /* e_machine */
	bool dynamic;      /* has a PT_DYNAMIC segment */
	char *interp;      /* PT_INTERP, or NULL */
	char *runpath;     /* DT_RUNPATH, or NULL */
	char *rpath;       /* DT_RPATH, or NULL */
	char **needed;     /* DT_NEEDED, n_needed of them */
	size_t n_needed;
} ElfInfo;

/* Parses the ELF object of SRC into *RET (owned by the caller: elf_info_done).  Every offset,
 * count and string is checked against SRC's size.  Returns 0, -ENOEXEC when SRC is not an
 * ELF file, -EBADMSG when it is a malformed one (truncated, offsets outside the file, an
 * unterminated string, too many entries), -EIO on a read error, -ENOMEM. */
int elf_parse(const ElfSource *src, ElfInfo *ret);
/* elf_parse on the regular file at PATH.  With KIND_ONLY, only elf_class and machine are
 * read (what the loader compares to take a candidate library). */
int elf_parse_file(const char *path, bool kind_only, ElfInfo *ret);
void elf_info_done(ElfInfo *info);

/* Expands $ORIGIN and ${ORIGIN} in the search path SPEC with ORIGIN (the directory of the
 * object that names it) into BUF (SIZE bytes).  -ENAMETOOLONG when it does not fit. */
int elf_expand_origin(const char *spec, const char *origin, char *buf, size_t size);
