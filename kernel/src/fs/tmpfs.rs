//! In-memory files in /dev/shm and /tmp (two tmpfs directories, one
//! code): enough for mkstemp, tmpfile (O_TMPFILE: a file with no name),
//! read/write, ftruncate, unlink while open and mmap, shared or private,
//! with PROT_MTE. A file's contents are a `SharedMemory` object, so its
//! mappings and its read/write share the same pages, each with its
//! allocation tags.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::sync::{Rank, SpinLock};

use crate::mm::addr::PAGE_SIZE;
use super::tmpfs_size::SizeLimit;
use crate::mm::shared_memory::SharedMemory;
use crate::syscall::errno::Errno;

/// The directories there are, each a flat tmpfs.
pub const DIRS: [&str; 2] = ["/dev/shm/", "/tmp/"];

/// Linux's NAME_MAX.
const NAME_MAX: usize = 255;

static NEXT_INO: AtomicU64 = AtomicU64::new(1000);

pub struct TmpFile {
    pub pages: Arc<SharedMemory>,
    size: SpinLock<u64>,
    ino: u64,
}

/// The size limit of each directory's mount, in the order of `DIRS`.
static LIMITS: [SizeLimit; 2] = [SizeLimit::new(), SizeLimit::new()];

/// The size limit of the mount `path` is in or names.
fn limit_of(path: &str) -> &'static SizeLimit {
    let i = DIRS.iter().position(|dir| path.starts_with(&dir[..dir.len() - 1])).unwrap_or(0);
    &LIMITS[i]
}

impl TmpFile {
    /// A file on the mount of `limit`; `None`: memfd's internal mount,
    /// which has no limit.
    fn new(limit: Option<&'static SizeLimit>) -> Self {
        Self {
            pages: Arc::new(limit.map_or_else(SharedMemory::new, SharedMemory::limited)),
            size: SpinLock::new(Rank::TmpfsSize, 0),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        }
    }

    pub fn size(&self) -> u64 {
        *self.size.lock()
    }

    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// ftruncate: growing adds zeros, shrinking zeroes what is cut off.
    pub fn set_size(&self, size: u64) {
        let mut s = self.size.lock();
        if size < *s {
            self.pages.zero_from(size);
        }
        *s = size;
    }

    /// Extends the size to cover a write ending at `end`.
    pub fn grow_to(&self, end: u64) {
        let mut s = self.size.lock();
        *s = (*s).max(end);
    }

    /// Pages needed for `size` bytes.
    pub fn pages_for(size: u64) -> u64 {
        size.div_ceil(PAGE_SIZE as u64)
    }
}

/// Every named file, by its path.
static FILES: SpinLock<BTreeMap<String, Arc<TmpFile>>> = SpinLock::new(Rank::TmpfsDir, BTreeMap::new());

/// Kernel heap a new file takes besides its name: the TmpFile and its page
/// map behind an Arc, and its share of the directory's nodes (an upper
/// estimate).
const FILE_HEAP_BYTES: usize = 256;

