/*
 * signal_sigaltstack_autodisarm_and_uc_stack: with SS_AUTODISARM, a
 * handler running on the alternate stack finds it disarmed (sigaltstack
 * reads SS_DISABLE, size 0) and may set another one; uc_stack holds the
 * armed stack with SS_AUTODISARM, and rt_sigreturn puts uc_stack back
 * (Linux's restore_altstack), so the stack is armed again afterwards. A
 * handler that edits uc_stack changes the alternate stack it returns to.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define ALT_SIZE (64 * 1024)

static unsigned char *alt, *alt2;
static volatile uintptr_t local_at;
static volatile int inner_flags = -1, inner_set = -1, uc_flags = -1;
static volatile size_t inner_size = 1;
static volatile uintptr_t uc_sp;
static volatile int edit_uc_stack;

static void handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    volatile int here = 0;
    stack_t now, other = {.ss_sp = alt2, .ss_size = ALT_SIZE, .ss_flags = 0};
    (void)sig, (void)si;
    local_at = (uintptr_t)&here;
    uc_sp = (uintptr_t)uc->uc_stack.ss_sp;
    uc_flags = uc->uc_stack.ss_flags;
    if (sigaltstack(NULL, &now) == 0) {
        inner_flags = now.ss_flags;
        inner_size = now.ss_size;
    }
    if (edit_uc_stack) {
        uc->uc_stack.ss_sp = alt2;
        uc->uc_stack.ss_size = ALT_SIZE;
        uc->uc_stack.ss_flags = 0;
    } else {
        /* Allowed: the stack in use is disarmed. Undone by rt_sigreturn. */
        inner_set = sigaltstack(&other, NULL);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    alt = map_anonymous(ALT_SIZE, PROT_READ | PROT_WRITE);
    alt2 = map_anonymous(ALT_SIZE, PROT_READ | PROT_WRITE);
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = SS_AUTODISARM}, old;
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack(SS_AUTODISARM): errno %d", errno);
    CHECK(sigaltstack(NULL, &old) == 0 && (unsigned)old.ss_flags == SS_AUTODISARM,
          "armed with SS_AUTODISARM, the flags read %#x", old.ss_flags);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

    raise(SIGUSR1);
    CHECK(local_at >= (uintptr_t)alt && local_at < (uintptr_t)alt + ALT_SIZE,
          "the handler ran at %#lx, off the alternate stack", (unsigned long)local_at);
    CHECK(inner_flags == SS_DISABLE && inner_size == 0,
          "in the handler sigaltstack reads flags %#x size %zu; want SS_DISABLE, 0 (disarmed)", inner_flags,
          (size_t)inner_size);
    CHECK(inner_set == 0, "setting another alternate stack in the handler failed (errno %d)", errno);
    CHECK(uc_sp == (uintptr_t)alt && (unsigned)uc_flags == SS_AUTODISARM,
          "uc_stack: sp %#lx flags %#x; want %p, SS_AUTODISARM", (unsigned long)uc_sp, uc_flags, (void *)alt);
    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt && (unsigned)old.ss_flags == SS_AUTODISARM &&
              old.ss_size == ALT_SIZE,
          "after the handler: sp %p flags %#x size %zu; want %p, SS_AUTODISARM, %d (uc_stack restored)",
          old.ss_sp, old.ss_flags, old.ss_size, (void *)alt, ALT_SIZE);
    printf("signal_sigaltstack_autodisarm_and_uc_stack: disarmed in the handler, armed again after it\n");

    edit_uc_stack = 1;
    raise(SIGUSR1);
    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt2 && old.ss_flags == 0 && old.ss_size == ALT_SIZE,
          "after a handler set uc_stack to %p: sp %p flags %#x size %zu", (void *)alt2, old.ss_sp, old.ss_flags,
          old.ss_size);
    printf("signal_sigaltstack_autodisarm_and_uc_stack: rt_sigreturn installs the handler's uc_stack\n");
    return 0;
}
