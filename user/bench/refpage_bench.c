/*
 * refpage_bench - the microbenchmark of the refpage_create(2) v4/v5 cover
 * letter, counted in instructions.
 *
 *   refpage_bench [CYCLES] [poweroff]
 *
 * For each touch size (4096, 2048000 and 4096000 bytes) and each variant,
 * CYCLES times (default 20):
 *
 *   memset   mmap 4096000 bytes anonymous private, memset all of it with
 *            0xaa, touch, munmap;
 *   refpage  mmap 4096000 bytes MAP_PRIVATE of one refpage_create(&0xaa, 1, 0)
 *            descriptor (created once, at the start), touch, munmap;
 *
 * where "touch" is one byte store per 4 KiB page over the touch size. One
 * untimed cycle before each measurement checks the memory's content.
 *
 * The CYCLES cycles are timed with clock_gettime(CLOCK_MONOTONIC). Under
 * QEMU's `-icount shift=0,align=off,sleep=off` on the virt machine of QEMU 9
 * and newer (CNTFRQ 1 GHz) the counter advances one nanosecond per guest
 * instruction, so nanoseconds per cycle are instructions per cycle (kernel
 * and user together). The "calibrate" line checks that: a loop of a known
 * number of instructions should measure about that many nanoseconds.
 *
 * Output, one machine-readable line per measurement:
 *
 *   bench calibrate loop_insns=2000000 ns=2000123
 *   bench variant=memset touch=4096 cycles=20 ns_total=51002460 insns_per_cycle=2550123
 *   bench variant=refpage touch=4096 unavailable reason=...
 *
 * and human-readable lines starting with "#". The same binary runs on arm64
 * Linux, where system call 448 is process_mrelease (or absent): the call
 * fails there and the refpage rows say "unavailable". Run as Linux's /init,
 * the argument "poweroff" ends with reboot(RB_POWER_OFF) instead of exit
 * (init may not exit).
 *
 * Build: aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -Iuser/include
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define MAP_BYTES 4096000UL
#define PAGE 4096UL
#define PATTERN 0xaa
#define TOUCHED 0x55
#define DEFAULT_CYCLES 20

static const unsigned long touch_sizes[] = { 4096, 2048000, 4096000 };
#define N_SIZES (sizeof touch_sizes / sizeof touch_sizes[0])

/* Aligned to its size (1), as refpage_create requires. */
static const unsigned char pattern = PATTERN;

static uint64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One byte store per 4 KiB page over the first `touch` bytes. */
static void touch(unsigned char *p, unsigned long touch)
{
    for (unsigned long off = 0; off < touch; off += PAGE)
        *(volatile unsigned char *)(p + off) = TOUCHED;
}

static unsigned char *map_or_die(int fd)
{
    void *p = fd < 0 ? mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                     : mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

static void unmap_or_die(unsigned char *p)
{
    if (munmap(p, MAP_BYTES) != 0) {
        perror("munmap");
        exit(1);
    }
}

/* One cycle of a variant: fd < 0 is the memset variant. */
static unsigned char *cycle_start(int fd, unsigned long size)
{
    unsigned char *p = map_or_die(fd);
    if (fd < 0) {
        memset(p, PATTERN, MAP_BYTES);
        /* The stores must happen: munmap may not be seen as a reader. */
        __asm__ volatile("" : : "r"(p) : "memory");
    }
    touch(p, size);
    return p;
}

/* The untimed cycle: the memory holds what the variant promises. */
static void check_cycle(int fd, unsigned long size, const char *variant)
{
    unsigned char *p = cycle_start(fd, size);
    for (unsigned long off = 0; off < MAP_BYTES; off += PAGE) {
        unsigned char want_first = off < size ? TOUCHED : PATTERN;
        if (p[off] != want_first || p[off + PAGE - 1] != PATTERN) {
            fprintf(stderr, "refpage_bench: %s touch=%lu: page at offset %lu holds 0x%02x..0x%02x\n", variant,
                    size, off, p[off], p[off + PAGE - 1]);
            exit(1);
        }
    }
    unmap_or_die(p);
}

static uint64_t run(int fd, unsigned long size, unsigned cycles)
{
    uint64_t start = now_ns();
    for (unsigned i = 0; i < cycles; i++)
        unmap_or_die(cycle_start(fd, size));
    uint64_t end = now_ns();
    if (end < start) {
        fprintf(stderr, "refpage_bench: CLOCK_MONOTONIC went back: %llu then %llu\n", (unsigned long long)start,
                (unsigned long long)end);
        exit(1);
    }
    return end - start;
}

/* A loop of exactly 2 instructions per iteration (subs, b.ne). */
static uint64_t calibrate(uint64_t iterations)
{
    uint64_t n = iterations;
    uint64_t start = now_ns();
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
    return now_ns() - start;
}

/* refpage_create, or -1 with a reason when this kernel has none. */
static int open_refpage(const char **reason)
{
    errno = 0;
    long fd = syscall(SYS_refpage_create, &pattern, 1, 0);
    if (fd < 0) {
        *reason = errno == ENOSYS ? "ENOSYS" : errno == EINVAL ? "EINVAL(448-is-not-refpage_create)" : "error";
        return -1;
    }
    /* 448 succeeded: make sure it made a refpage and not something else. */
    void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, (int)fd, 0);
    if (p == MAP_FAILED || *(volatile unsigned char *)p != PATTERN) {
        *reason = "448-returned-a-descriptor-that-is-not-a-refpage";
        if (p != MAP_FAILED)
            munmap(p, PAGE);
        close((int)fd);
        return -1;
    }
    munmap(p, PAGE);
    return (int)fd;
}

