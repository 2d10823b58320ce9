/*
 * race_execve_while_threads_fault_leaves_one_thread: execve from one
 * thread while the others are faulting (private and shared anonymous,
 * PROT_MTE and refpage memory, mapped, touched and unmapped in a loop)
 * ends those threads and runs the new program alone in the same process:
 * it finds one thread in /proc/self/status, its pid unchanged, and
 * reports success with its exit status.
 *
 * Eight times: a child starts three faulting threads; once they are under
 * way, the main thread (even rounds) or a faulter (odd rounds) execs this
 * program again with "probe PID". The probe checks it is alone and is
 * process PID, and exits 66; the parent wants 66.
 */
#include <sys/wait.h>

#include "proc_test.h"
#include "race_faulter.h"

#define FAULTERS 3
#define ROUNDS 8

static struct faulters *f;
static int round_no;
static char *self_path;

static void exec_probe(void)
{
    char pid_arg[16];
    snprintf(pid_arg, sizeof(pid_arg), "%d", (int)getpid());
    char *const argv[] = {self_path, "probe", pid_arg, NULL};
    char *const envp[] = {NULL};
    execve(self_path, argv, envp);
    fprintf(stderr, "execve(%s): errno %d (%s)\n", self_path, errno, strerror(errno));
    _exit(67);
}

static void fault_forever(int id, void *arg)
{
    (void)arg;
    uint64_t rng = race_seed(id, round_no);
    for (long n = 0;; n++) {
        faulter_loop(f, id + (int)n, &rng);
        if (id == 1 && (round_no & 1) && n == 2 + round_no % 3)
            exec_probe();
    }
}

static int probe(const char *pid_arg)
{
    CHECK(getpid() == atoi(pid_arg), "probe: getpid() is %d, want %s", (int)getpid(), pid_arg);
    static char status[8192];
    CHECK(read_file("/proc/self/status", status, sizeof(status)) > 0, "probe: /proc/self/status: %s",
          strerror(errno));
    const char *threads = line_value(status, "Threads:");
    CHECK(threads && atoi(threads) == 1, "probe: /proc/self/status says Threads:%.8s, want 1",
          threads ? threads : " (none)");
    return 66;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2]);
    self_path = argv[0];
    f = faulters_new();
    for (round_no = 0; round_no < ROUNDS; round_no++) {
        int status = faulters_child(f, FAULTERS, fault_forever, 3 + round_no % 4, (round_no & 1) ? NULL : exec_probe);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66,
              "round %d: the child ended with status %#x, want exit 66 from the probe", round_no, status);
    }
    printf("race_execve_while_threads_fault_leaves_one_thread: %d execve calls (from the main thread and from a "
           "faulter) while 3 threads faulted: the new program ran alone each time\n", ROUNDS);
    return 0;
}
