/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small ELF reader: what the dynamic loader would look at to start a program (PT_INTERP,
 * DT_NEEDED, DT_RUNPATH, DT_RPATH), read without running it.  The files come from the host
 * (a user's home, a downloaded toolchain): every offset, count and string is checked against
 * the file's size before it is used, and the reader is fuzzed (tests/fuzz/fuzz-elf.c).
 * Both classes and both byte orders are read; the plan only compares class and machine.
 */
#include "plan/elf.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"

#define ELF_MAX_PHDRS   1024
#define ELF_MAX_LOADS   64
#define ELF_MAX_DYNAMIC 8192

#define ELF_WINDOW 4096

typedef struct Reader {
	const ElfSource *src;
	bool is64, big_endian;
	uint8_t win[ELF_WINDOW]; /* the file's bytes at win_off (win_len of them) */
	uint64_t win_off;
	size_t win_len;
} Reader;

typedef struct Load {
	uint64_t vaddr, offset, filesz;
} Load;

static int src_read(const ElfSource *s, uint64_t off, void *buf, size_t n)
{
	if (off > s->size || n > s->size - off)
		return -EBADMSG;
	if (s->fd < 0) {
		memcpy(buf, s->buf + off, n);
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t k = pread(s->fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -EIO : -EBADMSG; /* shrunk under us */
		done += (size_t)k;
	}
	return 0;
}

/* N bytes at OFF through a window of the file: headers and dynamic entries come a few bytes
 * at a time, each of which would otherwise be a pread (thousands per plan). */
static int reader_read(Reader *r, uint64_t off, void *buf, size_t n)
{
	if (r->src->fd < 0 || n > sizeof(r->win))
		return src_read(r->src, off, buf, n);
	if (off < r->win_off || off - r->win_off > r->win_len ||
	    n > r->win_len - (off - r->win_off)) {
		if (off > r->src->size || n > r->src->size - off)
			return -EBADMSG;
		size_t len = (size_t)MIN((uint64_t)sizeof(r->win), r->src->size - off);
		r->win_len = 0;
		int k = src_read(r->src, off, r->win, len);
		if (k < 0)
			return k;
		r->win_off = off;
		r->win_len = len;
	}
	memcpy(buf, r->win + (off - r->win_off), n);
	return 0;
}

/* The N-byte (2, 4 or 8) integer at P in the file's byte order. */
static uint64_t get(const Reader *r, const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[r->big_endian ? n - 1 - i : i] << (8 * i);
	return v;
}

/* A field of a structure that has a 32- and a 64-bit layout: offset and size of each. */
static uint64_t field(const Reader *r, const uint8_t *p, size_t off32, size_t size32, size_t off64,
                      size_t size64)
{
	return r->is64 ? get(r, p + off64, size64) : get(r, p + off32, size32);
}

#define F(r, p, T32, T64, m)                                                                       \
	field(r, p, offsetof(T32, m), sizeof(((T32 *)0)->m), offsetof(T64, m),                     \
	      sizeof(((T64 *)0)->m))

/* The NUL-terminated string of at most MAX bytes at file offset OFF, copied into *RET. */
static int read_string(Reader *r, uint64_t off, uint64_t max, char **ret)
{
	char buf[PATH_MAX];

	if (off >= r->src->size)
		return -EBADMSG;
	size_t n = (size_t)MIN(MIN(max, (uint64_t)sizeof(buf)), r->src->size - off);
	int k = reader_read(r, off, buf, n);
	if (k < 0)
		return k;
	if (!memchr(buf, '\0', n))
		return -EBADMSG;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* The file offset of virtual address ADDR, through the PT_LOAD segments. */
static int vaddr_to_offset(const Load *loads, size_t n, uint64_t addr, uint64_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= loads[i].vaddr && addr - loads[i].vaddr < loads[i].filesz) {
			*ret = loads[i].offset + (addr - loads[i].vaddr);
			return 0;
		}
	return -EBADMSG;
}

typedef struct Dynamic {
	uint64_t strtab, strsz, runpath, rpath;
	bool has_strtab, has_runpath, has_rpath;
	uint64_t needed[ELF_MAX_NEEDED];
	size_t n_needed;
} Dynamic;

static int read_dynamic(Reader *r, uint64_t off, uint64_t size, Dynamic *d)
{
	size_t esz = r->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	uint8_t e[sizeof(Elf64_Dyn)];

	if (off > r->src->size)
		return -EBADMSG;
	for (uint64_t i = 0; i < size / esz; i++) {
		if (i >= ELF_MAX_DYNAMIC)
			return -EBADMSG;
		int k = reader_read(r, off + i * esz, e, esz);
		if (k < 0)
			return k;
		uint64_t tag = F(r, e, Elf32_Dyn, Elf64_Dyn, d_tag);
		uint64_t val = r->is64 ? get(r, e + 8, 8) : get(r, e + 4, 4);
		if (tag == DT_NULL)
			break;
		if (tag == DT_NEEDED) {
			if (d->n_needed >= ELF_MAX_NEEDED)
				return -EBADMSG;
			d->needed[d->n_needed++] = val;
		} else if (tag == DT_STRTAB) {
			d->strtab = val;
			d->has_strtab = true;
		} else if (tag == DT_STRSZ)
			d->strsz = val;
		else if (tag == DT_RUNPATH) {
			d->runpath = val;
			d->has_runpath = true;
		} else if (tag == DT_RPATH) {
			d->rpath = val;
			d->has_rpath = true;
		}
	}
	return 0;
}

/* A string of the dynamic string table: OFF bytes into it. */
static int dyn_string(Reader *r, const Dynamic *d, uint64_t strtab_off, uint64_t off, char **ret)
{
	if (off >= d->strsz || strtab_off > UINT64_MAX - off)
		return -EBADMSG;
	return read_string(r, strtab_off + off, d->strsz - off, ret);
}

static int parse_dynamic(Reader *r, const Load *loads, size_t n_loads, uint64_t off, uint64_t size,
                         ElfInfo *info)
{
	_cleanup_free_ Dynamic *d = calloc(1, sizeof(Dynamic));
	uint64_t strtab_off;

	if (!d)
		return -ENOMEM;
	int k = read_dynamic(r, off, size, d);
	if (k < 0)
		return k;
	if (!d->has_strtab)
		return d->n_needed || d->has_runpath || d->has_rpath ? -EBADMSG : 0;
	k = vaddr_to_offset(loads, n_loads, d->strtab, &strtab_off);
	if (k < 0)
		return k;
	info->needed = calloc(d->n_needed ? d->n_needed : 1, sizeof(char *));
	if (!info->needed)
		return -ENOMEM;
	for (size_t i = 0; k >= 0 && i < d->n_needed; i++) {
		k = dyn_string(r, d, strtab_off, d->needed[i], &info->needed[i]);
		if (k >= 0)
			info->n_needed++;
	}
	if (k >= 0 && d->has_runpath)
		k = dyn_string(r, d, strtab_off, d->runpath, &info->runpath);
	if (k >= 0 && d->has_rpath)
		k = dyn_string(r, d, strtab_off, d->rpath, &info->rpath);
	return k;
}

static int read_header(Reader *r, uint64_t *phoff, size_t *phnum, ElfInfo *info)
{
	uint8_t eh[sizeof(Elf64_Ehdr)];
	int k = reader_read(r, 0, eh, EI_NIDENT);

	if (k < 0 || memcmp(eh, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if ((eh[EI_CLASS] != ELFCLASS32 && eh[EI_CLASS] != ELFCLASS64) ||
	    (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB))
		return -EBADMSG;
	r->is64 = eh[EI_CLASS] == ELFCLASS64;
	r->big_endian = eh[EI_DATA] == ELFDATA2MSB;
	k = reader_read(r, 0, eh, r->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr));
	if (k < 0)
		return k;
	info->elf_class = eh[EI_CLASS];
	info->machine = (uint16_t)F(r, eh, Elf32_Ehdr, Elf64_Ehdr, e_machine);
	*phoff = F(r, eh, Elf32_Ehdr, Elf64_Ehdr, e_phoff);
	*phnum = (size_t)F(r, eh, Elf32_Ehdr, Elf64_Ehdr, e_phnum);
	size_t phentsize = (size_t)F(r, eh, Elf32_Ehdr, Elf64_Ehdr, e_phentsize);
	if (*phnum > ELF_MAX_PHDRS ||
	    (*phnum && phentsize != (r->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))))
		return -EBADMSG;
	return 0;
}

static int parse(const ElfSource *src, bool kind_only, ElfInfo *ret)
{
	Reader r = {.src = src};
	ElfInfo info = {0};
	Load loads[ELF_MAX_LOADS];
	size_t n_loads = 0, phnum = 0;
	uint64_t phoff = 0, dyn_off = 0, dyn_size = 0;
	uint8_t ph[sizeof(Elf64_Phdr)];

	int k = read_header(&r, &phoff, &phnum, &info);
	if (kind_only)
		phnum = 0;
	size_t psz = r.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	for (size_t i = 0; k >= 0 && i < phnum; i++) {
		k = phoff > src->size ? -EBADMSG : reader_read(&r, phoff + i * psz, ph, psz);
		if (k < 0)
			break;
		uint64_t type = F(&r, ph, Elf32_Phdr, Elf64_Phdr, p_type);
		uint64_t off = F(&r, ph, Elf32_Phdr, Elf64_Phdr, p_offset);
		uint64_t filesz = F(&r, ph, Elf32_Phdr, Elf64_Phdr, p_filesz);
		if (type == PT_LOAD && n_loads < ELF_MAX_LOADS)
			loads[n_loads++] = (Load){
			    .vaddr = F(&r, ph, Elf32_Phdr, Elf64_Phdr, p_vaddr),
			    .offset = off,
			    .filesz = filesz,
			};
		else if (type == PT_DYNAMIC) {
			info.dynamic = true;
			dyn_off = off;
			dyn_size = filesz;
		} else if (type == PT_INTERP && !info.interp)
			k = filesz == 0 ? -EBADMSG : read_string(&r, off, filesz, &info.interp);
	}
	if (k >= 0 && info.dynamic)
		k = parse_dynamic(&r, loads, n_loads, dyn_off, dyn_size, &info);
	if (k < 0) {
		elf_info_done(&info);
		return k;
	}
	*ret = info;
	return 0;
}

int elf_parse(const ElfSource *src, ElfInfo *ret)
{
	return parse(src, /* kind_only= */ false, ret);
}

int elf_parse_file(const char *path, bool kind_only, ElfInfo *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	ElfSource src = {.fd = fd, .size = (uint64_t)st.st_size};
	return parse(&src, kind_only, ret);
}

void elf_info_done(ElfInfo *info)
{
	for (size_t i = 0; i < info->n_needed; i++)
		free(info->needed[i]);
	free(info->needed);
	free(info->interp);
	free(info->runpath);
	free(info->rpath);
	*info = (ElfInfo){0};
}

int elf_expand_origin(const char *spec, const char *origin, char *buf, size_t size)
{
	size_t k = 0, olen = strlen(origin);

	for (const char *s = spec; *s;) {
		size_t skip = strncmp(s, "${ORIGIN}", 9) == 0 ? 9
		              : strncmp(s, "$ORIGIN", 7) == 0 &&
		                      !(isalnum((unsigned char)s[7]) || s[7] == '_')
		                  ? 7
		                  : 0;
		const char *add = skip ? origin : s;
		size_t n = skip ? olen : 1;
		if (k + n >= size)
			return -ENAMETOOLONG;
		memcpy(buf + k, add, n);
		k += n;
		s += skip ? skip : 1;
	}
	buf[k] = '\0';
	return 0;
}
