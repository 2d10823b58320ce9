//! Open files: what a descriptor refers to. Shared by every descriptor
//! dup'ed from the same open (and by nothing else: the open file
//! description of Linux).

use alloc::sync::Arc;

use linux_raw_sys::general::{O_RDONLY, O_RDWR};
use spin::Mutex;

use super::procfs::ProcFile;
use super::tmpfs::TmpFile;
use crate::mm::refpage::RefPage;

pub enum FileKind {
    /// The UART: descriptors 0, 1 and 2.
    Console,
    /// A refpage_create(2) descriptor.
    RefPage(Arc<RefPage>),
    /// A file in /dev/shm.
    Tmp(Arc<TmpFile>),
    /// A file or directory of /proc, generated when read.
    Proc(Arc<ProcFile>),
}

pub struct OpenFile {
    pub kind: FileKind,
    /// O_RDONLY / O_WRONLY / O_RDWR and status flags, as F_GETFL reports.
    pub flags: u32,
    /// The file position (read, write, lseek), shared by dup'ed descriptors.
    pub pos: Mutex<u64>,
}

/// What a descriptor holds.
pub type FileRef = Arc<OpenFile>;

impl OpenFile {
    pub fn console() -> FileRef {
        Arc::new(OpenFile { kind: FileKind::Console, flags: O_RDWR, pos: Mutex::new(0) })
    }

    pub fn refpage(page: Arc<RefPage>) -> FileRef {
        Arc::new(OpenFile { kind: FileKind::RefPage(page), flags: O_RDONLY, pos: Mutex::new(0) })
    }

    pub fn tmp(file: Arc<TmpFile>, flags: u32) -> FileRef {
        Arc::new(OpenFile { kind: FileKind::Tmp(file), flags, pos: Mutex::new(0) })
    }

    /// A /proc file opened with `flags`' access mode.
    pub fn proc(file: Arc<ProcFile>, flags: u32) -> FileRef {
        Arc::new(OpenFile { kind: FileKind::Proc(file), flags: flags & 0b11, pos: Mutex::new(0) })
    }

    pub fn readable(&self) -> bool {
        self.flags & 0b11 != linux_raw_sys::general::O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags & 0b11 != O_RDONLY
    }
}
