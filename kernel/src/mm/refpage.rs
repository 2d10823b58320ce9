//! Reference pages (refpage_create(2), docs/refpage.md): one frame
//! holding repeats of a 1..4096-byte pattern, and, where tags exist and the
//! pattern covers at least one 16-byte granule, the pattern's allocation tags
//! repeated with the same period.
//!
//! A read fault in a refpage mapping maps this frame itself, read-only; a
//! write fault gets a private frame filled from it (mm/fault.rs). The frame
//! is freed when the last descriptor and the last area referring to the
//! object are gone (it is held by `Arc`s in both).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::addr::{VirtAddr, PAGE_SIZE};
use super::frame::{self, Frame};
use super::page_pin::PinnedPage;
use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::arch::aarch64::mte::{self, GRANULE};
use crate::arch::aarch64::page_fill;

/// Reference pages alive, each one frame (/proc/meminfo counts them as
/// Cached, as page-cache pages of a file).
static LIVE: AtomicU64 = AtomicU64::new(0);

/// Frames held by reference pages now.
pub fn frames_in_use() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// Counter for the inode numbers fstat reports.
static NEXT_INO: AtomicU64 = AtomicU64::new(1);

pub struct RefPage {
    frame: Frame,
    /// Bytes in one repetition: a power of two, 1..=4096.
    size: usize,
    /// For size <= 16: the pattern replicated to one granule, the source of
    /// the memset-style fill.
    pattern16: Option<[u64; 2]>,
    /// The page carries the pattern's tags ([`tags_travel`]).
    tagged: bool,
    /// Identity for fstat's st_ino.
    ino: u64,
}

/// Whether the content's allocation tags travel with a pattern of `size`
/// bytes: only when tagging is on and the pattern covers at least one
/// whole 16-byte granule (a smaller one shares its granule, and so its
/// tag, with bytes that are not the pattern's; its reference page has tag
/// 0). The one place this rule is written; user/tests/refpage_mte_tags.c
/// checks it.
pub fn tags_travel(size: usize) -> bool {
    mte::tagging_enabled() && size >= GRANULE
}

impl RefPage {
    /// Builds the reference page for `content` (one repetition) and, when
    /// `tags` is given (one per content granule) and [`tags_travel`], its
    /// allocation tags.
    /// `None` when out of memory.
    pub fn new(content: &[u8], tags: Option<&[u8]>) -> Option<Self> {
        let size = content.len();
        debug_assert!(size.is_power_of_two() && size <= PAGE_SIZE);
        let tagging = mte::tagging_enabled();
        let frame = frame::alloc()?;
        LIVE.fetch_add(1, Ordering::Relaxed);
        let page = phys_to_virt(frame.start());
        let pattern16 = (size <= GRANULE).then(|| {
            let mut bytes = [0u8; GRANULE];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = content[i % size];
            }
            [u64::from_le_bytes(bytes[..8].try_into().unwrap()), u64::from_le_bytes(bytes[8..].try_into().unwrap())]
        });
        let tagged = tags.is_some() && tags_travel(size);
        // SAFETY: a frame we just allocated, through the linear map (Tagged);
        // every byte and, with tagging on, every tag is written below.
        unsafe {
            match (pattern16, tagging) {
                (Some(p), true) => {
                    let tag = if tagged { tags.expect("tagged")[0] } else { 0 };
                    page_fill::fill_pattern16_tagged(page, p, tag);
                }
                (Some(p), false) => page_fill::fill_pattern16(page, p),
                (None, _) => {
                    for g in 0..PAGE_SIZE / GRANULE {
                        let at = (g * GRANULE) % size;
                        let lo = u64::from_le_bytes(content[at..at + 8].try_into().unwrap());
                        let hi = u64::from_le_bytes(content[at + 8..at + 16].try_into().unwrap());
                        let granule = page + (g * GRANULE) as u64;
                        if tagging {
                            let tag = tags.map_or(0, |t| t[at / GRANULE]);
                            page_fill::store_granule_tagged(granule, [lo, hi], tag);
                        } else {
                            granule.as_mut_ptr::<[u64; 2]>().write([lo, hi]);
                        }
                    }
                }
            }
        }
        if tagging {
            // Every granule's tag was written above (0 without given tags).
            frame::mark_tags_valid(frame);
        }
        Some(Self { frame, size, pattern16, tagged, ino: NEXT_INO.fetch_add(1, Ordering::Relaxed) })
    }

    pub fn frame(&self) -> Frame {
        self.frame
    }
    pub fn size(&self) -> usize {
        self.size
    }
    pub fn ino(&self) -> u64 {
        self.ino
    }
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// Fills `dst` (a new private page) "as if the reference page were
    /// copied"; with `with_tags` (a PROT_MTE area, tagging on) the tags too,
    /// in the same pass. Returns which path was taken, for the counters.
    ///
    /// # Safety
    /// `dst` must be the linear-map address of a page the caller owns.
    pub unsafe fn fill(&self, dst: VirtAddr, with_tags: bool) -> FillKind {
        // SAFETY: per the function contract; the reference page is ours.
        unsafe {
            match (self.pattern16, with_tags) {
                (Some(p), false) => page_fill::fill_pattern16(dst, p),
                (Some(p), true) => {
                    let tag = if self.tagged { mte::load_tag(phys_to_virt(self.frame.start())) } else { 0 };
                    page_fill::fill_pattern16_tagged(dst, p, tag);
                }
                (None, false) => page_fill::copy_page(dst, phys_to_virt(self.frame.start())),
                (None, true) => page_fill::copy_page_with_tags(dst, phys_to_virt(self.frame.start())),
            }
        }
        match self.pattern16 {
            Some(_) => FillKind::Pattern16,
            None => FillKind::Copy,
        }
    }
}

/// How a private page was produced from a reference page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillKind {
    /// 16-byte stores of the replicated pattern (size <= 16).
    Pattern16,
    /// A copy of the reference page.
    Copy,
}

impl Drop for RefPage {
    fn drop(&mut self) {
        frame::put(self.frame);
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reads the allocation tags of `len` bytes from `offset` of a pinned user
/// page, through the linear map: one tag per granule. (There is no
/// unprivileged LDG.) The pin keeps the frame from being freed and reused
/// meanwhile (a sibling thread's copy-on-write may drop it:
/// mm/page_pin.rs).
pub fn read_tags(page: &PinnedPage, offset: usize, len: usize) -> Vec<u8> {
    assert!(offset + len <= PAGE_SIZE, "a range inside one page");
    let start = page.linear(offset);
    (0..len / GRANULE)
        // SAFETY: a granule of the pinned frame, through its linear-map
        // alias; LDG only reads tag storage.
        .map(|g| unsafe { mte::load_tag(start + (g * GRANULE) as u64) })
        .collect()
}
