/*
 * pipe_blocked_reader_time_limit--timeout: a read on a pipe nobody will
 * write (this process holds the only write end) blocks for good; the
 * per-program time limit must still end the process (the test passes by
 * being stopped by it). A second thread sleeps in a write to a full pipe,
 * a third spins (so the run is not a deadlock the kernel could end early).
 * Nothing may leak: the blocked calls hold the pipes until they return.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "refpage_test.h"

static int full[2];

static void *write_full(void *arg)
{
    (void)arg;
    static char page[4096];
    for (;;)
        write(full[1], page, sizeof(page));
    return NULL;
}

static void *spin(void *arg)
{
    volatile unsigned long *n = arg;
    for (;;)
        (*n)++;
    return NULL;
}

int main(void)
{
    static volatile unsigned long spins;
    pthread_t s;
    CHECK(pthread_create(&s, NULL, spin, (void *)&spins) == 0, "pthread_create");
    int p[2];
    CHECK(pipe(p) == 0 && pipe(full) == 0, "pipe: errno %d", errno);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, write_full, NULL) == 0, "pthread_create");
    printf("pipe_blocked_reader_time_limit: reading a pipe no one writes; the time limit must end this\n");
    fflush(stdout);
    char c;
    ssize_t n = read(p[0], &c, 1);
    CHECK(0, "the read returned %zd (errno %d)", n, errno);
    return 0;
}
