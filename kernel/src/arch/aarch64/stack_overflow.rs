//! Kernel stack overflow: the stack the exception entry switches to when a
//! kernel stack has run into its guard page, and the report.
//!
//! vectors.S checks every exception from EL1 before it pushes its frame
//! (Linux's kernel_ventry and overflow_stack, arch/arm64/kernel/entry.S and
//! traps.c: handle_bad_stack): an overflow is only survivable long enough
//! to say so, so it ends in a panic that names the stack pointer and the
//! stack it ran off.

use tock_registers::interfaces::Readable;

use super::mmu::layout::overflowed_stack_bottom;
use super::trap_frame::TrapFrame;

/// Size of the overflow stack: the panic report (formatting, register dump,
/// backtrace) runs on it. A power of two, aligned to itself, so the entry
/// can tell it is already on it (vectors.S).
pub const OVERFLOW_STACK_SIZE: usize = 16 * 1024;

#[repr(C, align(16384))]
pub struct OverflowStack([u8; OVERFLOW_STACK_SIZE]);

const _: () = assert!(core::mem::align_of::<OverflowStack>() == OVERFLOW_STACK_SIZE);

/// The boot CPU's overflow stack, in the image. Each secondary gets its
/// own from the kernel-stack window (smp.rs); vectors.S finds this CPU's
/// through TPIDR_EL1 (cpu_local.rs, `CpuData`).
static mut BOOT_CPU_OVERFLOW_STACK: OverflowStack = OverflowStack([0; OVERFLOW_STACK_SIZE]);

/// Top of the boot CPU's overflow stack, for its per-CPU data.
pub fn boot_cpu_overflow_stack_top() -> u64 {
    core::ptr::addr_of!(BOOT_CPU_OVERFLOW_STACK) as u64 + OVERFLOW_STACK_SIZE as u64
}

/// This CPU's overflow stack's bytes, for backtraces.
pub fn overflow_stack() -> core::ops::Range<u64> {
    super::cpu_local::this_cpu().overflow_stack()
}

/// Called from handle_exception for the entry's overflow report, on the
/// overflow stack (the frame, for the panic's register dump, is there too).
/// The interrupted SP, less the frame the entry could not push, is in
/// TPIDR_EL0 (vectors.S).
pub fn report() -> ! {
    let pushed = aarch64_cpu::registers::TPIDR_EL0.get();
    let sp = pushed + core::mem::size_of::<TrapFrame>() as u64;
    match overflowed_stack_bottom(pushed) {
        Some(bottom) if sp < bottom && bottom - sp <= 4096 => {
            panic!("kernel stack overflow: SP {:#x} in the guard page below the stack at {:#x}", sp, bottom)
        }
        Some(bottom) if sp < bottom => {
            panic!(
                "kernel stack overflow: SP {:#x}, {:#x} bytes below the stack at {:#x}, past its guard page",
                sp,
                bottom - sp,
                bottom
            )
        }
        // SP still inside (a store with writeback that faults leaves SP as
        // it was): what ran into the guard page is the access, at FAR_EL1,
        // which nothing has overwritten since the entry (the overflow path
        // takes no other exception).
        Some(bottom) if far_in_guard_page(bottom) => {
            let far = aarch64_cpu::registers::FAR_EL1.get();
            panic!("kernel stack overflow: SP {:#x}, access at {:#x} in the guard page below the stack at {:#x}", sp, far, bottom)
        }
        Some(bottom) => {
            panic!("kernel stack overflow: SP {:#x} leaves no room for an exception frame above the stack's bottom at {:#x}", sp, bottom)
        }
        None => panic!("kernel stack overflow reported for SP {:#x}, which is on a stack", sp),
    }
}

/// Whether the exception being reported is a data abort at EL1 whose
/// address lies in the 4 KiB guard page below `bottom`.
fn far_in_guard_page(bottom: u64) -> bool {
    use aarch64_cpu::registers::{ESR_EL1, FAR_EL1};
    const EC_DATA_ABORT_SAME_EL: u64 = 0x25;
    let far = FAR_EL1.get();
    ESR_EL1.get() >> 26 == EC_DATA_ABORT_SAME_EL && far < bottom && bottom - far <= 4096
}
