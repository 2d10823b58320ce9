//! The address space: brk(2), mmap(2), munmap(2), mprotect(2), madvise(2).

use bitflags::bitflags;
use linux_raw_sys::general::{
    __NR_brk, __NR_madvise, __NR_mmap, __NR_mprotect, __NR_munmap, MADV_DONTNEED, MADV_FREE, MADV_NORMAL, MADV_RANDOM,
    MADV_SEQUENTIAL, MADV_WILLNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_NORESERVE,
    MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_STACK, PROT_BTI, PROT_EXEC, PROT_MTE, PROT_READ, PROT_WRITE,
};

use crate::errno::Errno;
use crate::io::Fd;
use crate::syscall::{syscall3, syscall6};

bitflags! {
    /// Page permissions for mmap and mprotect (`PROT_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u32 {
        const READ = PROT_READ;
        const WRITE = PROT_WRITE;
        const EXEC = PROT_EXEC;
        /// arm64: Branch Target Identification guarded pages.
        const BTI = PROT_BTI;
        /// arm64: Normal-Tagged memory, with MTE allocation tags.
        const MTE = PROT_MTE;
    }
}

bitflags! {
    /// Mapping kind and placement for mmap (`MAP_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MapFlags: u32 {
        const SHARED = MAP_SHARED;
        const PRIVATE = MAP_PRIVATE;
        const FIXED = MAP_FIXED;
        const ANONYMOUS = MAP_ANONYMOUS;
        const GROWSDOWN = MAP_GROWSDOWN;
        const NORESERVE = MAP_NORESERVE;
        const POPULATE = MAP_POPULATE;
        const STACK = MAP_STACK;
        const FIXED_NOREPLACE = MAP_FIXED_NOREPLACE;
    }
}

/// The program break now (brk(0) never moves it).
pub fn current_break() -> Result<usize, Errno> {
    // SAFETY: brk(0) asks for an address no break can have, so the kernel
    // leaves the break alone and returns it.
    unsafe { syscall3(__NR_brk, 0, 0, 0) }
}

/// Moves the program break to `addr` and returns it. The raw system call
/// reports failure by leaving the break where it was; like glibc's brk(),
/// this turns that into `ENOMEM`.
///
/// # Safety
///
/// Lowering the break unmaps the memory above `addr`: nothing may still
/// use it.
pub unsafe fn brk(addr: usize) -> Result<usize, Errno> {
    // SAFETY: raising the break only adds memory; the caller vouches that
    // a lowered break frees nothing in use.
    let now = unsafe { syscall3(__NR_brk, addr, 0, 0) }?;
    if now < addr {
        return Err(Errno::ENOMEM);
    }
    Ok(now)
}

/// Maps `len` bytes; `fd` is `None` for an anonymous mapping.
///
/// # Safety
///
/// With `MapFlags::FIXED`, any mapping already at `addr..addr+len` is
/// replaced: nothing may still use it.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: Prot,
    flags: MapFlags,
    fd: Option<Fd>,
    offset: u64,
) -> Result<*mut u8, Errno> {
    let fd = fd.map_or(-1, |fd| fd.0);
    // SAFETY: mmap reads no user memory; the caller vouches for what a
    // MAP_FIXED mapping replaces.
    let addr = unsafe {
        syscall6(__NR_mmap, addr, len, prot.bits() as usize, flags.bits() as usize, fd as usize, offset as usize)
    }?;
    Ok(addr as *mut u8)
}

/// Maps `len` bytes of fresh zeroed private memory wherever the kernel
/// chooses.
pub fn mmap_anonymous(len: usize, prot: Prot) -> Result<*mut u8, Errno> {
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    // SAFETY: without MAP_FIXED the kernel picks an unused range, so no
    // existing mapping is replaced.
    unsafe { mmap(0, len, prot, flags, None, 0) }
}

/// Unmaps `addr..addr+len`.
///
/// # Safety
///
/// Nothing may use the unmapped memory afterwards.
pub unsafe fn munmap(addr: *mut u8, len: usize) -> Result<(), Errno> {
    // SAFETY: the caller vouches that the range is no longer used.
    unsafe { syscall3(__NR_munmap, addr as usize, len, 0) }.map(drop)
}

/// Changes the permissions of `addr..addr+len`.
///
/// # Safety
///
/// Memory made unreadable or unwritable must not be used that way while
/// it stays so (a Rust reference to it would fault).
pub unsafe fn mprotect(addr: *mut u8, len: usize, prot: Prot) -> Result<(), Errno> {
    // SAFETY: the caller vouches for how the range is used afterwards.
    unsafe { syscall3(__NR_mprotect, addr as usize, len, prot.bits() as usize) }.map(drop)
}

/// Advice for [`madvise`] (`MADV_*`); the number is public so a test can
/// pass one the kernel does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advice(pub u32);

impl Advice {
    pub const NORMAL: Advice = Advice(MADV_NORMAL);
    pub const RANDOM: Advice = Advice(MADV_RANDOM);
    pub const SEQUENTIAL: Advice = Advice(MADV_SEQUENTIAL);
    pub const WILLNEED: Advice = Advice(MADV_WILLNEED);
    /// Drop the pages: private memory reads as it was first mapped again
    /// (zeros, or a file's contents); shared memory keeps its data.
    pub const DONTNEED: Advice = Advice(MADV_DONTNEED);
    pub const FREE: Advice = Advice(MADV_FREE);
}

/// Advises the kernel about `addr..addr+len` (`addr` page-aligned).
///
/// # Safety
///
/// With [`Advice::DONTNEED`] or [`Advice::FREE`] the contents of private
/// pages in the range may be lost: nothing may rely on them.
pub unsafe fn madvise(addr: *mut u8, len: usize, advice: Advice) -> Result<(), Errno> {
    // SAFETY: madvise reads and writes no user memory through its
    // arguments; the caller vouches for what discarding pages does.
    unsafe { syscall3(__NR_madvise, addr as usize, len, advice.0 as usize) }.map(drop)
}
