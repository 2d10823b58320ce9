/*
 * pipe_blocking_large_write_threads: blocking writes and reads between
 * threads.
 *  1. One write() of 1 MiB (16 times the capacity) into a blocking pipe
 *     completes in parts while a reader thread takes it out in 1000-byte
 *     reads: write returns 1048576, and the reader sees every byte, in
 *     order, then end-of-file when the writer closes.
 *  2. PIPE_BUF atomicity: 4 writer threads each write 64 records of 4000
 *     bytes (one letter per writer) at once; the reader finds the stream
 *     made of whole records (every 4000-byte slice one letter), 64 of each,
 *     none interleaved with another.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

#define BIG (1 << 20)
#define WRITERS 4
#define RECORDS 64
#define RECORD 4000

static int fds[2];

static unsigned char pattern(long i)
{
    return (unsigned char)((i * 7 + i / 4096) % 251);
}

static void *read_all(void *arg)
{
    long *got = arg;
    static unsigned char buf[1000];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof(buf));
        CHECK(n >= 0, "reader: read after %ld bytes: errno %d (%s)", *got, errno, strerror(errno));
        if (n == 0)
            return NULL;
        for (ssize_t i = 0; i < n; i++)
            CHECK(buf[i] == pattern(*got + i), "reader: byte %ld is %#x, want %#x", *got + i, buf[i],
                  pattern(*got + i));
        *got += n;
    }
}

static void *write_records(void *arg)
{
    long id = (long)arg;
    static char recs[WRITERS][RECORD];
    memset(recs[id], 'A' + (int)id, RECORD);
    for (int i = 0; i < RECORDS; i++) {
        ssize_t n = write(fds[1], recs[id], RECORD);
        CHECK(n == RECORD, "writer %ld record %d: wrote %zd, errno %d", id, i, n, errno);
    }
    return NULL;
}

int main(void)
{
    unsigned char *big = malloc(BIG);
    CHECK(big != NULL, "malloc");
    for (long i = 0; i < BIG; i++)
        big[i] = pattern(i);
    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    long got = 0;
    pthread_t reader;
    CHECK(pthread_create(&reader, NULL, read_all, &got) == 0, "pthread_create");
    ssize_t n = write(fds[1], big, BIG);
    CHECK(n == BIG, "write of 1 MiB returned %zd (errno %d), want %d", n, errno, BIG);
    close(fds[1]);
    CHECK(pthread_join(reader, NULL) == 0, "join");
    CHECK(got == BIG, "the reader got %ld bytes before end-of-file, want %d", got, BIG);
    close(fds[0]);
    printf("pipe_blocking_large_write_threads: one 1 MiB write completed in parts; the reader got every byte "
           "in order, then end-of-file\n");

    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    pthread_t writers[WRITERS];
    for (long w = 0; w < WRITERS; w++)
        CHECK(pthread_create(&writers[w], NULL, write_records, (void *)w) == 0, "pthread_create");
    static char stream[WRITERS * RECORDS * RECORD];
    long have = 0;
    while (have < (long)sizeof(stream)) {
        n = read(fds[0], stream + have, sizeof(stream) - have);
        CHECK(n > 0, "read after %ld bytes: %zd errno %d", have, n, errno);
        have += n;
    }
    int count[WRITERS] = {0};
    for (long r = 0; r < WRITERS * RECORDS; r++) {
        char c = stream[r * RECORD];
        CHECK(c >= 'A' && c < 'A' + WRITERS, "record %ld starts with %#x", r, c);
        for (int i = 1; i < RECORD; i++)
            CHECK(stream[r * RECORD + i] == c, "record %ld (writer %c) has %c at byte %d: interleaved", r, c,
                  stream[r * RECORD + i], i);
        count[c - 'A']++;
    }
    for (int w = 0; w < WRITERS; w++) {
        CHECK(pthread_join(writers[w], NULL) == 0, "join");
        CHECK(count[w] == RECORDS, "writer %c: %d records, want %d", 'A' + w, count[w], RECORDS);
    }
    close(fds[1]);
    CHECK(read(fds[0], stream, 1) == 0, "end-of-file after the writers");
    close(fds[0]);
    printf("pipe_blocking_large_write_threads: %d writers x %d records of %d bytes: none interleaved\n", WRITERS,
           RECORDS, RECORD);
    free(big);
    return 0;
}
