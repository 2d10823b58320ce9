//! One page of memory the kernel keeps for itself (a pipe's buffer): a
//! frame from the allocator, read and written through the linear map,
//! given back when dropped. The only unsafe code a user of it needs.

use super::addr::PAGE_SIZE;
use super::frame::{self, Frame};
use crate::arch::aarch64::mmu::layout::phys_to_virt;

pub struct KernelPage(Frame);

impl KernelPage {
    /// A page, or `None` when RAM is exhausted. Not cleared: its owner
    /// reads only the bytes it wrote (Linux's alloc_page for a pipe).
    pub fn alloc() -> Option<Self> {
        frame::alloc().map(Self)
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the frame is ours until drop, mapped by the linear map
        // (Normal memory, no tag checks at EL1); &self keeps it borrowed.
        unsafe { core::slice::from_raw_parts(phys_to_virt(self.0.start()).as_ptr::<u8>(), PAGE_SIZE) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; &mut self makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(self.0.start()).as_mut_ptr::<u8>(), PAGE_SIZE) }
    }
}

impl Drop for KernelPage {
    fn drop(&mut self) {
        frame::put(self.0);
    }
}
