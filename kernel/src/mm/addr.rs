//! Address and page types.
//!
//! Physical and virtual addresses are different things that happen to share a
//! representation; keeping them apart in the type system is what stops a
//! physical address being dereferenced or a virtual one being written into a
//! page-table descriptor.

use core::fmt;
use core::ops::{Add, Sub};

/// Size of a translation granule and of a frame: 4 KiB (TCR_EL1.TG0/TG1).
pub const PAGE_SIZE: usize = 4096;
pub const PAGE_SHIFT: u32 = 12;

/// A physical address (an output address of stage-1 translation).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct PhysAddr(u64);

/// A virtual address as the kernel uses it (upper half for the kernel, lower
/// half for user space).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct VirtAddr(u64);

/// A physical frame number: `PhysAddr >> PAGE_SHIFT`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(transparent)]
pub struct Frame(u64);

macro_rules! address_type {
    ($t:ident, $name:literal) => {
        #[allow(dead_code)] // the same operations for both address kinds
        impl $t {
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }
            pub const fn as_u64(self) -> u64 {
                self.0
            }
            pub const fn as_usize(self) -> usize {
                self.0 as usize
            }
            pub const fn align_down(self, align: u64) -> Self {
                Self(self.0 & !(align - 1))
            }
            /// Rounds up; `None` if that would overflow.
            pub const fn checked_align_up(self, align: u64) -> Option<Self> {
                match self.0.checked_add(align - 1) {
                    Some(v) => Some(Self(v & !(align - 1))),
                    None => None,
                }
            }
            pub const fn is_aligned(self, align: u64) -> bool {
                self.0 & (align - 1) == 0
            }
            /// Offset of the address within its 4 KiB page.
            pub const fn page_offset(self) -> usize {
                (self.0 as usize) & (PAGE_SIZE - 1)
            }
        }
        impl Add<u64> for $t {
            type Output = Self;
            fn add(self, rhs: u64) -> Self {
                Self(self.0 + rhs)
            }
        }
        impl Sub<$t> for $t {
            type Output = u64;
            fn sub(self, rhs: $t) -> u64 {
                self.0 - rhs.0
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($name, "({:#x})"), self.0)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }
    };
}
address_type!(PhysAddr, "PhysAddr");
address_type!(VirtAddr, "VirtAddr");

impl VirtAddr {
    pub fn as_ptr<T>(self) -> *const T {
        self.0 as *const T
    }
    pub fn as_mut_ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }
    pub fn from_ptr<T>(p: *const T) -> Self {
        Self(p as u64)
    }
    /// A kernel (TTBR1) address with the match-all logical tag 0xF in
    /// bits 59:56, as every kernel pointer but the heap's has it
    /// (mm/tagged_addr.rs: `with_match_all_tag`). Not for user addresses.
    pub const fn with_match_all_tag(self) -> Self {
        Self(super::tagged_addr::with_match_all_tag(self.0))
    }
}

impl Frame {
    pub const fn containing(pa: PhysAddr) -> Self {
        Self(pa.as_u64() >> PAGE_SHIFT)
    }
    pub const fn from_number(n: u64) -> Self {
        Self(n)
    }
    pub const fn number(self) -> u64 {
        self.0
    }
    pub const fn start(self) -> PhysAddr {
        PhysAddr::new(self.0 << PAGE_SHIFT)
    }
}

/// A half-open physical range `[start, end)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PhysRange {
    pub start: PhysAddr,
    pub end: PhysAddr,
}

impl PhysRange {
    pub const fn new(start: PhysAddr, end: PhysAddr) -> Self {
        Self { start, end }
    }
    pub fn from_start_size(start: PhysAddr, size: u64) -> Self {
        Self { start, end: PhysAddr::new(start.as_u64().saturating_add(size)) }
    }
    pub fn size(&self) -> u64 {
        self.end.as_u64().saturating_sub(self.start.as_u64())
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#012x}..{:#012x})", self.start.as_u64(), self.end.as_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_rounds_to_the_granule() {
        let a = PhysAddr::new(0x4000_1234);
        assert_eq!(a.align_down(PAGE_SIZE as u64), PhysAddr::new(0x4000_1000));
        assert_eq!(a.checked_align_up(PAGE_SIZE as u64), Some(PhysAddr::new(0x4000_2000)));
        assert_eq!(PhysAddr::new(u64::MAX).checked_align_up(4096), None);
        assert!(PhysAddr::new(0x4000_0000).is_aligned(0x20_0000));
    }

    #[test]
    fn frame_numbers_round_trip() {
        let f = Frame::containing(PhysAddr::new(0x4020_0fff));
        assert_eq!(f.number(), 0x40200);
        assert_eq!(f.start(), PhysAddr::new(0x4020_0000));
    }
}
