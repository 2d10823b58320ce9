//! Cache maintenance for code written as data (Arm ARM (DDI 0487K.a), "Cache
//! maintenance requirements for instruction modification"): a page the
//! kernel fills with instructions, or any page it hands to EL0 as
//! executable after writing it (Linux's __sync_icache_dcache on
//! set_pte_at), is cleaned to the point of unification and the instruction
//! cache invalidated for it before it can be executed. The CPU says what it
//! needs (CTR_EL0): with IDC the clean is not needed, with DIC the
//! invalidation is not, and a VIPT instruction cache is invalidated whole,
//! since the kernel's address of a page is not the one EL0 runs it at
//! (Linux's sync_icache_aliases). QEMU does not model caches, so nothing
//! run there shows this missing; the decisions are tested on the host.

/// What making written bytes visible to instruction fetches takes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcacheSync {
    /// DC CVAU each data line (CTR_EL0.IDC clear), else only a DSB.
    pub clean_lines: Option<usize>,
    /// How the instruction cache is invalidated (CTR_EL0.DIC clear).
    pub invalidate: Invalidate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidate {
    /// DIC: nothing to invalidate.
    Nothing,
    /// IC IVAU each line of this size (PIPT: any alias will do).
    Lines(usize),
    /// IC IALLUIS (VIPT: the user alias may be elsewhere in the cache).
    All,
}

impl IcacheSync {
    /// Decodes CTR_EL0 (Arm ARM (DDI 0487K.a), CTR_EL0).
    pub fn from_ctr(ctr: u64) -> Self {
        let field = |shift: u32, bits: u32| (ctr >> shift) & ((1 << bits) - 1);
        let clean_lines = (field(28, 1) == 0).then(|| 4usize << field(16, 4));
        let invalidate = if field(29, 1) == 1 {
            Invalidate::Nothing
        } else if field(14, 2) == 0b10 {
            Invalidate::All
        } else {
            Invalidate::Lines(4usize << field(0, 4))
        };
        Self { clean_lines, invalidate }
    }
}

/// Makes `len` bytes written at `va` (the kernel's address of them)
/// visible to instruction fetches at any address they are mapped at.
#[cfg(target_os = "none")]
pub fn sync_icache(va: crate::mm::addr::VirtAddr, len: usize) {
    use tock_registers::interfaces::Readable;
    let how = IcacheSync::from_ctr(super::regs::CTR_EL0.get());
    let start = va.as_u64() as usize;
    let end = start + len;
    if let Some(line) = how.clean_lines {
        let mut a = start & !(line - 1);
        while a < end {
            // SAFETY: cache maintenance by VA on memory the caller owns.
            unsafe { core::arch::asm!("dc cvau, {0}", in(reg) a, options(nostack)) };
            a += line;
        }
    }
    // SAFETY: a barrier: the cleaned data (or, with IDC, the stores) reach
    // the point of unification before the invalidation or the fetches.
    unsafe { core::arch::asm!("dsb ish", options(nostack)) };
    match how.invalidate {
        Invalidate::Nothing => {}
        Invalidate::Lines(line) => {
            let mut a = start & !(line - 1);
            while a < end {
                // SAFETY: invalidating instruction-cache lines has no memory effect.
                unsafe { core::arch::asm!("ic ivau, {0}", in(reg) a, options(nostack)) };
                a += line;
            }
        }
        // SAFETY: as above.
        Invalidate::All => unsafe { core::arch::asm!("ic ialluis", options(nostack)) },
    }
    // SAFETY: barriers.
    unsafe { core::arch::asm!("dsb ish", "isb", options(nostack)) };
}

/// The start of every data-cache line of `line` bytes that `start..start +
/// len` touches: what a clean by VA must visit (an object need not be
/// aligned to, nor smaller than, the CPU's line).
pub fn dcache_lines(start: usize, len: usize, line: usize) -> impl Iterator<Item = usize> {
    (start & !(line - 1)..start + len).step_by(line)
}

/// Cleans `len` bytes at `va` to the point of coherency and waits for it
/// (Linux's dcache_clean_poc, arch/arm64/mm/cache.S): for data another
/// CPU reads with its MMU and caches off. The line size is CTR_EL0's
/// smallest data line (DminLine), as Linux's dcache_line_size reads it;
/// the DSB also completes every store before it, as Linux's __cpu_up
/// relies on before CPU_ON.
#[cfg(target_os = "none")]
pub fn clean_to_poc(va: crate::mm::addr::VirtAddr, len: usize) {
    use tock_registers::interfaces::Readable;
    let line = 4usize << ((super::regs::CTR_EL0.get() >> 16) & 0xf);
    for a in dcache_lines(va.as_u64() as usize, len, line) {
        // SAFETY: cache maintenance by VA on memory the caller names; no
        // data changes.
        unsafe { core::arch::asm!("dc cvac, {0}", in(reg) a, options(nostack)) };
    }
    // SAFETY: a barrier.
    unsafe { core::arch::asm!("dsb sy", options(nostack)) };
}

/// [`sync_icache`] for a whole frame, through the linear map.
#[cfg(target_os = "none")]
pub fn sync_icache_frame(frame: crate::mm::frame::Frame) {
    use crate::mm::addr::PAGE_SIZE;
    sync_icache(super::mmu::layout::phys_to_virt(frame.start()), PAGE_SIZE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_by_va_visits_every_line_the_object_touches() {
        // secondary_mmu_setup: 32 bytes at a 64-byte boundary; with the
        // smallest line CTR_EL0 allows (16 bytes) that is two lines.
        assert_eq!(dcache_lines(0x1000, 32, 16).collect::<alloc::vec::Vec<_>>(), [0x1000, 0x1010]);
        assert_eq!(dcache_lines(0x1000, 32, 64).collect::<alloc::vec::Vec<_>>(), [0x1000]);
        // Unaligned and straddling: both lines.
        assert_eq!(dcache_lines(0x103c, 8, 64).collect::<alloc::vec::Vec<_>>(), [0x1000, 0x1040]);
    }

    #[test]
    fn ctr_el0_decides_what_is_cleaned_and_invalidated() {
        // Cortex-A57 (QEMU's max base): PIPT, 64-byte lines, no IDC/DIC.
        let a57 = IcacheSync::from_ctr(0x8444_c004);
        assert_eq!(a57, IcacheSync { clean_lines: Some(64), invalidate: Invalidate::Lines(64) });
        // IDC and DIC (Neoverse N1 style): nothing by line.
        let n1 = IcacheSync::from_ctr(0x8444_c004 | 1 << 28 | 1 << 29);
        assert_eq!(n1, IcacheSync { clean_lines: None, invalidate: Invalidate::Nothing });
        // A VIPT instruction cache is invalidated whole.
        let vipt = IcacheSync::from_ctr((0x8444_c004 & !(3 << 14)) | 0b10 << 14);
        assert_eq!(vipt.invalidate, Invalidate::All);
    }
}
