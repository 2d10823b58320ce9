/*
 * mte_signal_handler_tco_cleared: a signal handler starts with PSTATE.TCO
 * (Tag Check Override) clear, whatever the interrupted code had, as Linux
 * does (setup_return clears PSTATE.TCO), so tag checks apply in handlers;
 * uc_mcontext.pstate shows the interrupted TCO, and rt_sigreturn puts it
 * back. With TCO set, a mismatching access in sync mode does not fault;
 * in the handler, the same access does. Skipped (exit 0) without
 * HWCAP2_MTE.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PSTATE_TCO (1UL << 25)

static volatile unsigned char *bad;
static volatile uint64_t tco_in_handler = ~0UL, pstate_seen;
static volatile int usr1_calls, segv_in_handler = -1;

static uint64_t read_tco(void)
{
    uint64_t v;
    __asm__ volatile(".arch armv8.5-a+memtag\n\tmrs %0, tco" : "=r"(v));
    return v;
}

static void set_tco(int on)
{
    if (on)
        __asm__ volatile(".arch armv8.5-a+memtag\n\tmsr tco, #1" ::: "memory");
    else
        __asm__ volatile(".arch armv8.5-a+memtag\n\tmsr tco, #0" ::: "memory");
}

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    uintptr_t pc;
    (void)sig;
    (void)si;
    usr1_calls++;
    tco_in_handler = read_tco();
    pstate_seen = uc->uc_mcontext.pstate;
    int before = caught()->count;
    load_byte_at(bad, &pc);
    segv_in_handler = caught()->count - before;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_signal_handler_tco_cleared");

    volatile unsigned char *p = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 5);
    bad = mte_tagged(p + 3, 0xa);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    catch_signal(SIGSEGV, 0, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);

    uintptr_t pc;
    set_tco(1);
    load_byte_at(bad, &pc);
    CHECK(caught()->count == 0, "with PSTATE.TCO set, a mismatching load faulted: %s", caught_str());
    printf("mte_signal_handler_tco_cleared: PSTATE.TCO set: a mismatching load does not fault\n");

    raise(SIGUSR1);
    uint64_t tco_after = read_tco();
    set_tco(0);
    CHECK(usr1_calls == 1, "the SIGUSR1 handler ran %d times", usr1_calls);
    CHECK(tco_in_handler == 0, "PSTATE.TCO in the handler reads %#lx, want 0",
          (unsigned long)tco_in_handler);
    CHECK(segv_in_handler == 1 && caught()->code == SEGV_MTESERR,
          "the mismatching load in the handler: %d SIGSEGV(s); %s", segv_in_handler, caught_str());
    printf("mte_signal_handler_tco_cleared: in the handler TCO is 0 and the same load faults "
           "(SEGV_MTESERR)\n");
    CHECK(pstate_seen & PSTATE_TCO, "uc_mcontext.pstate %#lx lacks the interrupted TCO (bit 25)",
          (unsigned long)pstate_seen);
    CHECK(tco_after == PSTATE_TCO, "after the handler PSTATE.TCO reads %#lx, want %#lx (restored)",
          (unsigned long)tco_after, PSTATE_TCO);
    printf("mte_signal_handler_tco_cleared: uc_mcontext.pstate has TCO set; rt_sigreturn "
           "restores it\n");
    return 0;
}
