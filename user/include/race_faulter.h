/*
 * race_faulter.h - the faulting threads of the race tests that end a
 * process under them (exit_group, execve): each thread maps fresh memory
 * of every kind the fault path knows, touches each page (reads and
 * writes), checks what it read and unmaps, in a loop that never ends; a
 * counter in shared memory says how far they got.
 */
#ifndef RACE_FAULTER_H
#define RACE_FAULTER_H

#include "race_test.h"

#define FAULTER_PAGES 16

struct faulters {
    atomic_long loops;   /* map/touch/unmap loops finished, all threads */
    int refpage_fd;      /* a refpage of 0x5a bytes, or -1 (not this kernel) */
    int mte;             /* PROT_MTE is offered */
};

/* One loop: 16 pages of the kind `kind` mapped, read, written, unmapped. */
static inline void faulter_loop(struct faulters *f, int kind, uint64_t *rng)
{
    size_t len = FAULTER_PAGES * RACE_PAGE;
    int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;
    unsigned char want = 0;
    switch (kind % 4) {
    case 1:
        flags = MAP_SHARED | MAP_ANONYMOUS;
        break;
    case 2:
        if (f->mte)
            prot |= PROT_MTE;
        break;
    case 3:
        if (f->refpage_fd >= 0) {
            flags = MAP_PRIVATE;
            fd = f->refpage_fd;
            want = 0x5a;
        }
        break;
    }
    volatile unsigned char *p = mmap(NULL, len, prot, flags, fd, 0);
    CHECK(p != MAP_FAILED, "faulter: mmap: errno %d (%s)", errno, strerror(errno));
    for (size_t i = 0; i < FAULTER_PAGES; i++) {
        volatile unsigned char *q = p + i * RACE_PAGE;
        CHECK(q[i * 8] == want, "faulter: page %zu reads 0x%02x, want 0x%02x", i, q[i * 8], want);
        q[i * 8 + 1] = (unsigned char)i;
        race_maybe_yield(rng, 16);
    }
    for (size_t i = 0; i < FAULTER_PAGES; i++)
        CHECK(p[i * RACE_PAGE + i * 8 + 1] == (unsigned char)i, "faulter: page %zu lost its write", i);
    CHECK(munmap((void *)p, len) == 0, "faulter: munmap: %s", strerror(errno));
    atomic_fetch_add(&f->loops, 1);
}

/* The faulters' shared state, in memory that survives fork. */
static inline struct faulters *faulters_new(void)
{
    struct faulters *f = mmap(NULL, RACE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(f != MAP_FAILED, "mmap of the faulters' page: %s", strerror(errno));
    static const unsigned char pattern = 0x5a;
    f->refpage_fd = refpage_create(&pattern, 1, 0);
    f->mte = mte_supported();
    return f;
}

/* Waits (yielding) until the faulters have finished `n` more loops. */
static inline void faulters_wait(struct faulters *f, long n)
{
    long until = atomic_load(&f->loops) + n;
    while (atomic_load(&f->loops) < until)
        sched_yield();
}

struct faulters_start {
    int n;
    void (*fn)(int id, void *arg);
};

static void *faulters_thread(void *p)
{
    struct faulters_start *s = p;
    race_run(s->n, s->fn, NULL);
    return NULL;
}

/*
 * faulters_child(f, n, fn, loops, end): forks a child that starts n
 * threads running fn(id, NULL) (a loop of faulter_loop that may end the
 * process itself), waits until they have finished `loops` more loops and
 * then calls end() in its main thread, or, with end NULL, waits for a
 * faulter to end the process. Returns the child's wait status.
 */
static inline int faulters_child(struct faulters *f, int n, void (*fn)(int id, void *arg), long loops,
                                 void (*end)(void))
{
    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        static struct faulters_start start;
        start = (struct faulters_start){.n = n, .fn = fn};
        pthread_t t;
        CHECK(pthread_create(&t, NULL, faulters_thread, &start) == 0, "pthread_create");
        faulters_wait(f, loops);
        if (end)
            end();
        for (;;)
            pause();
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
    return status;
}

#endif
