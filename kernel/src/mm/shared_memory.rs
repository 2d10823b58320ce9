//! Memory objects shared between mappings and files: MAP_SHARED |
//! MAP_ANONYMOUS memory and the contents of in-memory (/dev/shm) files.
//! Pages are held by index, so unmapping a page from one place (or
//! MADV_DONTNEED) does not lose its contents, and are mapped with the
//! SPECIAL bit: the object, not the address space, frees them.
//!
//! A page first written through read()/write() or an untagged mapping has
//! stale allocation tags, which are cleared the first time a PROT_MTE
//! mapping maps it, keeping its data (its frame's tag state, frame.rs:
//! Linux's PG_mte_tagged and mte_sync_tags).

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::fs::tmpfs_size::SizeLimit;
use crate::sync::{Rank, SpinLock};

use super::addr::{VirtAddr, PAGE_SIZE};
use super::frame::{self, Clear, Frame};
use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::mm::uaccess::{copy_from_user_to, copy_to_user_from, UserAddr};
use crate::syscall::errno::Errno;

/// Frames held by every shared-memory object (/proc/meminfo's Shmem).
static FRAMES: AtomicUsize = AtomicUsize::new(0);

/// Frames held by shared memory and /dev/shm files now.
pub fn frames_in_use() -> usize {
    FRAMES.load(Ordering::Relaxed)
}

pub struct SharedMemory {
    pages: SpinLock<BTreeMap<u64, Frame>>,
    /// The size limit of the tmpfs mount the object's file is on, charged
    /// a page for each page made (fs/tmpfs_size.rs); none for shared
    /// anonymous memory and memfd files (Linux's internal shm mount).
    limit: Option<&'static SizeLimit>,
}

impl Default for SharedMemory {
    fn default() -> Self {
        Self { pages: SpinLock::new(Rank::SharedPages, BTreeMap::new()), limit: None }
    }
}

/// Why a page could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoPage {
    /// Out of frames (a fault: the OOM kill; write(): ENOSPC).
    NoMemory,
    /// The tmpfs mount is full (write(): ENOSPC; a fault: SIGBUS).
    NoSpace,
}

impl SharedMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// An object whose pages count against `limit` (a tmpfs file).
    pub fn limited(limit: &'static SizeLimit) -> Self {
        Self { pages: SpinLock::new(Rank::SharedPages, BTreeMap::new()), limit: Some(limit) }
    }

    /// The frame of page `index`, zero-filled on first use; with `tagged`
    /// (a PROT_MTE mapping, tagging on) its tags are valid on return.
    pub fn page(&self, index: u64, tagged: bool) -> Result<Frame, NoPage> {
        let mut pages = self.pages.lock();
        if let Some(&frame) = pages.get(&index) {
            if tagged {
                frame::make_tags_valid(frame);
            }
            return Ok(frame);
        }
        // Charged under the object's lock, so two faults on one missing
        // page charge it once (the second finds it above).
        if self.limit.is_some_and(|limit| !limit.charge()) {
            return Err(NoPage::NoSpace);
        }
        let Some(frame) = frame::alloc_zeroed(if tagged { Clear::DataAndTags } else { Clear::Data }) else {
            if let Some(limit) = self.limit {
                limit.uncharge(1);
            }
            return Err(NoPage::NoMemory);
        };
        pages.insert(index, frame);
        FRAMES.fetch_add(1, Ordering::Relaxed);
        Ok(frame)
    }

    /// The frame of page `index` if it exists (holes read as zeros).
    pub fn existing(&self, index: u64) -> Option<Frame> {
        self.pages.lock().get(&index).copied()
    }

    /// Copies bytes `[from, from + len)` of page `index` to user memory at
    /// `dst` (read()); `None` for a hole, which reads as zeros.
    ///
    /// No `&[u8]` is made of the page: user mappings of this object may
    /// write it meanwhile (another thread, or `dst` itself being a mapping
    /// of this page), and two calls may overlap, so the bytes go from frame
    /// to user memory through raw pointers only, as Linux's
    /// copy_page_to_iter does.
    pub fn copy_to_user(&self, index: u64, from: usize, len: usize, dst: UserAddr) -> Option<Result<(), Errno>> {
        let frame = self.existing(index)?;
        assert!(from + len <= PAGE_SIZE, "a range inside one page");
        // SAFETY: the object holds the frame until it is dropped (zero_from
        // keeps frames) and `&self` keeps the object; the range is inside
        // the page, through the linear map. The lock is not held during the
        // copy, so a fault in it (on a mapping of this object) can take it.
        Some(unsafe { copy_to_user_from(dst, phys_to_virt(frame.start()).as_ptr::<u8>().add(from), len) })
    }

    /// Copies user memory at `src` into bytes `[from, from + len)` of page
    /// `index`, made (untagged) if missing (write()); `None` when out of
    /// memory. Raw pointers only, as [`Self::copy_to_user`].
    pub fn copy_from_user(&self, index: u64, from: usize, len: usize, src: UserAddr) -> Option<Result<(), Errno>> {
        let frame = self.page(index, false).ok()?;
        assert!(from + len <= PAGE_SIZE, "a range inside one page");
        // SAFETY: as in copy_to_user.
        Some(unsafe { copy_from_user_to(phys_to_virt(frame.start()).as_mut_ptr::<u8>().add(from), src, len) })
    }

    /// Zeroes the bytes from `offset` on (a file shrinking). Frames stay:
    /// they may still be mapped somewhere; they go with the object.
    pub fn zero_from(&self, offset: u64) {
        for (&index, frame) in self.pages.lock().iter() {
            let page_start = index * PAGE_SIZE as u64;
            if page_start + PAGE_SIZE as u64 <= offset {
                continue;
            }
            let from = offset.saturating_sub(page_start) as usize;
            let va: VirtAddr = phys_to_virt(frame.start());
            // SAFETY: our frame, through the linear map; from < PAGE_SIZE.
            unsafe { core::ptr::write_bytes(va.as_mut_ptr::<u8>().add(from), 0, PAGE_SIZE - from) };
        }
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let pages = core::mem::take(&mut *self.pages.lock());
        if let Some(limit) = self.limit {
            limit.uncharge(pages.len() as u64);
        }
        for (_, frame) in pages {
            frame::put(frame);
            FRAMES.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
