/*
 * race_shared_anonymous_faults_map_one_page_for_all: threads of two
 * processes that fault the same fresh MAP_SHARED | MAP_ANONYMOUS pages at
 * once all map the one page of each offset: every write made by any of
 * them is seen by both processes at the end, and a read of another
 * writer's word sees zero or that writer's value (two racing faults must
 * not each allocate a page for the offset).
 *
 * Each round: a fresh 64-page shared mapping, fork; two threads in the
 * parent and two in the child start together (a shared counter) and go
 * around the pages from different places: read of their word (zero), of
 * another writer's (zero or its value), their write, sched_yield() at
 * random. When all four are done, the child checks every page and exits,
 * then the parent checks again. Eight rounds.
 */
#include <sys/wait.h>

#include "race_test.h"

#define WRITERS 4 /* two threads in each process */
#define PAGES 64
#define ROUNDS 8
#define WORDS (RACE_PAGE / 8)

struct control {
    atomic_int ready; /* processes at the start line */
    atomic_int done;  /* writers finished */
};

struct shared {
    volatile uint64_t *map;
    struct control *ctl;
    int first_id; /* writer id of this process's thread 0 */
    int round;
};

static uint64_t value(int w, int page, int r)
{
    return ((uint64_t)(w + 1) << 48) | ((uint64_t)(r + 1) << 24) | (uint64_t)(page + 1);
}

static unsigned word_of(int w)
{
    return 64u * (unsigned)w + 3;
}

static void worker(int id, void *arg)
{
    struct shared *s = arg;
    int w = s->first_id + id;
    uint64_t rng = race_seed(w, s->round);
    for (int k = 0; k < PAGES; k++) {
        int page = race_page(w, WRITERS, k, PAGES);
        volatile uint64_t *p = s->map + page * WORDS;
        uint64_t own = p[word_of(w)];
        CHECK(own == 0, "round %d writer %d page %d: its word is %#llx before it wrote, want 0", s->round, w, page,
              (unsigned long long)own);
        int other = (w + 1 + (int)(race_rand(&rng) % (WRITERS - 1))) % WRITERS;
        uint64_t seen = p[word_of(other)];
        CHECK(seen == 0 || seen == value(other, page, s->round),
              "round %d writer %d page %d: writer %d's word is %#llx, want 0 or %#llx", s->round, w, page, other,
              (unsigned long long)seen, (unsigned long long)value(other, page, s->round));
        race_maybe_yield(&rng, 3);
        p[word_of(w)] = value(w, page, s->round);
        race_maybe_yield(&rng, 5);
    }
    atomic_fetch_add(&s->ctl->done, 1);
}

/* Every page holds the four writers' words and zeros elsewhere. */
static void check_pages(const char *who, volatile uint64_t *map, int round)
{
    for (int page = 0; page < PAGES; page++) {
        volatile uint64_t *p = map + page * WORDS;
        for (unsigned i = 0; i < WORDS; i++) {
            uint64_t want = 0;
            for (int w = 0; w < WRITERS; w++)
                if (i == word_of(w))
                    want = value(w, page, round);
            CHECK(p[i] == want, "%s, round %d: page %d word %u is %#llx, want %#llx (the processes do not share "
                  "one page there)", who, round, page, i, (unsigned long long)p[i], (unsigned long long)want);
        }
    }
}

static void run_side(struct shared *s)
{
    atomic_fetch_add(&s->ctl->ready, 1);
    while (atomic_load(&s->ctl->ready) < 2)
        sched_yield();
    race_run(2, worker, s);
    while (atomic_load(&s->ctl->done) < WRITERS)
        sched_yield();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct control *ctl = mmap(NULL, RACE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(ctl != MAP_FAILED, "mmap of the control page: %s", strerror(errno));
    for (int round = 0; round < ROUNDS; round++) {
        atomic_store(&ctl->ready, 0);
        atomic_store(&ctl->done, 0);
        void *m = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK(m != MAP_FAILED, "mmap MAP_SHARED: errno %d (%s)", errno, strerror(errno));
        struct shared s = {.map = m, .ctl = ctl, .round = round};
        pid_t child = fork();
        CHECK(child >= 0, "fork: %s", strerror(errno));
        if (child == 0) {
            s.first_id = 2;
            run_side(&s);
            check_pages("the child", s.map, round);
            _exit(0);
        }
        s.first_id = 0;
        run_side(&s);
        int status;
        CHECK(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d: the child ended with status %#x", round,
              status);
        check_pages("the parent", s.map, round);
        CHECK(munmap(m, PAGES * RACE_PAGE) == 0, "munmap: %s", strerror(errno));
    }
    printf("race_shared_anonymous_faults_map_one_page_for_all: %d rounds of 2 x 2 threads in two processes on %d "
           "fresh shared pages: both see every write\n", ROUNDS, PAGES);
    return 0;
}
