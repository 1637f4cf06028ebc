/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a gVisor run shows at the dynamic loader's place (docs/design/backends.md, "The loader
 * as a program"): gVisor has no Landlock, so its exec allow-list is what its mounts let run,
 * and the loader must be on an exec mount, being every dynamic program's PT_INTERP. Run as
 * that interpreter, this maps the real loader (bound, noexec, at the path written into
 * LOADER_PATH when the bundle is made) and enters it as the kernel would have. Run as a
 * program ("ld.so FILE ARGS"), which is how the real loader would run any readable file, it
 * executes FILE instead: FILE then runs only if the mounts let it (a granted program), and a
 * refusal is the exec's, recorded as any refused exec.
 *
 * Static, position-independent, no C library: it runs before the loader. x86_64 only (the
 * entry and the system calls are the architecture's).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define MARK     "OMNIBASE-LOADER:"
#define MARK_LEN 16
#define MAX_PHDR 32

/* The real loader's path, after the mark; written into a copy of this file by the backend
 * (oci-exec.c). Not const: the compiler must not read it at build time. */
__attribute__((used)) char loader_path[MARK_LEN + 4096] = MARK;

uintptr_t shim_main(uintptr_t *sp);

/* The kernel's stack pointer to shim_main; its answer is where to jump, with the stack as
 * it was (argc, argv, envp, auxv) and no exit handler (%rdx 0). */
__asm__(".text\n"
        ".global _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "	xor %ebp, %ebp\n"
        "	mov %rsp, %r12\n"
        "	mov %rsp, %rdi\n"
        "	and $-16, %rsp\n"
        "	call shim_main\n"
        "	mov %r12, %rsp\n"
        "	xor %edx, %edx\n"
        "	jmp *%rax\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}

#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static size_t length(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	(void)sys3(SYS_write, 2, s, length(s));
}

static _Noreturn void leave(int status, const char *what, const char *detail)
{
	say("omnibase: ");
	say(what);
	if (detail) {
		say(": ");
		say(detail);
	}
	say("\n");
	for (;;)
		(void)sys3(SYS_exit_group, status, 0, 0);
}

/* LEN bytes at P zeroed, one at a time (volatile: never turned into a call of memset, which
 * there is none of here). */
static void clear(void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((volatile char *)p)[i] = 0;
}

static bool read_at(long fd, void *buf, size_t len, uint64_t off)
{
	clear(buf, len); /* what a short read leaves is zeroes, not garbage */
	return sys6(SYS_pread64, fd, (long)buf, (long)len, (long)off, 0, 0) == (long)len;
}

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

static bool mapped(long addr)
{
	return addr >= 0 || addr < -4095;
}

/* One PT_LOAD of FD at BIAS: its file part, zeroes to the end of that page, and anonymous
 * pages for the rest (the .bss). */
static bool map_segment(long fd, const Elf64_Phdr *ph, uintptr_t bias, uintptr_t page)
{
	uintptr_t start = (ph->p_vaddr & ~(page - 1)) + bias;
	uintptr_t file_end = ph->p_vaddr + ph->p_filesz + bias;
	uintptr_t mem_end = ph->p_vaddr + ph->p_memsz + bias;
	uintptr_t file_page_end = ph->p_filesz ? (file_end + page - 1) & ~(page - 1) : start;
	int prot = prot_of(ph->p_flags);
	bool zero = ph->p_filesz && ph->p_memsz > ph->p_filesz && (file_end & (page - 1));

	if (ph->p_filesz && !mapped(sys6(SYS_mmap, (long)start, (long)(file_end - start),
	                                 prot | (zero ? PROT_WRITE : 0), MAP_PRIVATE | MAP_FIXED,
	                                 fd, (long)(ph->p_offset & ~(uint64_t)(page - 1)))))
		return false;
	if (zero) {
		clear((void *)file_end, file_page_end - file_end);
		if (!(prot & PROT_WRITE) &&
		    sys3(SYS_mprotect, start, file_page_end - start, prot) < 0)
			return false;
	}
	uintptr_t anon_end = (mem_end + page - 1) & ~(page - 1);
	if (anon_end > file_page_end &&
	    !mapped(sys6(SYS_mmap, (long)file_page_end, (long)(anon_end - file_page_end), prot,
	                 MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0)))
		return false;
	return true;
}

/* Maps the ELF shared object at PATH where the kernel would (anywhere, as one span); its
 * load bias into *BIAS, its entry returned. */
static uintptr_t map_loader(const char *path, uintptr_t page, uintptr_t *bias)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDR];
	uintptr_t lo = UINTPTR_MAX, hi = 0;

	long fd = sys3(SYS_open, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		leave(127, "cannot open the dynamic loader", path);
	if (!read_at(fd, &eh, sizeof(eh), 0) || eh.e_ident[EI_MAG0] != ELFMAG0 ||
	    eh.e_ident[EI_MAG1] != ELFMAG1 || eh.e_ident[EI_MAG2] != ELFMAG2 ||
	    eh.e_ident[EI_MAG3] != ELFMAG3 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_type != ET_DYN || eh.e_machine != EM_X86_64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > MAX_PHDR ||
	    !read_at(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff))
		leave(127, "not an x86_64 ELF shared object", path);
	uintptr_t align = page;
	for (unsigned i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			uintptr_t a = ph[i].p_vaddr & ~(page - 1);
			uintptr_t b = (ph[i].p_vaddr + ph[i].p_memsz + page - 1) & ~(page - 1);
			lo = a < lo ? a : lo;
			hi = b > hi ? b : hi;
			/* a larger alignment is honoured, as the kernel does (up to 1 GiB) */
			if (ph[i].p_align > align && !(ph[i].p_align & (ph[i].p_align - 1)) &&
			    ph[i].p_align <= (1UL << 30))
				align = ph[i].p_align;
		}
	if (hi <= lo)
		leave(127, "no loadable segment in", path);
	long span = sys6(SYS_mmap, 0, (long)(hi - lo + align - page), PROT_NONE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!mapped(span))
		leave(127, "no room for the dynamic loader", path);
	*bias = (((uintptr_t)span + align - 1) & ~(align - 1)) - lo;
	for (unsigned i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && !map_segment(fd, &ph[i], *bias, page))
			leave(127, "cannot map the dynamic loader", path);
	(void)sys3(SYS_close, fd, 0, 0);
	return *bias + eh.e_entry;
}

