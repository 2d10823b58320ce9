//! A user page held for a kernel read through the linear map (Linux's
//! get_user_pages with FOLL_GET: `follow_page_pte` takes a reference on
//! the page under the page-table lock, the caller reads it, then
//! put_page).
//!
//! Why a read needs it although the reader holds the shared side of the
//! space's lock: that lock keeps the areas and the tables, not the frame
//! an entry maps. Another thread of the space may take a copy-on-write
//! fault on the page under the same shared side (mm/fault.rs), which maps
//! its own copy and drops this space's owner of the old frame; if the
//! process a fork shared the frame with has meanwhile dropped its owner
//! (its exit, munmap or own copy, under its own lock), that drop frees the
//! frame, and another CPU may take it from the pool and fill it while the
//! reader still copies from it. The pin is one more owner
//! (frame::try_share), added under the entry's page-table lock, which the
//! copy-on-write takes to replace the entry (it drops the old frame only
//! after): a pin taken on the old entry is counted before that drop, one
//! taken after sees the new frame. The frame is freed by whichever of the
//! two owners goes last.
//!
//! While a pin is held the frame counts more than one owner, so a write
//! fault on it copies instead of reusing it, as Linux's do_wp_page copies
//! a page with an elevated count: the reader sees the page as it was when
//! pinned or as the target writes it, never another process's data.
//! Writers (ptrace POKE) pin too, after their forced write fault made the
//! frame this space's own: a reader's pin of the same page makes it look
//! shared for a moment, and a sibling's copy-on-write may then drop it
//! (mm/remote.rs: `resolve_for_write`).

use super::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use super::frame::{self, Frame};
use crate::arch::aarch64::mmu::layout::phys_to_virt;

/// A frame mapped by a user space, kept from being freed until dropped.
pub struct PinnedPage {
    frame: Frame,
    /// Whether an owner was added (pool frames only: a frame outside the
    /// pool, such as the vDSO's, is never freed).
    held: bool,
}

impl PinnedPage {
    /// Pins `pa`, read from its entry under that entry's page-table lock
    /// (the caller holds it: `AddressSpace::pin`).
    pub(super) fn new_under_ptl(pa: PhysAddr) -> Self {
        let frame = Frame::containing(pa);
        Self { frame, held: frame::try_share(frame) }
    }

    /// The frame's bytes through the kernel's linear map, from `offset`.
    pub fn linear(&self, offset: usize) -> VirtAddr {
        debug_assert!(offset < PAGE_SIZE);
        phys_to_virt(self.frame.start()) + offset as u64
    }

    /// Copies `dst.len()` bytes from `offset` of the page.
    pub fn read(&self, offset: usize, dst: &mut [u8]) {
        assert!(offset + dst.len() <= PAGE_SIZE, "a range inside one page");
        // SAFETY: the frame is held (or never freed) while `self` lives,
        // the range is inside it, through the linear map. Raw pointers: the
        // target's threads may write the page meanwhile (as Linux's copy).
        unsafe { core::ptr::copy_nonoverlapping(self.linear(offset).as_ptr::<u8>(), dst.as_mut_ptr(), dst.len()) };
    }
}

impl Drop for PinnedPage {
    fn drop(&mut self) {
        if self.held {
            // put_page: the last owner, this or the space's, frees it.
            frame::put(self.frame);
        }
    }
}
