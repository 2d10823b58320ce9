/*
 * fork_near_memory_exhaustion_fails_cleanly: fork with free memory tuned,
 * frame by frame, around what fork itself needs succeeds or fails with
 * EAGAIN/ENOMEM, and the kernel carries on.
 *
 * Before: clone kept 4096 free frames in reserve but checked them before
 * copying the page tables, which can take more than that. A parent with
 * 4,400 level-3 tables (one page touched every 2 MiB), forking with free
 * memory just above the copy's needs, left fork no frame for the child's
 * kernel stack: KernelStack::new failed and deadlocked on its own lock,
 * interrupts masked. sysinfo reports free RAM exactly, so a program can
 * find that window: this one steps through it one frame at a time.
 *
 * Memory is eaten by /dev/shm files (fork does not copy them): one large
 * file, then one-page files closed one at a time to free one frame a step.
 * Only on this kernel: elsewhere it would eat the machine's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define SPREAD_PAGES 4400UL /* one level-3 table each: more than the old reserve */
#define STEPS 100
#define BELOW 10 /* the sweep starts this many frames below SPREAD_PAGES */

static long free_frames(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: %s", strerror(errno));
    return (long)(si.freeram * si.mem_unit / PAGE);
}

static int small_fd[STEPS + 64];
static int nsmall;

/* One more one-page file: one frame less. */
static void eat_one_page(void)
{
    static char page[PAGE] = { 1 };
    char name[64];
    snprintf(name, sizeof name, "/dev/shm/eat-%d", nsmall);
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0, "open %s: %s", name, strerror(errno));
    unlink(name);
    CHECK(write(fd, page, PAGE) == (ssize_t)PAGE, "write a page to %s: %s", name, strerror(errno));
    small_fd[nsmall++] = fd;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct utsname u;
    if (uname(&u) != 0 || !strstr(u.version, "refpage kernel")) {
        printf("fork_near_memory_exhaustion_fails_cleanly: not the refpage kernel: not eating this machine's memory\n");
        return 0;
    }
    /* Page tables the copy must duplicate: one level-3 table per page. */
    size_t spread = SPREAD_PAGES << 21;
    unsigned char *s = mmap(NULL, spread, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(s != MAP_FAILED, "mmap %zu bytes: %s", spread, strerror(errno));
    for (size_t i = 0; i < SPREAD_PAGES; i++)
        s[i << 21] = 1;

    /* Eat memory down to the sweep's first value. */
    long target = SPREAD_PAGES - BELOW;
    int big = open("/dev/shm/eat-big", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(big >= 0, "open: %s", strerror(errno));
    unlink("/dev/shm/eat-big");
    static char chunk[256 * PAGE];
    memset(chunk, 1, sizeof chunk);
    long f;
    while ((f = free_frames()) > target + STEPS + 300) {
        size_t n = (size_t)(f - target - STEPS - 300) * PAGE;
        n = n < sizeof chunk ? n : sizeof chunk;
        CHECK(write(big, chunk, n) == (ssize_t)n, "filling /dev/shm with %ld frames free: %s", f, strerror(errno));
    }
    while (free_frames() > target + STEPS)
        eat_one_page();
    for (int i = 0; i < STEPS; i++)
        eat_one_page();
    printf("%lu pages spread 2 MiB apart; sweeping fork from %ld free frames up, one frame a step\n", SPREAD_PAGES,
           free_frames());

    int forked = 0, refused = 0;
    long first_fork = -1;
    for (int step = 0; step < STEPS; step++) {
        close(small_fd[--nsmall]);
        long before = free_frames();
        if (step % 20 == 0)
            printf("step %d: %ld frames free\n", step, before);
        long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (pid == 0)
            _exit(0);
        if (pid > 0) {
            int st = wait_for((pid_t)pid);
            CHECK(WIFEXITED(st) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL), "the child %s",
                  wait_status_str(st));
            if (first_fork < 0)
                first_fork = before;
            forked++;
        } else {
            CHECK(errno == EAGAIN || errno == ENOMEM, "fork with %ld frames free: %s, want EAGAIN or ENOMEM", before,
                  strerror(errno));
            refused++;
        }
    }
    printf("%d forks refused (EAGAIN/ENOMEM), %d made; the first made with %ld frames free\n", refused, forked,
           first_fork);
    while (nsmall > 0)
        close(small_fd[--nsmall]);
    close(big);
    pid_t pid = fork_checked();
    if (pid == 0)
        _exit(0);
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork with memory back: the child %s", wait_status_str(st));
    CHECK(munmap(s, spread) == 0, "munmap: %s", strerror(errno));
    printf("fork_near_memory_exhaustion_fails_cleanly: ok\n");
    return 0;
}
