/*
 * race_cow_during_mprotect_adding_mte_never_copies_stale_tags: a page
 * written without PROT_MTE and shared with a fork child has never had its
 * allocation tags written for its present use; when mprotect adds PROT_MTE
 * to its area and a sibling thread's write copies the page before
 * mprotect's walk reaches it (the walk pauses at slice ends and lets other
 * CPUs in: mm/long_walk.rs), the copy must carry tag 0, as on Linux
 * (copy_highpage copies tags only from a PG_mte_tagged page), not tags an
 * earlier user of the frame left behind.
 *
 * Stale tags are planted first: 96 MiB of PROT_MTE memory tagged 5 and
 * unmapped, so that the frames of the next mapping are likely to be the
 * same. Then 96 MiB written untagged, a fork (the child waits on a pipe,
 * keeping every frame shared), and a thread writing pages from the top
 * down while the main thread's mprotect adds PROT_MTE from the bottom up.
 * Every granule of the area must then read tag 0. (The old kernel, seen in
 * review: 302 pages with tag 5.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "refpage_test.h"

#define LEN (96UL << 20)
#define PAGE 4096UL

static volatile unsigned char *mem;
static atomic_int go, stop;
static atomic_long written;

static void *writer(void *arg)
{
    (void)arg;
    while (!atomic_load(&go)) {
    }
    for (long i = LEN / PAGE - 1; i >= 0 && !atomic_load(&stop); i--) {
        mem[i * PAGE + 1] = 0x77; /* a copy-on-write: the child shares it */
        atomic_fetch_add(&written, 1);
    }
    return NULL;
}

int main(void)
{
    MTE_SKIP_UNLESS_SUPPORTED("race_cow_during_mprotect_adding_mte_never_copies_stale_tags");
    unsigned char *seed = mmap(NULL, LEN, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(seed != MAP_FAILED, "mmap of the seed: errno %d", errno);
    for (unsigned long off = 0; off < LEN; off += MTE_GRANULE)
        mte_stg(seed + off, 5);
    CHECK(munmap(seed, LEN) == 0, "munmap of the seed: errno %d", errno);

    mem = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mem != MAP_FAILED, "mmap: errno %d", errno);
    for (unsigned long off = 0; off < LEN; off += PAGE)
        mem[off] = 1;
    int pfd[2];
    CHECK(pipe(pfd) == 0, "pipe: errno %d", errno);
    pid_t child = fork();
    CHECK(child >= 0, "fork: errno %d", errno);
    if (child == 0) {
        char b;
        close(pfd[1]);
        (void)!read(pfd[0], &b, 1);
        _exit(0);
    }
    close(pfd[0]);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer, NULL) == 0, "pthread_create");
    atomic_store(&go, 1);
    while (atomic_load(&written) < 1) {
    }
    long before = atomic_load(&written);
    int r = mprotect((void *)mem, LEN, PROT_READ | PROT_WRITE | PROT_MTE);
    long during = atomic_load(&written) - before;
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    CHECK(r == 0, "mprotect adding PROT_MTE: errno %d", errno);

    long bad = 0, first = -1;
    unsigned first_tag = 0;
    for (unsigned long p = 0; p < LEN / PAGE; p++) {
        for (unsigned long g = 0; g < PAGE; g += MTE_GRANULE) {
            unsigned tag = mte_ldg(mem + p * PAGE + g);
            if (tag != 0) {
                if (first < 0)
                    first = (long)p, first_tag = tag;
                bad++;
                break;
            }
        }
    }
    close(pfd[1]);
    waitpid(child, NULL, 0);
    printf("race_cow_during_mprotect_adding_mte_never_copies_stale_tags: %ld pages copied during mprotect, %ld in all\n",
           during, atomic_load(&written));
    CHECK(bad == 0, "%ld pages of the PROT_MTE area have a nonzero tag (first: page %ld, tag %u)", bad, first, first_tag);
    printf("race_cow_during_mprotect_adding_mte_never_copies_stale_tags: ok\n");
    return 0;
}
