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

static void exit_group_now(void)
{
    _exit(40 + round_no);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    f = faulters_new();
    for (round_no = 0; round_no < ROUNDS; round_no++) {
        int status = faulters_child(f, FAULTERS, fault_forever, 3 + round_no % 4, (round_no & 1) ? NULL : exit_group_now);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 40 + round_no,
              "round %d: the child ended with status %#x, want exit %d", round_no, status, 40 + round_no);
    }
    printf("race_exit_group_while_threads_fault_ends_them_all: %d exit_groups (from the main thread and from a "
           "faulter) while 3 threads faulted: each ended the process with its status\n", ROUNDS);
    return 0;
}
