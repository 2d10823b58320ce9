/*
 * signal_sigaltstack_onstack: after sigaltstack(), an SA_ONSTACK handler
 * runs on the alternate stack (a local variable's address lies inside it);
 * inside it sigaltstack(NULL, &old) reports SS_ONSTACK with the stack's
 * base and size, changing the alternate stack is refused with EPERM, and
 * uc_stack holds the stack as it was when the signal arrived (not on it).
 * Outside a handler the flags are 0. A handler without SA_ONSTACK runs on
 * the normal stack; with SS_DISABLE an SA_ONSTACK handler does too. A stack
 * smaller than MINSIGSTKSZ gives ENOMEM; unknown flags EINVAL.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define ALT_SIZE (64 * 1024)

static unsigned char *alt;
static volatile uintptr_t local_at;
static volatile int calls, old_flags = -1, eperm = -1;
static volatile uintptr_t old_sp, old_size, uc_sp, uc_size;
static volatile int uc_flags = -1;

static void handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    volatile int here = 0;
    stack_t old, again;
    (void)sig;
    (void)si;
    calls++;
    local_at = (uintptr_t)&here;
    if (sigaltstack(NULL, &old) == 0) {
        old_flags = old.ss_flags;
        old_sp = (uintptr_t)old.ss_sp;
        old_size = old.ss_size;
    }
    again.ss_sp = alt;
    again.ss_size = ALT_SIZE;
    again.ss_flags = 0;
    eperm = sigaltstack(&again, NULL) == -1 && errno == EPERM;
    uc_sp = (uintptr_t)uc->uc_stack.ss_sp;
    uc_size = uc->uc_stack.ss_size;
    uc_flags = uc->uc_stack.ss_flags;
}

static int on_alt(uintptr_t a)
{
    return a >= (uintptr_t)alt && a < (uintptr_t)alt + ALT_SIZE;
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    alt = map_anonymous(ALT_SIZE, PROT_READ | PROT_WRITE);
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0}, old;
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: errno %d (%s)", errno, strerror(errno));
    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_flags == 0 && old.ss_sp == alt &&
              old.ss_size == ALT_SIZE,
          "outside a handler sigaltstack reports sp %p, size %zu, flags %d", old.ss_sp,
          old.ss_size, old.ss_flags);

    install(SA_ONSTACK);
    raise(SIGUSR1);
    CHECK(calls == 1, "the handler ran %d times", calls);
    CHECK(on_alt(local_at), "SA_ONSTACK handler: a local is at %#lx, outside the alternate stack "
          "[%p, %p)", (unsigned long)local_at, (void *)alt, (void *)(alt + ALT_SIZE));
    CHECK(old_flags == SS_ONSTACK && old_sp == (uintptr_t)alt && old_size == ALT_SIZE,
          "in the handler sigaltstack reports sp %#lx, size %lu, flags %d; want %p, %d, "
          "SS_ONSTACK", (unsigned long)old_sp, (unsigned long)old_size, old_flags, (void *)alt,
          ALT_SIZE);
    CHECK(eperm == 1, "changing the alternate stack while on it was not refused with EPERM");
    CHECK(uc_sp == (uintptr_t)alt && uc_size == ALT_SIZE && uc_flags == 0,
          "uc_stack: sp %#lx, size %lu, flags %d; want %p, %d, 0 (not on it when interrupted)",
          (unsigned long)uc_sp, (unsigned long)uc_size, uc_flags, (void *)alt, ALT_SIZE);
    printf("signal_sigaltstack_onstack: SA_ONSTACK handler ran at %#lx on the alternate stack; "
           "sigaltstack says SS_ONSTACK, EPERM for changes; uc_stack as at delivery\n",
           (unsigned long)local_at);

    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_flags == 0, "after the handler flags %d",
          old.ss_flags);

    install(0);
    raise(SIGUSR1);
    CHECK(calls == 2 && !on_alt(local_at), "handler without SA_ONSTACK: local at %#lx (alt stack "
          "[%p, +%d))", (unsigned long)local_at, (void *)alt, ALT_SIZE);
    CHECK(old_flags == 0, "handler without SA_ONSTACK: sigaltstack flags %d", old_flags);
    printf("signal_sigaltstack_onstack: without SA_ONSTACK the handler runs on the normal stack\n");

    ss.ss_flags = SS_DISABLE;
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack(SS_DISABLE): errno %d", errno);
    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE,
          "after SS_DISABLE the flags read %d", old.ss_flags);
    install(SA_ONSTACK);
    raise(SIGUSR1);
    CHECK(calls == 3 && !on_alt(local_at), "SS_DISABLE then SA_ONSTACK: local at %#lx",
          (unsigned long)local_at);
    printf("signal_sigaltstack_onstack: SS_DISABLE: SA_ONSTACK handlers use the normal stack\n");

    stack_t tiny = {.ss_sp = alt, .ss_size = 1024, .ss_flags = 0};
    CHECK_ERRNO(sigaltstack(&tiny, NULL), ENOMEM);
    stack_t weird = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0x1000};
    CHECK_ERRNO(sigaltstack(&weird, NULL), EINVAL);
    printf("signal_sigaltstack_onstack: a 1024-byte stack -> ENOMEM, unknown flags -> EINVAL\n");
    return 0;
}
