/*
 * ptrace_request_errors: Linux's errors for bad ptrace requests, and
 * PEEK/POKEDATA's reach (FOLL_FORCE):
 * - TRACEME twice: EPERM; a request on a process that is not the caller's
 *   tracee (an untraced child): ESRCH, even KILL; unknown requests and
 *   PEEKUSR (arm64 has no user area): EIO; CONT/DETACH with a signal
 *   number over 64: EIO;
 * - PEEKDATA of an unmapped or kernel address: EIO; into a bad tracer
 *   address: EFAULT; POKEDATA of an unmapped address: EIO;
 * - POKEDATA writes a read-only private page and a PROT_NONE one (the
 *   tracee gets a private copy; the tracer's own page is unchanged, the
 *   tracee reads the new word), and PEEKDATA reads a PROT_NONE page; a
 *   read-only *shared* page cannot be written (EIO);
 * - PEEK/POKEDATA at a tagged address: EIO (Linux 6.1's __access_remote_vm
 *   looks the area up with the tag on);
 * - GETSIGMASK / SETSIGMASK: the tracee's blocked mask, 8 bytes (any other
 *   size EINVAL), SIGKILL dropped from a new one;
 * - PTRACE_KILL and kill(SIGKILL) end a stopped tracee (WIFSIGNALED SIGKILL).
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

#define PAGE 4096

static volatile long *ro_word;   /* private, PROT_READ */
static volatile long *none_word; /* private, PROT_NONE */
static long *shared_ro;          /* shared, PROT_READ */

static int tracee(void)
{
    if (*ro_word != 0x1122334455667788L)
        return 10;
    if (mprotect((void *)none_word, PAGE, PROT_READ) != 0 || *none_word != 0x55aa)
        return 11;
    sigset_t now;
    if (sigprocmask(SIG_BLOCK, NULL, &now) != 0 || !sigismember(&now, SIGUSR1) || sigismember(&now, SIGUSR2))
        return 13;
    return 0;
}

static int second_traceme(void)
{
    errno = 0;
    return ptrace(PTRACE_TRACEME, 0, 0, 0) == -1 && errno == EPERM ? 0 : 12;
}