/* "ld.so FILE ARGS": FILE executed, as the mounts allow. */
static _Noreturn void run_as_program(long argc, char **argv, char **envp)
{
	if (argc < 2)
		leave(127, "the dynamic loader runs no program by itself here", NULL);
	if (argv[1][0] == '-')
		leave(127, "the dynamic loader takes no options here", argv[1]);
	long r = sys3(SYS_execve, argv[1], argv + 1, envp);
	leave(r == -ENOENT ? 127 : 126, "cannot execute", argv[1]);
}

uintptr_t shim_main(uintptr_t *sp)
{
	long argc = (long)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1, **e = envp;
	uintptr_t page = 4096, bias = 0;
	Elf64_auxv_t *base = NULL;

	while (*e)
		e++;
	for (Elf64_auxv_t *a = (Elf64_auxv_t *)(e + 1); a->a_type != AT_NULL; a++) {
		if (a->a_type == AT_BASE)
			base = a;
		else if (a->a_type == AT_PAGESZ && a->a_un.a_val)
			page = a->a_un.a_val;
	}
	/* run directly, the kernel loaded no interpreter: AT_BASE is 0 */
	if (!base || base->a_un.a_val == 0)
		run_as_program(argc, argv, envp);
	if (!loader_path[MARK_LEN])
		leave(127, "the loader shim was not given the dynamic loader's path", NULL);
	uintptr_t entry = map_loader(loader_path + MARK_LEN, page, &bias);
	base->a_un.a_val = bias; /* the interpreter the program now has */
	return entry;
}
