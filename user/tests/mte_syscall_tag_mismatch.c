/*
 * mte_syscall_tag_mismatch: how the kernel's own accesses to PROT_MTE user
 * memory are checked (Linux: the uaccess routines run with PSTATE.TCO
 * clear only when the task uses sync mode). In sync mode a system call
 * given a buffer whose pointer tag does not match fails with EFAULT (or
 * stops short), and the program gets no signal: write(1, ..) reading it,
 * clock_gettime(.., ..) writing it (nothing is written). A buffer whose
 * first granule matches and second does not gives EFAULT or a short count.
 * In async mode (and with checking off) the same calls succeed, without a
 * signal then or at the next kernel entry. The right tag always works.
 * Skipped (exit 0) without HWCAP2_MTE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define MSG "mte_syscall_tag_mismatch: (written through the right tag)\n"

static volatile unsigned char *buf;

static void tag_buffer(void)
{
    mte_stg(buf, 6);
    mte_stg(buf + 16, 6);
    mte_stg(buf + 32, 6);
    mte_stg(buf + 48, 6);
    mte_stg(buf + 64, 6);
    mte_stg(buf + 80, 0xb); /* the split buffer's second granule */
    mte_stg(buf + 128, 6);  /* a timespec */
}

/* write(1, tag t, len) with stdout flushed first. */
static ssize_t write_with_tag(unsigned off, unsigned t, size_t len)
{
    fflush(stdout);
    errno = 0;
    return write(1, mte_tagged(buf + off, t), len);
}

static void expect_works(const char *mode)
{
    size_t n = strlen(MSG);
    int before = caught()->count;
    ssize_t w = write_with_tag(0, 6, n);
    CHECK(w == (ssize_t)n, "%s: write through the right tag returned %zd, errno %d (%s)", mode, w,
          errno, strerror(errno));
    struct timespec *ts = mte_tagged(buf + 128, 6);
    long c = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts);
    CHECK(c == 0, "%s: clock_gettime through the right tag: %ld, errno %d", mode, c, errno);
    CHECK(caught()->count == before, "%s: right-tag system calls raised a signal: %s", mode,
          caught_str());
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_syscall_tag_mismatch");

    buf = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    tag_buffer();
    memcpy((void *)mte_tagged(buf, 6), MSG, sizeof(MSG));
    memset((void *)mte_tagged(buf + 64, 6), '-', 15);
    buf[79] = '\n';
    memset((void *)mte_tagged(buf + 80, 0xb), '.', 16);
    /* Any SIGSEGV is a failure; a synchronous one is stepped over so that
     * the checks below can report it. */
    catch_signal(SIGSEGV, 0, 1);
    struct caught *k = caught();
    k->skip_code = SEGV_MTESERR;
    size_t n = strlen(MSG);

    /* Sync. */
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    expect_works("sync");
    ssize_t w = write_with_tag(0, 9, n);
    int err = errno;
    CHECK(w == -1 && err == EFAULT, "sync: write(1, wrong tag, %zu) returned %zd, errno %d (%s); "
          "want -1, EFAULT", n, w, err, strerror(err));
    struct timespec *bad_ts = mte_tagged(buf + 128, 2);
    memset((void *)mte_tagged(buf + 128, 6), 0x5a, sizeof(struct timespec));
    long c = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad_ts);
    err = errno;
    CHECK(c == -1 && err == EFAULT, "sync: clock_gettime(.., wrong tag) returned %ld, errno %d; "
          "want -1, EFAULT", c, err);
    unsigned char first = *(volatile unsigned char *)mte_tagged(buf + 128, 6);
    CHECK(first == 0x5a, "sync: the refused clock_gettime wrote the buffer (byte 0 %#x)", first);
    syscall(SYS_getpid);
    CHECK(k->count == 0, "sync: the refused system calls raised a signal: %s", caught_str());
    printf("mte_syscall_tag_mismatch: sync: write and clock_gettime through a wrong tag -> -1 "
           "EFAULT, nothing written, no signal\n");

    /* A 32-byte buffer whose second granule has another tag. */
    w = write_with_tag(64, 6, 32);
    err = errno;
    CHECK((w == -1 && err == EFAULT) || (w > 0 && w <= 16),
          "sync: write of 32 bytes, second granule mismatching: %zd, errno %d; want EFAULT or a "
          "short count <= 16", w, err);
    CHECK(k->count == 0, "sync: the split write raised a signal: %s", caught_str());
    printf("mte_syscall_tag_mismatch: sync: a buffer whose second granule mismatches: %s\n",
           w == -1 ? "-1 EFAULT" : "a short count");

    /* Async: the kernel's accesses are not checked; no signal ever. */
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_ASYNC));
    expect_works("async");
    w = write_with_tag(0, 9, n);
    CHECK(w == (ssize_t)n, "async: write(1, wrong tag, %zu) returned %zd, errno %d (%s); want %zu",
          n, w, errno, strerror(errno), n);
    c = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad_ts);
    CHECK(c == 0, "async: clock_gettime(.., wrong tag) returned %ld, errno %d", c, errno);
    syscall(SYS_getpid);
    syscall(SYS_getpid);
    CHECK(k->count == 0, "async: the wrong-tag system calls raised a signal: %s", caught_str());
    printf("mte_syscall_tag_mismatch: async: the same calls succeed, and no signal follows\n");

    /* Checking off. */
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_NONE));
    w = write_with_tag(0, 9, n);
    CHECK(w == (ssize_t)n && k->count == 0, "none: write(1, wrong tag) returned %zd (errno %d), %s",
          w, errno, caught_str());
    printf("mte_syscall_tag_mismatch: checking off: the wrong-tag write succeeds\n");
    return 0;
}
