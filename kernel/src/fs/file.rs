//! Open files: what a descriptor refers to. Shared by every descriptor
//! dup'ed from the same open (and by nothing else: the open file
//! description of Linux).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general::{O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY};
use crate::sync::{Rank, SpinLock};

use super::pipe::{PipeEnd, Side};
use super::procfs::ProcFile;
use super::socket_pair::SocketEnd;
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
    /// One end of a pipe (pipe2).
    Pipe(PipeEnd),
    /// One of two connected sockets (socketpair).
    Socket(SocketEnd),
}

pub struct OpenFile {
    pub kind: FileKind,
    /// O_RDONLY / O_WRONLY / O_RDWR and status flags, as F_GETFL reports;
    /// F_SETFL changes the status flags (O_APPEND, O_NONBLOCK, ...), so
    /// it is read with [`OpenFile::flags`] each time.
    flags: AtomicU32,
    /// The file position (read, write, lseek), shared by dup'ed descriptors.
    pub pos: SpinLock<u64>,
}

/// What a descriptor holds.
pub type FileRef = Arc<OpenFile>;

impl OpenFile {
    fn new(kind: FileKind, flags: u32) -> FileRef {
        Arc::new(OpenFile { kind, flags: AtomicU32::new(flags), pos: SpinLock::new(Rank::FilePosition, 0) })
    }

    pub fn console() -> FileRef {
        Self::new(FileKind::Console, O_RDWR)
    }

    pub fn refpage(page: Arc<RefPage>) -> FileRef {
        Self::new(FileKind::RefPage(page), O_RDONLY)
    }

    pub fn tmp(file: Arc<TmpFile>, flags: u32) -> FileRef {
        Self::new(FileKind::Tmp(file), flags)
    }

    /// A pipe end: read-only or write-only, with pipe2's status flags.
    pub fn pipe(end: PipeEnd, status: u32) -> FileRef {
        let access = if end.side() == Side::Read { O_RDONLY } else { O_WRONLY };
        Self::new(FileKind::Pipe(end), access | status)
    }

    /// A socket of a pair: read and write, with socketpair's status flags.
    pub fn socket(end: SocketEnd, status: u32) -> FileRef {
        Self::new(FileKind::Socket(end), O_RDWR | status)
    }

    /// The access mode and status flags now.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// F_SETFL: replaces the status flags in `changeable` with `value`'s.
    pub fn set_status(&self, changeable: u32, value: u32) {
        // One atomic update: a concurrent F_SETFL on a dup cannot undo it.
        let _ = self
            .flags
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| Some((f & !changeable) | (value & changeable)));
    }

    /// A /proc file opened with `flags`' access mode.
    pub fn proc(file: Arc<ProcFile>, flags: u32) -> FileRef {
        Self::new(FileKind::Proc(file), flags & O_ACCMODE)
    }

    pub fn readable(&self) -> bool {
        self.flags() & 0b11 != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.flags() & 0b11 != O_RDONLY
    }
}
