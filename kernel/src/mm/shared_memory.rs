//! Memory shared between mappings (MAP_SHARED | MAP_ANONYMOUS): an object
//! holding its pages by index, so that unmapping a page from one place (or
//! MADV_DONTNEED) does not lose its contents. The pages are mapped with the
//! SPECIAL bit: the object, not the address space, frees them.

use alloc::collections::BTreeMap;

use spin::Mutex;

use super::frame::{self, Clear, Frame};

#[derive(Default)]
pub struct SharedMemory {
    pages: Mutex<BTreeMap<u64, Frame>>,
}

impl SharedMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// The frame of page `index`, zero-filled (with tags cleared when
    /// `tagged`) on first use; `None` when out of memory.
    pub fn page(&self, index: u64, tagged: bool) -> Option<Frame> {
        let mut pages = self.pages.lock();
        if let Some(f) = pages.get(&index) {
            return Some(*f);
        }
        let f = frame::alloc_zeroed(if tagged { Clear::DataAndTags } else { Clear::Data })?;
        pages.insert(index, f);
        Some(f)
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        for (_, f) in core::mem::take(&mut *self.pages.lock()) {
            frame::free(f);
        }
    }
}
