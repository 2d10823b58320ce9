//! In-memory files in /dev/shm (a tmpfs): enough for mkstemp, read/write,
//! ftruncate and mmap, shared or private, with PROT_MTE. A file's contents
//! are a `SharedMemory` object, so its mappings and its read/write share
//! the same pages, each with its allocation tags.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use crate::mm::addr::PAGE_SIZE;
use crate::mm::shared_memory::SharedMemory;
use crate::syscall::errno::Errno;

/// The one directory there is.
pub const SHM_DIR: &str = "/dev/shm/";

/// Linux's NAME_MAX.
const NAME_MAX: usize = 255;

static NEXT_INO: AtomicU64 = AtomicU64::new(1000);

pub struct TmpFile {
    pub pages: Arc<SharedMemory>,
    size: Mutex<u64>,
    ino: u64,
}

impl TmpFile {
    fn new() -> Self {
        Self {
            pages: Arc::new(SharedMemory::new()),
            size: Mutex::new(0),
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

static SHM: Mutex<BTreeMap<String, Arc<TmpFile>>> = Mutex::new(BTreeMap::new());

/// Kernel heap a new file takes besides its name: the TmpFile and its page
/// map behind an Arc, and its share of the directory's nodes (an upper
/// estimate).
const FILE_HEAP_BYTES: usize = 256;

/// The name inside /dev/shm, or ENOENT for any other path (there is no
/// other writable file system).
fn name_of(path: &str) -> Result<&str, Errno> {
    let name = path.strip_prefix(SHM_DIR).ok_or(Errno::ENOENT)?;
    if name.is_empty() || name.contains('/') {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(name)
}

/// Opens (and with `create`, creates; with `exclusive`, only creates) a
/// file; `truncate` empties it.
pub fn open(path: &str, create: bool, exclusive: bool, truncate: bool) -> Result<Arc<TmpFile>, Errno> {
    let name = name_of(path)?;
    let mut dir = SHM.lock();
    let file = match dir.get(name) {
        Some(_) if create && exclusive => return Err(Errno::EEXIST),
        Some(f) => f.clone(),
        None if create => {
            // Every file is kernel heap (its name, its entry): like a tmpfs
            // out of inodes, ENOSPC before the heap the kernel keeps back.
            if !crate::mm::heap::can_spare(FILE_HEAP_BYTES + name.len()) {
                return Err(Errno::ENOSPC);
            }
            let f = Arc::new(TmpFile::new());
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
pub fn create_unnamed() -> Result<Arc<TmpFile>, Errno> {
    if !crate::mm::heap::can_spare(FILE_HEAP_BYTES) {
        return Err(Errno::ENOMEM);
    }
    Ok(Arc::new(TmpFile::new()))
}

/// The name and inode number of the file whose contents are `pages`, if
/// it is still in the directory (/proc/<pid>/maps names file mappings).
pub fn path_of_pages(pages: &Arc<SharedMemory>) -> Option<(String, u64)> {
    let dir = SHM.lock();
    dir.iter().find(|(_, f)| Arc::ptr_eq(&f.pages, pages)).map(|(n, f)| (alloc::format!("{}{}", SHM_DIR, n), f.ino))
}

/// Removes the name; open descriptors and mappings keep the file alive.
pub fn unlink(path: &str) -> Result<(), Errno> {
    let name = name_of(path)?;
    let mut dir = SHM.lock();
    dir.remove(name).ok_or(Errno::ENOENT)?;
    if dir.is_empty() {
        // An emptied BTreeMap keeps its root node; clear() frees it, so an
        // empty /dev/shm holds no heap (the runner's leak check).
        dir.clear();
    }
    Ok(())
}

use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::mm::uaccess::{copy_from_user, copy_to_user, UserAddr};

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
            let result = match self.pages.existing(index) {
                Some(f) => {
                    // SAFETY: the object keeps the frame alive while we hold
                    // the file; n bytes from in_page stay inside it.
                    let src =
                        unsafe { core::slice::from_raw_parts(phys_to_virt(f.start()).as_ptr::<u8>().add(in_page), n) };
                    copy_to_user(dst, src)
                }
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
            let f = self.pages.page(index, false).ok_or(Errno::ENOSPC)?;
            // SAFETY: as in read_at; the destination is inside the frame.
            let dst =
                unsafe { core::slice::from_raw_parts_mut(phys_to_virt(f.start()).as_mut_ptr::<u8>().add(in_page), n) };
            if let Err(e) = copy_from_user(dst, buf.offset(at - offset)) {
                self.grow_to(at);
                return if at > offset { Ok(at - offset) } else { Err(e) };
            }
            at += n as u64;
        }
        self.grow_to(end);
        Ok(len)
    }
}
