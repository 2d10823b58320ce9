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
    let v = va.as_u64() | (0xff << 56); // drop any logical tag (TBI1)
    if (KIMAGE_VADDR..KERNEL_STACKS_BASE).contains(&v) {
        Some(PhysAddr::new(v - KIMAGE_VADDR + kimage_phys().as_u64()))
    } else if (PAGE_OFFSET..KIMAGE_VADDR).contains(&v) {
        Some(PhysAddr::new(v - PAGE_OFFSET))
    } else {
        None
    }
}

/// A fault address as Linux reports it in si_addr and
/// uc_mcontext.fault_address: the top byte replaced by copies of bit 55
/// (arm64's untagged_addr, a sign extension from bit 55), so a user address
/// loses its tag and a tagged kernel address reads as the kernel address it
/// names (0x5aff8000_00000000 -> 0xffff8000_00000000), not as some address
/// in neither half.
pub fn untagged_addr(addr: u64) -> u64 {
    (((addr << 8) as i64) >> 8) as u64
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
    fn untagged_addr_sign_extends_from_bit_55_like_linux() {
        assert_eq!(untagged_addr(0x5a00_ffff_f000_1234), 0x0000_ffff_f000_1234, "a user address loses its tag");
        assert_eq!(untagged_addr(0x5aff_8000_0000_0000), 0xffff_8000_0000_0000, "a tagged kernel address");
        assert_eq!(untagged_addr(0xffff_0000_4000_0000), 0xffff_0000_4000_0000, "an untagged kernel address");
        assert_eq!(untagged_addr(0x0000_0000_0040_0000), 0x0000_0000_0040_0000);
    }
}
