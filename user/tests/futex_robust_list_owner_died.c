/*
 * futex_robust_list_owner_died: robust futexes (Linux's set_robust_list,
 * exit_robust_list, handle_futex_death). A thread that ends holding a
 * robust mutex leaves it marked FUTEX_OWNER_DIED, and a waiter is woken:
 *  1. a thread locks a robust mutex and exits; the main thread's
 *     pthread_mutex_lock returns EOWNERDEAD (glibc registers every
 *     thread's list with set_robust_list);
 *  2. the same with a waiter already asleep on the lock when the owner
 *     exits (it must be woken, not left waiting);
 *  3. a child process dies holding a process-shared robust mutex in
 *     MAP_SHARED memory by exit_group from another thread (the holder does
 *     not run its own exit); the parent's lock returns EOWNERDEAD;
 *  4. set_robust_list with a len other than 24 is EINVAL;
 *     get_robust_list(0) gives back the head and 24; an unknown pid ESRCH.
 * A waiter that is never woken shows as the 3 s alarm's message.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "refpage_test.h"

static pthread_mutex_t *mutex;

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "futex_robust_list_owner_died: a waiter on a dead owner's robust mutex was never woken\n";
    write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000 };
    nanosleep(&ts, NULL);
}

static void init_robust(pthread_mutex_t *m, int pshared)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (pshared)
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    CHECK(pthread_mutex_init(m, &a) == 0, "pthread_mutex_init");
}

static void *lock_and_exit(void *arg)
{
    long delay = (long)arg;
    CHECK(pthread_mutex_lock(mutex) == 0, "the thread's lock");
    sleep_ms(delay);
    return NULL; /* ends holding it */
}

static void *hold_forever(void *arg)
{
    (void)arg;
    CHECK(pthread_mutex_lock(mutex) == 0, "the child thread's lock");
    for (;;)
        pause();
    return NULL;
}

static void lock_expect_owner_dead(const char *what)
{
    alarm(3);
    int r = pthread_mutex_lock(mutex);
    alarm(0);
    CHECK(r == EOWNERDEAD, "%s: pthread_mutex_lock returned %d; want EOWNERDEAD (%d)", what, r, EOWNERDEAD);
    CHECK(pthread_mutex_consistent(mutex) == 0, "%s: pthread_mutex_consistent", what);
    CHECK(pthread_mutex_unlock(mutex) == 0, "%s: unlock", what);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    mutex = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(mutex != MAP_FAILED, "mmap: errno %d", errno);

    /* 1: the owner has exited before anyone waits. */
    init_robust(mutex, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, lock_and_exit, (void *)0L) == 0, "pthread_create");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    lock_expect_owner_dead("owner exited");

    /* 2: a waiter asleep when the owner exits. */
    init_robust(mutex, 0);
    CHECK(pthread_create(&t, NULL, lock_and_exit, (void *)100L) == 0, "pthread_create");
    sleep_ms(30);
    lock_expect_owner_dead("waiter asleep");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");

    /* 3: a process-shared one, its holder ended by another thread's exit_group. */
    init_robust(mutex, 1);
    pid_t c = fork();
    CHECK(c >= 0, "fork: errno %d", errno);
    if (c == 0) {
        pthread_t h;
        if (pthread_create(&h, NULL, hold_forever, NULL) != 0)
            _exit(2);
        sleep_ms(100);
        syscall(SYS_exit_group, 0);
    }
    sleep_ms(30);
    lock_expect_owner_dead("holder's process exited");
    int status;
    CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);

    /* 4: the calls themselves. */
    struct { void *next; long offset; void *pending; } head = { &head, 0, NULL };
    errno = 0;
    CHECK(syscall(SYS_set_robust_list, &head, 16) == -1 && errno == EINVAL, "set_robust_list len 16: errno %d", errno);
    void *got = NULL;
    size_t len = 0;
    CHECK(syscall(SYS_get_robust_list, 0, &got, &len) == 0 && len == 24 && got != NULL,
          "get_robust_list(0): errno %d head %p len %zu", errno, got, len);
    CHECK(syscall(SYS_set_robust_list, &head, 24) == 0, "set_robust_list: errno %d", errno);
    CHECK(syscall(SYS_get_robust_list, 0, &got, &len) == 0 && got == &head, "get_robust_list: head %p, set %p", got,
          (void *)&head);
    errno = 0;
    CHECK(syscall(SYS_get_robust_list, 0x3fffffff, &got, &len) == -1 && errno == ESRCH, "get_robust_list(no such pid): errno %d", errno);
    return 0;
}
