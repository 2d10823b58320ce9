/*
 * race_mprotect_flips_keep_every_write_that_returned: while one thread
 * flips a range between PROT_READ and PROT_READ | PROT_WRITE, the threads
 * writing there in a loop either complete a store or take SIGSEGV
 * (SEGV_ACCERR) and retry it; every store that completed is in memory at
 * the end, and none lands while the range is read-only. A store through a
 * writable entry the flip should have removed (or a write fault that mapped a page the flip had just write-protected
 * as writable, or a copy that dropped a completed store) breaks that.
 *
 * Three writers each own one word in each of 16 pages (private anonymous,
 * written once before the race so every page is present) and store
 * increasing values into them in turn, noting after each store that
 * returned what it stored; a SIGSEGV jumps back (sigsetjmp) and the store
 * is made again. The flipper calls mprotect 200 times (and on until some
 * writer has retried at least once), sched_yield() after each; writers
 * yield at random. After each mprotect(PROT_READ), a store of the
 * flipper's own must fault, and no writer's word may change across its
 * sched_yield(). At the end, with the range
 * writable again, each word holds exactly the last value its writer noted.
 */
#include "race_test.h"

#define WRITERS 3
#define PAGES 16
#define FLIPS 200
#define MAX_FLIPS 20000
#define WORDS (RACE_PAGE / 8)

struct shared {
    volatile uint64_t *map;
    atomic_int stop;
    atomic_long retries;
    uint64_t last[WRITERS][PAGES]; /* the last value each writer's store returned from */
    long flips;
};

static unsigned word_of(int w, int page)
{
    return (unsigned)(w * 16 + page % 7);
}

static void writer(struct shared *s, int w)
{
    uint64_t rng = race_seed(w, 0);
    volatile long faults = 0;
    race_arm(s->map, PAGES * RACE_PAGE);
    for (uint64_t n = 1; !atomic_load(&s->stop); n++) {
        for (int page = 0; page < PAGES; page++) {
            volatile uint64_t *at = s->map + page * WORDS + word_of(w, page);
            uint64_t v = ((uint64_t)(w + 1) << 56) | (n << 8) | (uint64_t)page;
            RACE_RETRY(faults)
            {
                *at = v;
            }
            s->last[w][page] = v;
            if (faults) {
                atomic_fetch_add(&s->retries, faults);
                faults = 0;
            }
        }
        race_maybe_yield(&rng, 2);
    }
    race_armed = 0;
}

static void flipper(struct shared *s)
{
    long i;
    race_arm(s->map, PAGES * RACE_PAGE);
    for (i = 0; i < MAX_FLIPS && (i < FLIPS || atomic_load(&s->retries) == 0); i++) {
        int prot = (i & 1) ? PROT_READ | PROT_WRITE : PROT_READ;
        volatile uint64_t *own = s->map + (i / 2 % PAGES) * WORDS + WORDS - 1;
        if (!(prot & PROT_WRITE))
            *own = (uint64_t)i; /* writable until the flip: its translation may be cached */
        CHECK(mprotect((void *)s->map, PAGES * RACE_PAGE, prot) == 0, "mprotect: %s", strerror(errno));
        if (prot & PROT_WRITE) {
            sched_yield();
            continue;
        }
        /* Read-only now, on every CPU: the flipper's own store faults at
         * once (no writable translation left on this CPU either)... */
        volatile int refused = 0;
        RACE_RETRY(refused)
        {
            if (!refused)
                *own = (uint64_t)i;
        }
        CHECK(refused == 1, "flip %ld: a store right after mprotect(PROT_READ) returned did not fault", i);
        /* ... and no writer's store lands until the next flip, whoever
         * runs meanwhile. */
        static uint64_t before[WRITERS][PAGES];
        for (int w = 0; w < WRITERS; w++)
            for (int page = 0; page < PAGES; page++)
                before[w][page] = s->map[page * WORDS + word_of(w, page)];
        sched_yield();
        sched_yield();
        for (int w = 0; w < WRITERS; w++)
            for (int page = 0; page < PAGES; page++) {
                uint64_t now = s->map[page * WORDS + word_of(w, page)];
                CHECK(now == before[w][page], "flip %ld: writer %d's word in page %d changed from %#llx to %#llx "
                      "while the range was read-only (a writable translation outlived mprotect)", i, w, page,
                      (unsigned long long)before[w][page], (unsigned long long)now);
            }
    }
    CHECK(atomic_load(&s->retries) > 0, "%ld flips and no store took SIGSEGV: the writers never met a read-only "
          "window", i);
    CHECK(mprotect((void *)s->map, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect: %s", strerror(errno));
    race_armed = 0;
    s->flips = i;
    atomic_store(&s->stop, 1);
}

static void worker(int id, void *arg)
{
    if (id == WRITERS)
        flipper(arg);
    else
        writer(arg, id);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    race_catch_segv();
    static struct shared s;
    void *m = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
    s.map = m;
    for (int page = 0; page < PAGES; page++)
        s.map[page * WORDS + WORDS - 1] = 1;
    race_run(WRITERS + 1, worker, &s);
    long retries = atomic_load(&s.retries);
    for (int w = 0; w < WRITERS; w++)
        for (int page = 0; page < PAGES; page++) {
            uint64_t seen = s.map[page * WORDS + word_of(w, page)];
            CHECK(seen == s.last[w][page], "writer %d page %d: the word holds %#llx, but the last store that "
                  "returned wrote %#llx", w, page, (unsigned long long)seen, (unsigned long long)s.last[w][page]);
        }
    printf("race_mprotect_flips_keep_every_write_that_returned: %ld flips, %ld stores retried after SIGSEGV; "
           "every store that returned is in memory\n", s.flips, retries);
    CHECK(munmap(m, PAGES * RACE_PAGE) == 0, "munmap: %s", strerror(errno));
    return 0;
}
