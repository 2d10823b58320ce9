/*
 * args_env_auxv: the initial stack the kernel builds at exec (Linux
 * fs/binfmt_elf.c create_elf_tables) reaches main through glibc: argv,
 * the environment the runner passes (exactly HOME=/ and TERM=linux, as
 * Linux gives init), and the auxiliary vector glibc itself depends on.
 * Also: sp is 16-byte aligned at main, as AAPCS64 requires.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "refpage_test.h"

#define PROGRAM "args_env_auxv"

extern char **environ;
/* The entry point glibc's crt1.o defines: AT_ENTRY must point at it. */
extern char _start[];

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int has_env(const char *entry)
{
    for (char **e = environ; *e; e++)
        if (strcmp(*e, entry) == 0)
            return 1;
    return 0;
}

static void check_args(int argc, char **argv)
{
    CHECK(argc >= 1, "argc is %d", argc);
    CHECK(argv[0] != NULL, "argv[0] is NULL");
    CHECK(ends_with(argv[0], PROGRAM), "argv[0] is \"%s\", want it to end in \"%s\"", argv[0], PROGRAM);
    CHECK(argv[argc] == NULL, "argv[argc] is %p, not NULL", (void *)argv[argc]);
    printf("args_env_auxv: argc %d, argv[0] \"%s\"\n", argc, argv[0]);
}

static void check_env(void)
{
    CHECK(environ != NULL, "environ is NULL");
    CHECK(has_env("HOME=/"), "no HOME=/ in the environment (getenv(\"HOME\") is %s)",
          getenv("HOME") ? getenv("HOME") : "unset");
    CHECK(has_env("TERM=linux"), "no TERM=linux in the environment (getenv(\"TERM\") is %s)",
          getenv("TERM") ? getenv("TERM") : "unset");
    int n = 0;
    for (char **e = environ; *e; e++)
        n++;
    printf("args_env_auxv: %d environment strings, HOME=/ and TERM=linux among them\n", n);
}

static void check_phdrs(void)
{
    unsigned long phdr = getauxval(AT_PHDR), phent = getauxval(AT_PHENT), phnum = getauxval(AT_PHNUM);
    unsigned long entry = getauxval(AT_ENTRY);

    CHECK(phent == sizeof(Elf64_Phdr), "AT_PHENT is %lu, want sizeof(Elf64_Phdr) = %zu", phent,
          sizeof(Elf64_Phdr));
    CHECK(phnum > 0 && phnum < 64, "AT_PHNUM is %lu", phnum);
    CHECK(phdr != 0, "AT_PHDR is 0");
    CHECK(entry != 0, "AT_ENTRY is 0");
    CHECK(entry == (unsigned long)_start, "AT_ENTRY is 0x%lx, but _start is at %p", entry, (void *)_start);

    /* The table must be readable and describe this program: a PT_LOAD
     * holds the table itself, and an executable PT_LOAD holds the entry. */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)phdr;
    int loads = 0, table_mapped = 0, entry_mapped = 0;
    for (unsigned long i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_PHDR)
            CHECK(ph[i].p_vaddr == phdr, "PT_PHDR p_vaddr 0x%lx != AT_PHDR 0x%lx",
                  (unsigned long)ph[i].p_vaddr, phdr);
        if (ph[i].p_type != PT_LOAD)
            continue;
        loads++;
        uint64_t lo = ph[i].p_vaddr, hi = ph[i].p_vaddr + ph[i].p_memsz;
        if (phdr >= lo && phdr + phnum * phent <= hi)
            table_mapped = 1;
        if (entry >= lo && entry < hi && (ph[i].p_flags & PF_X))
            entry_mapped = 1;
    }
    CHECK(loads > 0, "none of the %lu program headers at 0x%lx is PT_LOAD", phnum, phdr);
    CHECK(table_mapped, "no PT_LOAD covers the program header table at 0x%lx", phdr);
    CHECK(entry_mapped, "no executable PT_LOAD covers AT_ENTRY 0x%lx", entry);
    printf("args_env_auxv: AT_PHDR 0x%lx: %lu headers of %lu bytes, %d PT_LOAD; AT_ENTRY 0x%lx = _start\n",
           phdr, phnum, phent, loads, entry);
}

static void check_auxv_values(void)
{
    unsigned long pagesz = getauxval(AT_PAGESZ);
    CHECK(pagesz == 4096, "AT_PAGESZ is %lu", pagesz);

    const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
    CHECK(random != NULL, "AT_RANDOM is absent or 0");
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero |= random[i];
    CHECK(nonzero, "the 16 AT_RANDOM bytes at %p are all zero", (const void *)random);

    unsigned long uid = getauxval(AT_UID), euid = getauxval(AT_EUID);
    unsigned long gid = getauxval(AT_GID), egid = getauxval(AT_EGID);
    CHECK(uid == 0 && euid == 0 && gid == 0 && egid == 0,
          "AT_UID %lu, AT_EUID %lu, AT_GID %lu, AT_EGID %lu; want all 0", uid, euid, gid, egid);
    unsigned long secure = getauxval(AT_SECURE);
    CHECK(secure == 0, "AT_SECURE is %lu", secure);

    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK(execfn != NULL, "AT_EXECFN is absent or 0");
    CHECK(ends_with(execfn, PROGRAM), "AT_EXECFN is \"%s\", want it to end in \"%s\"", execfn, PROGRAM);

    printf("args_env_auxv: AT_PAGESZ %lu, AT_RANDOM at %p, AT_EXECFN \"%s\", ids 0, AT_SECURE 0\n",
           pagesz, (const void *)random, execfn);
    unsigned long hwcap2 = getauxval(AT_HWCAP2);
    printf("args_env_auxv: AT_HWCAP 0x%lx, AT_HWCAP2 0x%lx (HWCAP2_MTE %s)\n", getauxval(AT_HWCAP),
           hwcap2, (hwcap2 & HWCAP2_MTE) ? "set" : "clear");
}

static void check_stack_alignment(void)
{
    /* With a 16-byte-aligned sp at entry, every frame is 16-byte aligned;
     * an over-aligned local and the frame record both show it. */
    _Alignas(16) volatile char local[16];
    uintptr_t local_addr = (uintptr_t)local, frame = (uintptr_t)__builtin_frame_address(0);
    CHECK(local_addr % 16 == 0, "a 16-aligned local is at 0x%lx", (unsigned long)local_addr);
    CHECK(frame % 16 == 0, "the frame record is at 0x%lx", (unsigned long)frame);
    local[0] = 0;
    printf("args_env_auxv: stack 16-byte aligned (frame at 0x%lx)\n", (unsigned long)frame);
}

int main(int argc, char **argv)
{
    check_args(argc, argv);
    check_env();
    check_auxv_values();
    check_phdrs();
    check_stack_alignment();
    return 0;
}