int main(void)
{
    ro_word = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    none_word = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    shared_ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(ro_word != MAP_FAILED && none_word != MAP_FAILED && shared_ro != MAP_FAILED, "mmap: errno %d", errno);
    *ro_word = 1;
    *none_word = 0x77;
    *shared_ro = 3;
    CHECK(mprotect((void *)ro_word, PAGE, PROT_READ) == 0 && mprotect((void *)none_word, PAGE, PROT_NONE) == 0 &&
              mprotect(shared_ro, PAGE, PROT_READ) == 0,
          "mprotect: errno %d", errno);

    /* An untraced child: nothing may be asked of it. */
    pid_t plain = fork();
    CHECK(plain >= 0, "fork: errno %d", errno);
    if (plain == 0) {
        pause();
        _exit(0);
    }
    long word = 0;
    CHECK_ERRNO(ptrace_raw(PTRACE_PEEKDATA, plain, (unsigned long)ro_word, (unsigned long)&word), ESRCH);
    CHECK_ERRNO(ptrace(PTRACE_CONT, plain, 0, 0), ESRCH);
    CHECK_ERRNO(ptrace(PTRACE_KILL, plain, 0, 0), ESRCH);
    CHECK_ERRNO(ptrace(0x7777, plain, 0, 0), ESRCH);
    CHECK_ERRNO(ptrace_raw(0x100000001L, 4000000, 0, 0), ESRCH); /* a 64-bit request, no such pid */
    CHECK(kill(plain, SIGKILL) == 0 && waitpid(plain, NULL, 0) == plain, "ending the untraced child");

    pid_t pid = start_tracee(tracee);
    CHECK_ERRNO(ptrace(0x7777, pid, 0, 0), EIO);
    CHECK_ERRNO(ptrace_raw(0x100000001L, pid, 0, 0), EIO);
    CHECK_ERRNO(ptrace_raw(PTRACE_PEEKUSER, pid, 0, (unsigned long)&word), EIO);
    CHECK_ERRNO(ptrace(PTRACE_CONT, pid, 0, 65), EIO);
    CHECK_ERRNO(ptrace(PTRACE_DETACH, pid, 0, 65), EIO);
    printf("ptrace_request_errors: non-tracee ESRCH; unknown, PEEKUSR, signal 65: EIO\n");

    CHECK_ERRNO(ptrace_raw(PTRACE_PEEKDATA, pid, 0x10, (unsigned long)&word), EIO);
    CHECK_ERRNO(ptrace_raw(PTRACE_PEEKDATA, pid, 0xffff000000001000UL, (unsigned long)&word), EIO);
    CHECK_ERRNO(ptrace_raw(PTRACE_PEEKDATA, pid, (unsigned long)ro_word, 0x10), EFAULT);
    CHECK_ERRNO(ptrace(PTRACE_POKEDATA, pid, 0x10, 1), EIO);

    CHECK(ptrace(PTRACE_POKEDATA, pid, (unsigned long)ro_word, 0x1122334455667788L) == 0,
          "POKEDATA of a read-only private page: errno %d", errno);
    CHECK(*ro_word == 1, "the tracer's own read-only page changed to %#lx", *ro_word);
    CHECK(ptrace_raw(PTRACE_PEEKDATA, pid, (unsigned long)none_word, (unsigned long)&word) == 0 && word == 0x77,
          "PEEKDATA of a PROT_NONE page: errno %d, word %#lx", errno, word);
    CHECK(ptrace(PTRACE_POKEDATA, pid, (unsigned long)none_word, 0x55aa) == 0,
          "POKEDATA of a PROT_NONE page: errno %d", errno);
    CHECK_ERRNO(ptrace(PTRACE_POKEDATA, pid, (unsigned long)shared_ro, 9), EIO);
    unsigned long tagged = (unsigned long)ro_word | (0x3UL << 56);
    CHECK_ERRNO(ptrace_raw(PTRACE_PEEKDATA, pid, tagged, (unsigned long)&word), EIO);
    CHECK_ERRNO(ptrace(PTRACE_POKEDATA, pid, tagged, 1), EIO);

    uint64_t mask = ~0ULL;
    CHECK(ptrace(PTRACE_GETSIGMASK, pid, 8, &mask) == 0 && mask == 0, "GETSIGMASK: errno %d, mask %#llx", errno,
          (unsigned long long)mask);
    CHECK_ERRNO(ptrace(PTRACE_GETSIGMASK, pid, 16, &mask), EINVAL);
    mask = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGKILL - 1));
    CHECK(ptrace(PTRACE_SETSIGMASK, pid, 8, &mask) == 0, "SETSIGMASK: errno %d", errno);
    CHECK(ptrace(PTRACE_GETSIGMASK, pid, 8, &mask) == 0 && mask == (1ULL << (SIGUSR1 - 1)),
          "GETSIGMASK after SETSIGMASK: %#llx, expected SIGUSR1 alone", (unsigned long long)mask);
    CHECK_ERRNO(ptrace(PTRACE_SETSIGMASK, pid, 8, (void *)8), EFAULT);
    CHECK(*shared_ro == 3, "a failed POKEDATA changed the shared page to %ld", *shared_ro);
    printf("ptrace_request_errors: PEEK/POKE EIO unmapped or tagged, EFAULT bad buffer; forced writes copy private "
           "pages; GET/SETSIGMASK\n");

    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the tracee saw status %#x (10: read-only word, 11: PROT_NONE word, 13: mask)", status);

    pid = start_tracee(second_traceme);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second TRACEME: status %#x (12: not EPERM)", status);

    pid = start_tracee(tracee);
    CHECK(ptrace(PTRACE_KILL, pid, 0, 0) == 0, "KILL: errno %d", errno);
    status = wait_end(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "after PTRACE_KILL: status %#x", status);
    pid = start_tracee(tracee);
    CHECK(kill(pid, SIGKILL) == 0, "kill: errno %d", errno);
    status = wait_end(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "after kill(SIGKILL): status %#x", status);
    printf("ptrace_request_errors: TRACEME twice EPERM; PTRACE_KILL and SIGKILL end a stopped tracee\n");
    return 0;
}
