/*
 * exec_helper_probe: the program exec_closes_cloexec execve's. Run with no
 * arguments (as the test runner does), it only says so and exits 0.
 *
 * Run as
 *   exec_helper_probe MARKER PID CLOEXEC_FD OPEN_FD FILE_FD SETFD_FD
 * it checks what execve must have done, printing each check, and exits 66
 * when all hold (1 with a message otherwise):
 *  - argv arrived (argc 7, argv[0] as the caller gave it, MARKER with its
 *    spaces) and envp is exactly what the caller gave (EXEC_PROBE=yes,
 *    SECOND=2);
 *  - the process is the same one: getpid() is PID; its name (PR_GET_NAME)
 *    is the new program's;
 *  - CLOEXEC_FD (a refpage descriptor, always O_CLOEXEC) and SETFD_FD (a
 *    dup given FD_CLOEXEC with F_SETFD) are closed: fcntl(F_GETFD) EBADF;
 *  - OPEN_FD (a dup of the console) is open without FD_CLOEXEC and
 *    writable; FILE_FD (a /dev/shm file) is open, and reads what the
 *    caller wrote, from its shared offset;
 *  - SIGUSR1, caught before the exec, is back to SIG_DFL; SIGUSR2, ignored,
 *    stays ignored; SIGTERM, blocked, stays blocked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

extern char **environ;

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 1) {
        printf("exec_helper_probe: no arguments: run by exec_closes_cloexec, nothing to do\n");
        return 0;
    }
    CHECK(argc == 7, "argc is %d, want 7", argc);
    CHECK(strcmp(argv[0], "probe-argv0") == 0, "argv[0] is \"%s\", want \"probe-argv0\"", argv[0]);
    CHECK(strcmp(argv[1], "marker with  spaces") == 0, "argv[1] is \"%s\"", argv[1]);
    CHECK(argv[7] == NULL, "argv[argc] is not NULL");
    int n = 0;
    for (char **e = environ; *e; e++)
        n++;
    CHECK(n == 2 && strcmp(environ[0], "EXEC_PROBE=yes") == 0 && strcmp(environ[1], "SECOND=2") == 0,
          "environment: %d entries, first \"%s\"; want EXEC_PROBE=yes SECOND=2", n,
          n ? environ[0] : "");
    CHECK(strcmp(getenv("EXEC_PROBE") ? getenv("EXEC_PROBE") : "", "yes") == 0,
          "getenv(EXEC_PROBE) is not \"yes\"");
    printf("exec_helper_probe: argv (7 words, spaces kept) and envp (2 entries) arrived\n");

    char comm[17] = {0};
    CHECK(prctl(PR_GET_NAME, comm, 0, 0, 0) == 0 && strcmp(comm, "exec_helper_pro") == 0,
          "prctl(PR_GET_NAME) is \"%s\" after execve, want \"exec_helper_pro\" (the file's base "
          "name, cut to 15 bytes)", comm);
    printf("exec_helper_probe: the task name is the new program's: \"%s\"\n", comm);

    pid_t pid = (pid_t)atoi(argv[2]);
    CHECK(getpid() == pid, "getpid() is %d after execve, want the caller's %d", (int)getpid(),
          (int)pid);
    int cloexec_fd = atoi(argv[3]), open_fd = atoi(argv[4]), file_fd = atoi(argv[5]),
        setfd_fd = atoi(argv[6]);

    CHECK_ERRNO(fcntl(cloexec_fd, F_GETFD), EBADF);
    CHECK_ERRNO(fcntl(setfd_fd, F_GETFD), EBADF);
    printf("exec_helper_probe: the refpage descriptor %d (O_CLOEXEC) and descriptor %d "
           "(F_SETFD FD_CLOEXEC) are closed\n", cloexec_fd, setfd_fd);

    int flags = fcntl(open_fd, F_GETFD);
    CHECK(flags >= 0, "fcntl(%d, F_GETFD) on the console dup: errno %d (%s)", open_fd, errno,
          strerror(errno));
    CHECK(!(flags & FD_CLOEXEC), "descriptor %d has FD_CLOEXEC (%#x)", open_fd, flags);
    const char msg[] = "exec_helper_probe: the console dup (not close-on-exec) is open and writable\n";
    CHECK(write(open_fd, msg, sizeof(msg) - 1) == (ssize_t)sizeof(msg) - 1, "write(%d): errno %d",
          open_fd, errno);

    CHECK(fcntl(file_fd, F_GETFD) == 0, "fcntl(%d, F_GETFD) on the /dev/shm file: %d, errno %d",
          file_fd, fcntl(file_fd, F_GETFD), errno);
    char buf[32] = {0};
    ssize_t got = read(file_fd, buf, sizeof(buf) - 1);
    CHECK(got == 11 && strcmp(buf, "after-seek\n") == 0,
          "read(%d) from the inherited offset: %zd bytes \"%s\", errno %d; want \"after-seek\\n\"",
          file_fd, got, buf, errno);
    printf("exec_helper_probe: the /dev/shm file descriptor %d is open at the caller's offset\n",
           file_fd);

    struct sigaction sa;
    CHECK(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL,
          "SIGUSR1 (caught before execve) has handler %p, want SIG_DFL", (void *)sa.sa_handler);
    CHECK(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN,
          "SIGUSR2 (ignored before execve) has handler %p, want SIG_IGN", (void *)sa.sa_handler);
    sigset_t mask;
    CHECK(sigprocmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, SIGTERM) == 1,
          "SIGTERM (blocked before execve) is not blocked after it");
    printf("exec_helper_probe: caught SIGUSR1 reset to SIG_DFL, ignored SIGUSR2 still ignored, "
           "blocked SIGTERM still blocked\n");
    return 66;
}
