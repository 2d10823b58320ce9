/*
 * vdso_test.h - finding the vDSO's symbols from user space, the way glibc's
 * dl_vdso_vsym does (and Linux's tools/testing/selftests/vDSO/parse_vdso.c):
 * the ELF image at getauxval(AT_SYSINFO_EHDR), its PT_LOAD and PT_DYNAMIC,
 * then DT_SYMTAB / DT_STRTAB / DT_HASH / DT_VERSYM / DT_VERDEF, and a
 * symbol counts only if its version definition is named as asked.
 *
 * vdso_open() fills struct vdso with what the tests check; vdso_sym(v,
 * "LINUX_2.6.39", name) is the symbol's address or NULL.
 *
 * qemu-user (make user-test-linux) maps a vDSO of its own: its PT_LOAD is
 * read-write-execute, there is no [vvar] below it and its functions make
 * the system calls. vdso_is_linux() tells the tests, which then check what
 * both have and print what they skipped; tests/run.sh holds this kernel to
 * Linux's answers.
 */
#ifndef VDSO_TEST_H
#define VDSO_TEST_H

#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

#include "refpage_test.h"

struct vdso {
    uintptr_t base;         /* AT_SYSINFO_EHDR: the ELF header, start of [vdso] */
    size_t len;             /* the PT_LOAD's size, rounded up to pages */
    unsigned flags;         /* the PT_LOAD's p_flags: PF_R | PF_X on Linux */
    uintptr_t load_offset;  /* added to a symbol's value */
    const ElfW(Sym) *symtab;
    const char *strtab;
    const ElfW(Word) *hash;
    const ElfW(Versym) *versym;
    const ElfW(Verdef) *verdef;
};

/* Reads the vDSO's tables; every failure is a CHECK failure. */
static inline void vdso_open(struct vdso *v)
{
    memset(v, 0, sizeof(*v));
    v->base = getauxval(AT_SYSINFO_EHDR);
    CHECK(v->base != 0, "no AT_SYSINFO_EHDR in the auxiliary vector: no vDSO");
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)v->base;
    CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
              eh->e_type == ET_DYN && eh->e_machine == EM_AARCH64,
          "AT_SYSINFO_EHDR %#lx is not a 64-bit aarch64 ET_DYN ELF header", (unsigned long)v->base);
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(v->base + eh->e_phoff);
    const ElfW(Dyn) *dyn = NULL;
    int loads = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD) {
            loads++;
            v->load_offset = v->base + ph[i].p_offset - ph[i].p_vaddr;
            v->len = (ph[i].p_memsz + 4095) & ~4095UL;
            v->flags = ph[i].p_flags;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)(v->base + ph[i].p_offset);
        }
    }
    CHECK(loads == 1 && dyn != NULL, "the vDSO has %d PT_LOAD (want 1) and %s PT_DYNAMIC", loads,
          dyn ? "a" : "no");
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t at = v->load_offset + dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
        case DT_SYMTAB: v->symtab = (const ElfW(Sym) *)at; break;
        case DT_STRTAB: v->strtab = (const char *)at; break;
        case DT_HASH: v->hash = (const ElfW(Word) *)at; break;
        case DT_VERSYM: v->versym = (const ElfW(Versym) *)at; break;
        case DT_VERDEF: v->verdef = (const ElfW(Verdef) *)at; break;
        case DT_REL: case DT_RELA: case DT_TEXTREL:
            CHECK(0, "the vDSO has dynamic relocations (tag %ld)", (long)dyn->d_tag);
        }
    }
    CHECK(v->symtab && v->strtab && v->hash && v->versym && v->verdef,
          "the vDSO lacks DT_SYMTAB %p, DT_STRTAB %p, DT_HASH %p, DT_VERSYM %p or DT_VERDEF %p",
          (void *)v->symtab, (void *)v->strtab, (void *)v->hash, (void *)v->versym,
          (void *)v->verdef);
}

/* Whether this is Linux's vDSO (R+X text, [vvar] below), not qemu-user's. */
static inline int vdso_is_linux(const struct vdso *v)
{
    return v->flags == (PF_R | PF_X);
}

/* Whether version index `ndx` is defined with the name `version`. */
static inline int vdso_version_is(const struct vdso *v, unsigned ndx, const char *version)
{
    const ElfW(Verdef) *d = v->verdef;
    for (;;) {
        if ((d->vd_flags & VER_FLG_BASE) == 0 && (d->vd_ndx & 0x7fff) == ndx) {
            const ElfW(Verdaux) *aux = (const ElfW(Verdaux) *)((const char *)d + d->vd_aux);
            return strcmp(v->strtab + aux->vda_name, version) == 0;
        }
        if (d->vd_next == 0)
            return 0;
        d = (const ElfW(Verdef) *)((const char *)d + d->vd_next);
    }
}

/* The address of function `name` defined at `version`, or NULL. Linux's
 * __kernel_rt_sigreturn has no symbol type (SYM_CODE_START): STT_NOTYPE
 * counts too, as for glibc's lookup. */
static inline void *vdso_sym(const struct vdso *v, const char *version, const char *name)
{
    ElfW(Word) nsyms = v->hash[1]; /* nchain: one per symbol */
    for (ElfW(Word) i = 1; i < nsyms; i++) {
        const ElfW(Sym) *s = &v->symtab[i];
        int type = ELF64_ST_TYPE(s->st_info);
        if ((type != STT_FUNC && type != STT_NOTYPE) || ELF64_ST_BIND(s->st_info) != STB_GLOBAL ||
            s->st_shndx == SHN_UNDEF || strcmp(v->strtab + s->st_name, name) != 0)
            continue;
        if (!vdso_version_is(v, v->versym[i] & 0x7fff, version))
            continue;
        return (void *)(v->load_offset + s->st_value);
    }
    return NULL;
}

/* Whether `addr` is in the vDSO's text. */
static inline int vdso_contains(const struct vdso *v, uintptr_t addr)
{
    return addr >= v->base && addr < v->base + v->len;
}

#endif
