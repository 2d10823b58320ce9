/*
 * fork_near_memory_exhaustion_fails_cleanly: fork with free memory tuned,
 * frame by frame, around what fork itself needs succeeds or fails with
 * EAGAIN/ENOMEM, and the kernel carries on.
 *
 * Before: clone kept 4096 free frames in reserve but checked them before
 * copying the page tables, which can take more than that. A parent with
 * more level-3 tables than the reserve (one page read every 2 MiB),
 * forking with free memory just above the copy's needs, left fork no frame
 * for the child's kernel stack: KernelStack::new failed and deadlocked on
 * its own lock, interrupts masked. sysinfo reports free RAM exactly, so a
 * program can find that window: this one holds about half the memory in
 * tables and steps free memory up through the window one frame at a time.
 *
 * Only on this kernel: elsewhere it would eat the machine's memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define STEPS 100
#define BELOW 40 /* the sweep starts this many frames below the tables' count */

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!is_refpage_kernel()) {
        printf("fork_near_memory_exhaustion_fails_cleanly: not the refpage kernel: not eating this machine's memory\n");
        return 0;
    }
    unsigned char *spread;
    size_t spread_len;
    unsigned long tables = spread_page_tables(&spread, &spread_len);
    struct eater e;
    eat_down_to(&e, (long)tables - BELOW, STEPS);
    printf("%lu page tables; sweeping fork from %ld free frames up, one frame a step\n", tables,
           free_frames() + 1);

    int forked = 0, refused = 0;
    long first_fork = -1;
    for (int step = 0; step < STEPS; step++) {
        eater_give_one(&e);
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
    printf("%d forks refused (EAGAIN/ENOMEM), %d made (the first with %ld frames free)\n", refused, forked,
           first_fork);
    eater_release(&e);
    CHECK(munmap(spread, spread_len) == 0, "munmap: %s", strerror(errno));
    pid_t pid = fork_checked();
    if (pid == 0)
        _exit(0);
    int st = wait_for(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork with memory back: the child %s", wait_status_str(st));
    printf("fork_near_memory_exhaustion_fails_cleanly: ok\n");
    return 0;
}
