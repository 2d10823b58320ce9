// Exception vector table (Arm ARM (DDI 0487K.a), "Exception vectors") and the one
// code path that saves and restores a TrapFrame.
//
// Sixteen entries of 0x80 bytes, in four groups: current EL with SP_EL0,
// current EL with SP_ELx, lower EL in AArch64, lower EL in AArch32; each group
// has synchronous, IRQ, FIQ and SError. Every entry makes room for the frame,
// saves x0/x1, puts its number (0..15) in x1 and branches to the common code,
// which saves the rest and calls handle_exception(frame, kind) in
// exception.rs (entry 8, synchronous from EL0, handle_el0_sync), which
// ends by branching to exception_return with SP at the frame. The layout must match TrapFrame in trap_frame.rs.
//
// Entries from EL1 first check that the frame fits on the stack, as Linux's
// kernel_ventry does (arch/arm64/kernel/entry.S): a kernel stack overflow
// faults on the guard page below the stack with SP still in it, and pushing
// the frame there would fault again, forever. Every kernel stack lies in the
// lower half of a naturally aligned block of 2 << KSTACK_SHIFT bytes with
// its guard page just below (mmu/layout.rs), so bit KSTACK_SHIFT of SP is 0
// on a stack and 1 past its bottom; testing it needs no free register (the
// add/sub dance swaps SP and x0 through each other). On overflow the entry
// switches to this CPU's small overflow stack (found through TPIDR_EL1)
// and reports kind | 16; entries from
// EL0 (whose instructions are counted by the benchmarks) do not check.

.equ TF_X0,      0          // x0..x30 at 8 * n
.equ TF_SP_EL0,  248
.equ TF_ELR,     256
.equ TF_SPSR,    264
.equ TF_ESR,     272
.equ TF_FAR,     280
.equ TF_FRAME,   288        // frame record (fp, elr): backtraces cross exceptions
.equ TF_ENTRY,   304        // CNTPCT_EL0 at vector entry (fault-path costs)
.equ TF_SIZE,    320

.equ KSTACK_SHIFT,  {kstack_shift}
.equ OVERFLOW_STACK_SIZE, {overflow_stack_size}
.equ KIND_STACK_OVERFLOW, 16

