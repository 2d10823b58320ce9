/*
 * race_mte_first_touch_sees_tag_zero_and_keeps_every_stg: threads racing
 * to touch fresh PROT_MTE anonymous pages first see allocation tag 0 in
 * every granule nobody has tagged yet, and the tags each thread sets with
 * STG on its own granules (and the data it stores through pointers
 * carrying them, with synchronous tag checks on) all survive the race:
 * a page zero-filled twice, or a zero page replaced after a thread's STG
 * went to another copy, would lose one.
 *
 * Four threads start together on 64 fresh pages, each from a different
 * page. Thread t owns granules 16t to 16t + 15 of each page: an LDG of
 * one of them first (tag 0: only t sets them), an LDG of a neighbour's
 * (0 or the neighbour's tag), STG of its 16 granules with its tag, a
 * store through the tagged pointer, LDG read-back; sched_yield() at random
 * between steps. At the end every owned granule has its owner's tag and
 * word, the other 192 granules of each page tag 0 and zeros. Eight rounds.
 */
#include "race_test.h"

#define THREADS 4
#define PAGES 64
#define ROUNDS 8
#define OWN 16 /* granules per thread and page */
#define GRANULES (RACE_PAGE / MTE_GRANULE)

struct shared {
    volatile unsigned char *map;
    int round;
};

static unsigned thread_tag(int id, int page, int r)
{
    return (unsigned)((id * 5 + page + r) % 15) + 1;
}

static uint64_t word_of(int id, int page, int r)
{
    return 0x5a00000000000000ULL | ((uint64_t)(id + 1) << 32) | ((uint64_t)r << 16) | (uint64_t)page;
}

static volatile unsigned char *granule(volatile unsigned char *page, unsigned g)
{
    return page + g * MTE_GRANULE;
}

static void worker(int id, void *arg)
{
    struct shared *s = arg;
    uint64_t rng = race_seed(id, s->round);
    for (int k = 0; k < PAGES; k++) {
        int page = race_page(id, THREADS, k, PAGES);
        volatile unsigned char *p = s->map + page * RACE_PAGE;
        unsigned tag = thread_tag(id, page, s->round);
        unsigned g = id * OWN + (unsigned)(race_rand(&rng) % OWN);
        unsigned seen = mte_ldg(granule(p, g));
        CHECK(seen == 0, "round %d thread %d page %d: its granule %u has tag %u before its STG, want 0",
              s->round, id, page, g, seen);
        int other = (id + 1 + (int)(race_rand(&rng) % (THREADS - 1))) % THREADS;
        unsigned og = other * OWN + (unsigned)(race_rand(&rng) % OWN);
        seen = mte_ldg(granule(p, og));
        CHECK(seen == 0 || seen == thread_tag(other, page, s->round),
              "round %d thread %d page %d: thread %d's granule %u has tag %u, want 0 or %u", s->round, id, page,
              other, og, seen, thread_tag(other, page, s->round));
        race_maybe_yield(&rng, 3);
        for (unsigned i = 0; i < OWN; i++)
            mte_stg(granule(p, id * OWN + i), tag);
        race_maybe_yield(&rng, 3);
        *(volatile uint64_t *)mte_tagged(granule(p, id * OWN), tag) = word_of(id, page, s->round);
        for (unsigned i = 0; i < OWN; i++) {
            seen = mte_ldg(granule(p, id * OWN + i));
            CHECK(seen == tag, "round %d thread %d page %d: granule %u reads tag %u right after STG of %u",
                  s->round, id, page, id * OWN + i, seen, tag);
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("race_mte_first_touch_sees_tag_zero_and_keeps_every_stg");
    CHECK(prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_SYNC | (0xfffeUL << PR_MTE_TAG_SHIFT),
                0, 0, 0) == 0,
          "prctl(PR_SET_TAGGED_ADDR_CTRL, sync): errno %d (%s)", errno, strerror(errno));
    for (int round = 0; round < ROUNDS; round++) {
        void *m = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(m != MAP_FAILED, "mmap PROT_MTE: errno %d (%s)", errno, strerror(errno));
        struct shared s = {.map = m, .round = round};
        race_run(THREADS, worker, &s);
        for (int page = 0; page < PAGES; page++) {
            volatile unsigned char *p = s.map + page * RACE_PAGE;
            for (unsigned g = 0; g < GRANULES; g++) {
                int owner = g < THREADS * OWN ? (int)(g / OWN) : -1;
                unsigned want = owner >= 0 ? thread_tag(owner, page, round) : 0;
                unsigned seen = mte_ldg(granule(p, g));
                CHECK(seen == want, "round %d page %d granule %u has tag %u, want %u (%s)", round, page, g, seen,
                      want, owner >= 0 ? "its owner's STG was lost" : "nobody set it");
                volatile uint64_t *d = mte_tagged(granule(p, g), want);
                uint64_t w0 = owner >= 0 && g % OWN == 0 ? word_of(owner, page, round) : 0;
                CHECK(d[0] == w0 && d[1] == 0, "round %d page %d granule %u holds %#llx %#llx, want %#llx 0", round,
                      page, g, (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)w0);
            }
        }
        CHECK(munmap(m, PAGES * RACE_PAGE) == 0, "munmap: %s", strerror(errno));
    }
    printf("race_mte_first_touch_sees_tag_zero_and_keeps_every_stg: %d rounds of %d threads on %d fresh PROT_MTE "
           "pages: untagged granules read tag 0, every STG and tagged store kept\n", ROUNDS, THREADS, PAGES);
    return 0;
}
