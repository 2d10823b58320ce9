/*
 * race_exit_group_while_threads_fault_ends_them_all: exit_group from one
 * thread while the others are faulting (private and shared anonymous,
 * PROT_MTE and refpage memory, mapped, touched and unmapped in a loop)
 * ends the whole process with that status, at once: no thread is left
 * running or stuck in a fault, and every page and table the threads had
 * is given back (the runner's leak check after this program).
 *
 * Twelve times: a child starts three faulting threads; once they are
 * under way, the main thread (even rounds) or one of the faulters (odd
 * rounds) calls _exit(40 + round). The parent wants exactly that status.
 */
#include <sys/wait.h>

#include "race_faulter.h"

#define FAULTERS 3
#define ROUNDS 12

static struct faulters *f;
static int round_no;

static void fault_forever(int id, void *arg)
{
    (void)arg;
    uint64_t rng = race_seed(id, round_no);
    for (long n = 0;; n++) {
        faulter_loop(f, id + (int)n, &rng);
        if (id == 0 && (round_no & 1) && n == 2 + round_no % 3)
            _exit(40 + round_no);
    }
}

static void *run_faulters(void *arg)
{
    (void)arg;
    race_run(FAULTERS, fault_forever, NULL);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    f = faulters_new();
    for (round_no = 0; round_no < ROUNDS; round_no++) {
        pid_t child = fork();
        CHECK(child >= 0, "fork: %s", strerror(errno));
        if (child == 0) {
            pthread_t t;
            CHECK(pthread_create(&t, NULL, run_faulters, NULL) == 0, "pthread_create");
            faulters_wait(f, 3 + round_no % 4);
            if (!(round_no & 1))
                _exit(40 + round_no);
            for (;;)
                pause();
        }
        int status;
        CHECK(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 40 + round_no,
              "round %d: the child ended with status %#x, want exit %d", round_no, status, 40 + round_no);
    }
    printf("race_exit_group_while_threads_fault_ends_them_all: %d exit_groups (from the main thread and from a "
           "faulter) while 3 threads faulted: each ended the process with its status\n", ROUNDS);
    return 0;
}
