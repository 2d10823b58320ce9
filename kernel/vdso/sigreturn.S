/*
 * __kernel_rt_sigreturn: where a signal handler returns when it has no
 * SA_RESTORER of its own (glibc on arm64 never passes one). Linux 6.1's
 * arch/arm64/kernel/vdso/sigreturn.S: the CFI tells an unwinder this is a
 * signal frame whose caller's x29/x30 are the frame record x29 points at,
 * and the NOP before the symbol is for unwinders that subtract one from the
 * return address to find the calling function.
 */
#define __NR_rt_sigreturn 139

    .text
    .cfi_startproc
    .cfi_signal_frame
    .cfi_def_cfa    x29, 0
    .cfi_offset     x29, 0 * 8
    .cfi_offset     x30, 1 * 8
    nop
    .globl  __kernel_rt_sigreturn
    .type   __kernel_rt_sigreturn, %function
__kernel_rt_sigreturn:
    mov     x8, #__NR_rt_sigreturn
    svc     #0
    .cfi_endproc
    .size   __kernel_rt_sigreturn, . - __kernel_rt_sigreturn
