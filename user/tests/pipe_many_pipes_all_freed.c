/*
 * pipe_many_pipes_all_freed: many pipes at once, each holding a page: with
 * RLIMIT_NOFILE raised to 2100 (or to the hard limit without the
 * privilege to raise it), up to 1000 pipes are made, each with a byte in
 * it (a page of the kernel's each); every pipe2 either succeeds or fails
 * cleanly (ENFILE or ENOMEM when the kernel cannot spare more, EMFILE at
 * the limit), the pipes made all give their byte back, and after closing
 * them all a new pipe works again (the runner checks that no frame or heap
 * byte is left behind).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "refpage_test.h"

#define PIPES 1000

int main(void)
{
    struct rlimit rl = {2 * PIPES + 100, 2 * PIPES + 100};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        /* Without the privilege to raise the hard limit (qemu-user's
         * host), up to it. */
        CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
        rl.rlim_cur = rl.rlim_max < 2 * PIPES + 100 ? rl.rlim_max : 2 * PIPES + 100;
    }
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit(RLIMIT_NOFILE, %lu): errno %d", (unsigned long)rl.rlim_cur,
          errno);
    int (*fds)[2] = calloc(PIPES, sizeof(*fds));
    CHECK(fds != NULL, "calloc");
    int made = 0, err = 0;
    for (; made < PIPES; made++) {
        if (pipe2(fds[made], O_NONBLOCK) != 0) {
            err = errno;
            break;
        }
        CHECK(write(fds[made][1], "p", 1) == 1, "write into pipe %d: errno %d", made, errno);
    }
    CHECK(made == PIPES || err == ENFILE || err == ENOMEM || err == EMFILE,
          "pipe2 number %d failed with errno %d (%s)", made, err, strerror(err));
    CHECK(made >= 100, "only %d pipes", made);
    printf("pipe_many_pipes_all_freed: %d pipes made%s%s\n", made, made < PIPES ? ", then " : "",
           made < PIPES ? strerror(err) : "");
    for (int i = 0; i < made; i++) {
        char c = 0;
        CHECK(read(fds[i][0], &c, 1) == 1 && c == 'p', "pipe %d lost its byte: errno %d", i, errno);
        CHECK(close(fds[i][0]) == 0 && close(fds[i][1]) == 0, "close pipe %d", i);
    }
    free(fds);
    int p[2];
    CHECK(pipe(p) == 0 && write(p[1], "ok", 2) == 2, "a pipe after closing all: errno %d", errno);
    close(p[0]);
    close(p[1]);
    printf("pipe_many_pipes_all_freed: all closed; a new pipe works\n");
    return 0;
}
