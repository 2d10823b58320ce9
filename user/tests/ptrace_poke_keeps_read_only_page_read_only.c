/*
 * ptrace_poke_keeps_read_only_page_read_only: a debugger's PTRACE_POKEDATA
 * into a read-only private page (FOLL_FORCE) gives the tracee its private
 * copy, but the tracee itself still cannot write there: its own store
 * faults with SIGSEGV, however many pokes came before. Linux 6.1's forced
 * write fault breaks COW without making the pte writable (wp_page_reuse is
 * only reached for a writable vma; can_follow_write_pte otherwise). The
 * second poke finds the private copy with this space its only owner: the
 * copy-on-write reuse must not give EL0 write access then.
 */
#include <sys/mman.h>
#include "refpage_test.h"
#include "ptrace_test.h"

static volatile unsigned long *page;

static int body(void)
{
    if (page[0] != 0x2222)
        return 3; /* the pokes were not seen */
    page[1] = 1; /* must stop with SIGSEGV */
    return 4;
}

int main(void)
{
    page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED, "mmap: errno %d", errno);
    pid_t c = start_tracee(body);
    CHECK(ptrace_raw(PTRACE_POKEDATA, c, (unsigned long)page, 0x1111) == 0, "first POKEDATA: errno %d", errno);
    CHECK(ptrace_raw(PTRACE_POKEDATA, c, (unsigned long)page, 0x2222) == 0, "second POKEDATA: errno %d", errno);
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: errno %d", errno);
    int status = 0;
    CHECK(waitpid(c, &status, 0) == c, "waitpid: errno %d", errno);
    CHECK(!WIFEXITED(status) || WEXITSTATUS(status) != 3, "the tracee did not see the poked word");
    CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSEGV,
          "the tracee's store to its read-only page after two pokes: status %#x (exit 4: the store worked), want a SIGSEGV stop",
          status);
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
    return 0;
}
