/*
 * spawn_posix_spawn_and_vfork: clone(CLONE_VM | CLONE_VFORK) shares the
 * memory and stops the parent until the child execs or exits (Linux's
 * wait_for_vfork_done), which is what glibc's posix_spawn and vfork are
 * built on.
 *  - posix_spawn of this program (as "spawned") with file actions (dup2 of
 *    a /dev/shm file onto stdout, close of a descriptor) and attributes
 *    (a signal mask blocking SIGUSR1): the spawned program checks each and
 *    writes a line to stdout, exits 42; waitpid reports 42 and the file
 *    holds the line;
 *  - posix_spawn of a missing path returns ENOENT (the child's execve
 *    error, which glibc passes back through the shared memory) and leaves
 *    no child behind;
 *  - vfork(): the child's writes land in the parent's memory, and the
 *    parent runs again only after the child's _exit; vfork + execve: the
 *    parent resumes once the exec is done and reaps the program's status;
 *  - a parent waiting in vfork for a child that sleeps is still killable:
 *    SIGKILL ends it at once (Linux's wait is TASK_KILLABLE).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define LINE "spawned: file actions and signal mask as asked\n"

extern char **environ;

static int spawned(char **argv)
{
    int closed_fd = atoi(argv[2]);
    int ppid = atoi(argv[3]);
    CHECK_ERRNO(fcntl(closed_fd, F_GETFD), EBADF);
    sigset_t mask;
    CHECK(sigprocmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, SIGUSR1) == 1 &&
              sigismember(&mask, SIGUSR2) == 0,
          "spawned: SIGUSR1 blocked %d, SIGUSR2 blocked %d; want 1 and 0",
          sigismember(&mask, SIGUSR1), sigismember(&mask, SIGUSR2));
    CHECK(getppid() == ppid, "spawned: getppid() %d, want %d", (int)getppid(), ppid);
    CHECK(write(1, LINE, strlen(LINE)) == (ssize_t)strlen(LINE), "spawned: write(1): errno %d",
          errno);
    return 42;
}

static void spawn_with_actions(char *self)
{
    char path[] = "/dev/shm/spawnXXXXXX";
    int out = mkstemp(path);
    CHECK(out >= 0, "mkstemp: errno %d", errno);
    int doomed = dup(2);
    CHECK(doomed >= 0, "dup(2): errno %d", errno);
    char fd_arg[16], ppid_arg[16];
    snprintf(fd_arg, sizeof(fd_arg), "%d", doomed);
    snprintf(ppid_arg, sizeof(ppid_arg), "%d", (int)getpid());

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    CHECK(posix_spawn_file_actions_init(&fa) == 0 && posix_spawn_file_actions_adddup2(&fa, out, 1) == 0 &&
              posix_spawn_file_actions_addclose(&fa, doomed) == 0,
          "file actions could not be made");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    CHECK(posix_spawnattr_init(&attr) == 0 && posix_spawnattr_setsigmask(&attr, &mask) == 0 &&
              posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK) == 0,
          "attributes could not be made");
    char *const argv[] = {self, "spawned", fd_arg, ppid_arg, NULL};
    pid_t pid = -1;
    int r = posix_spawn(&pid, self, &fa, &attr, argv, environ);
    CHECK(r == 0 && pid > 0, "posix_spawn(%s): %d (%s), pid %d", self, r, strerror(r), (int)pid);
    int status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "the spawned program %s, want exited 42 (1: one of its checks failed)",
          wait_status_str(status));
    char buf[128] = {0};
    ssize_t got = pread(out, buf, sizeof(buf) - 1, 0);
    CHECK(got == (ssize_t)strlen(LINE) && strcmp(buf, LINE) == 0,
          "the file dup2'd onto the spawned program's stdout holds %zd bytes \"%s\"", got, buf);
    CHECK(fcntl(doomed, F_GETFD) == 0, "the parent's descriptor %d was closed by the child's "
          "file action", doomed);
    printf("spawn_posix_spawn_and_vfork: posix_spawn with adddup2, addclose and setsigmask: "
           "exit 42 reaped, its stdout in the file\n");
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out);
    close(doomed);
    unlink(path);
}

static void spawn_missing(void)
{
    char *const argv[] = {"missing", NULL};
    pid_t pid = -1;
    int r = posix_spawn(&pid, "/tests/no_such_program", NULL, NULL, argv, environ);
    CHECK(r == ENOENT, "posix_spawn of a missing path returned %d (%s), want ENOENT", r,
          strerror(r));
    int status;
    pid_t w = waitpid(-1, &status, WNOHANG);
    CHECK(w == -1 && errno == ECHILD, "after the failed posix_spawn waitpid(-1, WNOHANG) returned "
          "%d (errno %d), want -1 ECHILD (glibc reaps the failed child)", (int)w, errno);
    printf("spawn_posix_spawn_and_vfork: posix_spawn of a missing path: ENOENT, no child left\n");
}

static void vfork_shares_and_waits(char *self)
{
    volatile int written = 0;
    volatile int finished = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        written = 7;
        /* Sleep: a parent that ran on now would see finished == 0. */
        struct timespec ts = {0, 30 * 1000000};
        nanosleep(&ts, NULL);
        finished = 1;
        _exit(9);
    }
    CHECK(pid > 0, "vfork: errno %d", errno);
    CHECK(written == 7 && finished == 1, "after vfork returned in the parent: written %d, "
          "finished %d; want 7 and 1 (shared memory, the parent waits for _exit)", written,
          finished);
    int status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 9, "the vfork child %s, want exited 9",
          wait_status_str(status));

    char ppid_arg[16];
    snprintf(ppid_arg, sizeof(ppid_arg), "%d", (int)getpid());
    int devnull_like = dup(2);
    char fd_arg[16];
    snprintf(fd_arg, sizeof(fd_arg), "%d", devnull_like);
    pid = vfork();
    if (pid == 0) {
        close(devnull_like);
        char *const argv[] = {self, "spawned", fd_arg, ppid_arg, NULL};
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_SETMASK, &mask, NULL);
        execve(self, argv, environ);
        _exit(67);
    }
    CHECK(pid > 0, "vfork: errno %d", errno);
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "vfork + execve: the program %s, want exited 42", wait_status_str(status));
    /* The child's close and sigprocmask were its own: descriptor tables
     * and masks are not shared by vfork. */
    CHECK(fcntl(devnull_like, F_GETFD) == 0, "the vfork child's close() closed the parent's "
          "descriptor %d", devnull_like);
    sigset_t mine;
    sigprocmask(SIG_BLOCK, NULL, &mine);
    CHECK(!sigismember(&mine, SIGUSR1), "the vfork child's sigprocmask changed the parent's mask");
    close(devnull_like);
    printf("spawn_posix_spawn_and_vfork: vfork shares memory and the parent waits for _exit; "
           "vfork + execve reaped with exit 42\n");
}

static void vfork_parent_killable(void)
{
    pid_t parent = fork_checked();
    if (parent == 0) {
        pid_t pid = vfork();
        if (pid == 0) {
            struct timespec ts = {0, 500 * 1000000};
            nanosleep(&ts, NULL);
            _exit(0);
        }
        _exit(5);
    }
    /* Long enough for it to wait in vfork with its child asleep. */
    sleep_ns(30 * 1000000);
    uint64_t t0 = monotonic_ns();
    CHECK(kill(parent, SIGKILL) == 0, "kill: errno %d", errno);
    int status = wait_for(parent);
    uint64_t ms = (monotonic_ns() - t0) / 1000000;
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && ms < 300,
          "a process waiting in vfork, sent SIGKILL, %s after %llu ms; want killed by SIGKILL "
          "at once (its child sleeps 500 ms)", wait_status_str(status), (unsigned long long)ms);
    printf("spawn_posix_spawn_and_vfork: SIGKILL ends a parent waiting in vfork after %llu ms\n",
           (unsigned long long)ms);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "spawned") == 0)
        return spawned(argv);
    spawn_with_actions(argv[0]);
    spawn_missing();
    vfork_shares_and_waits(argv[0]);
    vfork_parent_killable();
    return 0;
}
