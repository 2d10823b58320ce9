//! brk, mmap, munmap and mprotect, with Linux's checks in Linux's order
//! (arch/arm64/kernel/sys.c, mm/mmap.c, mm/mprotect.c; madvise is in
//! madvise.rs). munmap and mprotect untag their address whatever the
//! tagged-address ABI says; brk and mmap never do (mm/tagged_addr.rs).

use alloc::sync::Arc;

use linux_raw_sys::general::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE,
    MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, PROT_EXEC, PROT_MTE, PROT_READ,
    PROT_SEM, PROT_WRITE,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::mte;
use crate::exec::elf::{MIN_USER_ADDR, USER_END};
use crate::fs::file::{FileKind, FileRef};
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::address_space::{AddressSpace, UnmapError};
use crate::mm::long_walk;
use crate::mm::populate;
use crate::mm::shared_memory::SharedMemory;
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::vma::{Area, AreaFlags, AreaSet, Backing, Prot, ProtectError};
use crate::process::{self, loader::MMAP_BASE};
use crate::sync::rw_lock::WriteGuard;

const PAGE: u64 = PAGE_SIZE as u64;

/// PROT_* bits as (protection, PROT_MTE). mmap ignores bits it does not
/// know, as Linux's calc_vm_prot_bits() does, and PROT_MTE where there is
/// no tagging (arm64's arch_calc_vm_prot_bits).
fn mmap_prot(bits: u32) -> (Prot, bool) {
    (Prot::from_bits_truncate(bits), bits & PROT_MTE != 0 && mte::tagging_enabled())
}

/// mprotect validates: unknown bits, or PROT_MTE without tagging, are
/// EINVAL (arm64's arch_validate_prot()).
fn mprotect_prot(bits: u32) -> Result<(Prot, bool), Errno> {
    let mut supported = PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM;
    if mte::tagging_enabled() {
        supported |= PROT_MTE;
    }
    if bits & !supported != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(mmap_prot(bits))
}

/// `len` rounded up to pages; 0 and overflow are errors.
fn page_len(len: u64) -> Result<u64, Errno> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    len.checked_add(PAGE - 1).map(|l| l & !(PAGE - 1)).ok_or(Errno::ENOMEM)
}

/// What backs a new mapping, and whether it may ever be written: `file`,
/// the descriptor's file, or anonymous memory without one.
fn backing_for(file: Option<FileRef>, prot: Prot, shared: bool) -> Result<(Backing, bool), Errno> {
    let Some(file) = file else {
        let backing = if shared { Backing::SharedMemory(Arc::new(SharedMemory::new())) } else { Backing::Anonymous };
        return Ok((backing, true));
    };
    match &file.kind {
        // Linux's do_mmap: a file not open for reading is EACCES before the
        // missing mmap method is ENODEV.
        FileKind::Pipe(_) if !file.readable() => Err(Errno::EACCES),
        FileKind::Console | FileKind::Pipe(_) | FileKind::Proc(_) | FileKind::Socket(_) => Err(Errno::ENODEV),
        FileKind::RefPage(page) => {
            if !file.readable() {
                return Err(Errno::EACCES);
            }
            // A shared mapping writes through to the file: not to a
            // read-only descriptor, now or after mprotect.
            if shared && prot.contains(Prot::WRITE) && !file.writable() {
                return Err(Errno::EACCES);
            }
            Ok((Backing::RefPage(page.clone()), !shared || file.writable()))
        }
        FileKind::Tmp(tmp) => {
            if !file.readable() {
                return Err(Errno::EACCES);
            }
            if shared && prot.contains(Prot::WRITE) && !file.writable() {
                return Err(Errno::EACCES);
            }
            let backing =
                if shared { Backing::SharedMemory(tmp.pages.clone()) } else { Backing::PrivateFile(tmp.pages.clone()) };
            Ok((backing, !shared || file.writable()))
        }
    }
}

/// Linux's mmap_write_lock_killable, taken by the calls that change the
/// areas (mmap, munmap, mprotect, brk, mremap, the mlock family): the
/// current address space, exclusive, once no other task of it is inside a
/// populate (mm/mmap_lock.rs: `MmLock::write_killable`). EINTR if this
/// task must stop while it waits. The guard must be dropped before a
/// populate or a copy to or from user memory (both take the lock again).
pub(super) fn mmap_write_lock() -> Result<WriteGuard<'static, AddressSpace>, Errno> {
    process::current().mm.write_killable().map_err(|_| Errno::EINTR)
}

/// Whether `[start, start + len)` lies where a mapping may go.
pub(super) fn fits(start: u64, len: u64) -> bool {
    start >= MIN_USER_ADDR && start.checked_add(len).is_some_and(|end| end <= USER_END)
}

