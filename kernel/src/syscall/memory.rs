//! brk, mmap, munmap, mprotect for anonymous memory, with Linux's checks
//! and errors (mm/mmap.c, mm/mprotect.c).

use linux_raw_sys::general::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
    MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, PROT_EXEC, PROT_READ, PROT_WRITE,
};

use super::errno::{Errno, SysResult};
use crate::exec::elf::{MIN_USER_ADDR, USER_END};
use crate::mm::addr::{VirtAddr, PAGE_SIZE};
use crate::mm::fault::{self, Access};
use crate::mm::vma::{Area, Backing, Prot};
use crate::process::{self, loader::MMAP_BASE};

const PAGE: u64 = PAGE_SIZE as u64;

/// PROT_* bits as an area protection; unknown bits are EINVAL.
fn prot_from(bits: u32) -> Result<Prot, Errno> {
    if bits & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Prot::from_bits_truncate(bits))
}

/// `len` rounded up to pages; 0 and overflow are errors.
fn page_len(len: u64) -> Result<u64, Errno> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    len.checked_add(PAGE - 1).map(|l| l & !(PAGE - 1)).ok_or(Errno::ENOMEM)
}

/// Touches every page of a new area so it is mapped now (MAP_POPULATE).
fn populate(start: VirtAddr, end: VirtAddr, prot: Prot) {
    let access = if prot.contains(Prot::WRITE) { Access::Write } else { Access::Read };
    let space = &mut process::current().space;
    let mut va = start;
    while va < end {
        // Best effort, as in Linux: a failure shows up on first touch instead.
        let _ = fault::handle(space, va, access, false);
        va = va + PAGE;
    }
}

pub fn mmap(addr: u64, len: u64, prot: u32, flags: u32, _fd: i32, offset: u64) -> SysResult {
    let prot = prot_from(prot)?;
    let len = page_len(len)?;
    match flags & MAP_TYPE {
        MAP_PRIVATE | MAP_SHARED | MAP_SHARED_VALIDATE => {}
        _ => return Err(Errno::EINVAL),
    }
    let known = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_STACK | MAP_GROWSDOWN;
    if flags & MAP_TYPE == MAP_SHARED_VALIDATE && flags & !known != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & MAP_ANONYMOUS == 0 {
        // File mappings come with the file-descriptor table.
        return Err(Errno::EBADF);
    }
    if !offset.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed && !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }

    let space = &mut process::current().space;
    let fits = |start: u64| start >= MIN_USER_ADDR && start.checked_add(len).is_some_and(|end| end <= USER_END);
    let start = if fixed {
        if !fits(addr) {
            return Err(Errno::ENOMEM);
        }
        let (s, e) = (VirtAddr::new(addr), VirtAddr::new(addr + len));
        if space.areas().overlaps(s, e) {
            if flags & MAP_FIXED_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            space.unmap(s, e);
        }
        s
    } else {
        // A hint is used when it is free; otherwise top-down from MMAP_BASE.
        let hint = addr & !(PAGE - 1);
        if hint != 0 && fits(hint) && !space.areas().overlaps(VirtAddr::new(hint), VirtAddr::new(hint + len)) {
            VirtAddr::new(hint)
        } else {
            space
                .areas()
                .find_gap_below(VirtAddr::new(MMAP_BASE), VirtAddr::new(MIN_USER_ADDR), len)
                .ok_or(Errno::ENOMEM)?
        }
    };
    let end = start + len;
    space.add_area(Area { start, end, prot, backing: Backing::Anonymous }).map_err(|_| Errno::ENOMEM)?;
    if flags & MAP_POPULATE != 0 {
        populate(start, end, prot);
    }
    Ok(start.as_u64())
}

pub fn munmap(addr: u64, len: u64) -> SysResult {
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let len = page_len(len)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::EINVAL)?;
    process::current().space.unmap(VirtAddr::new(addr), VirtAddr::new(end));
    Ok(0)
}

pub fn mprotect(addr: u64, len: u64, prot: u32) -> SysResult {
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let prot = prot_from(prot)?;
    if len == 0 {
        return Ok(0);
    }
    let len = page_len(len)?;
    let end = addr.checked_add(len).filter(|&e| e <= USER_END).ok_or(Errno::ENOMEM)?;
    process::current()
        .space
        .protect(VirtAddr::new(addr), VirtAddr::new(end), prot)
        .map(|_| 0)
        .map_err(|_| Errno::ENOMEM)
}

/// Moves the program break. Like Linux's brk(): returns the new break, or
/// the unchanged one when the request cannot be met.
pub fn brk(addr: u64) -> SysResult {
    let p = process::current();
    let current = p.brk.end;
    if addr < p.brk.start.as_u64() || addr > MMAP_BASE {
        return Ok(current.as_u64());
    }
    let old_top = current.checked_align_up(PAGE).expect("brk is below MMAP_BASE");
    let new_top = VirtAddr::new(addr).checked_align_up(PAGE).expect("addr is below MMAP_BASE");
    if new_top > old_top {
        if p.space.areas().overlaps(old_top, new_top) {
            return Ok(current.as_u64());
        }
        let area = Area { start: old_top, end: new_top, prot: Prot::READ | Prot::WRITE, backing: Backing::Anonymous };
        if p.space.add_area(area).is_err() {
            return Ok(current.as_u64());
        }
    } else if new_top < old_top {
        p.space.unmap(new_top, old_top);
    }
    p.brk.end = VirtAddr::new(addr);
    Ok(addr)
}
