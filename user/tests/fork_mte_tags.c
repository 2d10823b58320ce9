/*
 * fork_mte_tags: allocation tags survive fork() and copy-on-write. Two
 * PROT_MTE pages get a different tag per 16-byte granule (STG) and data
 * through matching pointers before the fork. In the child, LDG reads the
 * same tags; after the child's write copies page 0, LDG still reads them
 * and the data is intact; page 1 (still shared) keeps them too. With
 * synchronous tag checking turned on in the child (prctl), a wrong-tag
 * load from the copied page and from the shared page raises SIGSEGV with
 * si_code SEGV_MTESERR and the untagged address (caught, siglongjmp), and
 * a right-tag load does not. A grandchild with the default SIGSEGV action
 * makes a wrong-tag store to a page it shares copy-on-write with the child
 * and is killed by SIGSEGV (WTERMSIG in the child). The parent, whose tag
 * checking stayed off, keeps its tags and data, without the child's write.
 * Skipped (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define GRANULES (PAGE / MTE_GRANULE)

/* The tag of granule g of page `page`: never 0, differs between neighbours
 * and between the two pages. */
static unsigned tag_for(int page, int g)
{
    return page == 0 ? 1 + g % 15 : 15 - g % 15;
}

static volatile unsigned char *mem;

static volatile unsigned char *granule(int page, int g)
{
    return mem + page * PAGE + g * MTE_GRANULE;
}

/* Right-tag pointer to byte `off` of granule g of `page`. */
static volatile unsigned char *right(int page, int g, int off)
{
    return mte_tagged(granule(page, g) + off, tag_for(page, g));
}

static void check_tags(int page, const char *who)
{
    for (int g = 0; g < GRANULES; g++) {
        unsigned t = mte_ldg(granule(page, g));
        CHECK(t == tag_for(page, g), "%s: page %d granule %d has tag %#x, want %#x", who, page, g,
              t, tag_for(page, g));
    }
}

static void check_data(int page, const char *who)
{
    for (int g = 0; g < GRANULES; g++) {
        unsigned char got = *right(page, g, 0);
        unsigned char want = (unsigned char)(g + page * 0x40);
        CHECK(got == want, "%s: page %d granule %d byte 0 is %#x, want %#x", who, page, g, got,
              want);
    }
}

static sigjmp_buf jump;
static volatile int seen_code, seen_signo, faults;
static volatile uintptr_t seen_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    seen_signo = si->si_signo;
    seen_code = si->si_code;
    seen_addr = (uintptr_t)si->si_addr;
    faults++;
    siglongjmp(jump, 1);
}

/* Loads through `p`; returns 1 if that raised SIGSEGV (caught). */
static int load_faults(volatile unsigned char *p)
{
    if (sigsetjmp(jump, 1) == 0) {
        (void)*p;
        return 0;
    }
    return 1;
}

static void child(void)
{
    check_tags(0, "child, before writing");
    check_tags(1, "child, before writing");
    check_data(0, "child, before writing");

    /* Tag checking is still off (the parent never turned it on); the write
     * goes through the right tag anyway and copies page 0. */
    *right(0, 3, 1) = 0xcc;
    CHECK(*right(0, 3, 1) == 0xcc, "child: its write to page 0 reads back %#x", *right(0, 3, 1));
    check_tags(0, "child, after the copy-on-write of page 0");
    check_data(0, "child, after the copy-on-write of page 0");
    check_tags(1, "child, page 1 still shared");
    printf("fork_mte_tags: child: LDG reads the parent's tags before and after its write copied "
           "the page\n");

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction: errno %d", errno);

    for (int page = 0; page < 2; page++) {
        const char *what = page == 0 ? "copied page 0" : "shared page 1";
        volatile unsigned char *ok = right(page, 9, 2);
        volatile unsigned char *bad = mte_tagged(granule(page, 9) + 2, tag_for(page, 9) ^ 0x5);
        int f = faults;
        CHECK(!load_faults(ok), "child: a right-tag load from the %s raised signal %d, si_code "
              "%d, si_addr %#lx", what, seen_signo, seen_code, (unsigned long)seen_addr);
        CHECK(load_faults(bad), "child: a wrong-tag load (tag %#x, memory %#x) from the %s did "
              "not fault with synchronous checking on", tag_of(bad), tag_for(page, 9), what);
        CHECK(faults == f + 1 && seen_signo == SIGSEGV && seen_code == SEGV_MTESERR &&
                  seen_addr == untagged(bad),
              "child: the wrong-tag load from the %s gave signal %d si_code %d si_addr %#lx; want "
              "SIGSEGV, SEGV_MTESERR (%d), %#lx", what, seen_signo, seen_code,
              (unsigned long)seen_addr, SEGV_MTESERR, (unsigned long)untagged(bad));
    }
    printf("fork_mte_tags: child: with sync checking, wrong-tag loads from the copied and the "
           "shared page raise SIGSEGV/SEGV_MTESERR at the untagged address\n");

    /* A grandchild shares the child's page 0 copy-on-write; its wrong-tag
     * store copies the page, then fails the tag check: with the default
     * action, SIGSEGV ends it. */
    pid_t g = fork_checked();
    if (g == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile unsigned char *)mte_tagged(granule(0, 20) + 4, tag_for(0, 20) ^ 0x3) = 0x77;
        _exit(50); /* the store did not fault */
    }
    int status = wait_for(g);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
          "child: the grandchild's wrong-tag store: it %s, want killed by SIGSEGV (11)",
          wait_status_str(status));
    check_tags(0, "child, after the grandchild died");
    CHECK(*right(0, 20, 4) != 0x77, "child: the grandchild's faulting store reached the child's page");
    printf("fork_mte_tags: child: a grandchild's wrong-tag store (after its copy-on-write) kills "
           "it with SIGSEGV\n");
    _exit(0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("fork_mte_tags");

    mem = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    for (int page = 0; page < 2; page++)
        for (int g = 0; g < GRANULES; g++) {
            mte_stg(granule(page, g), tag_for(page, g));
            *right(page, g, 0) = (unsigned char)(g + page * 0x40);
        }
    check_tags(0, "parent, before the fork");
    check_tags(1, "parent, before the fork");

    pid_t pid = fork_checked();
    if (pid == 0)
        child();
    int status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child %s, want exited 0",
          wait_status_str(status));

    long ctrl = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK((ctrl & PR_MTE_TCF_MASK) == PR_MTE_TCF_NONE,
          "parent: PR_GET_TAGGED_ADDR_CTRL is %#lx after the child turned sync checking on; want "
          "the parent's own (no checking)", ctrl);
    check_tags(0, "parent, after the child exited");
    check_tags(1, "parent, after the child exited");
    check_data(0, "parent, after the child exited");
    check_data(1, "parent, after the child exited");
    CHECK(*right(0, 3, 1) == 0, "parent: byte the child wrote reads %#x, want the parent's 0",
          *right(0, 3, 1));
    printf("fork_mte_tags: parent: tags, data and tag-check mode are its own after the child's "
           "copy-on-write\n");
    return 0;
}
