//! Cache maintenance for code written as data (Arm ARM D7.5.9, "Cache
//! maintenance requirements for instruction modification"): a page the
//! kernel fills with instructions is cleaned to the point of unification
//! and the instruction cache invalidated for it before it can be executed.

use tock_registers::interfaces::Readable;

use super::regs::{CTR_EL0, CTR_EL0 as C};
use crate::mm::addr::VirtAddr;

/// Makes `len` bytes written at `va` visible to instruction fetches.
pub fn sync_icache(va: VirtAddr, len: usize) {
    // CTR_EL0.DminLine / IminLine: log2 of the smallest line in words.
    let dline = 4usize << CTR_EL0.read(C::DminLine);
    let iline = 4usize << CTR_EL0.read(C::IminLine);
    let start = va.as_u64() as usize;
    let end = start + len;
    let mut a = start & !(dline - 1);
    while a < end {
        // SAFETY: cache maintenance by VA on memory the caller owns.
        unsafe { core::arch::asm!("dc cvau, {0}", in(reg) a, options(nostack)) };
        a += dline;
    }
    // SAFETY: a barrier.
    unsafe { core::arch::asm!("dsb ish", options(nostack)) };
    let mut a = start & !(iline - 1);
    while a < end {
        // SAFETY: invalidating instruction-cache lines has no memory effect.
        unsafe { core::arch::asm!("ic ivau, {0}", in(reg) a, options(nostack)) };
        a += iline;
    }
    // SAFETY: barriers.
    unsafe { core::arch::asm!("dsb ish", "isb", options(nostack)) };
}