/// Where a new mapping of `len` bytes goes when its place is not fixed
/// (mmap, mremap's move): a free `hint` is taken as it is; otherwise
/// top-down below MMAP_BASE, which leaves the stack's guard gap alone.
pub(super) fn unmapped_area(space: &mut AddressSpace, hint: u64, len: u64) -> Result<VirtAddr, Errno> {
    let hint = hint & !(PAGE - 1);
    let hint_free = hint != 0
        && fits(hint, len)
        && hint + len <= MMAP_BASE
        && !space.areas().overlaps(VirtAddr::new(hint), VirtAddr::new(hint + len));
    if hint_free {
        return Ok(VirtAddr::new(hint));
    }
    space.find_gap_below(VirtAddr::new(MMAP_BASE), VirtAddr::new(MIN_USER_ADDR), len).ok_or(Errno::ENOMEM)
}

/// mmap's address is never untagged, ABI on or off (tagged-address-abi.rst
/// section 3, since 5.6): a tagged hint is above the user half and ignored,
/// a tagged MAP_FIXED address is ENOMEM (get_unmapped_area's TASK_SIZE
/// check), as on Linux 6.1.
pub fn mmap(addr: UserAddr, len: u64, prot_bits: u32, flags: u32, fd: i32, offset: u64) -> SysResult {
    let addr = addr.untagged(TagRule::NewMapping).as_u64();
    if !offset.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    // The descriptor first, as Linux's ksys_mmap_pgoff takes it (EBADF
    // before any other error), and once: `backing_for` uses this file.
    let file = if flags & MAP_ANONYMOUS == 0 { Some(process::current().files().get(fd)?.file.clone()) } else { None };
    let len = page_len(len)?;
    let (prot, mte) = mmap_prot(prot_bits);
    let pgoff = offset / PAGE;
    if pgoff.checked_add(len / PAGE).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let shared = match flags & MAP_TYPE {
        MAP_PRIVATE => false,
        MAP_SHARED | MAP_SHARED_VALIDATE => true,
        _ => return Err(Errno::EINVAL),
    };
    let known = MAP_TYPE
        | MAP_FIXED
        | MAP_ANONYMOUS
        | MAP_POPULATE
        | MAP_FIXED_NOREPLACE
        | MAP_NORESERVE
        | MAP_STACK
        | MAP_GROWSDOWN
        | MAP_LOCKED
        | MAP_NONBLOCK;
    if flags & MAP_TYPE == MAP_SHARED_VALIDATE && flags & !known != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed && !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let (backing, may_write) = backing_for(file, prot, shared)?;

    let mut space = mmap_write_lock()?;
    let start = if fixed {
        if !fits(addr, len) {
            return Err(Errno::ENOMEM);
        }
        let (s, e) = (VirtAddr::new(addr), VirtAddr::new(addr + len));
        if space.areas().overlaps(s, e) {
            if flags & MAP_FIXED_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            space.unmap(s, e).map_err(unmap_errno)?;
        }
        s
    } else {
        unmapped_area(&mut space, addr, len)?
    };
    let end = start + len;
    let mut area_flags = AreaFlags::empty();
    area_flags.set(AreaFlags::SHARED, shared);
    area_flags.set(AreaFlags::MTE, mte);
    area_flags.set(AreaFlags::MAY_WRITE, may_write);
    // MAP_LOCKED, or mlockall(MCL_FUTURE)'s flags (Linux's do_mmap and
    // mm->def_flags); never on a special mapping (mmap_region).
    area_flags |= space.def_flags;
    area_flags.set(AreaFlags::LOCKED, area_flags.contains(AreaFlags::LOCKED) || flags & MAP_LOCKED != 0);
    let pgoff = if flags & MAP_ANONYMOUS != 0 { 0 } else { pgoff };
    space.add_area(Area { start, end, prot, flags: area_flags, backing, pgoff }).map_err(|_| Errno::ENOMEM)?;
    // The lock is let go first: populate takes it itself, page batch by
    // page batch (vm_mmap_pgoff: mmap_write_unlock, then mm_populate).
    drop(space);
    // Locked, or MAP_POPULATE without MAP_NONBLOCK: populated now, errors
    // ignored (vm_mmap_pgoff's mm_populate): the mapping is made whatever
    // populating met, and a page left out comes on first touch.
    if area_flags.contains(AreaFlags::LOCKED) || flags & (MAP_POPULATE | MAP_NONBLOCK) == MAP_POPULATE {
        let _ = populate::mm_populate(start, end, true);
    }
    Ok(start.as_u64())
}

