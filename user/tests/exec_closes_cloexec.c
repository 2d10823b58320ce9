/*
 * exec_closes_cloexec: execve closes close-on-exec descriptors and keeps
 * the others. The parent makes a refpage descriptor (O_CLOEXEC by
 * contract), a dup of the console (not close-on-exec), a second dup given
 * FD_CLOEXEC with fcntl(F_SETFD), and a /dev/shm file with its offset moved;
 * it catches SIGUSR1, ignores SIGUSR2 and blocks SIGTERM; then forks, and
 * the child execve's /tests/exec_helper_probe with the descriptor numbers,
 * its pid and a marker in argv and its own envp. The probe checks the
 * descriptors, argv, envp, pid and signal state (see exec_helper_probe.c)
 * and exits 66; the parent checks that status. Also: execve of a missing
 * path fails with ENOENT and the caller carries on unchanged. (execve of a
 * non-ELF file is not checked: the initramfs has no such file.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PROBE "/tests/exec_helper_probe"

static void on_usr1(int sig)
{
    (void)sig;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* A missing path: ENOENT, and this program goes on as before. */
    volatile int canary = 0x5a5a;
    char *const none_argv[] = {"none", NULL};
    char *const none_envp[] = {NULL};
    CHECK_ERRNO(execve("/tests/no_such_program", none_argv, none_envp), ENOENT);
    CHECK_ERRNO(execve("/no/such/dir/prog", none_argv, none_envp), ENOENT);
    CHECK(canary == 0x5a5a, "the canary changed across a failed execve: %#x", canary);
    printf("exec_closes_cloexec: execve of a missing path: -1 ENOENT, the caller carries on\n");

    static const unsigned char pattern[16] = "0123456789abcdef";
    int cloexec_fd = refpage_create(pattern, sizeof(pattern), 0);
    CHECK(cloexec_fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));
    int flags = fcntl(cloexec_fd, F_GETFD);
    CHECK(flags == FD_CLOEXEC, "the refpage descriptor's F_GETFD is %d (errno %d), want "
          "FD_CLOEXEC", flags, errno);
    int open_fd = dup(1);
    CHECK(open_fd >= 0, "dup(1): errno %d (%s)", errno, strerror(errno));
    CHECK(fcntl(open_fd, F_GETFD) == 0, "dup(1) has F_GETFD %d", fcntl(open_fd, F_GETFD));
    int setfd_fd = dup(1);
    CHECK(setfd_fd >= 0 && fcntl(setfd_fd, F_SETFD, FD_CLOEXEC) == 0 &&
              fcntl(setfd_fd, F_GETFD) == FD_CLOEXEC,
          "dup(1) + F_SETFD FD_CLOEXEC: fd %d, errno %d (%s)", setfd_fd, errno, strerror(errno));

    char path[] = "/dev/shm/execXXXXXX";
    int file_fd = mkstemp(path);
    CHECK(file_fd >= 0, "mkstemp(/dev/shm/execXXXXXX): errno %d (%s)", errno, strerror(errno));
    const char text[] = "before-seek|after-seek\n";
    CHECK(write(file_fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1, "write: errno %d",
          errno);
    CHECK(lseek(file_fd, 12, SEEK_SET) == 12, "lseek: errno %d", errno);
    printf("exec_closes_cloexec: descriptors: refpage %d (O_CLOEXEC), console dup %d, console "
           "dup %d with FD_CLOEXEC, /dev/shm file %d at offset 12\n", cloexec_fd, open_fd,
           setfd_fd, file_fd);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction(SIGUSR1): errno %d", errno);
    sa.sa_handler = SIG_IGN;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction(SIGUSR2): errno %d", errno);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask: errno %d", errno);

    pid_t child = fork_checked();
    if (child == 0) {
        char args[5][16];
        snprintf(args[0], sizeof(args[0]), "%d", (int)getpid());
        snprintf(args[1], sizeof(args[1]), "%d", cloexec_fd);
        snprintf(args[2], sizeof(args[2]), "%d", open_fd);
        snprintf(args[3], sizeof(args[3]), "%d", file_fd);
        snprintf(args[4], sizeof(args[4]), "%d", setfd_fd);
        char *const argv[] = {"probe-argv0", "marker with  spaces", args[0], args[1],
                              args[2], args[3], args[4], NULL};
        char *const envp[] = {"EXEC_PROBE=yes", "SECOND=2", NULL};
        execve(PROBE, argv, envp);
        fprintf(stderr, "exec_closes_cloexec: child: execve(%s): errno %d (%s)\n", PROBE, errno,
                strerror(errno));
        _exit(errno == ENOENT ? 67 : 68);
    }
    int status = wait_for(child);
    CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 67),
          "execve(%s) failed with ENOENT in the child (is the probe in the initramfs?)", PROBE);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66,
          "the probe %s; want exited 66 (all its checks passed; its message above says which "
          "failed)", wait_status_str(status));
    printf("exec_closes_cloexec: the probe exited 66: close-on-exec descriptors closed, others "
           "kept, argv/envp/pid/signal state as expected\n");

    /* The parent's own descriptors are untouched by the child's execve. */
    CHECK(fcntl(cloexec_fd, F_GETFD) == FD_CLOEXEC && fcntl(setfd_fd, F_GETFD) == FD_CLOEXEC &&
              fcntl(open_fd, F_GETFD) == 0,
          "the parent's descriptors changed after the child's execve: errno %d", errno);
    CHECK(lseek(file_fd, 0, SEEK_CUR) == (off_t)sizeof(text) - 1,
          "the shared offset is %ld after the probe read to the end, want %zu",
          (long)lseek(file_fd, 0, SEEK_CUR), sizeof(text) - 1);
    printf("exec_closes_cloexec: the parent's descriptors are intact; the file offset the probe "
           "advanced is shared\n");
    CHECK(close(cloexec_fd) == 0 && close(open_fd) == 0 && close(setfd_fd) == 0 &&
              close(file_fd) == 0 && unlink(path) == 0,
          "cleanup: errno %d", errno);
    return 0;
}
