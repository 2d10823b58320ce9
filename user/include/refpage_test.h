/*
 * refpage_test.h - what the C test programs in user/tests/ need beyond
 * glibc's headers: the refpage_create(2) system call number, the arm64 MTE
 * constants that glibc 2.36's headers lack (values from Linux's
 * include/uapi/linux/prctl.h, arch/arm64/include/uapi/asm/{mman,hwcap}.h
 * and include/uapi/asm-generic/siginfo.h), CHECK(), and for the refpage
 * tests refpage_create(), CHECK_ERRNO(), CHECK_PATTERN(), and the EL0 tag
 * instructions mte_ldg() and mte_stg().
 *
 * Each is guarded by #ifndef, so a newer glibc that defines one wins.
 */
#ifndef REFPAGE_TEST_H
#define REFPAGE_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* refpage_create(2), the proposed call this kernel implements (the v5
 * series' number). Mainline Linux later gave 448 to process_mrelease. */
#ifndef SYS_refpage_create
#define SYS_refpage_create 448
#endif

/* mmap/mprotect: map as Normal-Tagged memory with allocation tags. */
#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif

/* prctl(2): the tagged address ABI and the tag-check fault mode. */
#ifndef PR_SET_TAGGED_ADDR_CTRL
#define PR_SET_TAGGED_ADDR_CTRL 55
#endif
#ifndef PR_GET_TAGGED_ADDR_CTRL
#define PR_GET_TAGGED_ADDR_CTRL 56
#endif
#ifndef PR_TAGGED_ADDR_ENABLE
#define PR_TAGGED_ADDR_ENABLE (1UL << 0)
#endif
#ifndef PR_MTE_TCF_NONE
#define PR_MTE_TCF_NONE 0UL
#endif
#ifndef PR_MTE_TCF_SYNC
#define PR_MTE_TCF_SYNC (1UL << 1)
#endif
#ifndef PR_MTE_TCF_ASYNC
#define PR_MTE_TCF_ASYNC (2UL << 1)
#endif
#ifndef PR_MTE_TCF_MASK
#define PR_MTE_TCF_MASK (3UL << 1)
#endif
#ifndef PR_MTE_TAG_SHIFT
#define PR_MTE_TAG_SHIFT 3
#endif
#ifndef PR_MTE_TAG_MASK
#define PR_MTE_TAG_MASK (0xffffUL << PR_MTE_TAG_SHIFT)
#endif

/* getauxval(AT_HWCAP2): the CPU and kernel support MTE at EL0. */
#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1 << 18)
#endif

/* si_code of a SIGSEGV from a tag-check fault. */
#ifndef SEGV_MTEAERR
#define SEGV_MTEAERR 8 /* asynchronous */
#endif
#ifndef SEGV_MTESERR
#define SEGV_MTESERR 9 /* synchronous */
#endif

/*
 * CHECK(cond, fmt, ...): unless cond holds, print
 *   file:line: check failed: cond: message
 * to stderr and exit 1. The message should say what was seen, e.g.
 *   CHECK(n == 8, "write returned %zd", n);
 */
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fflush(stdout);                                                     \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,    \
                    #cond);                                                     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/*
 * refpage_create(2) through syscall(2), as its man page calls it (glibc has
 * no wrapper): a descriptor, or -1 with errno set.
 */
static inline int refpage_create(const void *content, unsigned int size, unsigned long flags)
{
    return (int)syscall(SYS_refpage_create, content, size, flags);
}

/*
 * CHECK_ERRNO(call, E): call must fail with errno E, returning -1 (or
 * MAP_FAILED, which is -1 as a long). Otherwise, like CHECK, prints
 *   file:line: check failed: close(999) -> -1, EBADF: returned 0, errno 0 (Success)
 * to stderr and exits 1.
 */
