/*
 * refpage_test.h - what the C test programs in user/tests/ need beyond
 * glibc's headers: the refpage_create(2) system call number, the arm64 MTE
 * constants that glibc 2.36's headers lack (values from Linux's
 * include/uapi/linux/prctl.h, arch/arm64/include/uapi/asm/{mman,hwcap}.h
 * and include/uapi/asm-generic/siginfo.h), and CHECK().
 *
 * Each is guarded by #ifndef, so a newer glibc that defines one wins.
 */
#ifndef REFPAGE_TEST_H
#define REFPAGE_TEST_H

#include <stdio.h>
#include <stdlib.h>

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

#endif /* REFPAGE_TEST_H */
