//! One page of memory the kernel keeps for itself (a pipe's buffer, the
//! vDSO's pages, the self-tests' and the demo's pages): a frame from the
//! allocator, read and written through the linear map, given back when
//! dropped. The only unsafe code a user of it needs; its tags are reached
//! through [`PageTags`], which exists only while tagging is on.

use super::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use super::frame::{self, Clear, Frame};
use crate::arch::aarch64::esr::Esr;
use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::arch::aarch64::{mte, page_fill};

pub struct KernelPage(Frame);

impl KernelPage {
    /// A page, or `None` when RAM is exhausted. Not cleared: its owner
    /// reads only the bytes it wrote (Linux's alloc_page for a pipe).
    pub fn alloc() -> Option<Self> {
        frame::alloc().map(Self)
    }

    /// A page zeroed as `clear` says (frame::alloc_zeroed).
    pub fn alloc_zeroed(clear: Clear) -> Option<Self> {
        frame::alloc_zeroed(clear).map(Self)
    }

    pub fn phys(&self) -> PhysAddr {
        self.0.start()
    }

    /// Its linear-map address, for logs and tag arithmetic: the memory is
    /// reached through the methods only.
    pub fn va(&self) -> VirtAddr {
        phys_to_virt(self.0.start())
    }

    /// Keeps the frame for good (the vDSO's text, mapped into every
    /// process): it is no longer freed on drop.
    pub fn into_frame(self) -> Frame {
        let f = self.0;
        core::mem::forget(self);
        f
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

    /// Zeroes the data with DC ZVA (page_fill::zero_page).
    pub fn zero(&mut self) {
        // SAFETY: our page-aligned, writable Normal page; &mut self.
        unsafe { page_fill::zero_page(self.va()) }
    }

    /// Zeroes the data with stores, DC ZVA's fallback.
    pub fn zero_by_stores(&mut self) {
        // SAFETY: as in `zero`.
        unsafe { page_fill::zero_page_by_stores(self.va()) }
    }

    /// The page's allocation tags, or `None` when tagging is off (then the
    /// tag instructions may not exist and the linear map is not Tagged).
    pub fn tags(&mut self) -> Option<PageTags<'_>> {
        mte::tagging_enabled().then_some(PageTags(self))
    }
}

impl Drop for KernelPage {
    fn drop(&mut self) {
        frame::put(self.0);
    }
}

/// The tags of a [`KernelPage`], with tagging on: the linear map is then
/// Normal-Tagged and the MTE instructions exist.
pub struct PageTags<'a>(&'a mut KernelPage);

/// Allocation-tag granules in a page.
pub const GRANULES: usize = PAGE_SIZE / mte::GRANULE;

impl PageTags<'_> {
    fn granule(&self, index: usize) -> VirtAddr {
        assert!(index < GRANULES, "granule {} of a {}-granule page", index, GRANULES);
        self.0.va() + (index * mte::GRANULE) as u64
    }

    /// Sets granule `index`'s allocation tag (STG).
    pub fn store(&mut self, index: usize, tag: u8) {
        let g = mte::with_tag(self.granule(index), tag);
        // SAFETY: a granule of our Tagged page (tagging is on); &mut self.
        unsafe { mte::store_tag(g) }
    }

    /// Granule `index`'s allocation tag (LDG).
    pub fn load(&self, index: usize) -> u8 {
        // SAFETY: a granule of our mapped page; LDG only reads tag storage.
        unsafe { mte::load_tag(self.granule(index)) }
    }

    /// Reads the byte at `offset` through a pointer with logical tag `tag`,
    /// tag-checked: `Err` (ESR_EL1) on a mismatch, caught by the fixup table.
    pub fn read_checked(&self, offset: usize, tag: u8) -> Result<u8, Esr> {
        assert!(offset < PAGE_SIZE, "offset {:#x} beyond the page", offset);
        let va = mte::with_tag(self.0.va() + offset as u64, tag);
        // SAFETY: tagging is on; a byte of our Normal page, no read side effects.
        unsafe { mte::probe_read_checked(va) }
    }

    /// Zeroes data and tags with DC GZVA (page_fill::zero_page_with_tags).
    pub fn zero_with_tags(&mut self) {
        // SAFETY: our page-aligned, writable Tagged page; &mut self.
        unsafe { page_fill::zero_page_with_tags(self.0.va()) }
    }

    /// Zeroes data and tags with STZ2G, DC GZVA's fallback.
    pub fn zero_with_tags_by_stores(&mut self) {
        // SAFETY: as in `zero_with_tags`, through a tag-0 pointer.
        unsafe { page_fill::zero_page_with_tags_by_stores(mte::with_tag(self.0.va(), 0)) }
    }
}

/// A frame, data and tags zeroed, holding `value` for as long as the kernel
/// runs (the vDSO data page): the reference and the frame to map. The
/// frame is the caller's to map, never to put.
pub fn leak_with<T: Sync>(value: T) -> Option<(Frame, &'static T)> {
    assert!(core::mem::size_of::<T>() <= PAGE_SIZE && core::mem::align_of::<T>() <= PAGE_SIZE);
    let f = frame::alloc_zeroed(Clear::DataAndTags)?;
    let p = phys_to_virt(f.start()).as_mut_ptr::<T>();
    // SAFETY: a frame just allocated and never freed, so 'static; page
    // aligned and large enough for T (asserted); written before the shared
    // reference is made, and T: Sync for the sharing.
    unsafe {
        p.write(value);
        Some((f, &*p))
    }
}
