/*
 * race_cow_faults_in_parent_and_child_keep_each_its_own_writes: after fork,
 * threads of the parent and threads of the child write the same private
 * pages at once, so that copy-on-write faults race each other: in one
 * process (two threads copying the same page, one copying while another
 * finds itself the last owner and reuses it) and across the two (the
 * other process's copy dropping an owner while this one decides between
 * copy and reuse; in half the rounds the child exits part-way, leaving
 * the parent the last owner of pages its threads are copying). Each
 * process must end with exactly its own threads' writes in the words they
 * wrote and the pre-fork contents everywhere else: a reuse of a page the
 * other process still maps would show the other's values, a copy mapped
 * over a page already made writable would lose writes.
 *
 * Three threads in each process; thread t writes words [8t, 8t + 8) of
 * every page, each value naming the process, the round, the page, the
 * word and the pass (two passes, the second over the first).
 */
#include <sys/wait.h>

#include "race_test.h"

#define THREADS 3
#define PAGES 24
#define WORDS_EACH 8
#define UNTOUCHED 8 /* words after the written ones that nobody writes */
#define ROUNDS 12
#define PASSES 2

struct job {
    volatile uint64_t *map;
    uint64_t who; /* 1 parent, 2 child */
    int round;
    int quit_after; /* child only: _exit(0) after this many pages (0: never) */
};

static uint64_t value(uint64_t who, int round, int page, int word, int pass)
{
    return who << 56 | (uint64_t)round << 40 | (uint64_t)page << 24 | (uint64_t)word << 8 | (uint64_t)pass;
}

static uint64_t original(int round, int page, int word)
{
    return value(0xa, round, page, word, 0);
}

static volatile uint64_t *word_at(volatile uint64_t *map, int page, int word)
{
    return map + (size_t)page * (RACE_PAGE / 8) + word;
}

static void writer(int id, void *arg)
{
    struct job *j = arg;
    uint64_t rng = race_seed(id + (int)j->who * 8, j->round);
    int done = 0;
    for (int pass = 1; pass <= PASSES; pass++)
        for (int k = 0; k < PAGES; k++) {
            int page = race_page(id, THREADS, k, PAGES);
            for (int w = id * WORDS_EACH; w < (id + 1) * WORDS_EACH; w++)
                *word_at(j->map, page, w) = value(j->who, j->round, page, w, pass);
            if (j->quit_after && ++done == j->quit_after)
                _exit(0);
            race_maybe_yield(&rng, 5);
        }
}

/* Every word as this process's threads left it: 0 if so, else exits. */
static void check(struct job *j, const char *who)
{
    for (int page = 0; page < PAGES; page++)
        for (int w = 0; w < THREADS * WORDS_EACH + UNTOUCHED; w++) {
            uint64_t want = w < THREADS * WORDS_EACH ? value(j->who, j->round, page, w, PASSES)
                                                     : original(j->round, page, w);
            uint64_t got = *word_at(j->map, page, w);
            CHECK(got == want,
                  "round %d, %s: page %d word %d reads %#llx, not %#llx (%s): a copy-on-write fault lost a write "
                  "or let the other process's write in",
                  j->round, who, page, w, (unsigned long long)got, (unsigned long long)want,
                  got >> 56 == 1 || got >> 56 == 2 ? (got >> 56 == j->who ? "an earlier pass of ours" : "the other process's")
                                                    : "neither process's last write");
        }
}

int main(void)
{
    for (int round = 0; round < ROUNDS; round++) {
        size_t len = PAGES * RACE_PAGE;
        volatile uint64_t *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
        for (int page = 0; page < PAGES; page++)
            for (int w = 0; w < THREADS * WORDS_EACH + UNTOUCHED; w++)
                *word_at(map, page, w) = original(round, page, w);
        pid_t child = fork();
        CHECK(child >= 0, "fork: %s", strerror(errno));
        if (child == 0) {
            /* Odd rounds: the child's first thread to reach its tenth
             * page ends the child, while everyone still copies. */
            struct job j = {.map = map, .who = 2, .round = round, .quit_after = round % 2 ? 10 : 0};
            race_run(THREADS, writer, &j);
            check(&j, "child");
            _exit(0);
        }
        struct job j = {.map = map, .who = 1, .round = round};
        race_run(THREADS, writer, &j);
        int status;
        CHECK(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d: the child ended with status %#x", round,
              status);
        check(&j, "parent");
        CHECK(munmap((void *)map, len) == 0, "munmap: %s", strerror(errno));
    }
    printf("race_cow_faults_in_parent_and_child_keep_each_its_own_writes: %d rounds, %d threads each side\n", ROUNDS,
           THREADS);
    return 0;
}