#define CHECK_ERRNO(call, want)                                                 \
    do {                                                                        \
        errno = 0;                                                              \
        long check_ret_ = (long)(call);                                         \
        int check_err_ = errno;                                                 \
        if (!(check_ret_ == -1 && check_err_ == (want))) {                      \
            fflush(stdout);                                                     \
            fprintf(stderr,                                                     \
                    "%s:%d: check failed: %s -> -1, %s: returned %ld, errno %d (%s)\n", \
                    __FILE__, __LINE__, #call, #want, check_ret_, check_err_,   \
                    strerror(check_err_));                                      \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/*
 * The first i in [0, len) where p[i] is not content[i % size] (a mapping
 * of a refpage at a page-aligned offset, size dividing the page size), or
 * len if there is none.
 */
static inline size_t refpage_mismatch(const volatile unsigned char *p, size_t len,
                                      const unsigned char *content, unsigned int size)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != content[i % size])
            return i;
    }
    return len;
}

/*
 * CHECK_PATTERN(p, len, content, size, what): every byte of p[0, len) is
 * content[i % size]; otherwise prints the first byte that is not.
 */
#define CHECK_PATTERN(p, len, content, size, what)                              \
    do {                                                                        \
        const volatile unsigned char *check_p_ = (const volatile unsigned char *)(p); \
        size_t check_len_ = (len);                                              \
        size_t check_i_ = refpage_mismatch(check_p_, check_len_, (content), (size)); \
        CHECK(check_i_ == check_len_,                                           \
              "%s: byte %zu of %zu (at %p) is 0x%02x, want 0x%02x (pattern "   \
              "byte %zu of %u)",                                                \
              (what), check_i_, check_len_, (void *)(check_p_ + check_i_),      \
              check_p_[check_i_], (content)[check_i_ % (size)],                 \
              check_i_ % (size), (unsigned)(size));                             \
    } while (0)

/*
 * MTE from EL0 (Arm ARM D10, "The Memory Tagging Extension"). Only for
 * PROT_MTE memory on a CPU with HWCAP2_MTE; elsewhere LDG/STG are undefined
 * instructions (SIGILL). The `.arch armv8.5-a+memtag` directive is needed
 * because binutils 2.40 rejects `.arch_extension memtag` on the default
 * armv8-a base; it only widens what the assembler accepts for the rest of
 * the file.
 *
 * mte_ldg(addr): the allocation tag of the 16-byte granule holding addr.
 * LDG Xt, [Xn] copies that tag into bits 59:56 of Xt and leaves its other
 * bits; here Xt = Xn, the one in/out operand, so nothing else is clobbered.
 */
static inline unsigned mte_ldg(const volatile void *addr)
{
    uint64_t p = (uint64_t)(uintptr_t)addr;
    __asm__ volatile(".arch armv8.5-a+memtag\n\tldg %0, [%0]" : "+r"(p) : : "memory");
    return (unsigned)(p >> 56) & 0xf;
}

/*
 * mte_stg(addr, tag): sets the allocation tag of the granule at addr (16-byte
 * aligned) to tag. STG Xt, [Xn] stores bits 59:56 of Xt as the tag; with
 * Xt = Xn = addr carrying the tag in its top byte (TBI0 makes the MMU ignore
 * it). Reads one input register; clobbers none; writes tag memory only.
 */
static inline void mte_stg(volatile void *addr, unsigned tag)
{
    uint64_t p = ((uint64_t)(uintptr_t)addr & ~(0xffULL << 56)) | ((uint64_t)(tag & 0xf) << 56);
    __asm__ volatile(".arch armv8.5-a+memtag\n\tstg %0, [%0]" : : "r"(p) : "memory");
}

/* addr with logical tag `tag` in bits 59:56, for accesses through it. */
static inline void *mte_tagged(const volatile void *addr, unsigned tag)
{
    return (void *)(((uintptr_t)addr & ~(0xffULL << 56)) | ((uint64_t)(tag & 0xf) << 56));
}

#endif /* REFPAGE_TEST_H */
