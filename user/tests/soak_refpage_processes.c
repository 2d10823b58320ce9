/*
 * soak_refpage_processes: 10,000 cycles of fork, map a reference page
 * (refpage_create descriptors of sizes 1, 16 and 4096, created once by the
 * parent), read and write some of the mapping, exit, wait. Every cycle must
 * leave the machine as it found it:
 * - free RAM (sysinfo) after the last cycle equals free RAM after cycle
 *   1,000, to the page (the runner then checks frames and heap bytes once
 *   the program has ended);
 * - under QEMU's -icount (one counter tick per instruction: `make run
 *   ICOUNT=1`, as tests/run.sh runs it), the instructions per cycle of the
 *   last 1,000 cycles are within 5% of the first 1,000. Without -icount the
 *   times are wall time and only reported. Which it is, a calibration loop
 *   of known length tells.
 *
 *   soak_refpage_processes [CYCLES]   (at least 2000)
 *
 * CYCLES defaults to 10,000 under -icount and to 1,000 otherwise: the
 * runner's EL0 test boots run without -icount, where only the memory check
 * means anything (free RAM after the last cycle equals free RAM after
 * cycle 500 then) and a slow host must not turn into a time-limit failure:
 * with four CPUs a cycle took 3 ms of wall time at a host load average of
 * 5, and 2,000 cycles 6.5 s of the 10 s limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define PAGES 8
#define WINDOW 1000

static uint64_t free_ram(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: %s", strerror(errno));
    return (uint64_t)si.freeram * si.mem_unit;
}

/* The child's work: map one descriptor, read every page, write two. */
static void cycle_child(int fd, unsigned size, unsigned char first_byte)
{
    volatile unsigned char *m = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        _exit(10);
    unsigned sum = 0;
    for (unsigned i = 0; i < PAGES; i++)
        sum += m[i * PAGE];
    if (sum != PAGES * first_byte)
        _exit(11);
    m[0] = 0x5a;
    m[3 * PAGE + size / 2] = 0xa5;
    if (m[0] != 0x5a || m[PAGE] != first_byte)
        _exit(12);
    _exit(0);
}

int main(int argc, char **argv)
{
    uint64_t cal = icount_calibration_ns();
    int icount = icount_calibrated(cal);
    unsigned long cycles = argc > 1 ? strtoul(argv[1], NULL, 10) : icount ? 10000 : WINDOW;
    /* The first and the last `window` cycles are compared: WINDOW of them,
     * half as many in the default run without -icount. */
    unsigned long window = argc > 1 || icount ? WINDOW : WINDOW / 2;
    CHECK(cycles >= 2 * window, "at least %lu cycles", 2 * window);

    static const unsigned sizes[3] = {1, 16, 4096};
    int fds[3];
    static unsigned char content[4096] __attribute__((aligned(4096))); /* size-aligned, as refpage_create wants */
    for (unsigned i = 0; i < sizeof content; i++)
        content[i] = (unsigned char)(i * 7 + 3);
    for (int k = 0; k < 3; k++) {
        fds[k] = refpage_create(content, sizes[k], 0);
        CHECK(fds[k] >= 0, "refpage_create(size %u): %s", sizes[k], strerror(errno));
    }

    uint64_t window_ns[2] = {0, 0}, ram_after_first = 0;
    for (unsigned long c = 0; c < cycles; c++) {
        int k = c % 3;
        uint64_t t0 = monotonic_ns();
        pid_t pid = fork();
        CHECK(pid >= 0, "cycle %lu: fork: %s", c, strerror(errno));
        if (pid == 0)
            cycle_child(fds[k], sizes[k], content[0]);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "cycle %lu: waitpid: %s", c, strerror(errno));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cycle %lu (size %u): child status %#x", c, sizes[k], status);
        uint64_t t = monotonic_ns() - t0;
        if (c < window)
            window_ns[0] += t;
        else if (c >= cycles - window)
            window_ns[1] += t;
        if (c == window - 1)
            ram_after_first = free_ram();
    }
    uint64_t ram_after_last = free_ram();
    printf("soak_refpage_processes: %lu cycles; free RAM %llu bytes after cycle %lu, %llu after the last\n", cycles,
           (unsigned long long)ram_after_first, window, (unsigned long long)ram_after_last);
    CHECK(ram_after_last == ram_after_first, "free RAM went from %llu to %llu bytes",
          (unsigned long long)ram_after_first, (unsigned long long)ram_after_last);

    uint64_t first = window_ns[0] / window, last = window_ns[1] / window;
    double drift = 100.0 * ((double)last - (double)first) / (double)first;
    if (icount) {
        printf("soak_refpage_processes: instructions per cycle over %lu cycles: first %lu cycles %llu, last %lu cycles %llu "
               "(%+.2f%%)\n",
               cycles, window, (unsigned long long)first, window, (unsigned long long)last, drift);
        CHECK(drift < 5.0 && drift > -5.0, "the last %lu cycles cost %+.2f%% of the first", window, drift);
    } else {
        printf("soak_refpage_processes: not under -icount (calibration: %llu ns for 2,000,000 instructions): "
               "ns per cycle %llu first, %llu last, not judged\n",
               (unsigned long long)cal, (unsigned long long)first, (unsigned long long)last);
    }
    for (int k = 0; k < 3; k++)
        close(fds[k]);
    printf("soak_refpage_processes: ok\n");
    return 0;
}
