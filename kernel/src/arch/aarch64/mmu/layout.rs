//! The kernel half of the address space (TTBR1, 48-bit VA):
//!
//! ```text
//! 0xffff_0000_0000_0000  linear map of all RAM: VA = PAGE_OFFSET + PA (Normal Tagged, RW, XN)
//! 0xffff_8000_0000_0000  kernel image (text RX, rodata R, data/bss/stack/heap RW XN)
//! 0xffff_fd00_0000_0000  process kernel stacks, each above an unmapped guard page
//! 0xffff_fe00_0000_0000  device MMIO (Device-nGnRE, RW, XN)
//! ```
//! The lower half (TTBR0) belongs to user address spaces.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::mm::addr::{PhysAddr, VirtAddr};

/// Start of the linear map.
pub const PAGE_OFFSET: u64 = 0xffff_0000_0000_0000;
/// Link address of the kernel image (linker.ld, boot/start.S).
pub const KIMAGE_VADDR: u64 = 0xffff_8000_0000_0000;
/// Start of the kernel-stack window.
pub const KERNEL_STACKS_BASE: u64 = 0xffff_fd00_0000_0000;
/// Start of the MMIO window.
pub const MMIO_BASE: u64 = 0xffff_fe00_0000_0000;

/// Every kernel stack (the boot stack in linker.ld, each task's in the
/// kernel-stack window) starts at a multiple of `2 << KERNEL_STACK_SHIFT`
/// and is at most `1 << KERNEL_STACK_SHIFT` bytes, with its unmapped guard
/// page just below: bit KERNEL_STACK_SHIFT of SP is then 0 anywhere on a
/// stack and 1 in the guard page and the rest of the block below, which is
/// what the EL1 exception entry tests (vectors.S; Linux aligns its stacks
/// the same way for the same test, THREAD_ALIGN). linker.ld aligns the boot
/// stack to the same 128 KiB.
pub const KERNEL_STACK_SHIFT: u32 = 16;
/// The largest kernel stack: 64 KiB.
pub const KERNEL_STACK_MAX: u64 = 1 << KERNEL_STACK_SHIFT;
/// The spacing of stacks in the kernel-stack window, and their alignment.
pub const KERNEL_STACK_SLOT: u64 = 2 << KERNEL_STACK_SHIFT;

/// The stack a stack pointer is on or has overflowed: the bottom of the
/// stack whose block it lies in, if the SP is below that bottom (in the
/// upper half of the block below, where the guard page is). `None` for an
/// SP on a stack.
pub fn overflowed_stack_bottom(sp: u64) -> Option<u64> {
    (sp & KERNEL_STACK_MAX != 0).then(|| (sp | (KERNEL_STACK_SLOT - 1)) + 1)
}

/// Physical address the image was loaded at; set once by boot.
static KIMAGE_PHYS: AtomicU64 = AtomicU64::new(0);

pub fn set_kimage_phys(pa: PhysAddr) {
    KIMAGE_PHYS.store(pa.as_u64(), Ordering::Relaxed);
}

pub fn kimage_phys() -> PhysAddr {
    PhysAddr::new(KIMAGE_PHYS.load(Ordering::Relaxed))
}

/// The linear-map address of `pa`.
pub fn phys_to_virt(pa: PhysAddr) -> VirtAddr {
    VirtAddr::new(PAGE_OFFSET + pa.as_u64())
}

/// The physical address behind a kernel-image or linear-map address.
pub fn virt_to_phys(va: VirtAddr) -> Option<PhysAddr> {
    // Drop any tag (TBI1 ignores it: a heap pointer's, mm/kasan.rs): the
    // top byte becomes 0xFF, the form the ranges below are written in.
    let v = crate::mm::tagged_addr::sign_extend_from_bit_55(va.as_u64());
    if (KIMAGE_VADDR..KERNEL_STACKS_BASE).contains(&v) {
        Some(PhysAddr::new(v - KIMAGE_VADDR + kimage_phys().as_u64()))
    } else if (PAGE_OFFSET..KIMAGE_VADDR).contains(&v) {
        Some(PhysAddr::new(v - PAGE_OFFSET))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_map_round_trips_and_ignores_tags() {
        let va = phys_to_virt(PhysAddr::new(0x4123_4560));
        assert_eq!(va.as_u64(), 0xffff_0000_4123_4560);
        assert_eq!(virt_to_phys(va), Some(PhysAddr::new(0x4123_4560)));
        let tagged = VirtAddr::new(0xf5ff_0000_4123_4560);
        assert_eq!(virt_to_phys(tagged), Some(PhysAddr::new(0x4123_4560)));
        assert_eq!(virt_to_phys(VirtAddr::new(0x4000)), None, "user addresses have no kernel alias");
    }

    #[test]
    fn an_sp_past_a_stack_bottom_names_that_stack() {
        let bottom = KERNEL_STACKS_BASE + 3 * KERNEL_STACK_SLOT;
        assert_eq!(overflowed_stack_bottom(bottom), None, "the lowest byte of a stack");
        assert_eq!(overflowed_stack_bottom(bottom + KERNEL_STACK_MAX - 16), None, "the top of a full-size stack");
        assert_eq!(overflowed_stack_bottom(bottom - 8), Some(bottom), "in the guard page");
        assert_eq!(overflowed_stack_bottom(bottom - 4096), Some(bottom), "the guard page's first byte");
        assert_eq!(overflowed_stack_bottom(bottom - KERNEL_STACK_MAX), Some(bottom), "the far end of the block below");
    }
}
