/*
 * race_populate_write_beside_reading_threads_makes_every_page_private:
 * MADV_POPULATE_WRITE over fresh private anonymous pages, while other
 * threads of the process read the same pages on other CPUs, leaves every
 * page of the range a private page of the process (smaps Anonymous: the
 * whole range), as on Linux, whose __get_user_pages faults a page again
 * until follow_page finds it writable. A populate fault that lost its race
 * to a reader's fault (which mapped the zero page there) must not move on
 * to the next page with the zero page left in place: the program's first
 * write would then fault after all, and a locked (mlock) page would not
 * be its own.
 *
 * Three readers sweep the range from the end down, each from its own
 * starting point, while the populate walks it from the start up: each
 * meets the populate once a round, at a page both fault on at once.
 */
#include "race_test.h"
#include "smp_test.h"
#include "proc_test.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define READERS 3
#define PAGES 64
#define ROUNDS 150
#define ROUNDS_FEW_CPUS 10

static volatile uint64_t *map;
static atomic_int go, stop;
static int cpus;

static void *reader(void *arg)
{
    long id = (long)arg;
    if (cpus > id + 1)
        CHECK(pin_to((int)id + 1) == 0, "sched_setaffinity(CPU %ld) failed", id + 1);
    for (int seen = 0; !atomic_load(&stop);) {
        int round = atomic_load(&go);
        if (round == seen) {
            if (cpus < 2)
                sched_yield();
            continue;
        }
        seen = round;
        int start = (int)((id * PAGES / READERS + round * 7) % PAGES);
        for (int k = 0; k < PAGES; k++) {
            int page = (start - k + PAGES) % PAGES;
            (void)map[(size_t)page * (RACE_PAGE / 8)];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    cpus = test_cpus(argc, argv);
    if (cpus > 0)
        CHECK(pin_to(0) == 0, "sched_setaffinity(CPU 0) failed");
    size_t len = PAGES * RACE_PAGE;
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
    pthread_t t[READERS];
    for (long i = 0; i < READERS; i++)
        CHECK(pthread_create(&t[i], NULL, reader, (void *)i) == 0, "pthread_create");
    int rounds = cpus >= 4 ? ROUNDS : ROUNDS_FEW_CPUS;
    for (int round = 1; round <= rounds; round++) {
        /* The range fresh again: no page mapped (the readers are between
         * sweeps or sweeping; what they map now goes too). */
        CHECK(madvise((void *)map, len, MADV_DONTNEED) == 0, "MADV_DONTNEED: %s", strerror(errno));
        atomic_store(&go, round);
        CHECK(madvise((void *)map, len, MADV_POPULATE_WRITE) == 0, "MADV_POPULATE_WRITE: %s", strerror(errno));
        long anon = smaps_field((const void *)map, "Anonymous:");
        CHECK(anon == (long)(len / 1024),
              "round %d: after MADV_POPULATE_WRITE of %d pages beside %d reading threads, smaps Anonymous is %ld kB, "
              "not %zu: a page left with the zero page a reader mapped",
              round, PAGES, READERS, anon, len / 1024);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < READERS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join");
    printf("race_populate_write_beside_reading_threads_makes_every_page_private: %d rounds of %d pages\n", rounds,
           PAGES);
    return 0;
}
