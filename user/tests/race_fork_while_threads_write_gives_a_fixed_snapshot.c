/*
 * race_fork_while_threads_write_gives_a_fixed_snapshot: fork from one
 * thread while other threads of the process write their pages in a loop
 * gives the child a snapshot that is consistent page by page (each page as
 * it was at one instant) and never changes: the writes the parent's
 * threads make after fork returned never appear in the child. A writable
 * translation left to a writer (an entry not write-protected, a TLB entry
 * not flushed) would put the parent's later stores into the page the
 * child shares.
 *
 * Three writers own 8 private anonymous pages each; pass n stores n into
 * 8 words of each page in ascending order, so a page as it was at one
 * instant reads n ... n, n - 1 ... n - 1. The main thread forks 16 times;
 * each child copies its view of the 24 pages, checks each page, waits
 * until every writer has finished two more passes in the parent, and
 * checks that its view has not changed. At the end the parent's pages
 * hold each writer's last pass.
 */
#include <sys/wait.h>

#include "race_test.h"

#define WRITERS 3
#define OWN 8 /* pages per writer */
#define PAGES (WRITERS * OWN)
#define SPOTS 8 /* words written per page, 64 words apart */
#define FORKS 16
#define WORDS (RACE_PAGE / 8)

struct control {
    atomic_ulong passes[WRITERS]; /* passes each writer has finished */
    atomic_int stop;
};

struct shared {
    volatile uint64_t *map;
    struct control *ctl; /* MAP_SHARED: the children see the passes */
};

static volatile uint64_t *spot(volatile uint64_t *map, int page, int k)
{
    return map + page * WORDS + 64 * k + 1;
}

static void writer(struct shared *s, int w)
{
    uint64_t rng = race_seed(w, 7);
    for (uint64_t n = 1; !atomic_load(&s->ctl->stop); n++) {
        for (int j = 0; j < OWN; j++) {
            for (int k = 0; k < SPOTS; k++)
                *spot(s->map, w * OWN + j, k) = n;
            race_maybe_yield(&rng, 8);
        }
        atomic_store(&s->ctl->passes[w], n);
    }
}

/* The child: its snapshot is consistent per page and does not change. */
static void child(struct shared *s, int f)
{
    static uint64_t snap[PAGES][SPOTS];
    for (int page = 0; page < PAGES; page++)
        for (int k = 0; k < SPOTS; k++)
            snap[page][k] = *spot(s->map, page, k);
    for (int page = 0; page < PAGES; page++)
        for (int k = 1; k < SPOTS; k++)
            CHECK(snap[page][k] <= snap[page][k - 1] && snap[page][0] - snap[page][k] <= 1,
                  "fork %d: the child's page %d reads %llu in word %d after %llu in word 0: not the page as it "
                  "was at one instant", f, page, (unsigned long long)snap[page][k], 64 * k + 1,
                  (unsigned long long)snap[page][0]);
    uint64_t start[WRITERS];
    for (int w = 0; w < WRITERS; w++)
        start[w] = atomic_load(&s->ctl->passes[w]);
    for (int w = 0; w < WRITERS; w++)
        while (atomic_load(&s->ctl->passes[w]) < start[w] + 2)
            sched_yield();
    for (int page = 0; page < PAGES; page++)
        for (int k = 0; k < SPOTS; k++) {
            uint64_t now = *spot(s->map, page, k);
            CHECK(now == snap[page][k], "fork %d: the child's page %d word %d changed from %llu to %llu while "
                  "the parent's threads wrote: their stores reached the child", f, page, 64 * k + 1,
                  (unsigned long long)snap[page][k], (unsigned long long)now);
        }
    _exit(0);
}

static void worker(int id, void *arg)
{
    struct shared *s = arg;
    if (id < WRITERS) {
        writer(s, id);
        return;
    }
    uint64_t rng = race_seed(id, 3);
    for (int f = 0; f < FORKS; f++) {
        race_maybe_yield(&rng, 2);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork %d: %s", f, strerror(errno));
        if (pid == 0)
            child(s, f);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork %d: the child ended with status %#x", f, status);
    }
    atomic_store(&s->ctl->stop, 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct shared s;
    s.ctl = mmap(NULL, RACE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s.ctl != MAP_FAILED, "mmap MAP_SHARED: %s", strerror(errno));
    void *m = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
    s.map = m;
    race_run(WRITERS + 1, worker, &s);
    for (int w = 0; w < WRITERS; w++) {
        uint64_t last = atomic_load(&s.ctl->passes[w]);
        for (int j = 0; j < OWN; j++)
            for (int k = 0; k < SPOTS; k++) {
                uint64_t v = *spot(s.map, w * OWN + j, k);
                CHECK(v == last, "writer %d page %d word %d holds %llu, want its last pass %llu", w, j, 64 * k + 1,
                      (unsigned long long)v, (unsigned long long)last);
            }
    }
    printf("race_fork_while_threads_write_gives_a_fixed_snapshot: %d forks while %d threads wrote (%llu, %llu, "
           "%llu passes): each child's pages consistent and unchanged\n", FORKS, WRITERS,
           (unsigned long long)atomic_load(&s.ctl->passes[0]), (unsigned long long)atomic_load(&s.ctl->passes[1]),
           (unsigned long long)atomic_load(&s.ctl->passes[2]));
    munmap(m, PAGES * RACE_PAGE);
    munmap(s.ctl, RACE_PAGE);
    return 0;
}
