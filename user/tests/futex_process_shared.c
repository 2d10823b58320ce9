/*
 * futex_process_shared: a futex without FUTEX_PRIVATE_FLAG in MAP_SHARED
 * memory is known by the shared page and offset (Linux's get_futex_key),
 * so it meets waiters in other processes and at other addresses:
 *  - raw futex: a forked child sleeps in FUTEX_WAIT on a word of
 *    MAP_SHARED|MAP_ANONYMOUS memory; the parent's FUTEX_WAKE wakes it and
 *    returns 1; likewise for a /dev/shm file mapped at two addresses, the
 *    wake through one mapping reaching the waiter on the other;
 *  - FUTEX_PRIVATE_FLAG keeps the per-address-space key: a private wake
 *    from the parent does not reach the child (0, and the child times
 *    out), and neither does a shared wake on private (MAP_PRIVATE) memory;
 *  - glibc's process-shared objects: a semaphore (sem_init pshared = 1)
 *    ping-pong between parent and child, and a PTHREAD_PROCESS_SHARED
 *    mutex and condition variable.
 * Every wait has a time limit, so a lost wake-up fails with a message
 * instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define ROUNDS 200

static long futex(atomic_uint *addr, int op, unsigned val, const struct timespec *timeout)
{
    return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

/* The child: waits on `word` (which holds 0) with `op` for at most `ms`
 * milliseconds and exits 0 if woken, 2 on ETIMEDOUT, 3 otherwise. */
static pid_t waiter(atomic_uint *word, int op, long ms)
{
    pid_t child = fork_checked();
    if (child == 0) {
        struct timespec limit = {ms / 1000, (ms % 1000) * 1000000};
        long r = futex(word, op, 0, &limit);
        if (r == 0)
            _exit(0);
        _exit(errno == ETIMEDOUT ? 2 : 3);
    }
    /* Long enough for the child to be asleep in FUTEX_WAIT. */
    sleep_ns(30 * 1000000);
    return child;
}

/* A shared wait woken by a shared wake through `wake_at` (the same word,
 * maybe through another mapping). */
static void shared_wake_reaches(const char *what, atomic_uint *wait_at, atomic_uint *wake_at)
{
    atomic_store(wait_at, 0);
    pid_t child = waiter(wait_at, FUTEX_WAIT, 2000);
    long woken = futex(wake_at, FUTEX_WAKE, 1, NULL);
    int status = wait_for(child);
    CHECK(woken == 1, "%s: FUTEX_WAKE returned %ld (errno %d), want 1 (the child waiting)", what,
          woken, errno);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%s: the waiting child %s, want exit 0 (woken; 2 is ETIMEDOUT)", what,
          wait_status_str(status));
    printf("futex_process_shared: %s: the parent's FUTEX_WAKE woke the child's FUTEX_WAIT\n", what);
}

/* A wait that must not be reached by the parent's wake: 0 woken, the child
 * times out. */
static void wake_misses(const char *what, atomic_uint *word, int op)
{
    atomic_store(word, 0);
    pid_t child = waiter(word, op, 100);
    long woken = futex(word, op == FUTEX_WAIT ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, 1, NULL);
    int status = wait_for(child);
    CHECK(woken == 0, "%s: the wake returned %ld, want 0 (the child's key is its own)", what,
          woken);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2,
          "%s: the waiting child %s, want exit 2 (ETIMEDOUT)", what, wait_status_str(status));
    printf("futex_process_shared: %s: the wake returned 0 and the child timed out\n", what);
}

struct shared {
    sem_t ping, pong;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int flag;
    int rounds_seen;
};

static int timed_sem_wait(sem_t *s)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 2;
    return sem_timedwait(s, &t);
}

