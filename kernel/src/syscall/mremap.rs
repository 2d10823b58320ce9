//! mremap (system call 216) with Linux 6.1's checks, in Linux's order and
//! with its errors (mm/mremap.c: SYSCALL_DEFINE5(mremap), mremap_to,
//! vma_to_resize, vma_expandable, move_vma). What changes in the areas and
//! page tables is mm/address_space/mremap.rs: a move moves page-table
//! entries, never copies a frame.
//!
//! Errors, as Linux gives them: EINVAL for unknown flags, MREMAP_FIXED
//! without MREMAP_MAYMOVE, MREMAP_DONTUNMAP without MREMAP_MAYMOVE or with
//! a size change, a misaligned address, a new length of 0, an old length
//! of 0 on a private mapping, overlapping ranges, a destination outside the
//! user half; EFAULT when old_address is not in a mapping or a growth or
//! move would cross the end of the mapping it starts in (vma_to_resize),
//! and for growing the vDSO's special mappings; ENOMEM when there is no
//! room (no MREMAP_MAYMOVE, no gap, too many mappings) or no memory.

use linux_raw_sys::general::{MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE};

use super::errno::{Errno, SysResult};
use super::memory::{fits, mmap_write_lock, splits_special, unmap_errno, unmapped_area};
use crate::exec::elf::USER_END;
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::address_space::AddressSpace;
use crate::mm::populate;
use crate::mm::tagged_addr::{TagRule, UserAddr};
use crate::mm::vma::{Area, AreaFlags, MAX_AREAS};

const PAGE: u64 = PAGE_SIZE as u64;

/// Linux's TASK_SIZE for a 64-bit task: the end of the user half.
const TASK_SIZE: u64 = USER_END;

/// Linux's PAGE_ALIGN on an unsigned long: wraps to 0 past the top.
fn page_align(len: u64) -> u64 {
    len.wrapping_add(PAGE - 1) & !(PAGE - 1)
}

/// What the flags ask for.
#[derive(Clone, Copy)]
struct Flags {
    fixed: bool,
    may_move: bool,
    dont_unmap: bool,
}

/// The vDSO's [vvar] and [vdso]: Linux's special mappings, VM_DONTEXPAND
/// (never grown, never left behind by MREMAP_DONTUNMAP) and never split
/// (special_mapping_split).
fn is_special(area: &Area) -> bool {
    area.backing.special_name().is_some()
}

/// mremap(old_address, old_size, new_size, flags, new_address). Linux
/// untags old_address only (mm/tagged_addr.rs, TagRule::AddressSpace):
/// new_address is taken as passed, so a tagged one lies above the user
/// half and is refused, and no alias of a mapping is made.
pub fn mremap(old: UserAddr, old_len: u64, new_len: u64, flags: u64, new_addr: UserAddr) -> SysResult {
    let addr = old.untagged(TagRule::AddressSpace).as_u64();
    let new_addr = new_addr.untagged(TagRule::NewMapping).as_u64();
    if flags & !u64::from(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP) != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = Flags {
        fixed: flags & u64::from(MREMAP_FIXED) != 0,
        may_move: flags & u64::from(MREMAP_MAYMOVE) != 0,
        dont_unmap: flags & u64::from(MREMAP_DONTUNMAP) != 0,
    };
    if flags.fixed && !flags.may_move {
        return Err(Errno::EINVAL);
    }
    // MREMAP_DONTUNMAP is always a move, and never a resize (compared
    // before rounding, as Linux does).
    if flags.dont_unmap && (!flags.may_move || old_len != new_len) {
        return Err(Errno::EINVAL);
    }
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let (old_len, new_len) = (page_align(old_len), page_align(new_len));
    // An old length of 0 is Linux's "duplicate a shared mapping"; a new one
    // of 0 makes no sense.
    if new_len == 0 {
        return Err(Errno::EINVAL);
    }
    let mut space = mmap_write_lock()?;
    let (new, populate) = remap(&mut space, addr, old_len, new_addr, new_len, flags)?;
    // A grown locked mapping is populated with the lock let go: populate
    // takes it itself (Linux's mremap: mmap_write_unlock, then
    // mm_populate, errors ignored).
    drop(space);
    if let Some((start, end)) = populate {
        let _ = populate::mm_populate(start, end, true);
    }
    Ok(new)
}

/// Where the mapping went, and the range to populate once the space's
/// lock is let go (`locked_growth`).
type Remapped = (u64, Option<(VirtAddr, VirtAddr)>);

/// mremap's work under the exclusive side of the space's lock.
fn remap(
    space: &mut AddressSpace,
    addr: u64,
    old_len: u64,
    new_addr: u64,
    new_len: u64,
    flags: Flags,
) -> Result<Remapped, Errno> {
    space.areas().find(VirtAddr::new(addr)).ok_or(Errno::EFAULT)?;

    if flags.fixed || flags.dont_unmap {
        return mremap_to(space, addr, old_len, new_addr, new_len, flags);
    }
    // Shrinking is always allowed: the tail is unmapped, whatever areas it
    // spans; with nothing to unmap an error does not count.
    if old_len >= new_len {
        match do_munmap(space, addr.wrapping_add(new_len), old_len - new_len) {
            Err(e) if old_len != new_len => return Err(e),
            _ => return Ok((addr, None)),
        }
    }
    let area = vma_to_resize(space, addr, old_len, new_len, flags)?;
    // Up to the end of its area: grow it where it stands if there is room
    // (vma_expandable: no area in the way, still in the user half).
    if addr + old_len == area.end.as_u64() {
        let new_end = area.end.as_u64().checked_add(new_len - old_len).filter(|&e| e <= TASK_SIZE);
        if let Some(end) = new_end {
            if space.grow_in_place(area.start, VirtAddr::new(end)).is_ok() {
                return Ok((addr, locked_growth(&area, addr, old_len, new_len)));
            }
        }
    }
    if !flags.may_move {
        return Err(Errno::ENOMEM);
    }
    let new = unmapped_area(space, 0, new_len)?;
    move_vma(space, &area, addr, old_len, new.as_u64(), new_len, flags)
}

