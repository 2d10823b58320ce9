/*
 * race_ptrace_poke_beside_a_reading_thread_never_writes_the_zero_page: a
 * debugger's PTRACE_POKEDATA into a fresh private page of a stopped thread
 * whose sibling thread, still running on another CPU, reads that page at
 * the same moment, writes the tracee's own private copy of the page and
 * nothing else: never the shared zero page that the sibling's read maps
 * there (Linux's access_remote_vm pins the page get_user_pages made
 * private, FOLL_WRITE retrying until follow_page finds it writable).
 *
 * The tracee's main thread stops itself (a thread-directed signal: only it
 * stops); its sibling reads page k of a fresh mapping a varying moment
 * after the tracer said it pokes page k. Each poke's forced write fault
 * may then lose its race to the sibling's read fault, which maps the zero
 * page; the poke must then fault again rather than write through what is
 * mapped. The zero page is everyone's: the tracer checks a page of its own
 * that maps it (it must read all zeros), and every poked word in the
 * tracee (PTRACE_PEEKDATA).
 */
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"
#include "race_test.h"
#include "smp_test.h"

#define PAGES 1024

struct control {
    atomic_int go;   /* the tracer pokes page go - 1 now */
    atomic_int read; /* the sibling read page read - 1 */
};

static struct control *ctl;
static volatile uint64_t *pages;
/* One CPU: the waiting loops give it away (on several they spin, so that
 * the sibling's read can meet the poke's fault). */
static int one_cpu;

static void wait_turn(void)
{
    if (one_cpu)
        sched_yield();
}

static uint64_t poked(int k)
{
    return 0x5a5a000000000000ULL | (uint64_t)(k + 1);
}

static size_t word_of(int k)
{
    return (size_t)k * (RACE_PAGE / 8) + (size_t)(k % 509) * 8 % (RACE_PAGE / 8);
}

static void *sibling(void *arg)
{
    (void)arg;
    uint64_t rng = race_seed(3, 0);
    for (int k = 0; k < PAGES; k++) {
        while (atomic_load(&ctl->go) <= k)
            wait_turn();
        for (volatile unsigned spin = race_rand(&rng) % 3000; spin > 0; spin--)
            ;
        (void)pages[word_of(k)];
        atomic_store(&ctl->read, k + 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    one_cpu = test_cpus(argc, argv) < 2;
    ctl = mmap(NULL, RACE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(ctl != MAP_FAILED, "mmap: %s", strerror(errno));
    pages = mmap(NULL, PAGES * RACE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED, "mmap: %s", strerror(errno));
    pid_t c = fork();
    CHECK(c >= 0, "fork: %s", strerror(errno));
    if (c == 0) {
        /* Raw calls: nothing of glibc's per-thread state is needed. */
        if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(10);
        pthread_t t;
        if (pthread_create(&t, NULL, sibling, NULL) != 0)
            _exit(11);
        syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
        pthread_join(t, NULL);
        _exit(0);
    }
    CHECK(wait_stop(c) == SIGUSR1, "the tracee's main thread did not stop with SIGUSR1");
    /* A page of the tracer's own that maps the zero page. */
    volatile uint64_t *witness = mmap(NULL, RACE_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(witness != MAP_FAILED, "mmap: %s", strerror(errno));
    CHECK(witness[0] == 0, "a fresh page reads %#llx", (unsigned long long)witness[0]);
    for (int k = 0; k < PAGES; k++) {
        atomic_store(&ctl->go, k + 1);
        CHECK(ptrace_raw(PTRACE_POKEDATA, c, (unsigned long)&pages[word_of(k)], poked(k)) == 0,
              "POKEDATA of page %d: %s", k, strerror(errno));
        while (atomic_load(&ctl->read) <= k)
            wait_turn();
        size_t w = word_of(k) % (RACE_PAGE / 8);
        CHECK(witness[w] == 0,
              "after the poke of page %d (beside the sibling's read of it), the tracer's own zero-page mapping reads "
              "%#llx at word %zu: the poke wrote the shared zero page",
              k, (unsigned long long)witness[w], w);
    }
    for (int k = 0; k < PAGES; k++) {
        errno = 0;
        long got = ptrace(PTRACE_PEEKDATA, c, (void *)&pages[word_of(k)], 0);
        CHECK(errno == 0 && (uint64_t)got == poked(k), "page %d of the tracee reads %#lx, not the poked %#llx", k,
              got, (unsigned long long)poked(k));
    }
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: %s", strerror(errno));
    int status = 0;
    CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the tracee ended with status %#x", status);
    printf("race_ptrace_poke_beside_a_reading_thread_never_writes_the_zero_page: %d pokes\n", PAGES);
    return 0;
}
