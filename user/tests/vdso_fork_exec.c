/*
 * vdso_fork_exec: fork keeps the vDSO where it was (the child's clocks and
 * signal returns work through it), and execve maps a fresh one: the parent
 * unmaps its vDSO before execve'ing this program again, whose new image
 * has a vDSO that works.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"
#include "vdso_test.h"

static volatile uintptr_t handler_lr;

static void __attribute__((noinline)) handler(int sig)
{
    (void)sig;
    handler_lr = (uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0));
}

/* The vDSO works here: its clock, and a handler's return through it. */
static void check_vdso(const char *who)
{
    struct vdso v;
    vdso_open(&v);
    struct timespec a, b;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0,
          "%s: clock_gettime: errno %d", who, errno);
    CHECK(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec), "%s: clock went back",
          who);
    signal(SIGUSR1, handler);
    handler_lr = 0;
    raise(SIGUSR1);
    CHECK(handler_lr == (uintptr_t)vdso_sym(&v, "LINUX_2.6.39", "__kernel_rt_sigreturn"),
          "%s: the handler returned to %#lx, not the vDSO's sigreturn", who, (unsigned long)handler_lr);
    printf("vdso_fork_exec: %s: vDSO at %#lx: clock_gettime and a signal return work\n", who,
           (unsigned long)v.base);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "exec") == 0) {
        check_vdso("after execve");
        return 0;
    }
    check_vdso("parent");
    unsigned long base = getauxval(AT_SYSINFO_EHDR);
    pid_t pid = fork_checked();
    if (pid == 0) {
        CHECK(getauxval(AT_SYSINFO_EHDR) == base, "the child's AT_SYSINFO_EHDR moved");
        check_vdso("forked child");
        _exit(0);
    }
    int status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child: %s", wait_status_str(status));

    struct vdso v;
    vdso_open(&v);
    CHECK(munmap((void *)(v.base - 2 * 4096), 2 * 4096 + v.len) == 0, "munmap of the vDSO: errno %d", errno);
    char *args[] = { argv[0], "exec", NULL };
    execv(argv[0], args);
    CHECK(0, "execv(%s): errno %d", argv[0], errno);
}