int main(int argc, char **argv)
{
    unsigned cycles = DEFAULT_CYCLES;
    int poweroff = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "poweroff") == 0) {
            poweroff = 1;
        } else {
            char *end;
            unsigned long n = strtoul(argv[i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || n == 0 || n > 100000) {
                fprintf(stderr, "usage: refpage_bench [CYCLES (1..100000)] [poweroff]\n");
                return 2;
            }
            cycles = (unsigned)n;
        }
    }

    const char *reason = "";
    int fd = open_refpage(&reason);

    printf("# refpage_bench: %u cycles of (mmap %lu bytes, initialise, touch one byte per 4 KiB page, munmap)\n",
           cycles, MAP_BYTES);
    printf("# under -icount shift=0 with a 1 GHz counter, 1 ns = 1 guest instruction\n");
    uint64_t loop = 1000000;
    printf("bench calibrate loop_insns=%llu ns=%llu\n", (unsigned long long)(2 * loop),
           (unsigned long long)calibrate(loop));

    uint64_t per_cycle[2][N_SIZES] = { { 0 } };
    for (unsigned s = 0; s < N_SIZES; s++) {
        unsigned long size = touch_sizes[s];
        check_cycle(-1, size, "memset");
        uint64_t ns = run(-1, size, cycles);
        per_cycle[0][s] = ns / cycles;
        printf("bench variant=memset touch=%lu cycles=%u ns_total=%llu insns_per_cycle=%llu\n", size, cycles,
               (unsigned long long)ns, (unsigned long long)per_cycle[0][s]);
        if (fd < 0) {
            printf("bench variant=refpage touch=%lu unavailable reason=%s\n", size, reason);
            continue;
        }
        check_cycle(fd, size, "refpage");
        ns = run(fd, size, cycles);
        per_cycle[1][s] = ns / cycles;
        printf("bench variant=refpage touch=%lu cycles=%u ns_total=%llu insns_per_cycle=%llu\n", size, cycles,
               (unsigned long long)ns, (unsigned long long)per_cycle[1][s]);
    }

    printf("# %-8s %14s %14s %12s\n", "touch", "memset", "refpage", "improvement");
    for (unsigned s = 0; s < N_SIZES; s++) {
        if (fd < 0) {
            printf("# %-8lu %14llu %14s %12s\n", touch_sizes[s], (unsigned long long)per_cycle[0][s], "unavailable",
                   "-");
        } else {
            double gain = 100.0 * (1.0 - (double)per_cycle[1][s] / (double)per_cycle[0][s]);
            printf("# %-8lu %14llu %14llu %11.1f%%\n", touch_sizes[s], (unsigned long long)per_cycle[0][s],
                   (unsigned long long)per_cycle[1][s], gain);
        }
    }
    printf("bench done\n");
    if (fd >= 0)
        close(fd);

    if (poweroff) {
        fflush(NULL);
        sync();
        reboot(RB_POWER_OFF);
        perror("reboot");
    }
    return 0;
}
