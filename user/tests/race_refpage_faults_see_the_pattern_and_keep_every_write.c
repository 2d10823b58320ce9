/*
 * race_refpage_faults_see_the_pattern_and_keep_every_write: threads that
 * fault the same pages of one MAP_PRIVATE refpage mapping at once all read
 * the pattern, and the private copies their writes make keep every write:
 * each thread writes its own byte pattern into its own slot of every page,
 * and when all are done each page holds all of the slots and the refpage
 * pattern everywhere else (two writers racing to copy one page must not
 * leave one copy with only the other's writes).
 *
 * Four threads start together on 64 fresh pages, each from a different
 * page and around the ring: a read of its slot (still the pattern: only it
 * writes there), a read of the common part, its writes, a read back;
 * sched_yield() at random between steps. Eight rounds, alternating a
 * 16-byte pattern (filled) and a 256-byte one (copied), in PROT_MTE
 * mappings every other pair of rounds when the CPU has MTE.
 */
#include "race_test.h"

#define THREADS 4
#define PAGES 64
#define ROUNDS 8
#define SLOT 512 /* thread t writes bytes [t * SLOT, (t + 1) * SLOT) of each page */
#define COMMON (THREADS * SLOT)

struct shared {
    volatile unsigned char *map;
    const unsigned char *content;
    unsigned size;
    int round;
};

static unsigned char content16[16] __attribute__((aligned(16)));
static unsigned char content256[256] __attribute__((aligned(256)));

/* Thread id's byte i of its slot in round r. */
static unsigned char mine(int id, int r, unsigned i)
{
    return (unsigned char)(0x40 * (id + 1) + 7 * i + r) | 1;
}

static void worker(int id, void *arg)
{
    struct shared *s = arg;
    uint64_t rng = race_seed(id, s->round);
    for (int k = 0; k < PAGES; k++) {
        int page = race_page(id, THREADS, k, PAGES);
        volatile unsigned char *p = s->map + page * RACE_PAGE;
        unsigned at = (unsigned)(race_rand(&rng) % SLOT);
        CHECK(p[id * SLOT + at] == s->content[(id * SLOT + at) % s->size],
              "round %d thread %d page %d: byte %u of its slot before its writes is 0x%02x, want the "
              "pattern's 0x%02x", s->round, id, page, at, p[id * SLOT + at],
              s->content[(id * SLOT + at) % s->size]);
        unsigned c = COMMON + (unsigned)(race_rand(&rng) % (RACE_PAGE - COMMON));
        CHECK(p[c] == s->content[c % s->size], "round %d thread %d page %d: common byte %u is 0x%02x, want 0x%02x",
              s->round, id, page, c, p[c], s->content[c % s->size]);
        race_maybe_yield(&rng, 4);
        for (unsigned i = 0; i < SLOT; i++)
            p[id * SLOT + i] = mine(id, s->round, i);
        race_maybe_yield(&rng, 4);
        for (unsigned i = 0; i < SLOT; i++)
            CHECK(p[id * SLOT + i] == mine(id, s->round, i),
                  "round %d thread %d page %d: its byte %u reads 0x%02x right after it wrote 0x%02x", s->round,
                  id, page, i, p[id * SLOT + i], mine(id, s->round, i));
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (unsigned i = 0; i < sizeof(content16); i++)
        content16[i] = (unsigned char)(0xa0 + i);
    for (unsigned i = 0; i < sizeof(content256); i++)
        content256[i] = (unsigned char)(i * 13 + 5);
    int mte = mte_supported();
    for (int round = 0; round < ROUNDS; round++) {
        struct shared s = {.round = round};
        s.content = (round & 1) ? content256 : content16;
        s.size = (round & 1) ? sizeof(content256) : sizeof(content16);
        int tagged = mte && (round & 2);
        int fd = refpage_create(s.content, s.size, 0);
        CHECK(fd >= 0, "refpage_create(%u bytes): errno %d (%s)", s.size, errno, strerror(errno));
        void *m = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE | (tagged ? PROT_MTE : 0), MAP_PRIVATE, fd, 0);
        CHECK(m != MAP_FAILED, "mmap of the refpage: errno %d (%s)", errno, strerror(errno));
        s.map = m;
        race_run(THREADS, worker, &s);
        for (int page = 0; page < PAGES; page++) {
            volatile unsigned char *p = s.map + page * RACE_PAGE;
            for (int t = 0; t < THREADS; t++)
                for (unsigned i = 0; i < SLOT; i++)
                    CHECK(p[t * SLOT + i] == mine(t, round, i),
                          "round %d page %d: thread %d's byte %u is 0x%02x, want 0x%02x: a racing copy lost its write",
                          round, page, t, i, p[t * SLOT + i], mine(t, round, i));
            CHECK_PATTERN(p + COMMON, RACE_PAGE - COMMON, s.content + COMMON % s.size, s.size,
                          "the common part of a page after the race");
        }
        CHECK(munmap(m, PAGES * RACE_PAGE) == 0, "munmap: %s", strerror(errno));
        close(fd);
    }
    printf("race_refpage_faults_see_the_pattern_and_keep_every_write: %d rounds of %d threads on %d pages "
           "(16- and 256-byte patterns%s): every write kept, the pattern everywhere else\n",
           ROUNDS, THREADS, PAGES, mte ? ", PROT_MTE in half" : "");
    return 0;
}
