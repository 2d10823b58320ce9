/*
 * fault_scaling - how the cost of a page fault changes when several
 * workers fault at once (issue 15, item 7): the same static binary on this
 * kernel (`make bench`) and on Linux 6.1 (`make bench-linux`), both under
 * QEMU `-smp 4 -icount shift=0,align=off,sleep=off`.
 *
 *   fault_scaling
 *
 * For P = 1, 2 and 4 workers, as processes (fork) and as threads of one
 * process: each worker maps 8 MiB of private anonymous memory, writes one
 * byte per page (2048 zero-fill faults), checks the bytes and unmaps, four
 * times. The workers start together (a barrier) and the time from their
 * release to the last one's end, over the faults taken by all of them, is
 * the figure. Under -icount QEMU runs the vCPUs in turn and the counter
 * advances with every vCPU's instructions, so instructions per fault stay
 * flat when faults scale perfectly, and spinning on a lock shows as extra
 * instructions (docs/bench/results.md, "Fault scaling").
 *
 * Output, one line per measurement, then a last line:
 *
 *   bench scaling mode=processes workers=2 cpus=4 faults=16384 ns_total=N insns_per_fault=M
 *   bench scaling done
 *
 * One untimed run of each mode with 4 workers comes first (what a first
 * fork or thread creation sets up once is not counted).
 *
 * Build: aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -Iuser/include
 */
#include <pthread.h>
#include <sys/wait.h>

#include "bench_time.h"

#define PAGE 4096UL
#define MAP_BYTES (8UL << 20)
#define PAGES (MAP_BYTES / PAGE)
#define ROUNDS 4
#define MAX_WORKERS 4

/* Barriers in memory every worker sees (MAP_SHARED for processes). */
struct sync {
    pthread_barrier_t ready; /* workers set up, the timer not started */
    pthread_barrier_t start; /* the timer started */
    pthread_barrier_t done;  /* every worker's faults taken */
};

/* One worker's faults: ROUNDS x (map, one write per page, check, unmap). */
static void faults(int id)
{
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED, "worker %d: mmap of 8 MiB: %s", id, strerror(errno));
        unsigned char v = (unsigned char)(id * 16 + r + 1);
        for (unsigned long i = 0; i < PAGES; i++)
            *(volatile unsigned char *)(p + i * PAGE) = v;
        for (unsigned long i = 0; i < PAGES; i++)
            CHECK(p[i * PAGE] == v, "worker %d: page %lu holds 0x%02x, not 0x%02x", id, i, p[i * PAGE], v);
        CHECK(munmap(p, MAP_BYTES) == 0, "worker %d: munmap: %s", id, strerror(errno));
    }
}

static void worker(struct sync *s, int id)
{
    pthread_barrier_wait(&s->ready);
    pthread_barrier_wait(&s->start);
    faults(id);
    pthread_barrier_wait(&s->done);
}

struct thread_arg {
    struct sync *s;
    int id;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    worker(a->s, a->id);
    return NULL;
}

static void init_sync(struct sync *s, int workers, int pshared)
{
    pthread_barrierattr_t attr;
    pthread_barrierattr_init(&attr);
    pthread_barrierattr_setpshared(&attr, pshared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE);
    CHECK(pthread_barrier_init(&s->ready, &attr, (unsigned)workers + 1) == 0 &&
              pthread_barrier_init(&s->start, &attr, (unsigned)workers + 1) == 0 &&
              pthread_barrier_init(&s->done, &attr, (unsigned)workers + 1) == 0,
          "pthread_barrier_init");
    pthread_barrierattr_destroy(&attr);
}

/* Runs `workers` workers as processes or threads; the nanoseconds from
 * their release to the end of the last one's faults. */
static uint64_t measure(int processes, int workers)
{
    struct sync *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap of the barriers: %s", strerror(errno));
    init_sync(s, workers, processes);
    pid_t pid[MAX_WORKERS];
    pthread_t tid[MAX_WORKERS];
    struct thread_arg arg[MAX_WORKERS];
    fflush(NULL);
    for (int i = 0; i < workers; i++) {
        if (processes) {
            pid[i] = fork();
            CHECK(pid[i] >= 0, "fork: %s", strerror(errno));
            if (pid[i] == 0) {
                worker(s, i);
                _exit(0);
            }
        } else {
            arg[i] = (struct thread_arg){.s = s, .id = i};
            int e = pthread_create(&tid[i], NULL, thread_main, &arg[i]);
            CHECK(e == 0, "pthread_create: %s", strerror(e));
        }
    }
    pthread_barrier_wait(&s->ready);
    uint64_t start = now_ns();
    pthread_barrier_wait(&s->start);
    pthread_barrier_wait(&s->done);
    uint64_t ns = now_ns() - start;
    for (int i = 0; i < workers; i++) {
        if (processes) {
            int status;
            CHECK(waitpid(pid[i], &status, 0) == pid[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "worker process %d ended with status %#x", i, status);
        } else {
            CHECK(pthread_join(tid[i], NULL) == 0, "pthread_join");
        }
    }
    pthread_barrier_destroy(&s->ready);
    pthread_barrier_destroy(&s->start);
    pthread_barrier_destroy(&s->done);
    munmap(s, sizeof(*s));
    return ns;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    static const int counts[] = {1, 2, 4};
    for (int processes = 1; processes >= 0; processes--) {
        (void)measure(processes, MAX_WORKERS); /* untimed */
        for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
            int p = counts[k];
            uint64_t ns = measure(processes, p);
            unsigned long n = (unsigned long)p * ROUNDS * PAGES;
            printf("bench scaling mode=%s workers=%d cpus=%ld faults=%lu ns_total=%llu insns_per_fault=%llu\n",
                   processes ? "processes" : "threads", p, cpus, n, (unsigned long long)ns,
                   (unsigned long long)(ns / n));
        }
    }
    printf("bench scaling done\n");
    return 0;
}
