//! refpage_create(2): a descriptor for a read-only "file" that repeats
//! `size` bytes of content forever, for mmap (docs/refpage.md, the contract
//! this project's kernel implements).
//!
//! The number is the proposal's, 448; mainline Linux later gave 448 to
//! process_mrelease, so `linux_raw_sys` has no `__NR_refpage_create`, and
//! on Linux these calls fail (or do something else).

use crate::errno::Errno;
use crate::io::Fd;
use crate::syscall::syscall3;

/// The system call number of refpage_create (the v5 series' number).
pub const SYS_REFPAGE_CREATE: u32 = 448;

/// A refpage descriptor whose content is `content`: its length must be a
/// power of two up to the page size, and it must be aligned to its length
/// (EINVAL otherwise). `flags` must be 0 (the call has none yet).
pub fn refpage_create(content: &[u8], flags: u64) -> Result<Fd, Errno> {
    refpage_create_raw(content.as_ptr(), content.len() as u32, flags)
}

/// refpage_create with the arguments as the kernel takes them, for tests
/// of what it refuses (a misaligned or unreadable `content`, any `size`).
pub fn refpage_create_raw(content: *const u8, size: u32, flags: u64) -> Result<Fd, Errno> {
    // SAFETY: the kernel only reads up to `size` bytes at `content`, through
    // its checked user copies, failing with EFAULT where it cannot; it
    // writes no user memory. Reads cannot break anything Rust relies on.
    unsafe { syscall3(SYS_REFPAGE_CREATE, content as usize, size as usize, flags as usize) }.map(|n| Fd(n as i32))
}
