//! mlock, mlock2, munlock, mlockall and munlockall (Linux 6.1's
//! mm/mlock.c). Locking marks areas LOCKED (and LOCK_ONFAULT) and then
//! populates them (mm/populate.rs) as populate_vma_page_range does: a
//! private writable area gets its private pages now, a read-only one the
//! zero page or reference page, a lock-on-fault one nothing. There is no
//! reclaim here, so a locked page is one that stays because nothing would
//! take it anyway; what locking changes is what /proc reports (Locked,
//! VmFlags `lo`, VmLck, Mlocked), MADV_DONTNEED's and msync(MS_INVALIDATE)'s
//! refusal, and the population.
//!
//! Programs run as root with CAP_IPC_LOCK, as on Linux: RLIMIT_MEMLOCK is
//! reported by getrlimit but never refuses a lock (can_do_mlock and the
//! lock_limit check pass on capable(CAP_IPC_LOCK)).

use linux_raw_sys::general::{MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT};

use super::errno::{Errno, SysResult};
use super::memory::mmap_write_lock;
use crate::exec::elf::USER_END;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::populate::{self, PopulateError};
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::vma::{Area, AreaFlags};

const PAGE: u64 = PAGE_SIZE as u64;

/// The flags mlock_fixup gives `area` when locking with `lock` (empty to
/// unlock): special mappings ([vdso], [vvar]) are never locked.
fn locked_flags(area: &Area, lock: AreaFlags) -> AreaFlags {
    if area.backing.is_special() {
        return area.flags;
    }
    (area.flags - AreaFlags::LOCK_MASK) | lock
}

/// do_mlock's and munlock's range: the start rounded down to its page and
/// the length up, in Linux's wrapping arithmetic (a length that wraps to 0
/// is a successful no-op there too).
fn lock_range(addr: UserAddr, len: u64) -> Result<Option<(VirtAddr, VirtAddr)>, Errno> {
    let start = addr.untagged(TagRule::AddressSpace).as_u64();
    let len = len.wrapping_add(start % PAGE).wrapping_add(PAGE - 1) & !(PAGE - 1);
    let start = start & !(PAGE - 1);
    let end = start.wrapping_add(len);
    if end < start {
        return Err(Errno::EINVAL);
    }
    if end == start {
        return Ok(None);
    }
    Ok(Some((VirtAddr::new(start), VirtAddr::new(end))))
}

/// Linux's apply_vma_lock_flags: the range must start inside an area;
/// the areas from there on are given `lock` up to the first hole, which
/// is then ENOMEM (the part before it stays changed, as in Linux).
fn apply_lock_flags(start: VirtAddr, end: VirtAddr, lock: AreaFlags) -> Result<(), Errno> {
    let mut space = mmap_write_lock()?;
    if space.areas().find(start).is_none() {
        return Err(Errno::ENOMEM);
    }
    let mut covered = start;
    while covered < end {
        match space.areas().find(covered) {
            Some(a) => covered = a.end,
            None => break,
        }
    }
    let covered = covered.min(end);
    space.update_area_flags(start, covered, |a| locked_flags(a, lock)).map_err(|_| Errno::ENOMEM)?;
    if covered < end {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// Linux's do_mlock: lock, then populate; a populate that fails is
/// reported as __mlock_posix_error_return says (out of memory EAGAIN,
/// a page that cannot be had ENOMEM). The areas stay locked either way.
fn do_mlock(addr: UserAddr, len: u64, lock: AreaFlags) -> SysResult {
    let Some((start, end)) = lock_range(addr, len)? else { return Ok(0) };
    apply_lock_flags(start, end, lock)?;
    match populate::mm_populate(start, end, false) {
        Ok(()) => Ok(0),
        Err(PopulateError::OutOfMemory) => Err(Errno::EAGAIN),
        Err(PopulateError::NotPermitted | PopulateError::NoPage) => Err(Errno::ENOMEM),
        Err(PopulateError::Interrupted) => Err(Errno::EINTR),
    }
}

pub fn mlock(addr: UserAddr, len: u64) -> SysResult {
    do_mlock(addr, len, AreaFlags::LOCKED)
}

pub fn mlock2(addr: UserAddr, len: u64, flags: u32) -> SysResult {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    let mut lock = AreaFlags::LOCKED;
    lock.set(AreaFlags::LOCK_ONFAULT, flags & MLOCK_ONFAULT != 0);
    do_mlock(addr, len, lock)
}

pub fn munlock(addr: UserAddr, len: u64) -> SysResult {
    let Some((start, end)) = lock_range(addr, len)? else { return Ok(0) };
    apply_lock_flags(start, end, AreaFlags::empty())?;
    Ok(0)
}

/// Linux's apply_mlockall_flags: MCL_FUTURE sets the flags new areas get,
/// MCL_CURRENT locks every area there is now (a split refused for too many
/// areas is ignored, as mlock_fixup's errors are there).
fn apply_mlockall_flags(flags: u32) -> Result<(), Errno> {
    let mut space = mmap_write_lock()?;
    let onfault = if flags & MCL_ONFAULT != 0 { AreaFlags::LOCK_ONFAULT } else { AreaFlags::empty() };
    space.def_flags.remove(AreaFlags::LOCK_MASK);
    if flags & MCL_FUTURE != 0 {
        space.def_flags |= AreaFlags::LOCKED | onfault;
    }
    let lock = if flags & MCL_CURRENT != 0 { AreaFlags::LOCKED | onfault } else { AreaFlags::empty() };
    if flags & MCL_FUTURE != 0 && flags & MCL_CURRENT == 0 {
        return Ok(());
    }
    let _ = space.update_area_flags(VirtAddr::new(0), VirtAddr::new(USER_END), |a| locked_flags(a, lock));
    Ok(())
}

/// mlockall: populating what MCL_CURRENT locked ignores errors, as Linux's
/// mm_populate does, so running out of memory part-way still returns 0.
pub fn mlockall(flags: u32) -> SysResult {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    apply_mlockall_flags(flags)?;
    if flags & MCL_CURRENT != 0 {
        if let Err(PopulateError::Interrupted) = populate::mm_populate(VirtAddr::new(0), VirtAddr::new(USER_END), true)
        {
            return Err(Errno::EINTR);
        }
    }
    Ok(0)
}

pub fn munlockall() -> SysResult {
    apply_mlockall_flags(0)?;
    Ok(0)
}