/// The path of a file directly inside one of the directories, or ENOENT
/// for any other path (there is no other writable file system).
fn name_of(path: &str) -> Result<&str, Errno> {
    let name = DIRS.iter().find_map(|dir| path.strip_prefix(dir)).ok_or(Errno::ENOENT)?;
    if name.is_empty() || name.contains('/') {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(path)
}

/// Whether `path` names one of the directories ("/tmp", "/tmp/", ...).
pub fn is_dir(path: &str) -> bool {
    DIRS.iter().any(|dir| path == *dir || path == &dir[..dir.len() - 1])
}

/// O_TMPFILE in one of the directories: a file that has no name, so it
/// goes when its last descriptor and mapping do (Linux's shmem_tmpfile).
/// It is never linked in: linkat is not offered.
pub fn create_unnamed(dir: &str) -> Result<Arc<TmpFile>, Errno> {
    if !is_dir(dir) {
        return Err(if name_of(dir).is_ok_and(|p| FILES.lock().contains_key(p)) {
            Errno::ENOTDIR
        } else {
            Errno::ENOENT
        });
    }
    unnamed_file(Errno::ENOSPC, Some(limit_of(dir)))
}

/// Opens (and with `create`, creates; with `exclusive`, only creates) a
/// file; `truncate` empties it.
pub fn open(path: &str, create: bool, exclusive: bool, truncate: bool) -> Result<Arc<TmpFile>, Errno> {
    let name = name_of(path)?;
    let mut dir = FILES.lock();
    let file = match dir.get(name) {
        Some(_) if create && exclusive => return Err(Errno::EEXIST),
        Some(f) => f.clone(),
        None if create => {
            // Every file is kernel heap (its name, its entry): like a tmpfs
            // out of inodes, ENOSPC before the heap the kernel keeps back.
            if !crate::mm::heap::can_spare(FILE_HEAP_BYTES + name.len()) {
                return Err(Errno::ENOSPC);
            }
            let f = Arc::new(TmpFile::new(Some(limit_of(name))));
            dir.insert(String::from(name), f.clone());
            f
        }
        None => return Err(Errno::ENOENT),
    };
    if truncate {
        file.set_size(0);
    }
    Ok(file)
}

/// A file in no directory (memfd_create): it lives while a descriptor or
/// a mapping holds it. ENOMEM when the kernel heap runs short (Linux's
/// internal shm mount has no inode limit, so its only failure is memory).
pub fn create_memfd() -> Result<Arc<TmpFile>, Errno> {
    unnamed_file(Errno::ENOMEM, None)
}

/// A file without a name on the mount of `limit`, or `no_room` when the
/// kernel heap cannot spare one.
fn unnamed_file(no_room: Errno, limit: Option<&'static SizeLimit>) -> Result<Arc<TmpFile>, Errno> {
    if !crate::mm::heap::can_spare(FILE_HEAP_BYTES) {
        return Err(no_room);
    }
    Ok(Arc::new(TmpFile::new(limit)))
}

/// The name and inode number of the file whose contents are `pages`, if
/// it is still in the directory (/proc/<pid>/maps names file mappings).
pub fn path_of_pages(pages: &Arc<SharedMemory>) -> Option<(String, u64)> {
    let dir = FILES.lock();
    dir.iter().find(|(_, f)| Arc::ptr_eq(&f.pages, pages)).map(|(path, f)| (path.clone(), f.ino))
}

/// Removes the name; open descriptors and mappings keep the file alive.
pub fn unlink(path: &str) -> Result<(), Errno> {
    let name = name_of(path)?;
    let mut dir = FILES.lock();
    dir.remove(name).ok_or(Errno::ENOENT)?;
    if dir.is_empty() {
        // An emptied BTreeMap keeps its root node; clear() frees it, so
        // empty directories hold no heap (the runner's leak check).
        dir.clear();
    }
    Ok(())
}

use crate::mm::uaccess::{copy_to_user, UserAddr};

/// Largest single transfer, as Linux's MAX_RW_COUNT.
const MAX_RW_COUNT: u64 = 0x7fff_f000;

impl TmpFile {
    /// read/pread: copies from `offset` into user memory, up to the end of
    /// the file. A fault part-way gives the bytes copied so far (Linux's
    /// short read), EFAULT if none were.
    pub fn read_at(&self, offset: u64, buf: UserAddr, len: u64) -> Result<u64, Errno> {
        let end = self.size().min(offset.saturating_add(len.min(MAX_RW_COUNT)));
        let zeros = [0u8; 256];
        let mut at = offset;
        while at < end {
            let index = at / PAGE_SIZE as u64;
            let in_page = (at % PAGE_SIZE as u64) as usize;
            let n = ((PAGE_SIZE - in_page) as u64).min(end - at) as usize;
            let dst = buf.offset(at - offset);
            let result = match self.pages.copy_to_user(index, in_page, n, dst) {
                Some(copied) => copied,
                // A hole reads as zeros.
                None => (0..n)
                    .step_by(zeros.len())
                    .try_for_each(|o| copy_to_user(dst.offset(o as u64), &zeros[..(n - o).min(zeros.len())])),
            };
            if let Err(e) = result {
                return if at > offset { Ok(at - offset) } else { Err(e) };
            }
            at += n as u64;
        }
        Ok(end.saturating_sub(offset))
    }

    /// write/pwrite: copies user memory into the file at `offset`, growing
    /// it. A fault part-way keeps what was written.
    pub fn write_at(&self, offset: u64, buf: UserAddr, len: u64) -> Result<u64, Errno> {
        let len = len.min(MAX_RW_COUNT);
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let mut at = offset;
        while at < end {
            let index = at / PAGE_SIZE as u64;
            let in_page = (at % PAGE_SIZE as u64) as usize;
            let n = ((PAGE_SIZE - in_page) as u64).min(end - at) as usize;
            let src = buf.offset(at - offset);
            // Out of frames, or the mount full (fs/tmpfs_size.rs), is
            // ENOSPC, after the bytes written before it
            // (generic_perform_write returns what it wrote, if anything).
            let copied = self.pages.copy_from_user(index, in_page, n, src).unwrap_or(Err(Errno::ENOSPC));
            if let Err(e) = copied {
                self.grow_to(at);
                return if at > offset { Ok(at - offset) } else { Err(e) };
            }
            at += n as u64;
        }
        self.grow_to(end);
        Ok(len)
    }
}
