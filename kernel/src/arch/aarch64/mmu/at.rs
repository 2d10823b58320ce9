//! Hardware address translation (AT S1E1R / AT S1E1W, Arm ARM (DDI 0487K.a), AT S1E1R): asks the
//! MMU itself what a virtual address maps to, which is how the self-tests
//! check that the page tables say what the kernel meant.

use tock_registers::interfaces::Readable;

use crate::arch::aarch64::regs::{PAR_EL1_EXT, PAR_EL1_EXT as P};
use crate::mm::addr::{PhysAddr, VirtAddr};

/// What the MMU answered for one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Translation {
    /// Mapped: output address and MAIR attribute byte.
    Mapped { pa: PhysAddr, mair_attr: u8 },
    /// Translation failed with this fault status code.
    Fault { status_code: u8 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Translates `va` as an EL1 access of the given kind.
pub fn translate(va: VirtAddr, access: Access) -> Translation {
    // SAFETY: AT only writes PAR_EL1; the ISB makes the result visible.
    unsafe {
        match access {
            Access::Read => core::arch::asm!("at s1e1r, {0}", "isb", in(reg) va.as_u64(), options(nostack)),
            Access::Write => core::arch::asm!("at s1e1w, {0}", "isb", in(reg) va.as_u64(), options(nostack)),
        }
    }
    let par = PAR_EL1_EXT.extract();
    if par.is_set(P::F) {
        return Translation::Fault { status_code: par.read(P::FST) as u8 };
    }
    let pa = (par.get() & 0x0000_ffff_ffff_f000) | (va.as_u64() & 0xfff);
    Translation::Mapped { pa: PhysAddr::new(pa), mair_attr: par.read(P::ATTR) as u8 }
}
