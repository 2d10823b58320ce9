/*
 * pipe_sigpipe_default--sigpipe: writing to a pipe whose read end is closed
 * raises SIGPIPE, whose default action ends the process (the test passes by
 * being killed by SIGPIPE).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    int p[2];
    CHECK(pipe(p) == 0, "pipe: errno %d", errno);
    CHECK(close(p[0]) == 0, "close the read end");
    printf("pipe_sigpipe_default: writing with no reader; SIGPIPE must end this process\n");
    fflush(stdout);
    ssize_t n = write(p[1], "x", 1);
    CHECK(0, "write returned %zd (errno %d) and the process was not killed by SIGPIPE", n, errno);
    return 0;
}
