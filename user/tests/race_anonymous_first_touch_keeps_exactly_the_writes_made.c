/*
 * race_anonymous_first_touch_keeps_exactly_the_writes_made: threads whose
 * first reads and writes of fresh private anonymous pages race (a read
 * mapping the zero page while another thread's write replaces it with a
 * zeroed page, two writes each zero-filling) leave every page with exactly
 * the writes made: each thread's own words hold its last values, every
 * other byte is zero. A read of another thread's word sees zero or a value
 * that thread wrote, never anything else.
 *
 * Four threads start together on 128 fresh pages, each from a different
 * page: half the time a read first (its own word: zero; a neighbour's: zero
 * or the neighbour's), then a write of its own word (and of a second word
 * at the end of the page), sched_yield() at random. Sixteen rounds, a fresh
 * mapping each.
 */
#include "race_test.h"

#define THREADS 4
#define PAGES 128
#define ROUNDS 16

struct shared {
    volatile uint64_t *map;
    int round;
};

/* What thread id writes into page p in round r: never zero. */
static uint64_t value(int id, int page, int r)
{
    return ((uint64_t)(id + 1) << 48) | ((uint64_t)r << 24) | (uint64_t)(page + 1);
}

#define WORDS (RACE_PAGE / 8)
/* Thread id's two words: word 8 * id near the start and one near the end. */
static unsigned first_word(int id) { return 8u * (unsigned)id; }
static unsigned last_word(int id) { return (unsigned)(WORDS - 1 - 8 * id); }

static void worker(int id, void *arg)
{
    struct shared *s = arg;
    uint64_t rng = race_seed(id, s->round);
    for (int k = 0; k < PAGES; k++) {
        int page = race_page(id, THREADS, k, PAGES);
        volatile uint64_t *p = s->map + page * WORDS;
        if (race_rand(&rng) & 1) {
            uint64_t own = p[first_word(id)];
            CHECK(own == 0, "round %d thread %d page %d: its word reads %#llx before it wrote it, want 0",
                  s->round, id, page, (unsigned long long)own);
            int other = (id + 1 + (int)(race_rand(&rng) % (THREADS - 1))) % THREADS;
            uint64_t seen = p[first_word(other)];
            CHECK(seen == 0 || seen == value(other, page, s->round),
                  "round %d thread %d page %d: thread %d's word reads %#llx, want 0 or %#llx", s->round, id,
                  page, other, (unsigned long long)seen, (unsigned long long)value(other, page, s->round));
            race_maybe_yield(&rng, 3);
        }
        p[first_word(id)] = value(id, page, s->round);
        race_maybe_yield(&rng, 6);
        p[last_word(id)] = ~value(id, page, s->round);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int round = 0; round < ROUNDS; round++) {
        void *m = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(m != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
        struct shared s = {.map = m, .round = round};
        race_run(THREADS, worker, &s);
        for (int page = 0; page < PAGES; page++) {
            volatile uint64_t *p = s.map + page * WORDS;
            for (unsigned w = 0; w < WORDS; w++) {
                uint64_t want = 0;
                for (int t = 0; t < THREADS; t++) {
                    if (w == first_word(t))
                        want = value(t, page, round);
                    if (w == last_word(t))
                        want = ~value(t, page, round);
                }
                CHECK(p[w] == want, "round %d page %d word %u is %#llx, want %#llx (a write lost, or one "
                      "made where none was)", round, page, w, (unsigned long long)p[w], (unsigned long long)want);
            }
        }
        CHECK(munmap(m, PAGES * RACE_PAGE) == 0, "munmap: %s", strerror(errno));
    }
    printf("race_anonymous_first_touch_keeps_exactly_the_writes_made: %d rounds of %d threads on %d fresh "
           "pages: every page holds exactly the writes made\n", ROUNDS, THREADS, PAGES);
    return 0;
}
