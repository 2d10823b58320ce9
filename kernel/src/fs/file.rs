//! Open files: what a descriptor refers to. Shared by every descriptor
//! dup'ed from the same open (and by nothing else: the open file
//! description of Linux).

use alloc::sync::Arc;

use linux_raw_sys::general::{O_RDONLY, O_RDWR};

use crate::mm::refpage::RefPage;

pub enum FileKind {
    /// The UART: descriptors 0, 1 and 2.
    Console,
    /// A refpage_create(2) descriptor.
    RefPage(Arc<RefPage>),
}

pub struct OpenFile {
    pub kind: FileKind,
    /// O_RDONLY / O_WRONLY / O_RDWR and status flags, as F_GETFL reports.
    pub flags: u32,
}

/// What a descriptor holds.
pub type FileRef = Arc<OpenFile>;

impl OpenFile {
    pub fn console() -> FileRef {
        Arc::new(OpenFile { kind: FileKind::Console, flags: O_RDWR })
    }

    pub fn refpage(page: Arc<RefPage>) -> FileRef {
        Arc::new(OpenFile { kind: FileKind::RefPage(page), flags: O_RDONLY })
    }

    pub fn readable(&self) -> bool {
        self.flags & 0b11 != linux_raw_sys::general::O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags & 0b11 != O_RDONLY
    }
}