/// Linux's do_munmap as mremap calls it: EINVAL for a range outside the
/// user half or of no pages, otherwise munmap's errors.
fn do_munmap(space: &mut AddressSpace, start: u64, len: u64) -> Result<(), Errno> {
    if start > TASK_SIZE || len > TASK_SIZE - start || len == 0 {
        return Err(Errno::EINVAL);
    }
    if splits_special(space.areas(), VirtAddr::new(start), VirtAddr::new(start + len)) {
        return Err(Errno::EINVAL);
    }
    space.unmap(VirtAddr::new(start), VirtAddr::new(start + len)).map_err(unmap_errno)
}

/// Linux's vma_to_resize: the area `[addr, addr + old_len)` lies in, if
/// it may become `new_len` long.
fn vma_to_resize(space: &AddressSpace, addr: u64, old_len: u64, new_len: u64, flags: Flags) -> Result<Area, Errno> {
    let area = space.areas().find(VirtAddr::new(addr)).cloned().ok_or(Errno::EFAULT)?;
    // Duplicating a private mapping would make a new, unrelated one.
    if old_len == 0 && !area.flags.contains(AreaFlags::SHARED) {
        return Err(Errno::EINVAL);
    }
    if flags.dont_unmap && is_special(&area) {
        return Err(Errno::EINVAL);
    }
    // "We can't remap across vm area boundaries."
    if old_len > area.end.as_u64() - addr {
        return Err(Errno::EFAULT);
    }
    if new_len == old_len {
        return Ok(area);
    }
    if area.page_index(VirtAddr::new(addr)).checked_add(new_len / PAGE).is_none() {
        return Err(Errno::EINVAL);
    }
    if is_special(&area) {
        return Err(Errno::EFAULT);
    }
    Ok(area)
}

/// Linux's mremap_to: MREMAP_FIXED (the destination is unmapped first) or
/// MREMAP_DONTUNMAP (new_address is then a hint).
fn mremap_to(
    space: &mut AddressSpace,
    addr: u64,
    old_len: u64,
    new_addr: u64,
    new_len: u64,
    flags: Flags,
) -> Result<Remapped, Errno> {
    if !new_addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    if new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len {
        return Err(Errno::EINVAL);
    }
    // The old and new ranges must not overlap (unsigned long arithmetic).
    if addr.wrapping_add(old_len) > new_addr && new_addr + new_len > addr {
        return Err(Errno::EINVAL);
    }
    // Both areas may be cut in three before anything is known to work.
    if space.areas().len() + 2 >= MAX_AREAS - 3 {
        return Err(Errno::ENOMEM);
    }
    if flags.fixed {
        do_munmap(space, new_addr, new_len)?;
    }
    let mut old_len = old_len;
    if old_len > new_len {
        do_munmap(space, addr + new_len, old_len - new_len)?;
        old_len = new_len;
    }
    let area = vma_to_resize(space, addr, old_len, new_len, flags)?;
    let new = if flags.fixed {
        // get_unmapped_area with MAP_FIXED: where mmap's MAP_FIXED may map.
        if !fits(new_addr, new_len) {
            return Err(Errno::ENOMEM);
        }
        new_addr
    } else {
        unmapped_area(space, new_addr, new_len)?.as_u64()
    };
    move_vma(space, &area, addr, old_len, new, new_len, flags)
}

/// Linux's move_vma: `[old, old + old_len)` of `area` to `new`.
fn move_vma(
    space: &mut AddressSpace,
    area: &Area,
    old: u64,
    old_len: u64,
    new: u64,
    new_len: u64,
    flags: Flags,
) -> Result<Remapped, Errno> {
    if space.areas().len() >= MAX_AREAS - 3 {
        return Err(Errno::ENOMEM);
    }
    let split = area.start.as_u64() != old || area.end.as_u64() != old + old_len;
    if is_special(area) && split {
        return Err(Errno::EINVAL);
    }
    space
        .move_range(VirtAddr::new(old), old_len, VirtAddr::new(new), new_len, flags.dont_unmap)
        .map_err(|_| Errno::ENOMEM)?;
    if flags.dont_unmap {
        // "We always clear VM_LOCKED[ONFAULT] on the old vma": the old
        // range, emptied, is no longer locked; the moved pages stay locked
        // at their new place. Splitting the old area off its neighbours
        // cannot fail here: there was room for three more areas above.
        let (start, end) = (VirtAddr::new(old), VirtAddr::new(old + old_len));
        let _ = space.update_area_flags(start, end, |a| a.flags - AreaFlags::LOCK_MASK);
    }
    Ok((new, locked_growth(area, new, old_len, new_len)))
}

/// The end of Linux's SYSCALL_DEFINE5(mremap): a grown VM_LOCKED mapping
/// has its new part `[at + old_len, at + new_len)` populated at once
/// (mm_populate, errors ignored), as mlock would have done; a
/// lock-on-fault one is left to its faults (mm/populate.rs). The range, if
/// there is one: `mremap` populates it once the lock is let go.
fn locked_growth(area: &Area, at: u64, old_len: u64, new_len: u64) -> Option<(VirtAddr, VirtAddr)> {
    (area.flags.contains(AreaFlags::LOCKED) && new_len > old_len)
        .then(|| (VirtAddr::new(at + old_len), VirtAddr::new(at + new_len)))
}