static void glibc_objects(struct shared *sh)
{
    CHECK(sem_init(&sh->ping, 1, 0) == 0 && sem_init(&sh->pong, 1, 0) == 0,
          "sem_init(pshared 1): errno %d", errno);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    CHECK(pthread_mutexattr_init(&ma) == 0 &&
              pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0 &&
              pthread_mutex_init(&sh->lock, &ma) == 0,
          "a process-shared mutex could not be made");
    CHECK(pthread_condattr_init(&ca) == 0 &&
              pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) == 0 &&
              pthread_cond_init(&sh->cond, &ca) == 0,
          "a process-shared condition variable could not be made");
    sh->flag = 0;

    pid_t child = fork_checked();
    if (child == 0) {
        for (int i = 0; i < ROUNDS; i++) {
            if (timed_sem_wait(&sh->ping) != 0)
                _exit(10);
            sh->rounds_seen = i + 1;
            sem_post(&sh->pong);
        }
        pthread_mutex_lock(&sh->lock);
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 2;
        while (sh->flag == 0)
            if (pthread_cond_timedwait(&sh->cond, &sh->lock, &t) == ETIMEDOUT)
                _exit(11);
        sh->flag = 2;
        pthread_cond_signal(&sh->cond);
        pthread_mutex_unlock(&sh->lock);
        _exit(0);
    }
    for (int i = 0; i < ROUNDS; i++) {
        sem_post(&sh->ping);
        CHECK(timed_sem_wait(&sh->pong) == 0,
              "round %d: sem_wait(pong) failed with errno %d (%s); the child saw %d rounds", i,
              errno, strerror(errno), sh->rounds_seen);
    }
    printf("futex_process_shared: %d semaphore round trips (sem_init pshared 1) between parent "
           "and child\n", ROUNDS);
    /* Let the child sleep in the condition variable first. */
    sleep_ns(30 * 1000000);
    pthread_mutex_lock(&sh->lock);
    sh->flag = 1;
    pthread_cond_signal(&sh->cond);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 2;
    int r = 0;
    while (sh->flag != 2 && r != ETIMEDOUT)
        r = pthread_cond_timedwait(&sh->cond, &sh->lock, &t);
    int flag = sh->flag;
    pthread_mutex_unlock(&sh->lock);
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child %s, want exit 0 (10: its sem_wait timed out; 11: its cond wait did)",
          wait_status_str(status));
    CHECK(flag == 2, "the child's answer through the condition variable is %d, want 2", flag);
    printf("futex_process_shared: a PTHREAD_PROCESS_SHARED mutex and condition variable carried a "
           "signal each way\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    void *anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED, "mmap(MAP_SHARED|MAP_ANONYMOUS): errno %d", errno);
    atomic_uint *word = (atomic_uint *)((char *)anon + 128);
    shared_wake_reaches("MAP_SHARED|MAP_ANONYMOUS", word, word);

    char path[] = "/dev/shm/futexXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp(%s): errno %d", path, errno);
    CHECK(ftruncate(fd, 2 * PAGE) == 0, "ftruncate: errno %d", errno);
    char *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
    CHECK(a != MAP_FAILED && b != MAP_FAILED, "mmap of %s: errno %d", path, errno);
    shared_wake_reaches("a /dev/shm file, waiting at offset 4096+64 of one mapping and waking "
                        "through another",
                        (atomic_uint *)(a + PAGE + 64), (atomic_uint *)(b + 64));

    wake_misses("FUTEX_PRIVATE_FLAG on shared memory", word, FUTEX_WAIT_PRIVATE);
    void *priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(priv != MAP_FAILED, "mmap(MAP_PRIVATE): errno %d", errno);
    wake_misses("a shared futex on MAP_PRIVATE memory (a copy after fork)", (atomic_uint *)priv,
                FUTEX_WAIT);

    /* A shared wake where nothing is mapped: EFAULT, as get_futex_key. */
    munmap(priv, PAGE);
    CHECK_ERRNO(futex((atomic_uint *)priv, FUTEX_WAKE, 1, NULL), EFAULT);
    long r = futex((atomic_uint *)priv, FUTEX_WAKE_PRIVATE, 1, NULL);
    CHECK(r == 0, "FUTEX_WAKE_PRIVATE on an unmapped address returned %ld (errno %d), want 0", r,
          errno);
    printf("futex_process_shared: a shared wake on an unmapped address: EFAULT; a private one: 0\n");

    struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                             -1, 0);
    CHECK(sh != MAP_FAILED, "mmap: errno %d", errno);
    glibc_objects(sh);

    CHECK(close(fd) == 0 && unlink(path) == 0, "cleanup: errno %d", errno);
    return 0;
}
