/*
 * kernel_stack_in_frames_that_held_code_keeps_syscalls_fast: a new task's
 * kernel stack is zeroed when it is built, as Linux zeroes every kernel
 * stack (kernel/fork.c: alloc_thread_stack_node, THREADINFO_GFP has
 * __GFP_ZERO), so a stack built from frames that just held a program's
 * code costs its system calls nothing more.
 *
 * Under QEMU a frame keeps the translations of the code it held until each
 * translated block is written over; until then QEMU sends every store to
 * the frame down its self-modifying-code path, a hundred times slower. A
 * kernel stack is written near its top only, so a stale block lower in the
 * frame stayed for good, and each system call of the task paid that path
 * on every register it saved (mmap_limits_enomem took over 10 s instead of
 * 2 s in the suite). Here: code is run at the start of 2048 pages, those
 * pages are unmapped once the frames freed before them were used up, and
 * children forked right after (whose kernel stacks come from the frames
 * freed last) time getppid() against the parent.
 */
#include <time.h>
#include <sys/wait.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define CODE_PAGES 2048UL
#define FILLER_PAGES 8192UL
#define CALLS 2000
#define CHILDREN 8
/* A stack on stale code made each call 5 to 20 times dearer. */
#define MAX_RATIO 3

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Nanoseconds a getppid() costs, the least of three runs. */
static long syscall_ns(void)
{
    long best = -1;
    for (int run = 0; run < 3; run++) {
        long t0 = now_ns();
        for (int i = 0; i < CALLS; i++)
            syscall(SYS_getppid);
        long per = (now_ns() - t0) / CALLS;
        if (best < 0 || per < best)
            best = per;
    }
    return best;
}

int main(void)
{
    unsigned char *code = mmap(NULL, CODE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(code != MAP_FAILED, "mmap of the code pages: %s", strerror(errno));
    for (unsigned long i = 0; i < CODE_PAGES; i++)
        *(uint32_t *)(code + i * PAGE) = 0xd65f03c0; /* RET */
    __builtin___clear_cache((char *)code, (char *)code + CODE_PAGES * PAGE);
    CHECK(mprotect(code, CODE_PAGES * PAGE, PROT_READ | PROT_EXEC) == 0, "mprotect PROT_EXEC: %s", strerror(errno));
    for (unsigned long i = 0; i < CODE_PAGES; i++)
        ((void (*)(void))(code + i * PAGE))();

    /* Use up the frames freed before ours, so that ours come next. */
    unsigned char *filler =
        mmap(NULL, FILLER_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK(filler != MAP_FAILED, "mmap of the filler: %s", strerror(errno));
    CHECK(munmap(code, CODE_PAGES * PAGE) == 0, "munmap of the code pages: %s", strerror(errno));

    long parent = syscall_ns();
    long worst = 0;
    for (int c = 0; c < CHILDREN; c++) {
        int fds[2];
        CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
            long ns = syscall_ns();
            _exit(write(fds[1], &ns, sizeof ns) == sizeof ns ? 0 : 1);
        }
        long ns = -1;
        CHECK(read(fds[0], &ns, sizeof ns) == sizeof ns, "child %d sent no time", c);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %#x", c,
              status);
        close(fds[0]);
        close(fds[1]);
        long mine = syscall_ns();
        if (mine < parent)
            parent = mine;
        if (ns > worst)
            worst = ns;
        printf("kernel_stack_in_frames_that_held_code_keeps_syscalls_fast: child %d: %ld ns a call (parent %ld)\n", c,
               ns, parent);
    }
    CHECK(worst <= MAX_RATIO * parent, "a child's getppid cost %ld ns, %ld times the parent's %ld ns", worst,
          worst / parent, parent);
    printf("kernel_stack_in_frames_that_held_code_keeps_syscalls_fast: ok (worst child %ld ns, parent %ld ns)\n", worst,
           parent);
    return 0;
}
