/*
 * fork_shared_memory: MAP_SHARED memory stays shared across fork(). A
 * MAP_SHARED|MAP_ANONYMOUS mapping and a MAP_SHARED mapping of a /dev/shm
 * file (mkstemp + ftruncate) are written by the child and the parent sees
 * the writes after waitpid; while both run, a flag the parent writes is
 * seen by the child and the child's answer by the parent. Pages written
 * before the fork and pages first touched after it are both shared. The
 * child also writes the file with pwrite, and the parent sees that through
 * its mapping; the parent reads the child's mapped writes with pread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define PAGES 3

/* Waits (sleeping 1 ms at a time, 2 s at most) for *flag == want. */
static int await(volatile unsigned *flag, unsigned want)
{
    for (int i = 0; i < 2000; i++) {
        if (*flag == want)
            return 1;
        sleep_ns(1000000);
    }
    return *flag == want;
}

static void exercise(const char *what, volatile unsigned char *m, int fd)
{
    /* Page 0 written before the fork; pages 1 and 2 first touched after. */
    m[0] = 0x11;
    m[10] = 0x12;
    volatile unsigned *ping = (volatile unsigned *)(m + 64);
    volatile unsigned *pong = (volatile unsigned *)(m + PAGE + 64);
    *ping = 0;

    pid_t child = fork_checked();
    if (child == 0) {
        CHECK(m[0] == 0x11 && m[10] == 0x12, "child, %s: inherited bytes %#x %#x, want 0x11 0x12",
              what, m[0], m[10]);
        CHECK(await(ping, 1), "child, %s: the parent's flag (page 0) still reads %u after 2 s, "
              "want 1", what, *ping);
        *pong = 2; /* page 1: first touched after the fork, by the child */
        m[0] = 0x21;
        for (int i = 0; i < PAGES; i++)
            m[i * PAGE + 100] = (unsigned char)(0x30 + i);
        if (fd >= 0) {
            const char msg[] = "written by the child with pwrite";
            CHECK(pwrite(fd, msg, sizeof(msg), 2 * PAGE + 512) == (ssize_t)sizeof(msg),
                  "child, %s: pwrite: errno %d (%s)", what, errno, strerror(errno));
        }
        _exit(0);
    }
    *ping = 1;
    CHECK(await(pong, 2), "parent, %s: the child's answer (page 1, first touched after the fork) "
          "reads %u after 2 s, want 2", what, *pong);
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the child %s", what,
          wait_status_str(status));
    CHECK(m[0] == 0x21, "parent, %s: byte 0 (page written before the fork) is %#x, want the "
          "child's 0x21", what, m[0]);
    CHECK(m[10] == 0x12, "parent, %s: byte 10 is %#x, want 0x12", what, m[10]);
    for (int i = 0; i < PAGES; i++)
        CHECK(m[i * PAGE + 100] == 0x30 + i, "parent, %s: page %d byte 100 is %#x, want the "
              "child's %#x", what, i, m[i * PAGE + 100], 0x30 + i);
    if (fd >= 0) {
        const char msg[] = "written by the child with pwrite";
        CHECK(memcmp((const void *)(m + 2 * PAGE + 512), msg, sizeof(msg)) == 0,
              "parent, %s: the mapping at 2*4096+512 does not show what the child pwrite'd: "
              "\"%.32s\"", what, (const char *)(m + 2 * PAGE + 512));
        unsigned char b[PAGES];
        for (int i = 0; i < PAGES; i++)
            CHECK(pread(fd, &b[i], 1, i * PAGE + 100) == 1, "pread: errno %d (%s)", errno,
                  strerror(errno));
        CHECK(b[0] == 0x30 && b[1] == 0x31 && b[2] == 0x32,
              "parent, %s: pread of the child's mapped writes gives %#x %#x %#x, want 0x30 0x31 "
              "0x32", what, b[0], b[1], b[2]);
    }
    printf("fork_shared_memory: %s: the child's writes (pages touched before and after the fork) "
           "are the parent's, and a flag crosses both ways while both run\n", what);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    volatile unsigned char *anon =
        mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED, "mmap(MAP_SHARED|MAP_ANONYMOUS): errno %d (%s)", errno,
          strerror(errno));
    exercise("MAP_SHARED|MAP_ANONYMOUS", anon, -1);
    CHECK(munmap((void *)anon, PAGES * PAGE) == 0, "munmap: errno %d", errno);

    char path[] = "/dev/shm/xXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp(/dev/shm/xXXXXXX): errno %d (%s)", errno, strerror(errno));
    CHECK(ftruncate(fd, PAGES * PAGE) == 0, "ftruncate(%s): errno %d (%s)", path, errno,
          strerror(errno));
    volatile unsigned char *file =
        mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(file != MAP_FAILED, "mmap(%s, MAP_SHARED): errno %d (%s)", path, errno, strerror(errno));
    exercise("/dev/shm file, MAP_SHARED", file, fd);
    CHECK(munmap((void *)file, PAGES * PAGE) == 0, "munmap: errno %d", errno);
    CHECK(close(fd) == 0 && unlink(path) == 0, "close/unlink %s: errno %d", path, errno);
    return 0;
}
