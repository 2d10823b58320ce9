/*
 * populate_excludes_other_threads_area_changes: a long populate (mlock,
 * MADV_POPULATE_WRITE) gives the CPU to other threads between pages, but
 * they cannot change the areas under it: Linux's __mm_populate and
 * madvise_populate hold mmap_lock for reading throughout, and mremap and
 * munmap take it for writing, so they wait for the populate to finish.
 * Here as on Linux 6.1:
 *  - a thread's mremap of a range another thread is mlocking: mlock
 *    returns 0, then every page moves, all resident and locked;
 *  - a thread's munmap of a range another is MADV_POPULATE_WRITEing:
 *    madvise returns 0, then the range is gone.
 * The other thread starts its call once the first page of the range is
 * resident (mincore), so the populate is under way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>

#include "mm_test.h"

#define LEN (128UL << 20)

static unsigned char *range, *target;
static atomic_int go;
static long result;
static int result_errno;

static void wait_until_populating(void)
{
    while (!atomic_load(&go))
        ;
    unsigned char v = 0;
    while (!(v & 1))
        CHECK(mincore(range, PAGE, &v) == 0, "mincore: %m");
}

static void *mover(void *arg)
{
    (void)arg;
    wait_until_populating();
    void *r = mremap(range, LEN, LEN, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    result = (long)r;
    result_errno = errno;
    return NULL;
}

static void *unmapper(void *arg)
{
    (void)arg;
    wait_until_populating();
    result = munmap(range, LEN);
    result_errno = errno;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const int prw = PROT_READ | PROT_WRITE;
    range = mmap(NULL, LEN, prw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(range != MAP_FAILED, "mmap: %m");
    target = mmap(NULL, LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(target != MAP_FAILED, "mmap: %m");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, mover, NULL) == 0, "pthread_create");
    atomic_store(&go, 1);
    int r = mlock(range, LEN);
    int err = errno;
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(r == 0, "mlock while another thread's mremap moved the range: errno %d (%s); Linux's mremap waits", err,
          strerror(err));
    CHECK(result == (long)target, "mremap returned %#lx (errno %d)", result, result_errno);
    size_t resident = resident_pages(target, LEN / PAGE);
    CHECK(resident == LEN / PAGE, "%zu of %lu moved pages resident: the mlock did not finish first", resident,
          LEN / PAGE);
    CHECK(strstr(smaps_vmflags(target), " lo ") != NULL, "the moved range is not locked");
    CHECK(munmap(target, LEN) == 0, "munmap: %m");
    printf("mremap by another thread during mlock: waited, mlock 0, all %lu pages moved resident\n", LEN / PAGE);

    atomic_store(&go, 0);
    range = mmap(NULL, LEN, prw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(range != MAP_FAILED, "mmap: %m");
    CHECK(pthread_create(&t, NULL, unmapper, NULL) == 0, "pthread_create");
    atomic_store(&go, 1);
    r = madvise(range, LEN, MADV_POPULATE_WRITE);
    err = errno;
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(r == 0, "MADV_POPULATE_WRITE while another thread's munmap removed the range: errno %d (%s)", err,
          strerror(err));
    CHECK(result == 0, "munmap: errno %d", result_errno);
    CHECK(range_is_free(range, LEN), "the range is still mapped");
    printf("munmap by another thread during MADV_POPULATE_WRITE: waited, madvise 0, then unmapped\n");
    return 0;
}
