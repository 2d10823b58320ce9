/*
 * fork_child_never_sees_parent_writes_after_fork: a fork from one thread
 * while a sibling thread writes the process's pages in a loop gives the
 * child a snapshot: what the child reads never changes afterwards, however
 * long the parent's writer goes on. fork write-protects the parent's pages
 * one by one during its walk; a sibling running at EL0 on another CPU
 * could keep writing through its stale writable TLB entry into a page the
 * child now shares, so the flush that retires those entries must come
 * before fork returns and before the child runs (Linux's dup_mmap:
 * flush_tlb_mm before mmap_lock is released). The writer writes pass
 * after pass, page 0 to the last, each word the pass number: a snapshot
 * is one pass up to some page and the one before after it. Run with
 * SMP=4 too (make test does), where the writer runs beside the fork.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGES 64
#define WORDS_PER_PAGE (4096 / sizeof(uint64_t))
#define FORKS 8

static volatile uint64_t *pages;
static atomic_int stop;
static atomic_ulong passes;

static void *writer(void *arg)
{
    (void)arg;
    for (uint64_t pass = 1; !atomic_load(&stop); pass++) {
        for (int i = 0; i < PAGES; i++)
            pages[i * WORDS_PER_PAGE] = pass;
        atomic_store(&passes, pass);
    }
    return NULL;
}

/* In the child: the snapshot, checked for shape, then read again after
 * the parent's writer has had time to run on. */
static int child(void)
{
    uint64_t first[PAGES];
    for (int i = 0; i < PAGES; i++)
        first[i] = pages[i * WORDS_PER_PAGE];
    for (int i = 1; i < PAGES; i++) {
        if (first[i] > first[i - 1] || first[i - 1] - first[i] > 1) {
            fprintf(stderr, "child: page %d holds pass %lu after page %d's %lu: not one moment's memory\n", i,
                    (unsigned long)first[i], i - 1, (unsigned long)first[i - 1]);
            return 1;
        }
    }
    for (int round = 0; round < 10; round++) {
        sched_yield();
        for (int i = 0; i < PAGES; i++) {
            uint64_t now = pages[i * WORDS_PER_PAGE];
            if (now != first[i]) {
                fprintf(stderr, "child: page %d changed from pass %lu to %lu after fork: the parent's write\n", i,
                        (unsigned long)first[i], (unsigned long)now);
                return 1;
            }
        }
    }
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pages = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(pages != MAP_FAILED, "mmap: %m");
    for (int i = 0; i < PAGES; i++)
        pages[i * WORDS_PER_PAGE] = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer, NULL) == 0, "pthread_create");
    for (int n = 0; n < FORKS; n++) {
        /* The writer is under way (and back after each fork's copy-on-write). */
        unsigned long seen = atomic_load(&passes);
        while (atomic_load(&passes) < seen + 2)
            sched_yield();
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %m");
        if (pid == 0)
            _exit(child());
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork %d: the child saw memory change (status %#x)", n,
              status);
    }
    atomic_store(&stop, 1);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    printf("fork_child_never_sees_parent_writes_after_fork: %d forks, %lu passes of the writer\n", FORKS,
           atomic_load(&passes));
    return 0;
}
