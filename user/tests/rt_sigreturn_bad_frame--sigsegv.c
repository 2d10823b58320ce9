/*
 * rt_sigreturn_bad_frame--sigsegv: rt_sigreturn when sp does not point at
 * a signal frame the kernel built (here, called directly from main, so the
 * stack holds no fpsimd_context record where the frame's would be) is
 * refused with SIGSEGV (Linux: badframe -> arm64_notify_segfault), which
 * ends the program.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("rt_sigreturn_bad_frame: calling rt_sigreturn outside any handler\n");
    syscall(SYS_rt_sigreturn);
    printf("rt_sigreturn_bad_frame: FAIL: rt_sigreturn returned\n");
    return 1;
}
