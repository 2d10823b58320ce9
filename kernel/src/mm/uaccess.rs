//! Reading and writing user memory from system calls.
//!
//! A user address is only ever passed to the arch copy routines, which do
//! the access as EL0 would and report faults (see arch/aarch64/user_copy.rs).
//! Here the range is checked to lie in the user half first, so a kernel
//! address is refused with EFAULT even before the MMU would refuse it.
//! Tagged pointers (a non-zero top byte) are refused too, as Linux does for
//! a process that has not enabled the tagged-address ABI (mm/tagged_addr.rs
//! holds the rules; `UserAddr` is re-exported from there).

use alloc::string::String;
use alloc::vec::Vec;

use crate::arch::aarch64::user_copy::{raw_copy_from_user, raw_copy_to_user};
use crate::exec::elf::USER_END;
use crate::mm::tagged_addr::TagRule;
pub use crate::mm::tagged_addr::UserAddr;
use crate::syscall::errno::Errno;

/// `[addr, addr + len)` lies in the user half, the tag dropped only under
/// the calling thread's tagged-address ABI (arm64's access_ok); the access
/// itself keeps the tag, so it is tag-checked as the process's own would be.
/// System calls that may wait before they copy check it first (vfs_read).
pub fn access_ok(addr: UserAddr, len: usize) -> Result<(), Errno> {
    match addr.untagged(TagRule::Access).as_u64().checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Linux's __might_fault: a copy to or from user memory may fault, and
/// the fault takes the current address space's lock (mm/mmap_lock.rs), so
/// no caller may hold it, or any lock ranked after it. A spin lock cannot
/// be taken twice: the same CPU would wait for itself. Checked on every
/// copy (in builds with the lock-order check), not only on those that
/// fault, so a copy made under the lock is reported the first time it runs.
#[inline(always)]
#[track_caller]
fn might_fault() {
    crate::sync::lock_order::might_acquire(crate::sync::Rank::MmapLock);
}

/// Fills `dst` from user memory at `src`.
#[track_caller]
pub fn copy_from_user(dst: &mut [u8], src: UserAddr) -> Result<(), Errno> {
    // SAFETY: dst is a valid kernel buffer of dst.len() bytes.
    unsafe { copy_from_user_to(dst.as_mut_ptr(), src, dst.len()) }
}

/// Copies `src` to user memory at `dst`.
#[track_caller]
pub fn copy_to_user(dst: UserAddr, src: &[u8]) -> Result<(), Errno> {
    // SAFETY: src is a valid kernel buffer of src.len() bytes.
    unsafe { copy_to_user_from(dst, src.as_ptr(), src.len()) }
}

/// [`copy_from_user`] into kernel memory no Rust reference covers: a
/// frame that user mappings may change meanwhile (shared_memory.rs).
///
/// # Safety
/// `dst` must be valid for `len` bytes of writes.
#[track_caller]
pub unsafe fn copy_from_user_to(dst: *mut u8, src: UserAddr, len: usize) -> Result<(), Errno> {
    might_fault();
    access_ok(src, len)?;
    // SAFETY: dst per the contract; src is only accessed by the
    // unprivileged, fault-fixed copy routine.
    match unsafe { raw_copy_from_user(dst, src.raw_with_tag(), len) } {
        0 => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// [`copy_to_user`] from kernel memory no Rust reference covers.
///
/// # Safety
/// `src` must be valid for `len` bytes of reads.
#[track_caller]
pub unsafe fn copy_to_user_from(dst: UserAddr, src: *const u8, len: usize) -> Result<(), Errno> {
    might_fault();
    access_ok(dst, len)?;
    // SAFETY: as in copy_from_user_to, the other way round.
    match unsafe { raw_copy_to_user(dst.raw_with_tag(), src, len) } {
        0 => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// A user buffer in pieces (readv/writev's iovecs, or one piece), copied
/// to and from at a byte offset into the whole, as Linux's iov_iter: a
/// pipe moves a whole vector in one operation.
pub struct UserIov {
    pieces: Pieces,
    len: usize,
}

enum Pieces {
    One([(UserAddr, usize); 1]),
    Many(Vec<(UserAddr, usize)>),
}

impl UserIov {
    pub fn single(addr: UserAddr, len: usize) -> Self {
        Self { pieces: Pieces::One([(addr, len)]), len }
    }

    /// The pieces as given (the caller caps their total).
    pub fn many(pieces: Vec<(UserAddr, usize)>) -> Self {
        let len = pieces.iter().map(|p| p.1).sum();
        Self { pieces: Pieces::Many(pieces), len }
    }

    /// Bytes in all the pieces.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Calls `f(user address, range of the kernel buffer)` for each part of
    /// the pieces that bytes `[at, at + n)` of the whole fall in, in order.
    fn walk(
        &self,
        at: usize,
        n: usize,
        mut f: impl FnMut(UserAddr, core::ops::Range<usize>) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let pieces: &[(UserAddr, usize)] = match &self.pieces {
            Pieces::One(one) => one,
            Pieces::Many(v) => v,
        };
        let (mut skip, mut done) = (at, 0);
        for &(addr, len) in pieces {
            if done == n {
                break;
            }
            if skip >= len {
                skip -= len;
                continue;
            }
            let k = (len - skip).min(n - done);
            f(addr.offset(skip as u64), done..done + k)?;
            done += k;
            skip = 0;
        }
        Ok(())
    }

    /// Fills `dst` from bytes `[at, at + dst.len())` of the whole.
    pub fn copy_in(&self, at: usize, dst: &mut [u8]) -> Result<(), Errno> {
        self.walk(at, dst.len(), |addr, range| copy_from_user(&mut dst[range], addr))
    }

    /// Copies `src` to bytes `[at, at + src.len())` of the whole.
    pub fn copy_out(&self, at: usize, src: &[u8]) -> Result<(), Errno> {
        self.walk(at, src.len(), |addr, range| copy_to_user(addr, &src[range]))
    }
}

/// Plain-data types that may be copied to and from user memory byte for byte.
///
/// # Safety
/// Every bit pattern must be a valid value and the type must have no
/// padding at all: copying out reads every byte, and a padding byte is
/// uninitialised however the value was made (Rust does not keep padding
/// zeroed across moves and field stores). Structures are made Pod with
/// `pod_without_padding!`, which proves the second rule at compile time.
pub unsafe trait Pod: Sized {
    /// The all-zero value, the starting point of a structure filled in
    /// field by field before it is copied out.
    fn zeroed() -> Self {
        // SAFETY: Pod: every bit pattern, all zeros among them, is a value.
        unsafe { core::mem::zeroed() }
    }
}

// SAFETY: integers and arrays of them are plain data without padding.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for [u64; 2] {}

/// `unsafe impl Pod` for a `#[repr(C)]` structure of integers (and raw
/// pointers or integer arrays), all of its fields listed in order with
/// their types: a compile-time check proves that each field starts where
/// the one before it ends and the last one ends the structure, so there is
/// no padding. Zeroing a value first does not make padding safe to copy
/// out: Rust does not keep padding bytes (a move or a field store may leave
/// them uninitialised), so a padded type cannot be Pod at all.
macro_rules! pod_without_padding {
    ($t:ty { $first:ident: $first_ty:ty $(, $field:ident: $ty:ty)* $(,)? }) => {
        const _: () = {
            let mut end = core::mem::offset_of!($t, $first) + core::mem::size_of::<$first_ty>();
            assert!(core::mem::offset_of!($t, $first) == 0, concat!(stringify!($t), ": padding before its first field"));
            $(
                assert!(core::mem::offset_of!($t, $field) == end, concat!(stringify!($t), ": padding before ", stringify!($field)));
                end += core::mem::size_of::<$ty>();
            )*
            assert!(end == core::mem::size_of::<$t>(), concat!(stringify!($t), ": padding at its end"));
        };
        // SAFETY: fields of types that accept every bit pattern, and no
        // padding (checked above).
        unsafe impl Pod for $t {}
    };
}

use linux_raw_sys::general::{iovec, rlimit64, stat, timespec, timeval};
use linux_raw_sys::system::new_utsname;

pod_without_padding!(timespec { tv_sec: i64, tv_nsec: i64 });
pod_without_padding!(timeval { tv_sec: i64, tv_usec: i64 });
pod_without_padding!(iovec { iov_base: *mut core::ffi::c_void, iov_len: u64 });
pod_without_padding!(rlimit64 { rlim_cur: u64, rlim_max: u64 });
pod_without_padding!(stat {
    st_dev: u64,
    st_ino: u64,
    st_mode: u32,
    st_nlink: u32,
    st_uid: u32,
    st_gid: u32,
    st_rdev: u64,
    __pad1: u64,
    st_size: i64,
    st_blksize: i32,
    __pad2: i32,
    st_blocks: i64,
    st_atime: i64,
    st_atime_nsec: u64,
    st_mtime: i64,
    st_mtime_nsec: u64,
    st_ctime: i64,
    st_ctime_nsec: u64,
    __unused4: u32,
    __unused5: u32,
});
pod_without_padding!(new_utsname {
    sysname: [u8; 65],
    nodename: [u8; 65],
    release: [u8; 65],
    version: [u8; 65],
    machine: [u8; 65],
    domainname: [u8; 65],
});
pod_without_padding!(crate::syscall::info::Sysinfo {
    uptime: i64,
    loads: [u64; 3],
    totalram: u64,
    freeram: u64,
    sharedram: u64,
    bufferram: u64,
    totalswap: u64,
    freeswap: u64,
    procs: u16,
    pad: u16,
    pad_before_totalhigh: u32,
    totalhigh: u64,
    freehigh: u64,
    mem_unit: u32,
    pad_at_end: u32,
});
pod_without_padding!(crate::syscall::signal::KernelSigaction { handler: u64, flags: u64, restorer: u64, mask: u64 });
pod_without_padding!(crate::syscall::signal::StackT { sp: u64, flags: i32, _pad: u32, size: u64 });

/// Reads a `T` from user memory.
pub fn read_user<T: Pod>(src: UserAddr) -> Result<T, Errno> {
    let mut value = core::mem::MaybeUninit::<T>::uninit();
    // SAFETY: the buffer is exactly size_of::<T>() bytes; T: Pod accepts any bytes.
    let bytes = unsafe { core::slice::from_raw_parts_mut(value.as_mut_ptr().cast::<u8>(), core::mem::size_of::<T>()) };
    copy_from_user(bytes, src)?;
    // SAFETY: fully initialised by the copy.
    Ok(unsafe { value.assume_init() })
}

/// Writes a `T` to user memory.
pub fn write_user<T: Pod>(dst: UserAddr, value: &T) -> Result<(), Errno> {
    // SAFETY: T: Pod has no uninitialised bytes to leak.
    let bytes = unsafe { core::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>()) };
    copy_to_user(dst, bytes)
}

/// Reads a NUL-terminated string of at most `max` bytes (ENAMETOOLONG past it).
pub fn read_user_str(src: UserAddr, max: usize) -> Result<String, Errno> {
    let mut bytes = Vec::new();
    let mut byte = [0u8];
    loop {
        copy_from_user(&mut byte, src.offset(bytes.len() as u64))?;
        if byte[0] == 0 {
            break;
        }
        if bytes.len() == max {
            return Err(Errno::ENAMETOOLONG);
        }
        bytes.push(byte[0]);
    }
    String::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}