pub fn munmap(addr: UserAddr, len: u64) -> SysResult {
    let addr = addr.untagged(TagRule::AddressSpace).as_u64();
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let len = page_len(len)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::EINVAL)?;
    let space = mmap_write_lock()?;
    if splits_special(space.areas(), VirtAddr::new(addr), VirtAddr::new(end)) {
        return Err(Errno::EINVAL);
    }
    // In pieces that let other CPUs in (Linux's cond_resched in
    // zap_pte_range).
    long_walk::munmap(space, &process::current().mm, VirtAddr::new(addr), VirtAddr::new(end)).map_err(unmap_errno)?;
    Ok(0)
}

/// Whether cutting the areas at `start` and `end` would split one of the
/// vDSO's special mappings ([vvar], [vdso]): Linux's __split_vma asks
/// special_mapping_split, which refuses (EINVAL), so munmap and mremap of
/// part of one fail.
pub(super) fn splits_special(areas: &AreaSet, start: VirtAddr, end: VirtAddr) -> bool {
    [start, end]
        .into_iter()
        .any(|at| areas.find(at).is_some_and(|a| a.start < at && a.backing.special_name().is_some()))
}

/// munmap's errno; EINTR is never seen (the task is ended first).
pub(super) fn unmap_errno(e: UnmapError) -> Errno {
    match e {
        UnmapError::TooManyAreas => Errno::ENOMEM,
        UnmapError::Interrupted => Errno::EINTR,
    }
}

pub fn mprotect(addr: UserAddr, len: u64, prot_bits: u32) -> SysResult {
    let addr = addr.untagged(TagRule::AddressSpace).as_u64();
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let (prot, mte) = mprotect_prot(prot_bits)?;
    if len == 0 {
        return Ok(0);
    }
    let len = page_len(len)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::ENOMEM)?;
    let add = if mte { AreaFlags::MTE } else { AreaFlags::empty() };
    // In pieces that let other CPUs in (Linux's cond_resched in
    // change_pte_range).
    let range = (VirtAddr::new(addr), VirtAddr::new(end));
    let protected = long_walk::mprotect(mmap_write_lock()?, &process::current().mm, range, prot, add);
    // The lock was let go with that statement: after_write_allowed
    // populates, which takes it itself.
    match protected {
        Ok(()) => {
            if prot.contains(Prot::WRITE) {
                populate::after_write_allowed(VirtAddr::new(addr), VirtAddr::new(end));
            }
            Ok(0)
        }
        Err(ProtectError::Hole | ProtectError::TooManyAreas) => Err(Errno::ENOMEM),
        Err(ProtectError::NotWritable) => Err(Errno::EACCES),
        Err(ProtectError::MteNotAllowed) => Err(Errno::EINVAL),
        Err(ProtectError::Interrupted) => Err(Errno::EINTR),
    }
}

/// Moves the program break. Like Linux's brk(): returns the new break, or
/// the unchanged one when the request cannot be met. The address is never
/// untagged (since 5.6): a tagged one is above MMAP_BASE, so the break
/// stays where it is.
pub fn brk(addr: UserAddr) -> SysResult {
    let addr = addr.untagged(TagRule::NewMapping).as_u64();
    let mut space = mmap_write_lock()?;
    let current = space.brk.end;
    if addr < space.brk.start.as_u64() || addr > MMAP_BASE {
        return Ok(current.as_u64());
    }
    let old_top = current.checked_align_up(PAGE).expect("brk is below MMAP_BASE");
    let new_top = VirtAddr::new(addr).checked_align_up(PAGE).expect("addr is below MMAP_BASE");
    if new_top > old_top {
        if space.areas().overlaps(old_top, new_top) {
            return Ok(current.as_u64());
        }
        let mut area = Area::anonymous(old_top, new_top, Prot::READ | Prot::WRITE);
        area.flags |= space.def_flags;
        if space.add_area(area).is_err() {
            return Ok(current.as_u64());
        }
        // Under mlockall(MCL_FUTURE) the new heap is populated at once
        // (Linux's brk: mm_populate when def_flags has VM_LOCKED), once the
        // lock is let go: populate takes it itself.
        if space.def_flags.contains(AreaFlags::LOCKED) {
            space.brk.end = VirtAddr::new(addr);
            drop(space);
            let _ = populate::mm_populate(old_top, new_top, true);
            return Ok(addr);
        }
    } else if new_top < old_top && space.unmap(new_top, old_top).is_err() {
        return Ok(current.as_u64());
    }
    space.brk.end = VirtAddr::new(addr);
    Ok(addr)
}