.macro VECTOR kind, common=exception_common
    .balign 0x80
    sub     sp, sp, #TF_SIZE
    stp     x0, x1, [sp, #TF_X0]
    mrs     x0, cntpct_el0
    str     x0, [sp, #TF_ENTRY]
    mov     x1, #\kind
    b       \common
.endm

// An entry from EL1 (SP_EL1): VECTOR behind the stack check.
.macro VECTOR_CHECK_STACK kind
    .balign 0x80
    sub     sp, sp, #TF_SIZE
    add     sp, sp, x0              // sp' = sp + x0
    sub     x0, sp, x0              // x0' = sp' - x0 = sp
    tbnz    x0, #KSTACK_SHIFT, 1f
    sub     x0, sp, x0              // x0 = sp' - sp
    sub     sp, sp, x0              // sp = sp' - x0
2:  stp     x0, x1, [sp, #TF_X0]
    mrs     x0, cntpct_el0
    str     x0, [sp, #TF_ENTRY]
    mov     x1, #\kind
    b       exception_common
1:  // Past the bottom of a stack, or on the overflow stack. TPIDR_EL0 and
    // TPIDRRO_EL0 are free to hold SP and x0: nothing returns to EL0 from
    // an overflow, and on the overflow stack the panic is already under way.
    msr     tpidr_el0, x0           // SP with the frame pushed
    sub     x0, sp, x0
    msr     tpidrro_el0, x0         // x0
    mrs     x0, tpidr_el1           // this CPU's CpuData (cpu_local.rs):
    ldr     x0, [x0]                // its overflow stack's top, at offset 0
    mov     sp, x0
    mrs     x0, tpidr_el0
    sub     x0, sp, x0              // top of the overflow stack - SP
    tst     x0, #~(OVERFLOW_STACK_SIZE - 1)
    b.ne    kernel_stack_overflow   // not on it: an overflow
    sub     sp, sp, x0              // on it already: carry on there
    mrs     x0, tpidrro_el0
    b       2b
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .globl exception_vectors
exception_vectors:
    VECTOR 0
    VECTOR 1
    VECTOR 2
    VECTOR 3
    VECTOR_CHECK_STACK 4
    VECTOR_CHECK_STACK 5
    VECTOR_CHECK_STACK 6
    VECTOR_CHECK_STACK 7
    VECTOR 8, el0_sync_common
    VECTOR 9
    VECTOR 10
    VECTOR 11
    VECTOR 12
    VECTOR 13
    VECTOR 14
    VECTOR 15

// On the overflow stack, with the interrupted SP (minus the frame) in
// TPIDR_EL0 and x0 in TPIDRRO_EL0: a frame as any other, then
// handle_exception reports the overflow and panics.
kernel_stack_overflow:
    sub     sp, sp, #TF_SIZE
    mrs     x0, tpidrro_el0
    stp     x0, x1, [sp, #TF_X0]
    mrs     x0, cntpct_el0
    str     x0, [sp, #TF_ENTRY]
    mov     x1, #KIND_STACK_OVERFLOW
    b       exception_common

// Saves x2-x30 and the system registers into the frame, links a frame
// record, and calls HANDLER(frame, kind), which never returns: it leaves
// through exception_return itself, with SP at the frame (exception.rs:
// leave).
.macro SAVE_AND_CALL handler
    stp     x2, x3, [sp, #(2 * 8)]
    stp     x4, x5, [sp, #(4 * 8)]
    stp     x6, x7, [sp, #(6 * 8)]
    stp     x8, x9, [sp, #(8 * 8)]
    stp     x10, x11, [sp, #(10 * 8)]
    stp     x12, x13, [sp, #(12 * 8)]
    stp     x14, x15, [sp, #(14 * 8)]
    stp     x16, x17, [sp, #(16 * 8)]
    stp     x18, x19, [sp, #(18 * 8)]
    stp     x20, x21, [sp, #(20 * 8)]
    stp     x22, x23, [sp, #(22 * 8)]
    stp     x24, x25, [sp, #(24 * 8)]
    stp     x26, x27, [sp, #(26 * 8)]
    stp     x28, x29, [sp, #(28 * 8)]
    mrs     x2, sp_el0
    stp     x30, x2, [sp, #(30 * 8)]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [sp, #TF_ELR]
    mrs     x3, esr_el1
    mrs     x4, far_el1
    stp     x3, x4, [sp, #TF_ESR]
    stp     x29, x2, [sp, #TF_FRAME]
    add     x29, sp, #TF_FRAME

    mov     x0, sp                  // &mut TrapFrame; x1 is the kind
    bl      \handler
    udf     #0
.endm

exception_common:
    SAVE_AND_CALL handle_exception

// Entry 8 (synchronous from EL0: every page fault and system call) has its
// own handler, so that it does not test the kind first.
el0_sync_common:
    SAVE_AND_CALL handle_el0_sync

    // Where a new process or thread starts: its kernel stack holds a
    // TrapFrame built by the loader or copied by clone, and switch_context
    // "returns" here with sp at that frame. Its first return to EL0 does
    // the work of every return (a signal sent before it ran is delivered
    // now), as Linux's ret_from_fork goes through ret_to_user.
    .globl ret_from_fork
ret_from_fork:
    mov     x0, sp                  // &mut TrapFrame
    bl      first_return_to_user

    .globl exception_return
exception_return:
    // Restore. ESR/FAR are outputs only; ELR, SPSR and SP_EL0 may have been
    // changed by the handler (exception fixups, signal delivery, a restart).
    ldp     x2, x3, [sp, #TF_ELR]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldr     x2, [sp, #TF_SP_EL0]
    msr     sp_el0, x2
    ldp     x0, x1, [sp, #(0 * 8)]
    ldp     x2, x3, [sp, #(2 * 8)]
    ldp     x4, x5, [sp, #(4 * 8)]
    ldp     x6, x7, [sp, #(6 * 8)]
    ldp     x8, x9, [sp, #(8 * 8)]
    ldp     x10, x11, [sp, #(10 * 8)]
    ldp     x12, x13, [sp, #(12 * 8)]
    ldp     x14, x15, [sp, #(14 * 8)]
    ldp     x16, x17, [sp, #(16 * 8)]
    ldp     x18, x19, [sp, #(18 * 8)]
    ldp     x20, x21, [sp, #(20 * 8)]
    ldp     x22, x23, [sp, #(22 * 8)]
    ldp     x24, x25, [sp, #(24 * 8)]
    ldp     x26, x27, [sp, #(26 * 8)]
    ldp     x28, x29, [sp, #(28 * 8)]
    ldr     x30, [sp, #(30 * 8)]
    add     sp, sp, #TF_SIZE
    eret
