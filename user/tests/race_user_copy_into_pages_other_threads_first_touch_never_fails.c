/*
 * race_user_copy_into_pages_other_threads_first_touch_never_fails: a
 * system call that copies into fresh private pages (pread from a memfd
 * into an untouched buffer) while other threads of the process first-touch
 * the same pages at EL0 must copy everything and return the full count,
 * never EFAULT: the buffer is valid memory all along, as on Linux, whose
 * uaccess faults are retried for as long as they are resolved.
 *
 * The kernel's copy faults on each page of the buffer in turn, byte by
 * byte in ascending order. A reader thread watches a byte near the end of
 * the page before and, the moment the copy has written it, reads the next
 * page (mapping the zero page there, beside the copy's own fault on it)
 * and writes it; two writer threads write that page the moment the
 * reader's read returned (each replacing the zero page by a frame of its
 * own, beside the copy's next fault). The copy's fault can then lose its race twice in a row on one
 * byte: each time another fault changed the entry first, which is
 * progress, not a stale TLB entry, and must not count as the repeated
 * spurious fault after which a kernel access gives up with EFAULT.
 *
 * Four CPUs wanted (the copy, the reader and the writers each on its
 * own); with fewer the threads interleave and the race is rarer.
 */
#include "race_test.h"
#include "smp_test.h"

#define PAGES 64
/* Rounds with four CPUs or more, as many as fit in BUDGET_NS (a loaded
 * host runs the spinning vCPUs slowly); a few with fewer, where the
 * spinning threads take turns with the copy's thread. */
#define ROUNDS 300
#define BUDGET_NS 3000000000ULL
#define ROUNDS_FEW_CPUS 10
#define LEN ((int)(PAGES * RACE_PAGE))

static volatile unsigned char *buf;
static atomic_int reader_at, stop;
static int cpus;

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7 + i / 4096 + 1) | 1; /* never 0 */
}

static void pin(int cpu)
{
    if (cpus > cpu)
        CHECK(pin_to(cpu) == 0, "sched_setaffinity(CPU %d) failed", cpu);
}

/* The reader: page k read when the copy is `lead` bytes short of its end
 * (a lead that varies, so that the read meets the copy's fault on page k
 * at every point of it), then written at once. */
static void *reader(void *arg)
{
    (void)arg;
    pin(1);
    uint64_t rng = race_seed(1, 0);
    for (int k = 1; k < PAGES && !atomic_load(&stop); k++) {
        size_t lead = 1 + race_rand(&rng) % 384;
        size_t before = (size_t)k * RACE_PAGE - lead;
        while (buf[before] != pattern(before) && !atomic_load(&stop))
            ;
        (void)buf[(size_t)k * RACE_PAGE + 64];
        atomic_store(&reader_at, k);
        size_t at = (size_t)k * RACE_PAGE + 2048;
        buf[at] = pattern(at);
    }
    return NULL;
}

/* The writers: page k written (with the byte the copy writes there) as
 * soon as the reader's read of it returned. */
static void *writer(void *arg)
{
    long id = (long)arg;
    pin((int)id);
    for (int k = 1; k < PAGES && !atomic_load(&stop); k++) {
        while (atomic_load(&reader_at) < k && !atomic_load(&stop))
            ;
        size_t at = (size_t)k * RACE_PAGE + 2048 + 8 * id;
        buf[at] = pattern(at);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    cpus = test_cpus(argc, argv);
    int fd = (int)syscall(SYS_memfd_create, "race_copy", 0);
    CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
    static unsigned char src[LEN];
    for (size_t i = 0; i < LEN; i++)
        src[i] = pattern(i);
    CHECK(write(fd, src, LEN) == LEN, "write to the memfd: %s", strerror(errno));
    pin(0);
    int rounds = cpus >= 4 ? ROUNDS : ROUNDS_FEW_CPUS;
    uint64_t t0 = monotonic_ns();
    int round = 0;
    for (; round < rounds && monotonic_ns() - t0 < BUDGET_NS; round++) {
        buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(buf != MAP_FAILED, "mmap: %s", strerror(errno));
        atomic_store(&reader_at, 0);
        atomic_store(&stop, 0);
        pthread_t r, w[2];
        CHECK(pthread_create(&r, NULL, reader, NULL) == 0, "pthread_create");
        for (long i = 0; i < 2; i++)
            CHECK(pthread_create(&w[i], NULL, writer, (void *)(i + 2)) == 0, "pthread_create");
        /* Both spinning at EL0 before the copy starts. */
        usleep(2000);
        ssize_t n = pread(fd, (void *)buf, LEN, 0);
        int e = errno;
        atomic_store(&stop, 1);
        CHECK(pthread_join(r, NULL) == 0 && pthread_join(w[0], NULL) == 0 && pthread_join(w[1], NULL) == 0,
              "pthread_join");
        CHECK(n == LEN,
              "round %d: pread into %d fresh pages that other threads were first-touching returned %zd (%s), not %d: "
              "a kernel copy into valid memory failed",
              round, PAGES, n, n < 0 ? strerror(e) : "short", LEN);
        for (size_t i = 0; i < LEN; i++)
            CHECK(buf[i] == pattern(i), "round %d: byte %zu reads %#x, not %#x", round, i, buf[i], pattern(i));
        CHECK(munmap((void *)buf, LEN) == 0, "munmap: %s", strerror(errno));
    }
    printf("race_user_copy_into_pages_other_threads_first_touch_never_fails: %d rounds of %d pages on %d CPUs\n",
           round, PAGES, cpus);
    return 0;
}
