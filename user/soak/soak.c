/*
 * soak - the driver of `make soak` (scripts/soak): runs the race tests
 * (user/tests/race_*.c) in a loop and, beside them, the system-call fuzzer
 * (user/tests/syscall_fuzz.c, its random calls, a new seed each run) in a
 * loop, until SECONDS have passed; stops at the first failure.
 *
 *   soak [SECONDS SEED]
 *
 * The programs are /soak/NAME in the initramfs; their names come from the
 * build (-DSOAK_PROGRAMS="\"race_a\", \"race_b\"", scripts/soak), and so do
 * SECONDS and SEED when no arguments are given (-DSOAK_SECONDS=N
 * -DSOAK_SEED=N): scripts/soak has the kernel's runner start soak as the
 * one program of a directory, which passes none, so that the runner's
 * leak check follows it. Two
 * workers, each a child of this process: one execs every race test in
 * turn, round after round; the other execs `syscall_fuzz SEED+k
 * FUZZ_CALLS 0 cb` for k = 0, 1, ... Each program must exit 0 within its
 * limit. A failure prints
 *   soak: FAIL NAME ARGS: exited N (or killed by SIGNAL, or still running after S s)
 * with how to replay it, and then everything else is killed (kill(-1,
 * SIGKILL)) and soak exits 1; otherwise each worker ends after its program
 * running at the deadline and soak prints the rounds done and exits 0.
 * The kernel's runner then checks that nothing leaked.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(SOAK_PROGRAMS) || !defined(SOAK_SECONDS) || !defined(SOAK_SEED)
#error "build with -DSOAK_PROGRAMS='\"race_a\", ...' -DSOAK_SECONDS=N -DSOAK_SEED=N (scripts/soak does)"
#endif

#define FUZZ_CALLS 3000
#define RACE_LIMIT_S 60
#define FUZZ_LIMIT_S 300

static const char *const programs[] = {SOAK_PROGRAMS};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs /soak/NAME with args; 0 if it exited 0 within limit_s, else prints
 * why not and returns 1. */
static int run(const char *name, char *const args[], int limit_s, const char *replay)
{
    char path[256];
    snprintf(path, sizeof(path), "/soak/%s", name);
    char *argv[8] = {path};
    int argc = 1;
    for (int i = 0; args[i] && argc < 7; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char *const envp[] = {"HOME=/", "TERM=linux", NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        printf("soak: FAIL fork for %s: %s\n", name, strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execve(path, argv, envp);
        printf("soak: FAIL execve(%s): %s\n", path, strerror(errno));
        _exit(127);
    }
    double until = now_s() + limit_s;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (now_s() > until) {
            printf("soak: FAIL %s%s%s: still running after %d s (replay: %s)\n", name, args[0] ? " " : "",
                   args[0] ? args[0] : "", limit_s, replay);
            return 1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        printf("soak: FAIL %s%s%s: exited %d (replay: %s)\n", name, args[0] ? " " : "", args[0] ? args[0] : "",
               WEXITSTATUS(status), replay);
    else
        printf("soak: FAIL %s%s%s: killed by %s (replay: %s)\n", name, args[0] ? " " : "", args[0] ? args[0] : "",
               WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "?", replay);
    return 1;
}

static int races(double deadline)
{
    for (long round = 1; now_s() < deadline; round++) {
        for (size_t i = 0; i < NPROGRAMS; i++) {
            char replay[512];
            snprintf(replay, sizeof(replay), "make run PROG=build/user/tests/%s SMP=N", programs[i]);
            char *const none[] = {NULL};
            if (run(programs[i], none, RACE_LIMIT_S, replay))
                return 1;
        }
        printf("soak: race tests: round %ld passed (%zu programs)\n", round, NPROGRAMS);
    }
    return 0;
}

static int fuzz(double deadline, uint64_t seed)
{
    for (uint64_t k = 0; now_s() < deadline; k++) {
        char s[32], calls[32], replay[256];
        snprintf(s, sizeof(s), "%llu", (unsigned long long)(seed + k));
        snprintf(calls, sizeof(calls), "%d", FUZZ_CALLS);
        snprintf(replay, sizeof(replay), "make run PROG=build/user/tests/syscall_fuzz ARGS=\"%s %s 0 cb\" SMP=N", s,
                 calls);
        char *const args[] = {s, calls, "0", "cb", NULL};
        if (run("syscall_fuzz", args, FUZZ_LIMIT_S, replay))
            return 1;
        printf("soak: syscall_fuzz seed %s: %s calls passed\n", s, calls);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 1 && argc != 3) {
        printf("usage: soak [SECONDS SEED]\n");
        return 2;
    }
    double seconds = argc == 3 ? atof(argv[1]) : SOAK_SECONDS;
    uint64_t seed = argc == 3 ? strtoull(argv[2], NULL, 0) : SOAK_SEED;
    double start = now_s(), deadline = start + seconds;
    printf("soak: %zu race tests and syscall_fuzz (seeds from %llu, %d calls each) for %.0f s\n", NPROGRAMS,
           (unsigned long long)seed, FUZZ_CALLS, seconds);
    pid_t worker[2];
    for (int w = 0; w < 2; w++) {
        worker[w] = fork();
        if (worker[w] < 0) {
            printf("soak: FAIL fork: %s\n", strerror(errno));
            return 1;
        }
        if (worker[w] == 0)
            _exit(w == 0 ? races(deadline) : fuzz(deadline, seed));
    }
    int failed = 0;
    for (int left = 2; left > 0; left--) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0)
            break;
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            failed = 1;
            break;
        }
    }
    if (failed) {
        /* Everything else (the other worker and its program) goes. */
        kill(-1, SIGKILL);
        while (wait(NULL) > 0)
            ;
        printf("soak: FAILED after %.0f s\n", now_s() - start);
        return 1;
    }
    printf("soak: passed: %.0f s of race tests and fuzzing, no failure\n", now_s() - start);
    return 0;
}
