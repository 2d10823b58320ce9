/*
 * exec_unshares_handlers_and_files: a child made by clone(CLONE_VM |
 * CLONE_SIGHAND | CLONE_FILES | CLONE_VFORK) shares its parent's
 * dispositions and descriptor table until it execs; execve then gives it
 * copies of its own (Linux's unshare_sighand, unshare_files) before it
 * resets caught signals and closes close-on-exec descriptors, so the
 * parent's handler and its close-on-exec descriptor survive the child's
 * exec. The exec'd probe (this program again) checks that it has neither
 * (the handler is SIG_DFL, the descriptor closed) and exits 66.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

static char *self_path;
static char fd_arg[16];

static void on_usr1(int sig)
{
    (void)sig;
}

static int child_fn(void *arg)
{
    (void)arg;
    char *const argv[] = {self_path, "probe", fd_arg, NULL};
    char *const envp[] = {NULL};
    execve(self_path, argv, envp);
    _exit(67);
}

static int probe(char **argv)
{
    struct sigaction sa;
    CHECK(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL,
          "probe: SIGUSR1 has handler %p after execve, want SIG_DFL", (void *)sa.sa_handler);
    CHECK_ERRNO(fcntl(atoi(argv[2]), F_GETFD), EBADF);
    return 66;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(argv);
    self_path = argv[0];

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    int fd = fcntl(1, F_DUPFD_CLOEXEC, 10);
    CHECK(fd >= 10, "fcntl(F_DUPFD_CLOEXEC): errno %d", errno);
    snprintf(fd_arg, sizeof(fd_arg), "%d", fd);

    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(stack != MAP_FAILED, "mmap(stack): errno %d", errno);
    pid_t child = clone(child_fn, stack + stack_size,
                        CLONE_VM | CLONE_SIGHAND | CLONE_FILES | CLONE_VFORK | SIGCHLD, NULL);
    CHECK(child > 0, "clone(CLONE_VM|CLONE_SIGHAND|CLONE_FILES|CLONE_VFORK): errno %d (%s)",
          errno, strerror(errno));

    /* CLONE_VFORK: the child has exec'd (or exited) by now. */
    CHECK(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == on_usr1,
          "after the child's execve the parent's SIGUSR1 handler is %p, want on_usr1 %p (exec "
          "reset the shared table)", (void *)sa.sa_handler, (void *)on_usr1);
    int flags = fcntl(fd, F_GETFD);
    CHECK(flags == FD_CLOEXEC, "after the child's execve the parent's descriptor %d has "
          "F_GETFD %d (errno %d), want FD_CLOEXEC (exec closed it in the shared table)", fd,
          flags, errno);
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66,
          "the probe %s, want exited 66 (67: its execve failed)", wait_status_str(status));
    printf("exec_unshares_handlers_and_files: the child's execve left the parent's handler and "
           "close-on-exec descriptor alone, and reset and closed its own\n");
    return 0;
}
